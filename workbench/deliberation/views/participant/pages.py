"""Joining, the participant's home page, the moderation log and proposing principles."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from workbench.core.errors import ApplicationError, RateLimitedError
from workbench.deliberation.forms_participant import JoinForm, ProposeForm
from workbench.deliberation.models import ModerationEvent, Principle, Round
from workbench.deliberation.participant_session import (
    participant_from_request,
    remember_participant,
)
from workbench.deliberation.selectors.principles import SimilarPrinciple
from workbench.deliberation.selectors.translations import translations_for_principles
from workbench.deliberation.selectors.workshops import (
    group_get_by_token,
    rounds_for_participant,
)
from workbench.deliberation.services.invite_guard import (
    WINDOW_SECONDS,
    client_address,
    invite_guess_record,
    invite_guesses_exhausted,
)
from workbench.deliberation.services.participants import participant_join
from workbench.deliberation.services.principles import (
    NearDuplicateError,
    principle_propose,
)
from workbench.deliberation.views.participant.common import (
    HttpResponseSeeOther,
    not_joined,
    participant_for_slug,
    rate_limited,
    round_of_kind,
    round_state,
    round_url,
)

TEMPLATES = "deliberation/participant"

# Actions participants see in the log. Proposals are left out: a pending proposal's
# text is not public until a moderator has looked at it.
PUBLIC_LOG_ACTIONS = {
    ModerationEvent.Action.SEED: _("Added by the facilitators"),
    ModerationEvent.Action.APPROVE: _("Approved"),
    ModerationEvent.Action.REJECT: _("Rejected"),
    ModerationEvent.Action.MERGE: _("Merged with a similar principle"),
    ModerationEvent.Action.EDIT: _("Wording edited"),
}
LOG_LIMIT = 500


def _home_url(slug: str) -> str:
    return reverse("deliberation:participant-home", kwargs={"slug": slug})


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    client = client_address(
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
    )
    if invite_guesses_exhausted(client=client):
        response = render(request, f"{TEMPLATES}/invalid_invite.html", status=429)
        response["Retry-After"] = str(WINDOW_SECONDS)
        return response
    try:
        group = group_get_by_token(token=token)
    except Http404:
        invite_guess_record(client=client)
        return render(request, f"{TEMPLATES}/invalid_invite.html", status=404)
    workshop = group.workshop
    if participant_from_request(request, workshop) is not None:
        return HttpResponseSeeOther(_home_url(workshop.slug))
    form = JoinForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            participant = participant_join(
                group=group,
                demographics=form.demographics(),
                consent=form.cleaned_data["consent"],
                language=get_language() or "",
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            if form.gave_details_without_consent():
                messages.info(
                    request,
                    gettext(
                        "You did not tick the consent box, so the details you typed "
                        "about yourself were not kept."
                    ),
                )
            response = HttpResponseSeeOther(_home_url(workshop.slug))
            remember_participant(response, participant)
            return response
    context = {"workshop": workshop, "group": group, "form": form}
    status = 400 if form.errors else 200
    return render(request, f"{TEMPLATES}/join.html", context, status=status)


@dataclass(frozen=True)
class RoundRow:
    round: Round
    state: str
    url: str | None


@require_GET
def participant_home(request: HttpRequest, slug: str) -> HttpResponse:
    participant = participant_for_slug(request, slug)
    if participant is None:
        return not_joined(request)
    now = timezone.now()
    rows = [
        RoundRow(round_, round_state(round_, now), round_url(round_, slug))
        for round_ in rounds_for_participant(participant=participant)
    ]
    context = {
        "participant": participant,
        "workshop": participant.workshop,
        "rows": rows,
        "any_open": any(row.state == "open" for row in rows),
    }
    return render(request, f"{TEMPLATES}/home.html", context)


@require_GET
def moderation_log(request: HttpRequest, slug: str) -> HttpResponse:
    participant = participant_for_slug(request, slug)
    if participant is None:
        return not_joined(request)
    workshop = participant.workshop
    if not workshop.show_moderation_log:
        raise Http404("This workshop does not publish its moderation log.")
    # The template never shows the actor: facilitators stay anonymous to participants.
    events = (
        ModerationEvent.objects.filter(
            workshop=workshop, action__in=list(PUBLIC_LOG_ACTIONS)
        )
        .select_related("principle")
        .order_by("-created_at", "-id")[:LOG_LIMIT]
    )
    rows = [
        (PUBLIC_LOG_ACTIONS[ModerationEvent.Action(event.action)], event)
        for event in events
    ]
    translations = translations_for_principles(
        principle_ids={e.principle_id for _, e in rows if e.principle_id is not None}
    )
    context = {
        "participant": participant,
        "workshop": workshop,
        "rows": rows,
        "principle_translations": translations,
    }
    return render(request, f"{TEMPLATES}/log.html", context)


@require_http_methods(["GET", "POST"])
def propose(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    participant = participant_for_slug(request, slug)
    if participant is None:
        return not_joined(request)
    round_ = round_of_kind(participant, pk, Round.Kind.PROPOSE)
    form = ProposeForm(request.POST if request.method == "POST" else None)
    matches: list[SimilarPrinciple] = []
    status = 200
    too_fast: RateLimitedError | None = None
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                principle = principle_propose(
                    participant=participant,
                    round_=round_,
                    text=form.cleaned_data["text"],
                    confirm_similar=form.cleaned_data["confirm_similar"],
                )
            except NearDuplicateError as error:
                matches, status = error.matches, 200
            except RateLimitedError as error:
                form.add_error("text", error.message)
                too_fast = error
            except ApplicationError as error:
                form.add_error("text", error.message)
            else:
                messages.success(request, _proposed_message(principle))
                return HttpResponseSeeOther(request.path)
    context = {
        "participant": participant,
        "workshop": participant.workshop,
        "round": round_,
        "state": round_state(round_),
        "form": form,
        "matches": matches,
        "proposals": participant.principles.select_related("merged_into").order_by(
            "-created_at", "-id"
        ),
    }
    response = render(request, f"{TEMPLATES}/propose.html", context, status=status)
    return rate_limited(response, too_fast) if too_fast else response


def _proposed_message(principle: Principle) -> str:
    if principle.status == Principle.Status.PENDING:
        return gettext(
            "Thank you. Your principle is waiting for a facilitator to approve it."
        )
    return gettext("Thank you. Your principle is now on the agenda.")
