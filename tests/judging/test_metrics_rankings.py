"""Kendall tau_b and Spearman rho over rankings of 3+ responses built from pairwise
comparisons (encoding-gap.md section 5.7), on a case worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import kendalltau, spearmanr

from workbench.judging.metrics import (
    combine_verdicts,
    normalise_labels,
    pairwise_ranking_figures,
    principle_report,
    ranked_prompts,
)

# Prompt "p" has three responses x, y, z compared in three items; prompt "q" has
# only two (u, v), so it is not ranked.
PAIRS = pd.DataFrame(
    [
        (1, "p", "x", "y"),
        (2, "p", "x", "z"),
        (3, "p", "y", "z"),
        (4, "q", "u", "v"),
    ],
    columns=["item", "prompt", "response_a", "response_b"],
).assign(length_a=5, length_b=5)
# r1, r2: x > y > z; r3: y > x > z; r4 compared only x and y (x) - it counts in
# the aggregate but not in the ceiling, which needs raters of every pair.
LABELS = pd.DataFrame(
    [
        *((1, r, "a") for r in ("r1", "r2")),
        *((2, r, "a") for r in ("r1", "r2", "r3")),
        *((3, r, "a") for r in ("r1", "r2", "r3")),
        (1, "r3", "b"),
        (1, "r4", "a"),
        (4, "r1", "a"),
        (4, "r2", "b"),
    ],
    columns=["item", "rater", "label"],
)
# p_J: item 1 0.8 (x over y), item 2 0.9 (x over z), item 3 0.3 (z over y).
VERDICTS = pd.DataFrame(
    {
        "item": [1, 2, 3, 4],
        "label_ab": ["a", "a", "b", "a"],
        "label_ba": ["a", "a", "b", "a"],
        "p_a_ab": [0.8, 0.9, 0.3, 0.6],
        "p_a_ba": [0.8, 0.9, 0.3, 0.6],
    }
)
FAST = {"n_resamples": 100, "n_permutations": 50, "noise_repeats": 10}


def figures(labels=LABELS, verdicts=VERDICTS):
    return pairwise_ranking_figures(
        normalise_labels(labels), combine_verdicts(verdicts), PAIRS
    )


def test_only_prompts_with_three_responses_are_ranked():
    assert ranked_prompts(PAIRS)["prompt"].unique().tolist() == ["p"]


def test_tau_and_rho_by_hand():
    # Judge win rates: x (0.8 + 0.9) / 2 = 0.85, y (0.2 + 0.3) / 2 = 0.25,
    # z (0.1 + 0.7) / 2 = 0.4 -> x > z > y.
    # Raters' win rates (a tie would be half a win): x wins 2+2+1+1 of 7
    # comparisons, y 1+1+2+0 of 7, z 0 of 6 -> x > y > z.
    # tau_b: x-y and x-z concordant, y-z discordant -> (2 - 1) / 3 = 1/3.
    # rho: ranks (3, 1, 2) against (3, 2, 1), sum d^2 = 2 -> 1 - 6*2 / (3*8) = 1/2.
    found, n_prompts = figures()
    assert n_prompts == 1
    assert found["kendall_tau"].value == pytest.approx(1 / 3)
    assert found["kendall_tau"].n == 1
    assert found["spearman_rho"].value == pytest.approx(1 / 2)
    # The same with scipy on the scores above.
    judge, humans = [0.85, 0.25, 0.4], [6 / 7, 4 / 7, 0.0]
    assert found["kendall_tau"].value == pytest.approx(
        kendalltau(judge, humans, variant="b").statistic
    )
    assert found["spearman_rho"].value == pytest.approx(
        spearmanr(judge, humans).statistic
    )


def test_ceiling_by_hand_uses_raters_of_every_pair():
    # r1 (x 1, y 1/2, z 0) against r2 + r3 (x 3/4, y 3/4, z 0): x-y tied on one
    # side, the other two pairs concordant -> tau_b = 2 / sqrt(3 * 2); r2 the same;
    # r3 (x 1/2, y 1, z 0) against r1 + r2 (x 1, y 1/2, z 0): 1/3. r4 compared one
    # pair only and is left out of both sides.
    found, _ = figures()
    expected = (2 * 2 / math.sqrt(6) + 1 / 3) / 3
    assert found["kendall_tau_ceiling"].value == pytest.approx(expected)
    assert found["kendall_tau_ceiling"].n == 3


def test_pairs_without_a_verdict_are_left_out_of_the_judge_scores():
    # "Does not apply" on item 3: the judge's scores come from items 1 and 2:
    # x 0.85, y 0.2, z 0.1 -> x > y > z, the raters' order: tau_b = 1.
    verdicts = VERDICTS.assign(label_ab=["a", "a", "na", "a"])
    found, _ = figures(verdicts=verdicts)
    assert found["kendall_tau"].value == pytest.approx(1.0)


def test_report_keys_and_undefined_without_three_responses():
    report = principle_report(LABELS, VERDICTS, pairs=PAIRS, **FAST)
    assert report["n_ranked_prompts"] == 1
    assert report["kendall_tau"] == pytest.approx(1 / 3)
    assert report["spearman_rho"] == pytest.approx(1 / 2)
    assert report["kendall_tau_ceiling"] is not None
    two = PAIRS[PAIRS["prompt"] == "q"]
    report = principle_report(LABELS, VERDICTS, pairs=two, **FAST)
    assert report["n_ranked_prompts"] == 0
    for key in ("kendall_tau", "kendall_tau_ceiling", "spearman_rho"):
        assert report[key] is None
        assert "three or more responses" in report["reasons"][key]
