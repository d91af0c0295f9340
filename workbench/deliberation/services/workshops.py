from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext

from workbench.accounts.models import User
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import ParticipantGroup, Workshop, new_invite_token

WORKSHOP_EDITABLE_FIELDS = (
    "title",
    "question",
    "description",
    "strict_moderation",
    "show_moderation_log",
    "show_opinion_map",
)


# Paths under /workshops/ that a slug would shadow.
RESERVED_SLUGS = frozenset({"new"})


def _unique_slug(title: str) -> str:
    base = slugify(title)[:60] or "workshop"
    if base in RESERVED_SLUGS:
        base = f"{base}-workshop"
    slug, n = base, 2
    while Workshop.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def workshop_create(
    *,
    owner: User,
    title: str,
    question: str,
    description: str = "",
    slug: str | None = None,
    strict_moderation: bool = True,
    show_moderation_log: bool = False,
    show_opinion_map: bool = False,
    source: str = "",
) -> Workshop:
    if slug in RESERVED_SLUGS:
        raise ApplicationError(
            gettext("The address “%(slug)s” is reserved; choose another.")
            % {"slug": slug}
        )
    if slug and Workshop.objects.filter(slug=slug).exists():
        raise ApplicationError(
            gettext("A workshop with the address “%(slug)s” already exists.")
            % {"slug": slug}
        )
    workshop = Workshop(
        owner=owner,
        title=title,
        slug=slug or _unique_slug(title),
        question=question,
        description=description,
        strict_moderation=strict_moderation,
        show_moderation_log=show_moderation_log,
        show_opinion_map=show_opinion_map,
        source=source,
    )
    workshop.full_clean()
    workshop.save()
    return workshop


@transaction.atomic
def workshop_update(*, workshop: Workshop, **fields: Any) -> Workshop:
    unknown = set(fields) - set(WORKSHOP_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            gettext("These fields cannot be edited: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    for name, value in fields.items():
        setattr(workshop, name, value)
    workshop.full_clean()
    workshop.save(update_fields=[*fields, "updated_at"])
    return workshop


@transaction.atomic
def group_create(
    *, workshop: Workshop, name: str, description: str = "", external_id: str = ""
) -> ParticipantGroup:
    name = name.strip()
    if not name:
        raise ApplicationError(gettext("A group needs a name."))
    if workshop.groups.filter(name=name).exists():
        raise ApplicationError(
            gettext("This workshop already has a group called “%(name)s”.")
            % {"name": name}
        )
    group = ParticipantGroup(
        workshop=workshop, name=name, description=description, external_id=external_id
    )
    group.full_clean()
    group.save()
    return group


@transaction.atomic
def group_regenerate_token(*, group: ParticipantGroup) -> ParticipantGroup:
    """Replaces the invite link: the old link stops working; members stay joined."""
    group.invite_token = new_invite_token()
    group.save(update_fields=["invite_token", "updated_at"])
    return group
