"""Messages built in Python (service errors, the value-card PDF's notes) come out in
the active language, with their figures filled in and the plural form the count
calls for."""

from __future__ import annotations

import pytest
from django.utils import translation

from workbench.cards.render import pdf
from workbench.core.errors import ApplicationError, PermissionDeniedError
from workbench.deliberation.services.translations import (
    translation_max_length,
    translation_save,
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Write the translation before saving it."),
        ("es", "Escribe la traducción antes de guardarla."),
        ("de", "Schreibe die Übersetzung, bevor du sie speicherst."),
    ],
)
def test_an_empty_translation_is_refused_in_the_active_language(
    setup, owner, language, expected
):
    with translation.override(language), pytest.raises(ApplicationError) as caught:
        translation_save(principle=setup.seeds[0], language="es", text=" ", actor=owner)
    assert caught.value.message == expected


def test_a_long_translation_is_refused_with_its_figures_in_spanish(setup, owner):
    limit = translation_max_length()
    with translation.override("es"), pytest.raises(ApplicationError) as caught:
        translation_save(
            principle=setup.seeds[0], language="de", text="x" * (limit + 5), actor=owner
        )
    assert caught.value.message == (
        f"Una traducción no puede superar los {limit} caracteres "
        f"(esta tiene {limit + 5})."
    )


def test_another_facilitator_is_refused_in_german(setup, outsider):
    with translation.override("de"), pytest.raises(PermissionDeniedError) as caught:
        translation_save(
            principle=setup.seeds[0], language="es", text="Hola", actor=outsider
        )
    assert caught.value.message == (
        "Nur die Workshopleitung kann die Prinzipien dieses Workshops übersetzen."
    )


def _rows(outdated: int) -> list[dict[str, object]]:
    current = {"language": "es", "text": "Hola", "current": True}
    return [current] + [
        {"language": "de", "text": f"Alt {i}", "current": False}
        for i in range(outdated)
    ]


@pytest.mark.parametrize(
    ("language", "outdated", "expected"),
    [
        ("en", 1, "1 translation of an earlier wording in the JSON export"),
        ("en", 3, "3 translations of earlier wordings in the JSON export"),
        ("es", 1, "1 traducción de una redacción anterior en la exportación JSON"),
        ("es", 2, "2 traducciones de redacciones anteriores en la exportación JSON"),
        ("de", 1, "1 Übersetzung einer früheren Formulierung im JSON-Export"),
        ("de", 2, "2 Übersetzungen früherer Formulierungen im JSON-Export"),
    ],
)
def test_the_pdf_counts_outdated_translations_with_the_right_plural(
    language, outdated, expected
):
    with translation.override(language):
        html = str(pdf._translations(_rows(outdated)))
    assert expected in html


def test_the_pdf_headings_and_abbreviations_are_translated():
    with translation.override("de"):
        heading = str(pdf._translations(_rows(0)))
        interval = pdf._interval(
            "alle", {"gap": 0.1, "normalized_agreement": 0.5}, "gap"
        )
    assert "Übersetzungen (von der Workshopleitung verfasst)" in heading
    assert interval.note == "Übereinst. 0.50"
