"""What a participant's open page polls: on the home page, the list of activities
(so a round that opens for their group appears without a reload); on a round's
page, that round's state (so a round that closes says so and its forms switch off).

Both are scoped like the pages: the participant's own group's rounds and the
cross-group ones. A poll that brings back what the page already shows is answered
204, so nothing on the page moves and screen readers hear only real changes."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from workbench.deliberation.models import Participant
from workbench.deliberation.selectors.workshops import (
    round_get_for_participant,
    rounds_for_participant,
)
from workbench.deliberation.views.participant.common import (
    OPEN,
    HtmxHttpRequest,
    not_joined,
    participant_for_slug,
    round_state,
    round_url,
)
from workbench.deliberation.views.participant.pages import RoundRow

HOME_TEMPLATE = "deliberation/participant/home.html"
STATUS_TEMPLATE = "deliberation/participant/_round_status.html"


def round_rows(participant: Participant, slug: str) -> list[RoundRow]:
    now = timezone.now()
    return [
        RoundRow(round_, round_state(round_, now), round_url(round_, slug))
        for round_ in rounds_for_participant(participant=participant)
    ]


def rows_fingerprint(rows: list[RoundRow]) -> str:
    """What the activities list shows, as the home page writes it (home.html's
    `shown`): each round's id and state."""
    return ".".join(f"{row.round.pk}-{row.state}" for row in rows)


@require_GET
def participant_status(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The home page's activities list, for polling."""
    participant = participant_for_slug(request, slug)
    if participant is None:
        return not_joined(request)
    rows = round_rows(participant, slug)
    if request.htmx and request.GET.get("shown") == rows_fingerprint(rows):
        return HttpResponse(status=204)
    context = {
        "participant": participant,
        "workshop": participant.workshop,
        "rows": rows,
        "any_open": any(row.state == OPEN for row in rows),
    }
    return render(request, HOME_TEMPLATE + "#activities", context)


@require_GET
def participant_round_status(
    request: HtmxHttpRequest, slug: str, pk: int
) -> HttpResponse:
    """A round's state banner, for polling from the round's page."""
    participant = participant_for_slug(request, slug)
    if participant is None:
        return not_joined(request)
    round_ = round_get_for_participant(participant=participant, pk=pk)
    state = round_state(round_)
    shown = request.GET.get("shown", "")
    if request.htmx and shown == state:
        return HttpResponse(status=204)
    context = {
        "participant": participant,
        "workshop": participant.workshop,
        "round": round_,
        "state": state,
        "changed": bool(shown) and shown != state,
    }
    return render(request, STATUS_TEMPLATE, context)
