"""Facilitator-written translations of principles: which one a page shows.

A translation belongs to one wording (PrincipleVersion). A page shows it only while
that wording is the principle's current one (its highest version number); after a
reword the translation is outdated, and pages fall back to the original text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, F, Max, OuterRef, QuerySet, Subquery
from django.utils.translation import get_language

from workbench.deliberation.models import (
    Principle,
    PrincipleTranslation,
    PrincipleVersion,
)


def language_names() -> dict[str, str]:
    """The interface languages (settings.LANGUAGES), code -> name."""
    return {code: str(name) for code, name in settings.LANGUAGES}


def translation_language(language: str | None = None) -> str:
    """The interface language a translation is looked up for: `language`, else the
    active one, reduced to a code of settings.LANGUAGES ("es-mx" -> "es"); "" when
    it is none of them."""
    language = (language or get_language() or "").lower()
    codes = language_names()
    if language in codes:
        return language
    base = language.split("-", maxsplit=1)[0]
    return base if base in codes else ""


def _current_number() -> Subquery:
    return Subquery(
        PrincipleVersion.objects.filter(principle_id=OuterRef("version__principle_id"))
        .order_by()
        .values("principle_id")
        .annotate(latest=Max("number"))
        .values("latest")[:1]
    )


def translations_current(
    *, principle_ids: Iterable[int], language: str
) -> QuerySet[PrincipleTranslation]:
    """The translations into `language` of these principles' current wordings."""
    return (
        PrincipleTranslation.objects.filter(
            language=language, version__principle_id__in=list(principle_ids)
        )
        .annotate(current_number=_current_number())
        .filter(version__number=F("current_number"))
        .select_related("version")
    )


def translations_for_principles(
    *, principle_ids: Iterable[int], language: str | None = None
) -> dict[int, PrincipleTranslation]:
    """Principle id -> the translation a participant reading in `language` (the
    active language by default) sees; principles without one are left out."""
    code = translation_language(language)
    ids = list(principle_ids)
    if not code or not ids:
        return {}
    return {
        translation.version.principle_id: translation
        for translation in translations_current(principle_ids=ids, language=code)
    }


def principle_with_translation(
    *, pk: int, language: str | None = None
) -> tuple[Principle, PrincipleTranslation | None]:
    """A principle and the translation a participant reading in `language` (the
    active language by default) sees, for a page that shows one principle after
    every vote: one query when nobody translated it into that language (the usual
    case), the translations_for_principles query as well when someone did."""
    code = translation_language(language)
    principles = Principle.objects.filter(pk=pk)
    if code:
        principles = principles.annotate(
            translated=Exists(
                PrincipleTranslation.objects.filter(
                    version__principle_id=OuterRef("pk"), language=code
                )
            )
        )
    principle = principles.get()
    if not getattr(principle, "translated", False):
        return principle, None
    shown = translations_for_principles(principle_ids=[pk], language=code)
    return principle, shown.get(pk)


def translations_for_versions(
    *, version_ids: Iterable[int], language: str | None = None
) -> dict[int, PrincipleTranslation]:
    """Version id -> its translation into `language`, for pages that show one
    particular wording (a compare item's). Only current wordings qualify, as on
    every other page."""
    code = translation_language(language)
    ids = list(version_ids)
    if not code or not ids:
        return {}
    rows = (
        PrincipleTranslation.objects.filter(language=code, version_id__in=ids)
        .annotate(current_number=_current_number())
        .filter(version__number=F("current_number"))
    )
    return {translation.version_id: translation for translation in rows}


@dataclass(frozen=True)
class TranslationRow:
    """A translation on the facilitator's principle page."""

    translation: PrincipleTranslation
    language_name: str
    version_number: int
    outdated: bool


def translation_list_for_principle(*, principle: Principle) -> list[TranslationRow]:
    """Every translation of every wording of the principle, newest wording first;
    those of earlier wordings are marked outdated."""
    rows = list(
        PrincipleTranslation.objects.filter(version__principle=principle)
        .select_related("version", "translated_by")
        .order_by("-version__number", "language")
    )
    latest = (
        PrincipleVersion.objects.filter(principle=principle).aggregate(
            latest=Max("number")
        )["latest"]
        or 0
    )
    names = language_names()
    return [
        TranslationRow(
            translation=row,
            language_name=names.get(row.language, row.language),
            version_number=row.version.number,
            outdated=row.version.number != latest,
        )
        for row in rows
    ]
