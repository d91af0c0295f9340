"""Participants have no accounts: a signed cookie per workshop holds their public id."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from workbench.deliberation.models import Participant, Workshop

SALT = "workbench.participant"


def cookie_name(workshop: Workshop) -> str:
    return cookie_name_for(workshop_id=workshop.pk)


def cookie_name_for(*, workshop_id: int) -> str:
    return f"wb_participant_{workshop_id}"


def participant_from_request(
    request: HttpRequest, workshop: Workshop
) -> Participant | None:
    """The participant this browser joined the workshop as, or None.

    The cookie is signed, so it cannot be forged or moved to another workshop (its
    name and the participant's workshop must both match).
    """
    try:
        public_id: str | None = request.get_signed_cookie(
            cookie_name(workshop),
            salt=SALT,
            max_age=settings.WORKBENCH["PARTICIPANT_COOKIE_MAX_AGE"],
        )
    except (KeyError, signing.BadSignature):
        return None
    if not public_id:
        return None
    try:
        return Participant.objects.select_related("group", "workshop").get(
            public_id=public_id, workshop=workshop
        )
    except (Participant.DoesNotExist, ValueError, signing.BadSignature):
        return None


def remember_participant(response: HttpResponse, participant: Participant) -> None:
    response.set_signed_cookie(
        cookie_name(participant.workshop),
        str(participant.public_id),
        salt=SALT,
        max_age=settings.WORKBENCH["PARTICIPANT_COOKIE_MAX_AGE"],
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )
