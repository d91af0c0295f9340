"""Cards built from a small workshop: hash, demographics, privacy."""

from workbench.cards.services.build import card_for_principle, cards_for_workshop
from workbench.deliberation.models import VoteChoice
from workbench.deliberation.services.participants import participant_join
from workbench.deliberation.services.votes import vote_cast


def _vote(round_, principle, participants, choice=VoteChoice.AGREE):
    for p in participants:
        vote_cast(participant=p, round_=round_, principle=principle, choice=choice)


def test_changing_one_vote_changes_the_content_hash(
    setup, vote_round, participant_a, participant_b
):
    principle = setup.seeds[0]
    _vote(vote_round, principle, [participant_a, participant_b])
    first = card_for_principle(principle=principle)
    again = card_for_principle(principle=principle)
    assert again["built_at"] != first["built_at"] or again == first
    assert again["legitimacy"]["content_hash"] == first["legitimacy"]["content_hash"]

    vote_cast(
        participant=participant_b,
        round_=vote_round,
        principle=principle,
        choice=VoteChoice.DISAGREE,
    )
    changed = card_for_principle(principle=principle)
    assert changed["legitimacy"]["content_hash"] != first["legitimacy"]["content_hash"]
    assert changed["origin"]["supporters"]["per_group"]["Teachers"]["disagree"] == 1


def test_demographic_cells_under_five_people_are_suppressed(setup, vote_round):
    principle = setup.seeds[1]
    many = [
        participant_join(
            group=setup.group_a, demographics={"age_range": "30-39"}, consent=True
        )
        for _ in range(6)
    ]
    few = [
        participant_join(
            group=setup.group_b, demographics={"age_range": "60+"}, consent=True
        )
        for _ in range(2)
    ]
    silent = [
        participant_join(
            group=setup.group_b, demographics={"age_range": "60+"}, consent=False
        )
        for _ in range(4)
    ]
    _vote(vote_round, principle, many + few + silent)

    demographics = card_for_principle(principle=principle)["origin"]["demographics"]

    assert demographics["fields"]["age_range"] == [
        {"value": "30-39", "n": 6, "share": 0.75}
    ]
    assert demographics["suppressed_cells"] == 1
    assert "fewer than 5" in demographics["note"]


def test_a_participants_proposal_names_only_their_group(setup, propose_round, owner):
    from workbench.deliberation.services.principles import (
        principle_approve,
        principle_propose,
    )

    author = participant_join(group=setup.group_b)
    principle = principle_propose(
        participant=author,
        round_=propose_round,
        text="Choose the response that cites its sources.",
    )
    principle_approve(principle=principle, actor=owner)

    card = card_for_principle(principle=principle)

    assert card["origin"]["proposed_by"] == {"kind": "participant", "group": "Teachers"}
    assert str(author.public_id) not in str(card)


def test_without_a_constitution_every_approved_principle_gets_a_card(setup):
    cards = cards_for_workshop(workshop=setup.workshop)
    assert [c["title"] for c in cards] == [p.text for p in setup.seeds]
    assert all(c["aggregation"]["adopted"] is None for c in cards)
    assert cards[0]["legitimacy"]["narrative"]["written_by"] == "facilitator"
