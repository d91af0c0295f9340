"""Polis's vote statistics against independent implementations: exact rational
arithmetic (fractions) for the formulas, and scipy's chi-squared test, whose
statistic is the square of the pooled two-proportion z."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import chi2_contingency, norm

from workbench.analysis.polis.stats import (
    prop_test,
    smoothed_probability,
    two_prop_test,
    z_sig_90,
)

COUNTS = [(s, n) for n in range(0, 40, 3) for s in range(0, n + 1, 2)]


def _prop_test_exact(s: int, n: int) -> float:
    """z of a one-sample test of p = (s+1)/(n+1) against 0.5 on n+1 trials."""
    p = Fraction(s + 1, n + 1)
    return float((p - Fraction(1, 2)) / Fraction(1, 2)) * math.sqrt(n + 1)


def _two_prop_exact(s1: int, s2: int, n1: int, n2: int) -> float:
    s1, s2, n1, n2 = s1 + 1, s2 + 1, n1 + 1, n2 + 1
    pooled = Fraction(s1 + s2, n1 + n2)
    if pooled == 1:
        return 0.0
    variance = pooled * (1 - pooled) * (Fraction(1, n1) + Fraction(1, n2))
    return float(Fraction(s1, n1) - Fraction(s2, n2)) / math.sqrt(variance)


def test_smoothed_probability_is_laplace():
    s, n = np.array(COUNTS).T
    expected = [float(Fraction(a + 1, b + 2)) for a, b in COUNTS]
    np.testing.assert_allclose(smoothed_probability(s, n), expected, rtol=1e-15)


def test_prop_test_matches_exact_formula():
    s, n = np.array(COUNTS).T
    expected = [_prop_test_exact(a, b) for a, b in COUNTS]
    np.testing.assert_allclose(prop_test(s, n), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_two_prop_test_matches_exact_formula(seed):
    rng = np.random.default_rng(seed)
    n1, n2 = rng.integers(0, 60, 200), rng.integers(0, 400, 200)
    s1, s2 = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
    expected = [_two_prop_exact(*args) for args in zip(s1, s2, n1, n2, strict=True)]
    np.testing.assert_allclose(
        two_prop_test(s1, s2, n1, n2), expected, rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("seed", range(3))
def test_two_prop_test_squared_is_scipy_chi2(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        n1, n2 = rng.integers(1, 50), rng.integers(1, 300)
        s1, s2 = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
        table = np.array([[s1 + 1, n1 - s1], [s2 + 1, n2 - s2]])
        chi2 = chi2_contingency(table, correction=False).statistic
        z = two_prop_test(s1, s2, n1, n2)
        assert z**2 == pytest.approx(chi2, rel=1e-10)
        assert np.sign(z) == np.sign((s1 + 1) / (n1 + 1) - (s2 + 1) / (n2 + 1))


def test_two_prop_test_is_zero_when_everyone_succeeds():
    assert two_prop_test(5, 9, 5, 9) == 0.0


def test_z_sig_90_is_the_one_sided_90_percent_quantile():
    assert norm.ppf(0.9) == pytest.approx(1.2816, abs=1e-4)
    assert z_sig_90([1.2816, 1.28161]).tolist() == [False, True]
