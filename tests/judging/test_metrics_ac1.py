"""Gwet's AC1 (encoding-gap.md section 5.5): small cases worked by hand, irrCAC's
published example, and the kappa paradox it exists for - one label dominating,
kappa low although judge and raters almost always agree."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from workbench.judging.metrics import cohen_kappa, gwet_ac1, principle_report
from workbench.judging.metrics.agreement import ac1_from_counts


def frac(value: float) -> Fraction:
    return Fraction(value).limit_denominator(1000)


# Three items x three raters (a/b only, so two categories):
#   item 1: a a a     item 2: a a b     item 3: a b b
# The judge says a, b, b in both orders.
LABELS = pd.DataFrame(
    [
        (1, "r1", "a"),
        (1, "r2", "a"),
        (1, "r3", "a"),
        (2, "r1", "a"),
        (2, "r2", "a"),
        (2, "r3", "b"),
        (3, "r1", "a"),
        (3, "r2", "b"),
        (3, "r3", "b"),
    ],
    columns=["item", "rater", "label"],
)
VERDICTS = pd.DataFrame(
    {"item": [1, 2, 3], "label_ab": ["a", "b", "b"], "label_ba": ["a", "b", "b"]}
)


def test_ac1_of_the_judge_against_the_majority_by_hand():
    # Majority M = a, a, b; J = a, b, b. Two ratings per item (J and M):
    #   p_a = 2/3 (items 1 and 3 agree).
    #   pi_a = (J: 1 + M: 2) / 6 = 1/2, pi_b = 1/2.
    #   p_e = (pi_a (1 - pi_a) + pi_b (1 - pi_b)) / (q - 1) = 1/2, q = 2.
    #   AC1 = (2/3 - 1/2) / (1 - 1/2) = 1/3.
    ac1 = gwet_ac1(LABELS, VERDICTS)
    assert frac(ac1.value) == Fraction(1, 3)
    assert ac1.n == 3


def test_ac1_among_the_raters_by_hand():
    # p_a per item = sum_k n_k (n_k - 1) / (n (n - 1)), n = 3:
    #   item 1: 3*2 / 6 = 1; item 2: (2*1 + 0) / 6 = 1/3; item 3: 1/3 -> p_a = 5/9.
    #   pi_a = (1 + 2/3 + 1/3) / 3 = 2/3, pi_b = 1/3.
    #   p_e = 2 * (2/3)(1/3) / 1 = 4/9; AC1 = (5/9 - 4/9) / (5/9) = 1/5.
    assert frac(gwet_ac1(LABELS).value) == Fraction(1, 5)


def test_ac1_with_missing_ratings_and_three_labels_by_hand():
    # Raters skip items (missing values) and tie is a label (q = 3):
    #   item 1: a a       item 2: a tie b     item 3: b (one rating: counts for pi only)
    labels = pd.DataFrame(
        [
            (1, "r1", "a"),
            (1, "r2", "a"),
            (2, "r1", "a"),
            (2, "r2", "tie"),
            (2, "r3", "b"),
            (3, "r3", "b"),
        ],
        columns=["item", "rater", "label"],
    )
    # Only items with >= 2 labels are units of the report's figures, so item 3 is
    # not among them: p_a = (1 + 0) / 2 = 1/2;
    # pi = mean of the per-item shares: a (1 + 1/3) / 2 = 2/3, tie 1/6, b 1/6;
    # p_e = (2/3 * 1/3 + 2 * 1/6 * 5/6) / (3 - 1) = (2/9 + 5/18) / 2 = 1/4;
    # AC1 = (1/2 - 1/4) / (3/4) = 1/3.
    assert frac(gwet_ac1(labels).value) == Fraction(1, 3)


def test_ac1_matches_irrcac_published_example():
    # irrCAC's own worked example (irrCAC.raw docstring, data raw_4raters: twelve
    # units, four raters, categories 1-5, seven missing ratings): AC1 = 0.77544.
    ratings = [
        [1, 1, None, 1],
        [2, 2, 3, 2],
        [3, 3, 3, 3],
        [3, 3, 3, 3],
        [2, 2, 2, 2],
        [1, 2, 3, 4],
        [4, 4, 4, 4],
        [1, 1, 2, 1],
        [2, 2, 2, 2],
        [None, 5, 5, 5],
        [None, None, 1, 1],
        [None, None, 3, None],
    ]
    counts = np.zeros((len(ratings), 5))
    for unit, row in enumerate(ratings):
        for value in row:
            if value is not None:
                counts[unit, value - 1] += 1
    assert round(ac1_from_counts(counts, 5).value, 5) == 0.77544


def _paradox():
    """Twenty items, three raters each, unanimous: a on 19, b on one (item 19).
    The judge agrees on 18, says b on item 18 (raters a) and a on item 19."""
    rows, verdicts = [], []
    for item in range(20):
        truth = "b" if item == 19 else "a"
        rows += [(item, rater, truth) for rater in ("r1", "r2", "r3")]
        judge = {18: "b", 19: "a"}.get(item, truth)
        verdicts.append((item, judge, judge))
    return (
        pd.DataFrame(rows, columns=["item", "rater", "label"]),
        pd.DataFrame(verdicts, columns=["item", "label_ab", "label_ba"]),
    )


def test_kappa_paradox_one_label_dominates():
    labels, verdicts = _paradox()
    # J x M: (a, a) 18, (b, a) 1, (a, b) 1: p_o = 18/20 = 9/10.
    # kappa: both marginals (19/20, 1/20), p_e = 361/400 + 1/400 = 181/200,
    #   kappa = (9/10 - 181/200) / (1 - 181/200) = (-1/200) / (19/200) = -1/19.
    # AC1: pi_a = 38/40 = 19/20, p_e = 2 (19/20)(1/20) = 19/200,
    #   AC1 = (180/200 - 19/200) / (181/200) = 161/181 (about 0.89).
    kappa = cohen_kappa(labels, verdicts)
    ac1 = gwet_ac1(labels, verdicts)
    assert frac(kappa.value) == Fraction(-1, 19)
    assert frac(ac1.value) == Fraction(161, 181)
    report = principle_report(labels, verdicts, n_resamples=200, noise_repeats=10)
    assert report["judge_agreement"] == pytest.approx(0.9)
    assert report["kappa"] < 0
    assert report["ac1"] > 0.85
    # Unanimous raters: AC1 among them is 1.
    assert report["ac1_humans"] == 1.0
    low, high = report["ci"]["ac1"]
    assert low <= report["ac1"] <= high


def test_ac1_is_defined_where_kappa_is_0_over_0():
    # Everyone - raters and judge - says b on every item: kappa is 0/0 (a single
    # label), AC1 is 1 (its chance term p_e = pi_b (1 - pi_b) = 0).
    labels = pd.DataFrame(
        [(i, r, "b") for i in range(4) for r in ("r1", "r2")],
        columns=["item", "rater", "label"],
    )
    verdicts = pd.DataFrame({"item": range(4), "label_ab": "b", "label_ba": "b"})
    report = principle_report(labels, verdicts, n_resamples=100, noise_repeats=10)
    assert report["kappa"] is None
    assert "single label" in report["reasons"]["kappa"]
    assert report["ac1"] == 1.0


def test_ac1_without_a_verdict_or_pairable_items_is_undefined():
    labels = pd.DataFrame([(1, "r1", "a")], columns=["item", "rater", "label"])
    verdicts = pd.DataFrame({"item": [1], "label_ab": ["na"], "label_ba": ["a"]})
    assert not gwet_ac1(labels, verdicts).defined
    assert gwet_ac1(labels).reason == "no item has two or more values"
