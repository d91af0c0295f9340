"""Shared by the participant pages: who the browser is, what state a round is in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from workbench.core.errors import RateLimitedError
from workbench.deliberation.models import Participant, Round
from workbench.deliberation.participant_session import (
    SALT,
    cookie_name,
    cookie_name_for,
)
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


def _cookie_candidates(request: HttpRequest) -> dict[uuid.UUID, str]:
    """Participant public ids from this browser's valid signed cookies, with each
    cookie's name."""
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
    return candidates


def participant_for_slug(request: HttpRequest, slug: str) -> Participant | None:
    """The participant this browser joined the workshop `slug` as, in one query.

    Every workshop has its own signed cookie whose salt includes the cookie's name, so a
    cookie cannot be forged, edited or renamed to another workshop. The name's workshop
    id is checked against the participant found, too.
    """
    candidates = _cookie_candidates(request)
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


# participant_ref_for_slug's query, written out: the vote hot path runs it hundreds of
# times a second, and compiling it through the ORM was a fifth of a vote's CPU time.
_PARTICIPANT_IDS_SQL = """
SELECT p.id, p.public_id, p.workshop_id, p.group_id
FROM deliberation_participant p
JOIN deliberation_workshop w ON w.id = p.workshop_id
WHERE w.slug = %s AND p.public_id IN ({})
ORDER BY p.id
LIMIT 1
"""


def _participant_ids(
    *, slug: str, public_ids: list[uuid.UUID]
) -> tuple[int, uuid.UUID, int, int] | None:
    field = Participant._meta.get_field("public_id")
    values = [field.get_db_prep_value(value, connection) for value in public_ids]
    sql = _PARTICIPANT_IDS_SQL.format(", ".join(["%s"] * len(values)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [slug, *values])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, public_id, workshop_id, group_id = row
    return pk, field.to_python(public_id), workshop_id, group_id


def participant_ref_for_slug(request: HttpRequest, slug: str) -> Participant | None:
    """participant_for_slug for the vote hot path: the same checks, but only the ids
    are read (pk, workshop_id, group_id), which halves the lookup's CPU time."""
    candidates = _cookie_candidates(request)
    if not candidates:
        return None
    row = _participant_ids(slug=slug, public_ids=list(candidates))
    if row is None:
        return None
    pk, public_id, workshop_id, group_id = row
    if candidates[public_id] != cookie_name_for(workshop_id=workshop_id):
        return None
    return Participant(
        pk=pk, public_id=public_id, workshop_id=workshop_id, group_id=group_id
    )


def rate_limited(response: HttpResponse, error: RateLimitedError) -> HttpResponse:
    """`response` (a page or fragment showing the error) as a 429 with Retry-After.
    live.js swaps a 429 fragment in like a 200 one, so htmx forms show the error."""
    response.status_code = 429
    response["Retry-After"] = str(error.extra.get("retry_after", 60))
    return response


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
