"""The workshop page's live panel and the room's presentation page, both polled by
HTMX. A poll that brings back the fingerprint of what the page shows is answered
204 (HTMX leaves the page alone), so screen readers hear a change only once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from workbench.deliberation.models import Workshop, WorkshopAnalysis
from workbench.deliberation.opinion_map import map_group_styles, render_opinion_map
from workbench.deliberation.selectors.analysis import analysis_latest
from workbench.deliberation.selectors.live import LiveDashboard, live_dashboard
from workbench.deliberation.selectors.workshops import workshop_get_for_user
from workbench.deliberation.views.facilitator import display
from workbench.deliberation.views.facilitator._common import FacilitatorRequest

PANEL_TEMPLATE = "deliberation/facilitator/_live_panel.html"
PRESENT_TEMPLATE = "deliberation/facilitator/present.html"
CONSENSUS_SHOWN = 5


def live_panel_context(workshop: Workshop) -> dict[str, Any]:
    live = live_dashboard(workshop=workshop)
    return {"workshop": workshop, "live": live, "shown": live.fingerprint}


def _unchanged(request: FacilitatorRequest, shown: str) -> bool:
    return bool(request.htmx) and request.GET.get("shown") == shown


@login_required
def workshop_live(request: FacilitatorRequest, slug: str) -> HttpResponse:
    """The live panel alone, for polling."""
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    context = live_panel_context(workshop)
    if _unchanged(request, context["shown"]):
        return HttpResponse(status=204)
    return render(request, PANEL_TEMPLATE, context | {"oob_summary": True})


def _present_context(
    workshop: Workshop, live: LiveDashboard, analysis: WorkshopAnalysis | None
) -> dict[str, Any]:
    result: dict[str, Any] = analysis.result if analysis else {}
    ok = result.get("status") == "ok"
    consensus = (result.get("consensus") or {}).get("agree") if ok else None
    return {
        "workshop": workshop,
        "live": live,
        "analysis": analysis,
        "ok": ok,
        "map_svg": render_opinion_map(result, id_prefix="present-map") if ok else "",
        "opinion_groups": list(map_group_styles(result).values()) if ok else [],
        "consensus": display.refs(result, consensus)[:CONSENSUS_SHOWN],
    }


@login_required
def workshop_present(request: FacilitatorRequest, slug: str) -> HttpResponse:
    """The page for the projector: live counts, the opinion map and the principles
    every group agrees with, in large type."""
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    live = live_dashboard(workshop=workshop)
    analysis = analysis_latest(workshop=workshop)
    shown = f"{live.fingerprint}-{analysis.pk if analysis else 0}"
    if _unchanged(request, shown):
        return HttpResponse(status=204)
    context = _present_context(workshop, live, analysis) | {"shown": shown}
    if request.htmx:
        return render(request, PRESENT_TEMPLATE + "#present-live", context)
    return render(request, PRESENT_TEMPLATE, context)
