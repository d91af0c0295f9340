"""Downloads of a workshop's value cards for its owner: PDF (rendered by a
Celery task, kept per content), JSON and Markdown (fast, rendered inline)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from workbench.cards.render.json import cards_json
from workbench.cards.render.markdown import cards_markdown
from workbench.cards.services.build import cards_for_workshop
from workbench.cards.services.pdf_jobs import cards_pdf_open, cards_pdf_request
from workbench.deliberation.selectors.workshops import workshop_get_for_user
from workbench.deliberation.views.facilitator._common import FacilitatorRequest

PROGRESS_TEMPLATE = "cards/pdf_progress.html"
POLL_SECONDS = 2


def _attachment(body: str, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def cards_pdf_download(request: FacilitatorRequest, slug: str) -> HttpResponseBase:
    """The PDF at once when a render of the current cards is stored; otherwise
    starts one (a GET may: the render is keyed by content, so repeating it
    changes nothing) and shows its progress, polled with HTMX."""
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    state = cards_pdf_request(workshop=workshop)
    if state.status == "ready" and not request.htmx:
        return FileResponse(
            cards_pdf_open(workshop=workshop, key=state.key),
            as_attachment=True,
            filename=f"{workshop.slug}-value-cards.pdf",
            content_type="application/pdf",
        )
    context = {"workshop": workshop, "state": state, "poll_seconds": POLL_SECONDS}
    if request.htmx:
        return render(request, PROGRESS_TEMPLATE + "#progress", context)
    return render(request, PROGRESS_TEMPLATE, context)


@login_required
@require_GET
def cards_json_download(request: FacilitatorRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    return _attachment(
        cards_json(cards_for_workshop(workshop=workshop)),
        filename=f"{workshop.slug}-value-cards.json",
        content_type="application/json",
    )


@login_required
@require_GET
def cards_markdown_download(request: FacilitatorRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    return _attachment(
        cards_markdown(cards_for_workshop(workshop=workshop)),
        filename=f"{workshop.slug}-value-cards.md",
        content_type="text/markdown; charset=utf-8",
    )
