"""The controls of encoding-gap.md section 5.10 on small cases worked by hand:
P(prefer longer) for the judge and the raters with Wilson intervals, and the
flipped-label check."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from workbench.judging.metrics import (
    judge_agreement,
    judge_agreement_flipped,
    longer_response,
    prefer_longer,
    principle_report,
)

FAST = {"n_resamples": 100, "n_permutations": 50, "noise_repeats": 10}


def frac(value: float) -> Fraction:
    return Fraction(value).limit_denominator(1000)


# Lengths in characters: item 1 A longer, item 2 B longer, item 3 equal, item 4 A.
PAIRS = pd.DataFrame(
    {
        "item": [1, 2, 3, 4],
        "prompt": [10, 20, 30, 40],
        "response_a": [11, 21, 31, 41],
        "response_b": [12, 22, 32, 42],
        "length_a": [10, 3, 4, 9],
        "length_b": [5, 8, 4, 2],
    }
)
LABELS = pd.DataFrame(
    [
        (1, "r1", "g1", "a"),
        (1, "r2", "g2", "b"),
        (1, "r3", "g1", "tie"),
        (2, "r1", "g1", "b"),
        (2, "r2", "g2", "b"),
        (3, "r1", "g1", "a"),
        (3, "r2", "g2", "a"),
        (4, "r1", "g1", "na"),
        (4, "r2", "g2", "b"),
    ],
    columns=["item", "rater", "group", "label"],
)
# J: item 1 a; item 2 tie (the orders disagree); item 3 a; item 4 b.
VERDICTS = pd.DataFrame(
    {
        "item": [1, 2, 3, 4],
        "label_ab": ["a", "a", "a", "b"],
        "label_ba": ["a", "b", "a", "b"],
    }
)


def test_longer_response_by_character_count():
    assert longer_response(PAIRS).tolist() == ["a", "b", None, "a"]


def test_prefer_longer_by_hand():
    # Raters, decisive labels on items whose lengths differ (item 3 equal; ties
    # and na left out): item 1 a (longer) and b (shorter); item 2 b, b (longer);
    # item 4 b (shorter) -> 3 of 5.
    # Judge: item 1 a (longer); item 2 tie (left out); item 4 b (shorter) -> 1/2.
    figures = prefer_longer(LABELS, VERDICTS, PAIRS)
    assert frac(figures["prefer_longer_humans"].value) == Fraction(3, 5)
    assert figures["prefer_longer_humans"].n == 5
    assert frac(figures["prefer_longer_judge"].value) == Fraction(1, 2)
    assert figures["prefer_longer_judge"].n == 2


def test_prefer_longer_in_the_report_with_wilson_intervals():
    report = principle_report(LABELS, VERDICTS, pairs=PAIRS, **FAST)
    assert report["prefer_longer_humans"] == pytest.approx(3 / 5)
    assert report["prefer_longer_judge"] == pytest.approx(1 / 2)
    for key, (k, n) in {
        "prefer_longer_humans": (3, 5),
        "prefer_longer_judge": (1, 2),
    }.items():
        assert report["ci"][key] == pytest.approx(
            list(proportion_confint(k, n, alpha=0.05, method="wilson"))
        )
    # Per group, the group's own labels: g1 (r1, r3) item 1 a and item 2 b, both
    # longer -> 1; g2 (r2) item 1 b, item 2 b, item 4 b -> 1/3. The judge's share
    # is the principle's in every group.
    assert report["per_group"]["g1"]["prefer_longer_humans"] == 1.0
    assert report["per_group"]["g2"]["prefer_longer_humans"] == pytest.approx(1 / 3)
    assert report["per_group"]["g2"]["prefer_longer_judge"] == pytest.approx(1 / 2)


def test_prefer_longer_without_lengths_or_length_differences_is_undefined():
    report = principle_report(LABELS, VERDICTS, **FAST)
    assert report["prefer_longer_judge"] is None
    assert report["ci"]["prefer_longer_judge"] is None
    assert "not given" in report["reasons"]["prefer_longer_humans"]
    same = PAIRS.assign(length_b=PAIRS["length_a"])
    figures = prefer_longer(LABELS, VERDICTS, same)
    assert not figures["prefer_longer_humans"].defined
    assert "differ in length" in figures["prefer_longer_humans"].reason


# The flipped-label check, on three items x three raters (a/b only):
#   item 1: a a a     item 2: a a b     item 3: a b b;   J = a, b, b.
HAND = pd.DataFrame(
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
HAND_VERDICTS = pd.DataFrame(
    {"item": [1, 2, 3], "label_ab": ["a", "b", "b"], "label_ba": ["a", "b", "b"]}
)


def test_flipped_labels_by_hand():
    # Flipped: item 1 b b b, item 2 b b a, item 3 b a a. Leave-one-out modes
    # (expected tie-break) against J:
    #   item 1 (J a): every rater sees {b, b} -> 0
    #   item 2 (J b): r1 {b, a} 1/2, r2 {b, a} 1/2, r3 {b, b} 1      -> 2
    #   item 3 (J b): r1 {a, a} 0, r2 {b, a} 1/2, r3 {b, a} 1/2      -> 1
    # A_flipped = 3/9 = 1/3, against A = 2/3 on the real labels.
    real = judge_agreement(HAND, HAND_VERDICTS, tie_break="expected")
    flipped = judge_agreement_flipped(HAND, HAND_VERDICTS, tie_break="expected")
    assert frac(real.value) == Fraction(2, 3)
    assert frac(flipped.value) == Fraction(1, 3)
    assert flipped.n == real.n == 9


def test_flipping_leaves_ties_alone():
    # Raters all say tie and the judge's orders disagree (J = tie): flipping a and
    # b changes nothing, the agreement stays 1.
    labels = pd.DataFrame(
        [(1, r, "tie") for r in ("r1", "r2", "r3")], columns=["item", "rater", "label"]
    )
    verdicts = pd.DataFrame({"item": [1], "label_ab": ["a"], "label_ba": ["b"]})
    assert judge_agreement_flipped(labels, verdicts).value == 1.0
    assert judge_agreement(labels, verdicts).value == 1.0


def test_a_judge_following_the_raters_falls_to_zero_when_flipped():
    report = principle_report(
        HAND.assign(label="a"), HAND_VERDICTS.assign(label_ab="a", label_ba="a"), **FAST
    )
    assert report["judge_agreement"] == 1.0
    assert report["judge_agreement_flipped"] == 0.0
