"""A card built from the demo workshop: every section filled from the records,
with the same figures `analyze --json` and `encoding_gap --json` print."""

import io
import json

import pytest
from django.core.management import call_command

from workbench.cards.schema import validate_card
from workbench.cards.services.build import cards_for_workshop
from workbench.deliberation.models import Principle, Round, VoteChoice, Workshop
from workbench.deliberation.services.constitutions import constitution_publish
from workbench.deliberation.services.votes import vote_cast

TESTED = "The assistant should not help with anything that could hurt"


def _command_json(*args):
    out = io.StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def demo(db):
    call_command("demo", stdout=io.StringIO())
    workshop = Workshop.objects.get(slug="ai-assistant-values")
    # The demo's judged principle has comparisons but no votes: every participant
    # agrees with it here so that a constitution adopts it.
    tested = Principle.objects.get(workshop=workshop, text__startswith=TESTED)
    round_ = Round.objects.get(
        workshop=workshop, kind=Round.Kind.VOTE, scope=Round.Scope.ALL
    )
    for participant in workshop.participants.all():
        vote_cast(
            participant=participant,
            round_=round_,
            principle=tested,
            choice=VoteChoice.AGREE,
        )
    analysis = _command_json("analyze", workshop.slug)
    gap = _command_json("encoding_gap", workshop.slug)
    constitution = constitution_publish(
        workshop=workshop, actor=workshop.owner, title="", rule="ccai", threshold=0.7
    )
    cards = cards_for_workshop(workshop=workshop)
    return workshop, tested, constitution, cards, analysis, gap


def test_the_constitution_card_comes_first_then_its_principles(demo):
    _, _, constitution, cards, _, _ = demo
    head, *principle_cards = cards
    assert head["kind"] == "constitution"
    assert head["principles"] == [c["id"] for c in principle_cards]
    assert len(principle_cards) == len(constitution.principles)
    assert head["aggregation"]["rule"] == "ccai"
    assert head["aggregation"]["parameters"] == {"threshold": 0.7, "min_votes": 1}
    assert 0 < head["pluralism"]["aggregation"]["value"] < 1
    for card in cards:
        validate_card(card)


def test_a_principle_card_has_all_five_sections_filled_from_data(demo):
    workshop, tested, _, cards, _, _ = demo
    card = next(c for c in cards if c["title"] == tested.text)

    assert card["criteria"]["versions"][0]["text"] == tested.text
    assert card["criteria"]["examples"], "participants agreed on some items"
    assert all(
        e["share"] >= 0.8 and e["n_labels"] >= 2 for e in card["criteria"]["examples"]
    )
    n_participants = workshop.participants.filter(votes__principle=tested).count()
    assert card["origin"]["supporters"]["overall"]["agree"] == n_participants
    assert card["measurement"]["votes"]["measured"]
    assert card["measurement"]["comparisons"]["measured"]
    assert card["measurement"]["encoding_gap"]["measured"]
    assert card["measurement"]["judges"][0]["is_llm"] is False
    assert card["aggregation"]["adopted"] is True
    assert card["aggregation"]["other_rules"]["ccai"] is True
    legitimacy = card["legitimacy"]
    assert legitimacy["thresholds"]["fixed_before_voting"] is False
    assert legitimacy["moderation"]["total"] >= 1
    assert (
        sum(d["votes"] for d in legitimacy["participation"]["votes_per_day"])
        >= n_participants
    )
    assert len(legitimacy["content_hash"]) == 64
    assert card["pluralism"]["origin"]["value"] == 1.0  # everyone agreed
    assert card["pluralism"]["measurement"]["value"] is not None


def test_vote_figures_equal_analyze_json(demo):
    _, _, _, cards, analysis, _ = demo
    rows = {row["id"]: row for row in analysis["principles"]}
    for card in cards[1:]:
        pk = int(card["id"].rsplit("/", 1)[1])
        row = rows[pk]
        votes = card["measurement"]["votes"]
        assert (votes["agree"], votes["disagree"], votes["pass"]) == (
            row["agree"],
            row["disagree"],
            row["pass"],
        )
        assert votes["per_group"] == row["per_participant_group"]
        assert votes["per_opinion_group"] == row["per_group"]
        assert votes["group_aware_consensus"] == row["group_aware_consensus"]


def test_encoding_gap_figures_equal_encoding_gap_json(demo):
    _, tested, _, cards, _, gap = demo
    card = next(c for c in cards if c["title"] == tested.text)
    entry = next(p for p in gap["principles"] if p["principle_id"] == tested.pk)
    figures = card["measurement"]["encoding_gap"]
    for key in (
        "human_ceiling",
        "judge_agreement",
        "gap",
        "kappa",
        "js_distance",
        "best_matching_group",
        "n_items",
    ):
        assert figures[key] == entry[key], key
    assert figures["ci"] == entry["ci"]
    assert figures["judge"] == gap["judge"]
