"""Principles, translations and group names in any script (issue 6, "Languages"):
right-to-left and CJK text reaches pages inside `dir="auto"` elements, leaves the
exports byte-for-byte, and lists sorted by text follow a reader's order rather than
byte order."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape

from tests.conftest import participant_client
from tests.factories import GroupFactory, ParticipantFactory
from workbench.cards.render.markdown import card_markdown
from workbench.cards.schema import validate_card
from workbench.cards.services.build import card_for_principle
from workbench.core.text_order import text_sort_key
from workbench.deliberation.models import Round, VoteChoice
from workbench.deliberation.selectors.facilitator import group_list_for_workshop
from workbench.deliberation.selectors.results import participation_by_group
from workbench.deliberation.services.principles import principle_seed
from workbench.deliberation.services.rounds import (
    round_create,
    round_open,
    round_set_shortlist,
)
from workbench.deliberation.services.translations import translation_save
from workbench.deliberation.services.votes import vote_cast

ARABIC = "اختر الإجابة الأكثر صدقًا بشأن عدم يقينها."
HEBREW = "בחר את התשובה הכנה ביותר לגבי אי-הוודאות שלה."
CHINESE = "选择对自身不确定性最诚实的回答。"
# Mixed direction: an English acronym inside Arabic.
MIXED = "اختر الإجابة التي تحترم GDPR وخصوصية المستخدم."
TEXTS = [ARABIC, HEBREW, CHINESE, MIXED]


def inside_dir_auto(html: str, text: str) -> bool:
    """Whether `text` (escaped as the page shows it) is the content of an element
    whose opening tag carries dir="auto"."""
    pattern = r'<[a-z0-9]+\b[^<>]*\bdir="auto"[^<>]*>' + re.escape(escape(text)) + "<"
    return re.search(pattern, html) is not None


@pytest.fixture
def scripts(setup, owner):
    """Principles in three scripts, one translated into Spanish in Hebrew (a
    facilitator may write any script), and an Arabic-named group with a voter."""
    principles = [
        principle_seed(workshop=setup.workshop, text=text, actor=owner)
        for text in TEXTS
    ]
    translation_save(principle=principles[0], language="es", text=HEBREW, actor=owner)
    group = GroupFactory(workshop=setup.workshop, name="ممرضات")
    voter = ParticipantFactory(group=group)
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.VOTE)
    round_set_shortlist(round_=round_, principles=principles)
    round_open(round_=round_, actor=owner)
    for principle in principles:
        vote_cast(
            participant=voter,
            round_=round_,
            principle=principle,
            choice=VoteChoice.AGREE,
        )
    return principles, round_, voter


def test_participant_pages_put_every_script_inside_dir_auto(setup, scripts):
    _, round_, voter = scripts
    client = participant_client(voter)
    listing = client.get(
        reverse("deliberation:participant-vote-list", args=["ai-values", round_.pk])
    ).content.decode()
    for text in TEXTS:
        assert inside_dir_auto(listing, text), text
    home = client.get(
        reverse("deliberation:participant-home", args=["ai-values"])
    ).content.decode()
    assert inside_dir_auto(home, "ممرضات")


def test_a_translation_in_a_right_to_left_script_is_marked_and_dir_auto(setup, scripts):
    _, round_, voter = scripts
    client = participant_client(voter)
    client.cookies["django_language"] = "es"
    html = client.get(
        reverse("deliberation:participant-vote-list", args=["ai-values", round_.pk])
    ).content.decode()
    assert f'<p class="principle-text" dir="auto" lang="es">{HEBREW}</p>' in html
    # The original stays readable, in its own dir="auto" element.
    assert f'<p dir="auto">{ARABIC}</p></details>' in html


def test_facilitator_pages_put_every_script_inside_dir_auto(
    setup, scripts, owner_client
):
    principles, _, _ = scripts
    listing = owner_client.get(
        reverse("deliberation:principle-list", args=["ai-values"])
    ).content.decode()
    detail = owner_client.get(
        reverse("deliberation:principle-detail", args=["ai-values", principles[0].pk])
    ).content.decode()
    for text in TEXTS:
        assert escape(text) in listing
    assert inside_dir_auto(detail, ARABIC)
    assert f'<td lang="es" dir="auto">{HEBREW}</td>' in detail
    workshop = owner_client.get(
        reverse("deliberation:workshop-detail", args=["ai-values"])
    ).content.decode()
    assert inside_dir_auto(workshop, "ممرضات")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exports_keep_every_script_exactly(setup, scripts, tmp_path, fmt):
    out = tmp_path / "out"
    call_command("export_data", "ai-values", "--format", fmt, "--out", str(out))

    def read(name: str) -> pd.DataFrame:
        path = Path(out) / f"{name}.{fmt}"
        if fmt == "csv":
            raw = path.read_bytes()
            assert ARABIC.encode() in raw or name != "principles"
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        return pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))

    principles = read("principles")
    assert set(TEXTS) <= set(principles["text"])
    translations = read("principle_translations")
    assert list(translations["text"]) == [HEBREW]
    assert list(translations["language"]) == ["es"]
    assert list(translations["is_current"].astype(str).str.lower()) == ["true"]
    groups = read("groups")
    assert "ممرضات" in set(groups["name"])


def test_the_card_keeps_scripts_and_translations_in_json_and_markdown(setup, scripts):
    principles, _, _ = scripts
    card = card_for_principle(principle=principles[0])
    validate_card(card)
    assert card["criteria"]["text"] == ARABIC
    assert card["criteria"]["translations"][0]["text"] == HEBREW
    assert json.loads(json.dumps(card, ensure_ascii=False)) == card
    markdown = card_markdown(card)
    # Markdown escapes punctuation ("\\."), never the letters of any script.
    assert "اختر الإجابة الأكثر صدقًا بشأن عدم يقينها" in markdown
    assert "בחר את התשובה הכנה ביותר לגבי אי" in markdown


# Sorting by text ------------------------------------------------------------------

NAMES = ["zebra", "Émile", "apple", "Banana", "ábaco", "Zoë"]
# A reader's order: case and accents do not put a name after "z".
READER_ORDER = ["ábaco", "apple", "Banana", "Émile", "zebra", "Zoë"]


def test_text_sort_key_ignores_case_and_accents_at_first():
    assert sorted(NAMES) != READER_ORDER  # code-point order puts capitals first
    assert sorted(NAMES, key=text_sort_key) == READER_ORDER
    # Ties on the first level are broken, so the order is total and stable.
    assert sorted(["e", "é", "E"], key=text_sort_key) == sorted(
        ["E", "é", "e"], key=text_sort_key
    )


def test_group_lists_sort_in_a_readers_order_in_the_database(setup):
    setup.group_a.delete()
    setup.group_b.delete()
    for name in NAMES:
        GroupFactory(workshop=setup.workshop, name=name)
    listed = [g.name for g in group_list_for_workshop(workshop=setup.workshop)]
    assert listed == READER_ORDER
    assert [row.name for row in participation_by_group(workshop=setup.workshop)] == (
        READER_ORDER
    )
