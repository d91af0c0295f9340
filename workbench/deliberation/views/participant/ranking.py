"""Ranking a round's shortlist, best first.

With JavaScript (static/js/rank.js) the participant drags items or uses Move up / Move
down; without it, they type a position for each principle. Both post the same form.
A client may instead post `ranking` repeatedly, the principle ids best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_http_methods

from workbench.core.errors import ApplicationError
from workbench.deliberation.forms_participant import RankForm
from workbench.deliberation.models import Principle, RankingBallot, Round
from workbench.deliberation.selectors.translations import translations_for_principles
from workbench.deliberation.services.ranking import ballot_submit
from workbench.deliberation.views.participant.common import (
    HttpResponseSeeOther,
    not_joined,
    participant_for_slug,
    round_of_kind,
    round_state,
)

RANK_TEMPLATE = "deliberation/participant/rank.html"
UNREADABLE = gettext_noop(
    "Your ranking could not be read: give each principle a position."
)


@dataclass
class RankItem:
    principle: Principle
    position: object
    field_name: str
    errors: list[str] = field(default_factory=list)


def _in_order(
    principles: Sequence[Principle], ranking: Sequence[int]
) -> list[Principle]:
    """The principles in the ballot's order; any not on the ballot follow."""
    place = {pk: index for index, pk in enumerate(ranking)}
    return sorted(principles, key=lambda p: place.get(p.pk, len(place)))


def _items(principles: Sequence[Principle], form: RankForm | None) -> list[RankItem]:
    items = []
    for index, principle in enumerate(principles, start=1):
        name = RankForm.field_name(principle.pk)
        if form is None:
            items.append(RankItem(principle, index, name))
        else:
            bound = form[name]
            items.append(
                RankItem(principle, bound.value(), name, [str(e) for e in bound.errors])
            )
    return items


def _posted_ranking(request: HttpRequest) -> list[int] | None:
    try:
        return [int(value) for value in request.POST.getlist("ranking")]
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
def rank(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    participant = participant_for_slug(request, slug)
    if participant is None:
        return not_joined(request)
    round_ = round_of_kind(participant, pk, Round.Kind.RANK)
    shortlist = list(round_.shortlist.all())
    ballot = RankingBallot.objects.filter(participant=participant, round=round_).first()
    ordered = _in_order(shortlist, ballot.ranking) if ballot else shortlist
    form: RankForm | None = None
    error = ""
    if request.method == "POST":
        if "ranking" in request.POST:
            ranking = _posted_ranking(request)
        else:
            form = RankForm(request.POST, principles=shortlist)
            ranking = form.ranking() if form.is_valid() else None
            ordered = shortlist
        if ranking is None:
            specific = form.non_field_errors() if form is not None else []
            error = str(specific[0]) if specific else gettext(UNREADABLE)
        else:
            try:
                ballot_submit(participant=participant, round_=round_, ranking=ranking)
            except ApplicationError as exc:
                error = exc.message
            else:
                return HttpResponseSeeOther(request.path)
    context = {
        "participant": participant,
        "workshop": participant.workshop,
        "round": round_,
        "state": round_state(round_),
        "ballot": ballot,
        "items": _items(ordered, form),
        "principle_translations": translations_for_principles(
            principle_ids=[principle.pk for principle in shortlist]
        ),
        "error": error,
    }
    return render(request, RANK_TEMPLATE, context, status=400 if error else 200)
