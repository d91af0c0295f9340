import json

import pytest

from workbench.cards.render.json import cards_json
from workbench.cards.schema import CardInvalidError, validate_card
from workbench.cards.services.build import card_for_principle, content_hash


@pytest.fixture
def card(setup):
    return card_for_principle(principle=setup.seeds[0])


def test_a_built_card_validates_and_its_json_is_stable(card):
    validate_card(card)
    out = cards_json([card])
    assert json.loads(out) == [card]
    assert cards_json([card]) == out


def test_a_broken_card_fails_naming_the_path(card):
    card["legitimacy"]["content_hash"] = "not a hash"
    with pytest.raises(CardInvalidError) as caught:
        validate_card(card)
    assert caught.value.path == "legitimacy/content_hash"
    assert "legitimacy/content_hash" in str(caught.value)


def test_a_card_missing_a_section_fails(card):
    del card["origin"]
    with pytest.raises(CardInvalidError, match="'origin' is a required property"):
        cards_json([card])


def test_a_wrong_count_fails_naming_the_group(card):
    card["origin"]["supporters"]["per_group"]["Nurses"]["agree"] = -1
    with pytest.raises(CardInvalidError) as caught:
        validate_card(card)
    assert caught.value.path == "origin/supporters/per_group/Nurses/agree"


def test_the_content_hash_can_be_recomputed_from_the_json(card):
    copy = json.loads(cards_json([card]))[0]
    assert content_hash(copy) == card["legitimacy"]["content_hash"]
