"""Welfare functions w_alpha (roadmap paper, section 4.3) on profiles small enough
to compute by hand, on their limits, and on degenerate input."""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations, pairwise

import numpy as np
import pytest

from workbench.analysis.welfare import (
    best_set,
    set_utilities,
    vote_utilities,
    welfare,
    welfare_sweep,
    welfare_value,
)

N = np.nan
# 4 participants x 3 principles: agree +1, disagree -1, pass 0, NaN no vote.
VOTES = np.array(
    [
        [1, 1, -1],
        [1, 0, N],
        [-1, 1, 1],
        [N, -1, 1],
    ]
)


def test_utilities_follow_the_stated_mapping():
    expected = np.array([[1, 1, 0], [1, 0.5, N], [0, 1, 1], [N, 0, 1]])
    np.testing.assert_array_equal(vote_utilities(VOTES), expected)
    assert vote_utilities(np.array([[0.0]]), pass_utility=0.0)[0, 0] == 0.0


def test_set_utilities_by_hand():
    """Set {0, 1}: p0 (1+1)/2, p1 (1+1/2)/2, p2 (0+1)/2, p3 0/1."""
    expected = [Fraction(1), Fraction(3, 4), Fraction(1, 2), Fraction(0)]
    got = set_utilities(VOTES, np.array([True, True, False]))
    np.testing.assert_allclose(got, [float(x) for x in expected], rtol=0, atol=1e-15)


def test_participant_without_a_vote_on_the_set_has_no_utility():
    got = set_utilities(VOTES, np.array([True, False, False]))
    assert np.isnan(got[3])
    assert welfare_value(got, 0) == pytest.approx(float(Fraction(2, 3)), abs=1e-15)


def test_welfare_by_hand():
    u = [Fraction(1, 4), Fraction(1, 2), Fraction(1)]
    arr = np.array([float(x) for x in u])
    mean = sum(u) / 3
    assert welfare_value(arr, 0) == pytest.approx(float(mean), abs=1e-15)
    # alpha = 2: harmonic mean = 3 / (4 + 2 + 1)
    assert welfare_value(arr, 2) == pytest.approx(3 / 7, abs=1e-15)
    # alpha = 1: geometric mean = (1/8)^(1/3) = 1/2
    assert welfare_value(arr, 1) == pytest.approx(0.5, abs=1e-15)
    # alpha = 1/2: (mean of sqrt)^2 = ((1/2 + sqrt(1/2) + 1) / 3)^2
    half = ((0.5 + math.sqrt(0.5) + 1) / 3) ** 2
    assert welfare_value(arr, 0.5) == pytest.approx(half, abs=1e-15)
    assert welfare_value(arr, math.inf) == 0.25


@pytest.mark.parametrize("seed", range(5))
def test_limits(seed):
    u = np.random.default_rng(seed).uniform(0.05, 1, size=40)
    assert welfare_value(u, 0) == pytest.approx(u.mean(), rel=1e-12)
    assert welfare_value(u, 1) == pytest.approx(np.exp(np.log(u).mean()), rel=1e-12)
    assert welfare_value(u, 1 + 1e-9) == pytest.approx(welfare_value(u, 1), rel=1e-6)
    assert welfare_value(u, 1e4) == pytest.approx(u.min(), rel=1e-3)
    assert welfare_value(u, 1e6) == pytest.approx(u.min(), rel=1e-5)
    assert welfare_value(u, math.inf) == u.min()
    sweep = list(welfare_sweep(u).values())
    assert all(a >= b - 1e-12 for a, b in pairwise(sweep))


def test_a_zero_utility_zeroes_welfare_from_alpha_one():
    u = np.array([0.0, 0.5, 1.0])
    assert welfare_value(u, 0) == 0.5
    assert 0 < welfare_value(u, 0.5) < 0.5
    for alpha in (1, 2, 50, math.inf):
        assert welfare_value(u, alpha) == 0.0


def test_welfare_is_columnwise_and_ignores_nan():
    u = np.array([[1.0, 0.5], [N, 0.5], [0.5, N]])
    np.testing.assert_allclose(welfare(u, 0), [0.75, 0.5])


def test_negative_alpha_or_utilities_are_rejected():
    with pytest.raises(ValueError, match="alpha"):
        welfare_value(np.array([0.5]), -1)
    with pytest.raises(ValueError, match="non-negative"):
        welfare_value(np.array([-0.5]), 0)


def _by_hand_best(votes, k, alpha):
    scores = {
        s: welfare_value(
            set_utilities(votes, np.isin(np.arange(votes.shape[1]), s)), alpha
        )
        for s in combinations(range(votes.shape[1]), k)
    }
    top = max(v for v in scores.values() if not np.isnan(v))
    return top, [list(s) for s, v in scores.items() if abs(v - top) <= 1e-12]


@pytest.mark.parametrize("alpha", [0, 0.5, 1, 2, math.inf])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_exact_best_set_equals_enumeration(alpha, k):
    votes = np.random.default_rng(k).choice([1.0, 0.0, -1.0, N], size=(25, 7))
    choice = best_set(votes, k=k, alpha=alpha)
    top, ties = _by_hand_best(votes, k, alpha)
    assert choice.method == "exact"
    assert choice.welfare == pytest.approx(top, abs=1e-12)
    assert choice.ties == ties[:100]
    assert choice.n_ties == len(ties)


def test_best_set_small_example_by_hand():
    """Utilitarian: {0} gives (1 + 1 + 0) / 3 = 2/3, {1} (1 + 1/2 + 1 + 0) / 4 =
    5/8, {2} (0 + 1 + 1) / 3 = 2/3: principles 0 and 2 tie."""
    choice = best_set(VOTES, k=1, alpha=0)
    assert choice.ties == [[0], [2]]
    assert choice.welfare == pytest.approx(2 / 3)


def test_greedy_is_used_past_the_exact_limit_and_stays_in_the_pool():
    votes = np.random.default_rng(0).choice([1.0, 0.0, -1.0], size=(60, 30))
    pool = np.zeros(30, dtype=bool)
    pool[::2] = True
    choice = best_set(votes, k=4, alpha=0, pool=pool, exact_limit=10)
    assert choice.method == "greedy"
    assert len(choice.principles) == 4
    assert all(pool[p] for p in choice.principles)
    utilities = set_utilities(votes, np.isin(np.arange(30), choice.principles))
    assert choice.welfare == pytest.approx(welfare_value(utilities, 0))


def test_degenerate_inputs_give_clear_results():
    assert np.isnan(welfare_value(np.array([]), 1))
    none = best_set(np.empty((0, 0)), k=3, alpha=1)
    assert none.principles == [] and np.isnan(none.welfare)
    one = best_set(np.array([[1.0]]), k=1, alpha=1)
    assert one.principles == [0] and one.welfare == 1.0
    everyone_agrees = best_set(np.ones((5, 3)), k=2, alpha=math.inf)
    assert everyone_agrees.welfare == 1.0 and everyone_agrees.n_ties == 3
    all_pass = best_set(np.zeros((5, 3)), k=2, alpha=1)
    assert all_pass.welfare == 0.5
    assert best_set(np.zeros((5, 3)), k=2, alpha=1, pass_utility=0).welfare == 0.0
    no_votes = best_set(np.full((4, 3), N), k=2, alpha=0)
    assert np.isnan(no_votes.welfare)
    assert best_set(np.ones((2, 3)), k=9, alpha=0).k == 3
