"""Facilitators' translations of principles: add, change, remove. Every change is in
the moderation log.

A translation is of the principle's current wording (its latest version), so a later
reword leaves it outdated rather than silently wrong. The principle's row lock, which
principle_edit takes too, orders a translation against a concurrent reword: it is
either of the wording before the reword (and outdated by it) or of the new one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from workbench.accounts.models import User
from workbench.core.errors import ApplicationError, PermissionDeniedError
from workbench.deliberation.models import (
    ModerationEvent,
    Principle,
    PrincipleTranslation,
    PrincipleVersion,
)
from workbench.deliberation.selectors.translations import language_names


def translation_max_length() -> int:
    """A translation may run longer than its original (German often does): twice
    the principle limit."""
    return 2 * int(settings.WORKBENCH["PRINCIPLE_MAX_LENGTH"])


def _clean_text(text: str) -> str:
    # Whitespace is normalised as principles' is; every script is kept as written.
    text = " ".join(text.split())
    if not text:
        raise ApplicationError(gettext("Write the translation before saving it."))
    limit = translation_max_length()
    if len(text) > limit:
        raise ApplicationError(
            gettext(
                "Please keep a translation under %(limit)s characters "
                "(this one has %(length)s)."
            )
            % {"limit": limit, "length": len(text)}
        )
    return text


def _clean_language(language: str) -> str:
    if language not in language_names():
        raise ApplicationError(gettext("Choose one of the workbench's languages."))
    return language


def _lock_owned(principle: Principle, actor: User) -> Principle:
    """The principle under its row lock, if the actor owns its workshop."""
    locked = (
        Principle.objects.select_for_update(no_key=True, of=("self",))
        .select_related("workshop")
        .get(pk=principle.pk)
    )
    if locked.workshop.owner_id != actor.pk:
        raise PermissionDeniedError(
            gettext("Only the workshop's facilitator can translate its principles.")
        )
    return locked


def _current_version(principle: Principle) -> PrincipleVersion:
    version = principle.versions.order_by("-number").first()
    if version is None:
        raise ApplicationError(gettext("This principle has no wording to translate."))
    return version


def _log(
    *,
    principle: Principle,
    actor: User,
    action: str,
    translation: PrincipleTranslation,
    version_number: int,
) -> None:
    # Not a change to what is voted on, so no new analysis is requested (as for
    # opening and closing rounds).
    ModerationEvent.objects.create(
        workshop_id=principle.workshop_id,
        principle=principle,
        actor=actor,
        action=action,
        data={
            "language": translation.language,
            "version": version_number,
            "text": translation.text,
        },
    )


@transaction.atomic
def translation_save(
    *, principle: Principle, language: str, text: str, actor: User
) -> PrincipleTranslation:
    """Adds or replaces the translation of the principle's current wording into
    `language` (one of settings.LANGUAGES). Saving the same words again changes
    nothing and logs nothing."""
    language = _clean_language(language)
    text = _clean_text(text)
    principle = _lock_owned(principle, actor)
    version = _current_version(principle)
    now = timezone.now()
    translation = PrincipleTranslation.objects.filter(
        version=version, language=language
    ).first()
    if translation is not None and translation.text == text:
        return translation
    if translation is None:
        translation = PrincipleTranslation(
            version=version, language=language, created_at=now
        )
    translation.text = text
    translation.translated_by = actor
    translation.updated_at = now
    translation.full_clean()
    translation.save()
    _log(
        principle=principle,
        actor=actor,
        action=ModerationEvent.Action.TRANSLATE,
        translation=translation,
        version_number=version.number,
    )
    return translation


@transaction.atomic
def translation_remove(
    *, principle: Principle, translation_id: int, actor: User
) -> None:
    """Removes one translation of the principle (current or outdated)."""
    principle = _lock_owned(principle, actor)
    translation = (
        PrincipleTranslation.objects.select_related("version")
        .filter(pk=translation_id, version__principle=principle)
        .first()
    )
    if translation is None:
        raise ApplicationError(gettext("That translation is not there any more."))
    number = translation.version.number
    translation.delete()
    _log(
        principle=principle,
        actor=actor,
        action=ModerationEvent.Action.UNTRANSLATE,
        translation=translation,
        version_number=number,
    )
