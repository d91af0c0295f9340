"""Shared by the participant pages: who the browser is, what state a round is in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from workbench.deliberation.models import Participant, Round
from workbench.deliberation.participant_session import SALT, cookie_name
from workbench.deliberation.selectors.workshops import round_get_for_participant

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

COOKIE_PREFIX = "wb_participant_"
NOT_JOINED_TEMPLATE = "deliberation/participant/not_joined.html"


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware."""

    htmx: HtmxDetails


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


def participant_for_slug(request: HttpRequest, slug: str) -> Participant | None:
    """The participant this browser joined the workshop `slug` as, in one query.

    Every workshop has its own signed cookie whose salt includes the cookie's name, so a
    cookie cannot be forged, edited or renamed to another workshop. The name's workshop
    id is checked against the participant found, too.
    """
    candidates: dict[uuid.UUID, str] = {}
    for name in request.COOKIES:
        if not name.startswith(COOKIE_PREFIX):
            continue
        try:
            value = request.get_signed_cookie(
                name,
                salt=SALT,
                max_age=settings.WORKBENCH["PARTICIPANT_COOKIE_MAX_AGE"],
            )
            candidates[uuid.UUID(value)] = name
        except (signing.BadSignature, ValueError, TypeError):
            continue
    if not candidates:
        return None
    participant = (
        Participant.objects.select_related("workshop", "group")
        .filter(public_id__in=candidates, workshop__slug=slug)
        .first()
    )
    if participant is None:
        return None
    if candidates[participant.public_id] != cookie_name(participant.workshop):
        return None
    return participant


def not_joined(request: HttpRequest) -> HttpResponse:
    """The answer to a browser without this workshop's cookie: use your invite link."""
    return render(request, NOT_JOINED_TEMPLATE, status=403)


def round_of_kind(participant: Participant, pk: int, kind: str) -> Round:
    """A round the participant can see, of the kind the page is for; else a 404."""
    round_ = round_get_for_participant(participant=participant, pk=pk)
    if round_.kind != kind:
        raise Http404("This page is not for that round.")
    return round_


OPEN = "open"
NOT_YET_OPEN = "not_yet_open"
CLOSED = "closed"


def round_state(round_: Round, now: datetime | None = None) -> str:
    """open, not_yet_open or closed, as a participant sees it right now."""
    now = now or timezone.now()
    if round_.is_open_at(now):
        return OPEN
    if round_.status == Round.Status.OPEN and round_.opens_at and now < round_.opens_at:
        return NOT_YET_OPEN
    if round_.status == Round.Status.DRAFT:
        return NOT_YET_OPEN
    return CLOSED


ROUND_URL_NAMES = {
    Round.Kind.PROPOSE: "deliberation:participant-propose",
    Round.Kind.VOTE: "deliberation:participant-vote",
    Round.Kind.RANK: "deliberation:participant-rank",
}


def round_url(round_: Round, slug: str) -> str | None:
    """The participant page for the round, or None for kinds without one."""
    name = ROUND_URL_NAMES.get(Round.Kind(round_.kind))
    if name is None:
        return None
    return reverse(name, kwargs={"slug": slug, "pk": round_.pk})
