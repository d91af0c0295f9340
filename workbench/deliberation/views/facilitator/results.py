"""Live results: participation and votes, refreshed by HTMX polling."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from workbench.deliberation.selectors.facilitator import group_list_for_workshop
from workbench.deliberation.selectors.results import (
    participation_by_group,
    principle_tallies,
)
from workbench.deliberation.selectors.workshops import workshop_get_for_user
from workbench.deliberation.views.facilitator._common import FacilitatorRequest
from workbench.deliberation.views.facilitator.display import bars_from_tally

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
            bars_from_tally(tally, group_names)
            for tally in principle_tallies(workshop=workshop)
        ],
        "poll_seconds": POLL_SECONDS,
    }
    template = TEMPLATE + "#live-results" if request.htmx else TEMPLATE
    return render(request, template, context)
