"""The CCAI sweep, the group-aware-consensus rule and OSCCAI's size-adaptive
threshold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.analysis.thresholds import (
    CCAI_SWEEP,
    ccai_rule,
    ccai_sweep,
    gac_rule,
    group_aware_consensus_from_counts,
    size_adaptive_rule,
    size_adaptive_threshold,
)

AGREE = np.array([[9, 8], [7, 9], [10, 10], [3, 9]])
TOTAL = np.array([[10, 10], [10, 10], [10, 10], [10, 10]])


def test_sweep_runs_from_point_six_to_one_in_steps_of_point_oh_five():
    assert CCAI_SWEEP == (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)


def test_sweep_counts_principles_passing_in_every_group():
    sweep = ccai_sweep(AGREE, TOTAL)
    # minimum shares per principle: 0.8, 0.7, 1.0, 0.3
    assert sweep == {
        0.6: 3,
        0.65: 3,
        0.7: 3,
        0.75: 2,
        0.8: 2,
        0.85: 1,
        0.9: 1,
        0.95: 1,
        1.0: 1,
    }
    for t, n in sweep.items():
        assert n == ccai_rule(AGREE, TOTAL, threshold=t).sum()


def test_gac_from_counts_by_hand():
    gac = group_aware_consensus_from_counts(np.array([[1, 0]]), np.array([[2, 0]]))
    assert gac[0] == pytest.approx(2 / 4 * 1 / 2)
    assert np.isnan(
        group_aware_consensus_from_counts(np.zeros((2, 0)), np.zeros((2, 0)))
    ).all()


def test_gac_rule_thresholds_the_product_or_its_per_group_mean():
    gac = np.array([0.81, 0.5, np.nan])
    assert gac_rule(gac, threshold=0.8).tolist() == [True, False, False]
    assert gac_rule(np.array([0.64]), threshold=0.8).tolist() == [False]
    assert gac_rule(np.array([0.64]), threshold=0.8, n_groups=2).tolist() == [True]
    with pytest.raises(ValueError):
        gac_rule(gac, threshold=1.5)


@pytest.mark.parametrize("n", [0, 1, 5, 50, 121, 122, 500, 10_000])
def test_size_adaptive_threshold_formula(n):
    expected = min(0.85, 0.66 * (1 + 2 / math.log2(2 + n)))
    assert size_adaptive_threshold(n) == pytest.approx(expected, abs=1e-15)


def test_size_adaptive_threshold_is_capped_until_121_voters_then_falls():
    t = size_adaptive_threshold(np.arange(0, 5000))
    assert (t[:122] == 0.85).all()
    assert (t[122:] < 0.85).all()
    assert (np.diff(t[122:]) < 0).all()
    assert t[-1] > 0.66


def test_size_adaptive_rule_applies_each_principles_own_threshold():
    score = np.array([0.84, 0.84, 0.9, 0.9])
    n = np.array([10, 1000, 0, 50])
    # 10 voters: 0.85 needed; 1000 voters: about 0.79; nobody: never adopted.
    assert size_adaptive_rule(score, n).tolist() == [False, True, False, True]
