import json

import pytest
from django.core.management import CommandError, call_command

from workbench.cards.schema import validate_card
from workbench.deliberation.models import Principle


def test_json_export_writes_valid_cards(setup, tmp_path):
    out = tmp_path / "cards.json"
    call_command("export_cards", "ai-values", "--format", "json", "--out", str(out))
    cards = json.loads(out.read_text())
    assert [c["title"] for c in cards] == [p.text for p in setup.seeds]
    for card in cards:
        validate_card(card)


def test_markdown_export(setup, tmp_path):
    out = tmp_path / "cards.md"
    call_command("export_cards", "ai-values", "--format", "md", "--out", str(out))
    assert out.read_text().startswith("# Value cards: AI values")


def test_unknown_workshop_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="no workshop “nope”"):
        call_command(
            "export_cards", "nope", "--format", "json", "--out", str(tmp_path / "x")
        )


def test_a_workshop_without_cards_is_a_clear_error(setup, tmp_path):
    Principle.objects.filter(workshop=setup.workshop).update(
        status=Principle.Status.PENDING
    )
    out = tmp_path / "x.json"
    with pytest.raises(CommandError, match="has no cards yet"):
        call_command("export_cards", "ai-values", "--format", "json", "--out", str(out))
    assert not out.exists()
