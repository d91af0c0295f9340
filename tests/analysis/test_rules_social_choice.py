"""The social-choice wrapper against pref_voting called directly on the same
profiles: candidate ids converted in and out, ties reported, scores and the
pairwise matrix as pref_voting defines them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pref_voting.iterative_methods import instant_runoff
from pref_voting.profiles import Profile
from pref_voting.voting_methods import (
    beat_path,
    borda,
    copeland,
    plurality,
    ranked_pairs,
)

from workbench.analysis.social_choice import METHODS, social_choice

# Principle ids are not 0..m-1, so a missing conversion would show.
IDS = [101, 7, 42, 305, 18]

DIRECT = {
    "borda": borda,
    "copeland": copeland,
    "schulze": beat_path,
    "ranked_pairs": ranked_pairs,
    "instant_runoff": instant_runoff,
    "plurality": plurality,
}


def _random_ballots(seed: int, n_ballots: int, ids: list[int]) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    # A few distinct orders, repeated: ties and cycles turn up often.
    orders = [list(rng.permutation(ids)) for _ in range(rng.integers(2, 6))]
    picks = rng.integers(0, len(orders), size=n_ballots)
    return [[int(c) for c in orders[p]] for p in picks]


def _direct(ballots: list[list[int]], ids: list[int]):
    """pref_voting on the same ballots with our own index mapping, ids back."""
    index = {c: i for i, c in enumerate(ids)}
    profile = Profile([[index[c] for c in b] for b in ballots])
    winners = {
        name: sorted(ids[int(i)] for i in method(profile))
        for name, method in DIRECT.items()
    }
    return profile, winners


def _ids_sorted(ids):
    return sorted(ids)


@pytest.mark.parametrize("seed", range(25))
def test_winners_equal_pref_voting_on_random_profiles(seed):
    ids = IDS[: 3 + seed % 3]
    ballots = _random_ballots(seed, n_ballots=3 + seed, ids=ids)
    result = social_choice(ballots)
    _, expected = _direct(ballots, _ids_sorted(ids))
    for name in METHODS:
        assert sorted(result.methods[name].winners) == expected[name], name


@pytest.mark.parametrize("seed", range(10))
def test_scores_and_pairwise_equal_pref_voting(seed):
    ids = _ids_sorted(IDS)
    ballots = _random_ballots(seed, n_ballots=11, ids=ids)
    result = social_choice(ballots)
    profile, _ = _direct(ballots, ids)
    m = len(ids)
    assert result.candidates == ids
    assert result.pairwise == [
        [profile.support(i, j) if i != j else 0 for j in range(m)] for i in range(m)
    ]
    assert result.methods["borda"].scores == [
        float(profile.borda_scores()[i]) for i in range(m)
    ]
    assert result.methods["copeland"].scores == [
        float(profile.copeland_scores()[i]) for i in range(m)
    ]
    assert result.methods["plurality"].scores == [
        float(profile.plurality_scores()[i]) for i in range(m)
    ]


@pytest.mark.parametrize("seed", range(15))
def test_rankings_start_with_the_winner_set(seed):
    ballots = _random_ballots(seed, n_ballots=9, ids=IDS)
    result = social_choice(ballots)
    for name, method in result.methods.items():
        if method.ranking is not None:
            assert sorted(method.ranking[0]) == sorted(method.winners), name
            assert sorted(c for tier in method.ranking for c in tier) == sorted(IDS)


def test_condorcet_cycle_reports_a_three_way_tie():
    ballots = [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    result = social_choice(ballots)
    for name in METHODS:
        assert result.methods[name].winners == ["a", "b", "c"], name
        assert result.methods[name].tied
    assert result.pairwise == [[0, 2, 1], [1, 0, 2], [2, 1, 0]]
    assert result.methods["schulze"].ranking == [["a", "b", "c"]]


def test_borda_and_plurality_can_disagree():
    """3 voters put z first but x second; 4 voters put x first: plurality picks z
    (3 first places against 2 and 2), Borda picks x (9 points against 6 and 6)."""
    ballots = [["z", "x", "y"]] * 3 + [["x", "y", "z"]] * 2 + [["y", "x", "z"]] * 2
    result = social_choice(ballots)
    assert result.methods["plurality"].winners == ["z"]
    assert result.methods["plurality"].scores == [2.0, 2.0, 3.0]
    assert result.methods["borda"].winners == ["x"]
    assert result.methods["borda"].scores == [9.0, 6.0, 6.0]
    assert result.methods["borda"].ranking == [["x"], ["y", "z"]]
    # x beats both others head to head: the Condorcet winner.
    for name in ("copeland", "schulze", "ranked_pairs"):
        assert result.methods[name].winners == ["x"]


def test_schulze_strongest_paths_on_the_wikipedia_example():
    """The 45-voter example of the Schulze method's Wikipedia article (A..E):
    winner E, ranking E > A > C > B > D."""
    groups = [
        (5, "ACBED"),
        (5, "ADECB"),
        (8, "BEDAC"),
        (3, "CABED"),
        (7, "CAEBD"),
        (2, "CBADE"),
        (7, "DCEBA"),
        (8, "EBADC"),
    ]
    ballots = [list(order) for count, order in groups for _ in range(count)]
    result = social_choice(ballots)
    assert result.methods["schulze"].winners == ["E"]
    assert result.methods["schulze"].ranking == [["E"], ["A"], ["C"], ["B"], ["D"]]


def test_no_ballots_ties_every_candidate():
    result = social_choice([], candidates=[3, 1, 2])
    assert result.n_ballots == 0
    for name in METHODS:
        assert result.methods[name].winners == [3, 1, 2]
    assert result.methods["borda"].scores == [0.0, 0.0, 0.0]
    assert result.pairwise == [[0] * 3] * 3


def test_no_ballots_and_no_candidates_is_empty():
    result = social_choice([])
    assert result.candidates == []
    assert all(m.winners == [] for m in result.methods.values())


def test_one_ballot_follows_it():
    result = social_choice([[7, 101, 42]])
    for name in METHODS:
        assert result.methods[name].winners == [7], name
    assert result.methods["borda"].ranking == [[7], [101], [42]]


def test_one_candidate_wins_everything():
    result = social_choice([["only"]] * 4)
    assert all(m.winners == ["only"] for m in result.methods.values())
    assert result.pairwise == [[0]]


def test_all_rankings_once_is_a_full_tie():
    orders = ["abc", "acb", "bac", "bca", "cab", "cba"]
    result = social_choice([list(o) for o in orders])
    for name in METHODS:
        assert result.methods[name].winners == ["a", "b", "c"], name


def test_incomplete_ballot_is_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="ballot 1 must rank each of the 3"):
        social_choice([[1, 2, 3], [1, 2]])
    with pytest.raises(ValueError, match="ballot 0"):
        social_choice([[1, 2, 3]], candidates=[1, 2, 4])


def test_result_serialises_to_json():
    result = social_choice(_random_ballots(3, 8, IDS))
    decoded = json.loads(json.dumps(result.as_dict()))
    assert decoded["methods"]["borda"]["winners"] == result.methods["borda"].winners
