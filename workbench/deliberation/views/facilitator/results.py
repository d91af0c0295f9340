"""Live results: participation and votes, and the stored opinion analysis, each
refreshed by HTMX polling. The analysis is computed by a Celery task after votes;
these views only read the latest stored run."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

from workbench.deliberation.models import Workshop
from workbench.deliberation.opinion_map import (
    GroupStyle,
    map_group_styles,
    opinion_group_styles,
    participant_group_styles,
    render_opinion_map,
)
from workbench.deliberation.selectors.analysis import (
    analysis_is_stale,
    analysis_latest,
)
from workbench.deliberation.selectors.facilitator import group_list_for_workshop
from workbench.deliberation.selectors.results import (
    participation_by_group,
    principle_tallies,
)
from workbench.deliberation.selectors.workshops import workshop_get_for_user
from workbench.deliberation.views.facilitator import display
from workbench.deliberation.views.facilitator._common import FacilitatorRequest

TEMPLATE = "deliberation/facilitator/results.html"
POLL_SECONDS = 5


@login_required
def results(request: FacilitatorRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    group_names = dict(
        group_list_for_workshop(workshop=workshop).values_list("pk", "name")
    )
    participation = participation_by_group(workshop=workshop)
    context = {
        "workshop": workshop,
        "participation": participation,
        "totals": {
            "participants": sum(g.participants for g in participation),
            "voters": sum(g.voters for g in participation),
            "votes": sum(g.votes for g in participation),
        },
        "principles": [
            display.bars_from_tally(tally, group_names)
            for tally in principle_tallies(workshop=workshop)
        ],
        "poll_seconds": POLL_SECONDS,
    }
    if request.htmx:
        return render(request, TEMPLATE + "#live-results", context)
    context |= analysis_context(workshop)
    return render(request, TEMPLATE, context)


@login_required
def results_analysis(request: FacilitatorRequest, slug: str) -> HttpResponse:
    """The analysis section alone, for polling. It answers 204 (HTMX leaves the
    page alone) while the run shown is still the latest and its staleness has not
    changed, so an open <details> is not closed every few seconds."""
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    context = analysis_context(workshop)
    shown = (request.GET.get("shown"), request.GET.get("stale"))
    if request.htmx and shown == (context["shown"], context["stale_flag"]):
        return HttpResponse(status=204)
    context |= {"workshop": workshop, "poll_seconds": POLL_SECONDS}
    return render(request, TEMPLATE + "#analysis", context)


def _participant_group_styles(result: dict[str, Any]) -> dict[str, GroupStyle]:
    styles = participant_group_styles(result)
    named = set(result.get("repness_participant_groups") or {}) - set(styles)
    for name in sorted(named):
        styles[name] = GroupStyle(name, name, "", "circle", 0)
    return styles


def _consensus_lists(result: dict[str, Any]) -> list[tuple[str, Any]]:
    consensus = result.get("consensus") or {}
    return [
        (gettext("Broad agreement"), display.refs(result, consensus.get("agree"))),
        (
            gettext("Broad disagreement"),
            display.refs(result, consensus.get("disagree")),
        ),
        (gettext("Divisive"), display.refs(result, result.get("divisive"))),
    ]


def analysis_context(workshop: Workshop) -> dict[str, Any]:
    """Everything the analysis section shows, read from the latest stored run."""
    analysis = analysis_latest(workshop=workshop)
    if analysis is None:
        return {"analysis": None, "shown": "", "stale_flag": "0"}
    stale = analysis_is_stale(workshop=workshop, analysis=analysis)
    result: dict[str, Any] = analysis.result or {}
    opinion = opinion_group_styles(result)
    labels = {key: style.label for key, style in opinion.items()}
    people = _participant_group_styles(result)
    return {
        "analysis": analysis,
        "result": result,
        "ok": result.get("status") == "ok",
        "stale": stale,
        "shown": str(analysis.pk),
        "stale_flag": "1" if stale else "0",
        "map_svg": render_opinion_map(result, id_prefix="analysis-map"),
        "participant_map_svg": render_opinion_map(
            result, grouping="participant", id_prefix="analysis-map-people"
        ),
        "opinion_groups": list(map_group_styles(result).values()),
        "participant_groups": list(map_group_styles(result, "participant").values()),
        "points": display.principle_points(result),
        "opinion_bars": display.analysis_bars(result, "per_group", labels),
        "participant_bars": display.analysis_bars(result, "per_participant_group", {}),
        "consensus_lists": _consensus_lists(result),
        "rep_opinion": display.rep_groups(result, "repness", opinion),
        "rep_participant": display.rep_groups(
            result, "repness_participant_groups", people
        ),
        "comparison": display.comparison_table(result),
    }
