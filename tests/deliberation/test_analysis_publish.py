"""Publishing a constitution records what every other rule would have adopted
from the same counts (issue 3, "A comparison view")."""

from __future__ import annotations

import pytest

from tests.factories import ParticipantFactory
from workbench.deliberation.models import Round, VoteChoice
from workbench.deliberation.services.constitutions import constitution_publish
from workbench.deliberation.services.ranking import ballot_submit
from workbench.deliberation.services.rounds import (
    round_create,
    round_open,
    round_set_shortlist,
)
from workbench.deliberation.services.votes import vote_cast

A, D = VoteChoice.AGREE, VoteChoice.DISAGREE


@pytest.fixture
def voted(setup, vote_round):
    patterns = {setup.group_a: (A, A, A), setup.group_b: (A, D, D)}
    for group, pattern in patterns.items():
        for _ in range(4):
            participant = ParticipantFactory(group=group)
            for principle, choice in zip(setup.seeds, pattern, strict=True):
                vote_cast(
                    participant=participant,
                    round_=vote_round,
                    principle=principle,
                    choice=choice,
                )
    return setup


def _outcomes(constitution) -> dict[str, dict]:
    comparison = constitution.figures["comparison"]
    return {o["rule"]: o for o in comparison["outcomes"]}


def test_the_snapshot_holds_every_rule_and_its_adopted_set(voted, owner):
    constitution = constitution_publish(
        workshop=voted.workshop, actor=owner, title="v1", rule="ccai", threshold=0.7
    )
    comparison = constitution.figures["comparison"]
    honest, privacy, plain = (str(s.pk) for s in voted.seeds)
    assert comparison["groups"] == ["Nurses", "Teachers"]
    outcomes = _outcomes(constitution)
    assert set(outcomes) >= {
        "ccai",
        "overall",
        "group_aware_consensus",
        "size_adaptive",
    }
    # The comparison's CCAI rule is the published one, at the published threshold.
    assert outcomes["ccai"]["parameters"]["threshold"] == 0.7
    assert outcomes["ccai"]["adopted"] == [
        p["external_id"] for p in constitution.principles
    ]
    assert outcomes["overall"]["adopted"] == [honest]
    assert {d["principle"] for d in comparison["disagreements"]} <= {
        honest,
        privacy,
        plain,
    }


def test_rank_ballots_add_the_social_choice_rules(voted, owner):
    rank = round_create(workshop=voted.workshop, kind=Round.Kind.RANK)
    round_set_shortlist(round_=rank, principles=voted.seeds)
    rank = round_open(round_=rank, actor=owner)
    reverse = [s.pk for s in reversed(voted.seeds)]
    for participant in voted.workshop.participants.all():
        ballot_submit(participant=participant, round_=rank, ranking=reverse)
    constitution = constitution_publish(
        workshop=voted.workshop, actor=owner, title="v1", rule="overall", threshold=0.7
    )
    outcomes = _outcomes(constitution)
    assert outcomes["borda"]["adopted"] == [str(voted.seeds[2].pk)]
    assert outcomes["borda"]["parameters"]["ballots"] == 8
