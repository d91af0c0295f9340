"""The stored analysis of a small workshop built through the services: the keys
the results pages read, external ids, staleness, history and failures."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.core.cache import cache

from tests.factories import ParticipantFactory
from workbench.deliberation.models import Round, VoteChoice, WorkshopAnalysis
from workbench.deliberation.selectors.analysis import (
    analysis_is_stale,
    analysis_latest,
)
from workbench.deliberation.services import analysis_result
from workbench.deliberation.services.analysis import HISTORY, analysis_refresh
from workbench.deliberation.services.principles import principle_reject, principle_seed
from workbench.deliberation.services.ranking import ballot_submit
from workbench.deliberation.services.rounds import (
    round_create,
    round_open,
    round_set_shortlist,
)
from workbench.deliberation.services.votes import vote_cast

A, D, P = VoteChoice.AGREE, VoteChoice.DISAGREE, VoteChoice.PASS

TOP_KEYS = {
    "computed_at",
    "n_votes",
    "n_participants",
    "n_principles",
    "status",
    "message",
    "participants",
    "groups",
    "principles",
    "consensus",
    "divisive",
    "repness",
    "repness_participant_groups",
    "map",
    "rules",
    "comparison",
}
PRINCIPLE_KEYS = {
    "id",
    "external_id",
    "text",
    "agree",
    "disagree",
    "pass",
    "per_group",
    "per_participant_group",
    "group_aware_consensus",
    "group_aware_consensus_participant_groups",
    "extremity",
    "x",
    "y",
    "priority",
    "mod_out",
}
REPNESS_KEYS = {
    "external_id",
    "repful_for",
    "repness",
    "repness_test",
    "p_success",
    "p_test",
    "n_success",
    "n_trials",
    "best_agree",
}


@pytest.fixture(autouse=True)
def _no_pending_flags():
    cache.clear()


@pytest.fixture
def voted(setup, vote_round, owner):
    """Eight nurses agree with the first two seeds, eight teachers disagree with
    the second; everyone agrees with the third. A fourth seed nobody voted on."""
    extra = principle_seed(
        workshop=setup.workshop, text="Say when you do not know.", actor=owner
    )
    patterns = {setup.group_a: (A, A, A), setup.group_b: (A, D, A)}
    for group, pattern in patterns.items():
        for _ in range(8):
            participant = ParticipantFactory(group=group)
            for principle, choice in zip(setup.seeds, pattern, strict=True):
                vote_cast(
                    participant=participant,
                    round_=vote_round,
                    principle=principle,
                    choice=choice,
                )
    return setup, extra


def test_the_result_has_every_key_the_pages_read(voted):
    setup, _ = voted
    analysis = analysis_refresh(workshop=setup.workshop)
    result = analysis.result
    assert analysis.error == ""
    assert set(result) >= TOP_KEYS
    assert result["status"] == "ok"
    assert result["n_votes"] == analysis.n_votes == 48
    assert result["n_participants"] == analysis.n_participants == 16
    assert len(result["principles"]) == result["n_principles"] == 4
    for entry in result["principles"]:
        assert set(entry) >= PRINCIPLE_KEYS
        assert set(entry["per_participant_group"]) == {"Nurses", "Teachers"}
        assert set(entry["per_group"]) == set(result["groups"])
    for entries in [*result["repness"].values()]:
        for entry in entries:
            assert set(entry) >= REPNESS_KEYS
    assert set(result["consensus"]) == {"agree", "disagree"}
    assert set(result["map"]) == {"participants", "principles"}
    assert set(result["repness_participant_groups"]) == {"Nurses", "Teachers"}
    # Stored as strict JSON: no NaN anywhere.
    json.dumps(result, allow_nan=False)


def test_ids_are_external_ids_or_the_pk(voted):
    setup, extra = voted
    result = analysis_refresh(workshop=setup.workshop).result
    seeds = [str(s.pk) for s in setup.seeds]
    assert [p["external_id"] for p in result["principles"]] == [*seeds, str(extra.pk)]
    participants = set(setup.workshop.participants.values_list("pk", flat=True))
    assert {int(p) for p in result["participants"]} == participants
    assert {p["id"] for p in result["map"]["participants"]} == set(
        result["participants"]
    )


def test_counts_per_principle_and_per_participant_group(voted):
    setup, extra = voted
    result = analysis_refresh(workshop=setup.workshop).result
    by_id = {p["id"]: p for p in result["principles"]}
    privacy = by_id[setup.seeds[1].pk]
    assert (privacy["agree"], privacy["disagree"], privacy["pass"]) == (8, 8, 0)
    assert privacy["per_participant_group"] == {
        "Nurses": {"agree": 8, "disagree": 0, "pass": 0},
        "Teachers": {"agree": 0, "disagree": 8, "pass": 0},
    }
    assert sum(c["agree"] for c in privacy["per_group"].values()) <= 8
    # The participant groups split on it: its group-aware consensus is tiny.
    assert privacy["group_aware_consensus_participant_groups"] == pytest.approx(
        (9 / 10) * (1 / 10)
    )
    unvoted = by_id[extra.pk]
    assert (unvoted["agree"], unvoted["disagree"], unvoted["pass"]) == (0, 0, 0)
    # Nobody voted on it yet: Polis's new-principle priority.
    assert unvoted["priority"] == pytest.approx((0.5 * 0.5 * 9) ** 2)


def test_consensus_divisive_and_rules_use_external_ids(voted):
    setup, _ = voted
    result = analysis_refresh(workshop=setup.workshop).result
    honest, privacy, plain = (str(s.pk) for s in setup.seeds)
    assert honest in result["consensus"]["agree"]
    assert plain in result["consensus"]["agree"]
    assert privacy not in result["consensus"]["agree"]
    assert result["divisive"] == [privacy]
    assert privacy not in result["rules"]["ccai"]
    assert set(result["rules"]["ccai"]) == {honest, plain}
    comparison = result["comparison"]
    assert comparison["groups"] == ["Nurses", "Teachers"]
    assert {o["rule"] for o in comparison["outcomes"]} == set(result["rules"])


def test_map_places_each_voter_with_both_groupings(voted):
    setup, _ = voted
    result = analysis_refresh(workshop=setup.workshop).result
    points = result["map"]["participants"]
    assert len(points) == 16
    assert {p["participant_group"] for p in points} == {"Nurses", "Teachers"}
    for point in points:
        assert isinstance(point["x"], float)
        assert point["group"] == result["participants"][point["id"]]
    # The opinion groups found the split the votes hold.
    nurses = {p["group"] for p in points if p["participant_group"] == "Nurses"}
    teachers = {p["group"] for p in points if p["participant_group"] == "Teachers"}
    assert len(nurses) == len(teachers) == 1
    assert nurses != teachers


def test_ballots_of_the_latest_rank_round_join_the_comparison(voted, owner):
    setup, _ = voted
    rank = round_create(workshop=setup.workshop, kind=Round.Kind.RANK)
    round_set_shortlist(round_=rank, principles=setup.seeds)
    rank = round_open(round_=rank, actor=owner)
    order = [s.pk for s in setup.seeds]
    for participant in setup.workshop.participants.all()[:5]:
        ballot_submit(participant=participant, round_=rank, ranking=order)
    result = analysis_refresh(workshop=setup.workshop).result
    assert result["rules"]["borda"] == [str(setup.seeds[0].pk)]
    assert "schulze" in result["rules"]


def test_moderated_out_principles_stay_listed_but_out_of_the_figures(voted, owner):
    setup, _ = voted
    privacy = setup.seeds[1]
    principle_reject(principle=privacy, actor=owner, reason="Out of scope.")
    result = analysis_refresh(workshop=setup.workshop).result
    entry = next(p for p in result["principles"] if p["id"] == privacy.pk)
    assert entry["mod_out"] is True
    assert result["divisive"] == []
    assert str(privacy.pk) not in result["comparison"]["principles"]
    assert str(privacy.pk) not in {
        p["external_id"] for p in result["map"]["principles"]
    }


def test_a_run_is_stale_after_a_vote_a_moderation_or_a_ballot(voted, vote_round, owner):
    setup, extra = voted
    workshop = setup.workshop
    assert analysis_is_stale(workshop=workshop)
    first = analysis_refresh(workshop=workshop)
    assert not analysis_is_stale(workshop=workshop)
    assert analysis_refresh(workshop=workshop, only_if_stale=True) == first
    vote_cast(
        participant=ParticipantFactory(group=setup.group_a),
        round_=vote_round,
        principle=extra,
        choice=A,
    )
    assert analysis_is_stale(workshop=workshop)
    second = analysis_refresh(workshop=workshop, only_if_stale=True)
    assert second != first
    assert second.n_votes == first.n_votes + 1
    assert analysis_latest(workshop=workshop) == second
    principle_reject(principle=extra, actor=owner, reason="Duplicate.")
    assert analysis_is_stale(workshop=workshop)


def test_only_the_latest_runs_are_kept(voted):
    setup, _ = voted
    runs = [analysis_refresh(workshop=setup.workshop) for _ in range(HISTORY + 2)]
    kept = WorkshopAnalysis.objects.filter(workshop=setup.workshop)
    assert kept.count() == HISTORY
    assert analysis_latest(workshop=setup.workshop) == runs[-1]


def test_a_failed_run_is_stored_with_its_error_and_not_shown(voted):
    setup, _ = voted
    good = analysis_refresh(workshop=setup.workshop)
    with mock.patch.object(analysis_result, "analyze", side_effect=ValueError("boom")):
        failed = analysis_refresh(workshop=setup.workshop)
    assert failed.error == "ValueError: boom"
    assert failed.result["status"] == "error"
    assert analysis_latest(workshop=setup.workshop) == good
    assert analysis_latest(workshop=setup.workshop, include_failed=True) == failed
