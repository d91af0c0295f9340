"""Celery tasks of the deliberation app: thin, they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from workbench.deliberation.models import Workshop
from workbench.deliberation.services.analysis import (
    analysis_pending_clear,
    analysis_refresh,
)


@shared_task
def analysis_refresh_task(workshop_id: int, pending: str | None = None) -> None:
    """Recomputes a workshop's analysis unless the stored one is current, so a
    duplicate or redelivered task (acks_late) costs three small queries. The
    pending flag is cleared first if it is still the one that scheduled this run
    (`pending`, its token): votes from now on schedule another run, and a flag set
    by a vote since then, whose run is scheduled, stays."""
    analysis_pending_clear(workshop_id=workshop_id, token=pending)
    workshop = Workshop.objects.filter(pk=workshop_id).first()
    if workshop is None:
        return
    analysis_refresh(workshop=workshop, only_if_stale=True)
