"""Value cards as JSON: each card validated against docs/value-card.schema.json."""

from __future__ import annotations

import json
from typing import Any

from workbench.cards.schema import validate_card


def cards_json(cards: list[dict[str, Any]]) -> str:
    """A JSON array of the cards, keys sorted so the same cards give the same
    bytes; raises CardInvalidError naming the path of the first invalid value."""
    for card in cards:
        validate_card(card)
    return json.dumps(cards, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
