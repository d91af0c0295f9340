"""Degenerate workshops give a clear status, never a crash (issue 3)."""

from __future__ import annotations

import json

import pytest

from tests.factories import ParticipantFactory
from workbench.deliberation.models import VoteChoice
from workbench.deliberation.services.analysis import analysis_refresh
from workbench.deliberation.services.votes import vote_cast

A, D, P = VoteChoice.AGREE, VoteChoice.DISAGREE, VoteChoice.PASS


def _cast(round_, participant, principles, choices):
    for principle, choice in zip(principles, choices, strict=True):
        vote_cast(
            participant=participant, round_=round_, principle=principle, choice=choice
        )


def _analyse(workshop) -> dict:
    analysis = analysis_refresh(workshop=workshop)
    assert analysis.error == ""
    json.dumps(analysis.result, allow_nan=False)
    return analysis.result


def test_no_votes(setup, vote_round):
    result = _analyse(setup.workshop)
    assert result["status"] == "not_enough_data"
    assert (
        result["message"] == "No votes yet: the analysis starts with the first votes."
    )
    assert result["n_votes"] == result["n_participants"] == 0
    assert result["participants"] == result["groups"] == {}
    # The agenda is listed, with zero counts and the new-principle priority.
    assert [p["id"] for p in result["principles"]] == [s.pk for s in setup.seeds]
    assert all(p["agree"] == 0 for p in result["principles"])
    assert all(v == [] for v in result["rules"].values())


def test_one_participant(setup, vote_round, participant_a):
    _cast(vote_round, participant_a, setup.seeds, [A, D, P])
    result = _analyse(setup.workshop)
    assert result["status"] == "not_enough_data"
    assert "Only 1 participant" in result["message"]
    assert result["n_participants"] == 1
    assert list(result["participants"]) == [str(participant_a.pk)]


def test_one_principle(setup, vote_round):
    for group in (setup.group_a, setup.group_b):
        for choice in (A, D):
            _cast(
                vote_round, ParticipantFactory(group=group), setup.seeds[:1], [choice]
            )
    result = _analyse(setup.workshop)
    assert result["status"] == "not_enough_data"
    assert "needs at least 2" in result["message"]
    voted = next(p for p in result["principles"] if p["id"] == setup.seeds[0].pk)
    assert (voted["agree"], voted["disagree"]) == (2, 2)


@pytest.mark.parametrize(
    ("choice", "consensus"),
    [(A, "agree"), (D, "disagree"), (P, None)],
    ids=["everyone agrees", "everyone disagrees", "all passes"],
)
def test_unanimous_votes(setup, vote_round, choice, consensus):
    for group in (setup.group_a, setup.group_b):
        for _ in range(6):
            _cast(
                vote_round, ParticipantFactory(group=group), setup.seeds, [choice] * 3
            )
    result = _analyse(setup.workshop)
    assert result["status"] == "ok"
    assert result["n_votes"] == 36
    assert result["divisive"] == []
    if consensus is None:
        assert result["consensus"] == {"agree": [], "disagree": []}
        assert all(v == [] for v in result["rules"].values())
    else:
        assert len(result["consensus"][consensus]) == 3
    for point in result["map"]["participants"]:
        assert point["x"] is not None and point["y"] is not None


def test_a_group_with_one_member(setup, vote_round):
    _cast(vote_round, ParticipantFactory(group=setup.group_a), setup.seeds, [A, A, D])
    for _ in range(5):
        _cast(
            vote_round, ParticipantFactory(group=setup.group_b), setup.seeds, [A, D, A]
        )
    result = _analyse(setup.workshop)
    assert result["status"] == "ok"
    nurses = [p["per_participant_group"]["Nurses"] for p in result["principles"]]
    assert [n["agree"] for n in nurses] == [1, 1, 0]
    assert set(result["repness_participant_groups"]) == {"Nurses", "Teachers"}
    assert result["comparison"]["groups"] == ["Nurses", "Teachers"]


def test_a_group_without_votes_stays_in_the_comparison(setup, vote_round):
    for _ in range(3):
        _cast(
            vote_round, ParticipantFactory(group=setup.group_a), setup.seeds, [A, A, A]
        )
    ParticipantFactory(group=setup.group_b)  # joined, never voted
    result = _analyse(setup.workshop)
    assert result["comparison"]["groups"] == ["Nurses", "Teachers"]
    # Silence is not consent: the CCAI rule needs votes from every group.
    assert result["rules"]["ccai"] == []
    assert len(result["rules"]["overall"]) == 3
