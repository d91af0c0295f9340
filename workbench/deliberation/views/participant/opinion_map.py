"""The opinion map for participants, when the facilitator shows it: where they sit
among everyone who voted, in plain language."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from workbench.deliberation.models import Participant
from workbench.deliberation.opinion_map import (
    map_group_styles,
    opinion_group_styles,
    render_opinion_map,
)
from workbench.deliberation.selectors.analysis import analysis_latest
from workbench.deliberation.views.facilitator.display import refs
from workbench.deliberation.views.participant.common import (
    not_joined,
    participant_for_slug,
)

TEMPLATE = "deliberation/participant/map.html"
# Enough to say what a group stands for without a wall of text on a phone.
REPRESENTATIVE_SHOWN = 3


def map_id(participant: Participant) -> str:
    """The participant's id in the stored analysis: the imported id, else the pk."""
    return participant.external_id or str(participant.pk)


def _map_context(result: dict[str, Any], me: str) -> dict[str, Any]:
    styles = opinion_group_styles(result)
    group = (result.get("participants") or {}).get(me)
    my_style = styles.get(str(group)) if group is not None else None
    agreed = []
    if my_style is not None:
        reps = (result.get("repness") or {}).get(my_style.key) or []
        keys = [r.get("external_id") for r in reps if r.get("repful_for") == "agree"]
        agreed = refs(result, keys[:REPRESENTATIVE_SHOWN])
    return {
        "map_svg": render_opinion_map(
            result,
            highlight_participant=me,
            width=360,
            height=360,
            id_prefix="my-map",
        ),
        "groups": list(map_group_styles(result).values()),
        "on_map": me in (result.get("participants") or {}),
        "my_group": my_style,
        "agreed": agreed,
    }


@require_GET
def participant_map(request: HttpRequest, slug: str) -> HttpResponse:
    participant = participant_for_slug(request, slug)
    if participant is None:
        return not_joined(request)
    workshop = participant.workshop
    if not workshop.show_opinion_map:
        raise Http404("This workshop does not show the opinion map.")
    analysis = analysis_latest(workshop=workshop)
    result: dict[str, Any] = analysis.result if analysis is not None else {}
    context: dict[str, Any] = {
        "participant": participant,
        "workshop": workshop,
        "analysis": analysis,
        "ok": result.get("status") == "ok",
    }
    if context["ok"]:
        context |= _map_context(result, map_id(participant))
    return render(request, TEMPLATE, context)
