from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from workbench.core.errors import ApplicationError
from workbench.deliberation.models import Participant, ParticipantGroup

DEMOGRAPHIC_FIELDS = ("age_range", "gender", "self_description", "location")
DEMOGRAPHIC_MAX_LENGTH = 200
DEMOGRAPHIC_LABELS = {
    "age_range": gettext_lazy("age range"),
    "gender": gettext_lazy("gender"),
    "self_description": gettext_lazy("self description"),
    "location": gettext_lazy("location"),
}


def _clean_demographics(raw: dict[str, Any]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for key in DEMOGRAPHIC_FIELDS:
        value = str(raw.get(key) or "").strip()
        if len(value) > DEMOGRAPHIC_MAX_LENGTH:
            raise ApplicationError(
                gettext("Please keep “%(field)s” under %(limit)s characters.")
                % {"field": DEMOGRAPHIC_LABELS[key], "limit": DEMOGRAPHIC_MAX_LENGTH}
            )
        if value:
            cleaned[key] = value
    return cleaned


@transaction.atomic
def participant_join(
    *,
    group: ParticipantGroup,
    demographics: dict[str, Any] | None = None,
    consent: bool = False,
    language: str = "",
) -> Participant:
    """Creates an anonymous participant; demographics are kept only with consent."""
    cleaned = _clean_demographics(demographics or {}) if consent else {}
    participant = Participant(
        workshop_id=group.workshop_id,
        group=group,
        demographics=cleaned,
        demographics_consent=bool(consent and cleaned),
        language=language[:16],
    )
    participant.full_clean()
    participant.save()
    return participant


@transaction.atomic
def participant_update_demographics(
    *, participant: Participant, demographics: dict[str, Any], consent: bool
) -> Participant:
    """Withdrawing consent erases what was given."""
    participant.demographics = _clean_demographics(demographics) if consent else {}
    participant.demographics_consent = bool(consent and participant.demographics)
    participant.save(
        update_fields=["demographics", "demographics_consent", "updated_at"]
    )
    return participant
