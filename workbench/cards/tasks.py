"""Celery tasks of the cards app: thin, they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from workbench.cards.services.pdf_jobs import cards_pdf_render


@shared_task(
    acks_late=True,  # idempotent: a rerun writes the same file for the same key
    reject_on_worker_lost=True,
    soft_time_limit=600,
    time_limit=660,
)
def cards_pdf_render_task(*, workshop_id: int, key: str, language: str = "") -> str:
    """Renders the workshop's value-card PDF in the language it was asked for
    in; a failure is stored beside it (services.pdf_jobs) for the progress page
    to show."""
    return cards_pdf_render(workshop_id=workshop_id, key=key, language=language)
