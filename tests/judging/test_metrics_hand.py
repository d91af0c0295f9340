"""Encoding-gap metrics on small cases worked by hand (encoding-gap.md section 5).

The arithmetic is in the comments; exact fractions are compared with
fractions.Fraction, irrational ones (JS distance) with math.isclose.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pandas as pd
import pytest

from workbench.judging.metrics import (
    brier_score,
    cohen_kappa,
    combine_verdicts,
    first_position_rate,
    gap,
    human_ceiling,
    js_distance,
    judge_agreement,
    kendall_tau,
    kendall_tau_ceiling,
    krippendorff_alpha,
    normalized_agreement,
    order_consistency,
    principle_report,
    relevance,
)


def frac(value: float) -> Fraction:
    return Fraction(value).limit_denominator(1000)


# Three items x three raters, labels a/b only (chance q = 1/2):
#   item 1: a a a     item 2: a a b     item 3: a b b
# The judge says a, b, b (both orders agree), no probabilities (p_J = 1, 0, 0).
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


def test_ceiling_leave_one_out_expected_tie_break():
    # Leave-one-out modes (others' labels -> hit of own label):
    #   item 1: every rater sees {a, a} -> a: 3 hits
    #   item 2: r1 {a, b} tie -> 1/2, r2 {a, b} -> 1/2, r3 {a, a} -> a vs b: 0  => 1
    #   item 3: r1 {b, b} -> b vs a: 0, r2 {a, b} -> 1/2, r3 {a, b} -> 1/2     => 1
    # H = (3 + 1 + 1) / 9 = 5/9
    ceiling = human_ceiling(LABELS, tie_break="expected")
    assert frac(ceiling.value) == Fraction(5, 9)
    assert ceiling.n == 9


def test_random_tie_break_is_seeded_and_unbiased():
    first = human_ceiling(LABELS, seed=7)
    assert human_ceiling(LABELS, seed=7) == first
    # Four labels face a tied {a, b}: each draw hits with probability 1/2, so H is
    # (3 + k) / 9 for k hits among those four; averaged over seeds it nears 5/9.
    values = [human_ceiling(LABELS, seed=s).value for s in range(400)]
    assert all(frac(v * 9).denominator == 1 for v in values)
    assert abs(sum(values) / len(values) - 5 / 9) < 0.02


def test_judge_agreement_gap_and_normalised():
    # J = a, b, b against the leave-one-out modes above:
    #   item 1: 3 hits; item 2: r1 1/2 + r2 1/2 + r3 ({a, a} vs b) 0 = 1;
    #   item 3: r1 ({b, b}) 1 + r2 1/2 + r3 1/2 = 2   =>  A = 6/9 = 2/3
    agreement = judge_agreement(LABELS, VERDICTS, tie_break="expected")
    assert frac(agreement.value) == Fraction(2, 3)
    ceiling = human_ceiling(LABELS, tie_break="expected")
    # Gap = 5/9 - 6/9 = -1/9: the judge matches the raters better than they match
    # each other.
    assert frac(gap(ceiling, agreement).value) == Fraction(-1, 9)
    # NA = (2/3 - 1/2) / (5/9 - 1/2) = (1/6) / (1/18) = 3
    na = normalized_agreement(agreement, ceiling, tie_is_label=False)
    assert frac(na.value) == 3
    # All-raters modes a, a, b vs J a, b, b: 2 of 3 items.
    all_raters = judge_agreement(LABELS, VERDICTS, against="all")
    assert frac(all_raters.value) == Fraction(2, 3)
    assert all_raters.n == 3


def test_cohen_kappa_both_variants():
    # J = a b b, majority M = a a b. p_o = 2/3.
    # Marginals J (1/3, 2/3), M (2/3, 1/3): p_e = 2/9 + 2/9 = 4/9.
    # kappa = (2/3 - 4/9) / (1 - 4/9) = (2/9) / (5/9) = 2/5; with p_e = 1/2: 1/3.
    assert frac(cohen_kappa(LABELS, VERDICTS).value) == Fraction(2, 5)
    assert frac(cohen_kappa(LABELS, VERDICTS, variant="half").value) == Fraction(1, 3)


def test_krippendorff_alpha_nominal_by_hand():
    # Coincidences o_ck = sum_u (n_uc n_uk - [c = k] n_uc) / (m_u - 1), m_u = 3:
    #   u1 (a3): o_aa 3;  u2 (a2 b1): o_aa 1, o_ab = o_ba 1;
    #   u3 (a1 b2): o_ab = o_ba 1, o_bb 1
    #   n = 9, n_a = 6, n_b = 3, disagreeing coincidences 4
    #   alpha = 1 - (n - 1) * 4 / (2 n_a n_b) = 1 - 32/36 = 1/9
    assert frac(krippendorff_alpha(LABELS).value) == Fraction(1, 9)
    # The judge as a fourth coder (m_u = 4): u1 a4, u2 a2 b2, u3 a1 b3:
    #   disagreeing coincidences 2 * (4/3 + 3/3) = 14/3; n = 12, n_a = 7, n_b = 5
    #   alpha = 1 - 11 * (14/3) / 70 = 1 - 11/15 = 4/15 (the judge raises reliability)
    assert frac(krippendorff_alpha(LABELS, VERDICTS).value) == Fraction(4, 15)


def test_js_distance_and_brier_by_hand():
    # s = 1, 2/3, 1/3 (share preferring A); p_J = 1, 0, 0 from the hard verdicts.
    # item 1: identical -> 0.
    # item 2: P = (2/3, 1/3), Q = (0, 1), M = (1/3, 2/3):
    #   KL(P||M) = 2/3 log2 2 + 1/3 log2 1/2 = 1/3, KL(Q||M) = log2 3/2
    # item 3: P = (1/3, 2/3), Q = (0, 1), M = (1/6, 5/6):
    #   KL(P||M) = 1/3 log2 2 + 2/3 log2 4/5, KL(Q||M) = log2 6/5
    # distance = sqrt((KL(P||M) + KL(Q||M)) / 2)
    d2 = math.sqrt((1 / 3 + math.log2(3 / 2)) / 2)
    d3 = math.sqrt((1 / 3 + 2 / 3 * math.log2(4 / 5) + math.log2(6 / 5)) / 2)
    assert math.isclose(js_distance(LABELS, VERDICTS).value, (0 + d2 + d3) / 3)
    # Brier = (0 + (2/3)^2 + (1/3)^2) / 3 = (5/9) / 3 = 5/27
    assert frac(brier_score(LABELS, VERDICTS).value) == Fraction(5, 27)


def test_probabilities_average_over_orders():
    verdicts = VERDICTS.assign(p_a_ab=[0.9, 0.2, None], p_a_ba=[0.7, 0.4, None])
    combined = combine_verdicts(verdicts)
    # mean of both orders; item 3 has none and falls back to its hard verdict b -> 0.
    assert combined["p_J"].tolist() == pytest.approx([0.8, 0.3, 0.0])


def test_judge_only_figures():
    # item 1: a / a -> a;  item 2: a / b -> tie (order changed the answer);
    # item 3: b / b -> b;  item 4: na / a -> None (does not apply in one order).
    verdicts = pd.DataFrame(
        {
            "item": [1, 2, 3, 4],
            "label_ab": ["a", "a", "b", "na"],
            "label_ba": ["a", "b", "b", "a"],
        }
    )
    assert combine_verdicts(verdicts)["J"].tolist() == ["a", "tie", "b", None]
    # Relevance: 3 of 4 items have a verdict.
    assert frac(relevance(verdicts).value) == Fraction(3, 4)
    # Both orders answered on items 1-3, same answer on items 1 and 3: 2/3.
    assert frac(order_consistency(verdicts).value) == Fraction(2, 3)
    # Decisive per-order answers: 7. First shown is A in order ab, B in order ba:
    #   item 1: ab a (first), ba a (second); item 2: a (first), b (first);
    #   item 3: b (second), b (first); item 4: ba a (second)  -> 4 / 7
    assert frac(first_position_rate(verdicts).value) == Fraction(4, 7)


def test_tie_label_sets_chance_to_a_third():
    labels = pd.concat(
        [LABELS, pd.DataFrame([(3, "r4", "tie")], columns=["item", "rater", "label"])]
    )
    report = principle_report(labels, VERDICTS, tie_break="expected", n_resamples=200)
    assert report["chance"] == pytest.approx(1 / 3)


def test_na_labels_do_not_count():
    with_na = pd.concat(
        [LABELS, pd.DataFrame([(2, "r4", "na")], columns=["item", "rater", "label"])]
    )
    assert human_ceiling(with_na, tie_break="expected") == human_ceiling(
        LABELS, tie_break="expected"
    )


def test_kendall_tau_by_hand():
    # One prompt, responses x y z; rankings (1 = best):
    #   r1: x y z, r2: x y z, r3: y x z
    # Borda (k - rank, k = 3): x 2+2+1 = 5, y 1+1+2 = 4, z 0 -> order x > y > z.
    rankings = pd.DataFrame(
        [
            ("p", "r1", "x", 1),
            ("p", "r1", "y", 2),
            ("p", "r1", "z", 3),
            ("p", "r2", "x", 1),
            ("p", "r2", "y", 2),
            ("p", "r2", "z", 3),
            ("p", "r3", "y", 1),
            ("p", "r3", "x", 2),
            ("p", "r3", "z", 3),
        ],
        columns=["prompt", "rater", "response", "rank"],
    )
    same = pd.DataFrame(
        {"prompt": "p", "response": ["x", "y", "z"], "score": [3, 2, 1]}
    )
    assert kendall_tau(rankings, same).value == pytest.approx(1.0)
    assert kendall_tau(rankings, same.assign(score=[1, 2, 3])).value == pytest.approx(
        -1.0
    )
    # Ceiling: r1 vs Borda(r2, r3) = x 3, y 3, z 0 (a tie): pairs x-y tied in one
    # ranking, x-z and y-z concordant: tau_b = 2 / sqrt(3 * 2) = 2/sqrt(6); same
    # for r2; r3 (y x z) vs Borda(r1, r2) = x > y > z: 2 concordant, 1 discordant
    # -> 1/3. Mean = (2 * 2/sqrt(6) + 1/3) / 3.
    expected = (2 * 2 / math.sqrt(6) + 1 / 3) / 3
    assert kendall_tau_ceiling(rankings).value == pytest.approx(expected)
