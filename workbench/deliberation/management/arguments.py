"""What the management commands share in reading their arguments."""

from __future__ import annotations

from django.core.management.base import CommandError

from workbench.deliberation.models import Workshop


def workshop_named(slug: str, *, then: str = "") -> Workshop:
    """The workshop with this slug, or the command's error saying there is none
    (``then`` adds what that means, e.g. "Nothing was imported.")."""
    workshop = Workshop.objects.filter(slug=slug).first()
    if workshop is None:
        raise CommandError(
            " ".join(filter(None, [f"There is no workshop “{slug}”.", then]))
        )
    return workshop
