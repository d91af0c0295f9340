"""The narrative a facilitator writes for the legitimacy section of every card."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from workbench.accounts.models import User
from workbench.cards.models import CardNarrative
from workbench.cards.selectors import NARRATIVE_FIELDS
from workbench.core.errors import ApplicationError, PermissionDeniedError
from workbench.deliberation.models import Workshop

# A card prints each field in full on every page it has; a few paragraphs suffice.
NARRATIVE_MAX_LENGTH = 4000
_FIELD_LABELS = {
    "recruitment": gettext_lazy("Recruitment"),
    "representativeness": gettext_lazy("Representativeness"),
    "deliberation_design": gettext_lazy("Deliberation design"),
    "limitations": gettext_lazy("Limitations"),
}


@transaction.atomic
def card_narrative_update(
    *, workshop: Workshop, actor: User, **fields: str
) -> CardNarrative:
    """Creates or updates the workshop's narrative with the given fields (any of
    recruitment, representativeness, deliberation_design, limitations); fields not
    given keep their text. Only the workshop's owner may write it."""
    if actor.pk != workshop.owner_id:
        raise PermissionDeniedError(
            gettext("Only the workshop's facilitator can write this.")
        )
    unknown = set(fields) - set(NARRATIVE_FIELDS)
    if unknown:
        names = ", ".join(sorted(unknown))
        raise ApplicationError(
            gettext("Unknown narrative fields: %(names)s.") % {"names": names}
        )
    cleaned = {name: (value or "").strip() for name, value in fields.items()}
    for name, value in cleaned.items():
        if len(value) > NARRATIVE_MAX_LENGTH:
            raise ApplicationError(
                gettext("%(field)s: please keep it under %(limit)s characters.")
                % {"field": _FIELD_LABELS[name], "limit": NARRATIVE_MAX_LENGTH}
            )
    # The row lock makes two saves at once apply one after the other.
    narrative, _ = CardNarrative.objects.select_for_update().get_or_create(
        workshop=workshop
    )
    for name, value in cleaned.items():
        setattr(narrative, name, value)
    narrative.updated_by = actor
    narrative.full_clean()
    narrative.save()
    return narrative
