"""Voting one principle at a time, and the list of every vote to change them.

The POST path is the hot one (benchmarked at hundreds of votes a second): it resolves
the participant in one query and the round in another, never fetches the principle
(the service checks it is on the round's agenda) and answers a plain POST with a
redirect rather than a rendered page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from workbench.core.errors import (
    ApplicationError,
    NotAvailableError,
    RateLimitedError,
)
from workbench.deliberation.forms_participant import VoteForm
from workbench.deliberation.models import Participant, Principle, Round, VoteChoice
from workbench.deliberation.selectors.principles import (
    principle_agenda,
    principle_agenda_progress,
    principle_pick_next,
)
from workbench.deliberation.selectors.translations import (
    principle_with_translation,
    translations_for_principles,
)
from workbench.deliberation.services.votes import vote_cast
from workbench.deliberation.views.participant.common import (
    OPEN,
    HtmxHttpRequest,
    HttpResponseSeeOther,
    not_joined,
    participant_for_slug,
    participant_ref_for_slug,
    rate_limited,
    round_of_kind,
    round_state,
)

VOTE_TEMPLATE = "deliberation/participant/vote.html"
LIST_TEMPLATE = "deliberation/participant/vote_list.html"

CHOICE_LABELS = {
    VoteChoice.AGREE: _("Agree"),
    VoteChoice.DISAGREE: _("Disagree"),
    VoteChoice.PASS: _("Pass"),
}


def _cast(request: HtmxHttpRequest, participant: Participant, round_: Round) -> str:
    """Casts the posted vote; returns an error message, or "" when it was stored.
    Raises RateLimitedError: the views answer it with a 429 page."""
    form = VoteForm(request.POST)
    if not form.is_valid():
        return gettext("Choose agree, disagree or pass for a principle.")
    # A reference by id is enough: vote_cast checks that the principle is on this
    # round's agenda (so in this workshop and approved) before it stores anything.
    principle = Principle(pk=form.cleaned_data["principle"])
    try:
        vote_cast(
            participant=participant,
            round_=round_,
            principle=principle,
            choice=form.cleaned_data["choice"],
            client_token=form.cleaned_data["client_token"],
            shown_language=form.cleaned_data["shown_language"],
        )
    except NotAvailableError as error:
        raise Http404(error.message) from None
    except RateLimitedError:
        raise
    except ApplicationError as error:
        return error.message
    return ""


def _vote_context(participant: Participant, round_: Round) -> dict[str, Any]:
    """Rendered after every htmx vote, so it reads little: the counts and the
    unvoted ids in one query for the agenda, then the priorities and the next
    principle (with its translation, when it has one)."""
    state = round_state(round_)
    progress = principle_agenda_progress(participant=participant, round_=round_)
    total, voted = progress.total, progress.voted
    principle, translation = None, None
    if state == OPEN:
        pick = principle_pick_next(
            workshop_id=round_.workshop_id, unvoted=progress.unvoted
        )
        if pick is not None:
            principle, translation = principle_with_translation(pk=pick)
    return {
        "participant": participant,
        "workshop": participant.workshop,
        "round": round_,
        "state": state,
        "principle": principle,
        "total": total,
        "voted": voted,
        "percent": round(100 * voted / total) if total else 0,
        "client_token": uuid.uuid4(),
        "choices": CHOICE_LABELS,
        "principle_translations": (
            {principle.pk: translation} if principle and translation else {}
        ),
    }


@require_http_methods(["GET", "POST"])
def vote(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    if request.method == "POST" and not request.htmx:
        return _vote_posted(request, slug, pk)
    participant = participant_for_slug(request, slug)
    if participant is None:
        return not_joined(request)
    round_ = round_of_kind(participant, pk, Round.Kind.VOTE)
    if request.method == "POST":
        try:
            error = _cast(request, participant, round_)
        except RateLimitedError as limited:
            return _too_fast(request, slug, pk, limited)
        context = _vote_context(participant, round_) | {"error": error, "swap": True}
        return render(request, f"{VOTE_TEMPLATE}#voting", context)
    return render(request, VOTE_TEMPLATE, _vote_context(participant, round_))


def _vote_posted(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The hot path: only the participant's ids are read, and vote_cast reads the
    round under its lock and refuses a round outside the participant's scope or of
    another kind, so the view reads no round itself."""
    ref = participant_ref_for_slug(request, slug)
    if ref is None:
        return not_joined(request)
    try:
        error = _cast(request, ref, Round(pk=pk))
    except RateLimitedError as limited:
        return _too_fast(request, slug, pk, limited)
    if error:
        messages.error(request, error)
    return HttpResponseSeeOther(request.path)


def _too_fast(
    request: HtmxHttpRequest, slug: str, pk: int, limited: RateLimitedError
) -> HttpResponse:
    """A vote refused by VOTES_PER_MINUTE: the page (for htmx, its voting fragment)
    again, with the same principle and why, as a 429 with Retry-After."""
    participant = participant_for_slug(request, slug)
    if participant is None:
        return not_joined(request)
    round_ = round_of_kind(participant, pk, Round.Kind.VOTE)
    context = _vote_context(participant, round_) | {
        "error": limited.message,
        "swap": bool(request.htmx),
    }
    template = f"{VOTE_TEMPLATE}#voting" if request.htmx else VOTE_TEMPLATE
    return rate_limited(render(request, template, context), limited)


@dataclass(frozen=True)
class ListRow:
    principle: Principle
    choice: int | None
    client_token: uuid.UUID

    @property
    def choice_label(self) -> str:
        if self.choice is None:
            return ""
        return str(CHOICE_LABELS[VoteChoice(self.choice)])


@require_http_methods(["GET", "POST"])
def vote_list(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    participant = participant_for_slug(request, slug)
    if participant is None:
        return not_joined(request)
    round_ = round_of_kind(participant, pk, Round.Kind.VOTE)
    if request.method == "POST":
        try:
            error = _cast(request, participant, round_)
        except RateLimitedError as limited:
            messages.error(request, limited.message)
            page = render(request, LIST_TEMPLATE, _list_context(participant, round_))
            return rate_limited(page, limited)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, gettext("Your vote is saved."))
        anchor = request.POST.get("principle", "")
        suffix = f"#p-{anchor}" if anchor.isdigit() else ""
        return HttpResponseSeeOther(request.path + suffix)
    return render(request, LIST_TEMPLATE, _list_context(participant, round_))


def _list_context(participant: Participant, round_: Round) -> dict[str, Any]:
    current = dict(participant.votes.values_list("principle_id", "choice"))
    rows = [
        ListRow(principle, current.get(principle.pk), uuid.uuid4())
        for principle in principle_agenda(round_=round_)
    ]
    return {
        "participant": participant,
        "workshop": participant.workshop,
        "round": round_,
        "state": round_state(round_),
        "rows": rows,
        "principle_translations": translations_for_principles(
            principle_ids=[row.principle.pk for row in rows]
        ),
        "voted": sum(row.choice is not None for row in rows),
        "choices": CHOICE_LABELS,
        "vote_url": reverse(
            "deliberation:participant-vote",
            kwargs={"slug": participant.workshop.slug, "pk": round_.pk},
        ),
    }
