"""Ranking figures for prompts with 3+ responses (encoding-gap.md section 5.7).

Human rankings: a long table with columns ``prompt``, ``rater``, ``response``,
``rank`` (1 = best; equal ranks allowed). Judge scores: columns ``prompt``,
``response``, ``score`` (higher = better), e.g. :func:`win_rates` of the judge's
pairwise probabilities.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import kendalltau  # type: ignore[import-untyped]

from workbench.judging.metrics._data import Figure, undefined

__all__ = ["borda_scores", "kendall_tau", "kendall_tau_ceiling", "win_rates"]

MIN_RESPONSES = 3


def borda_scores(rankings: pd.DataFrame) -> pd.DataFrame:
    """Borda count per (prompt, response): sum over raters of (k - rank), where k is
    the number of responses the rater ranked for that prompt."""
    frame = rankings.copy()
    k = frame.groupby(["prompt", "rater"])["response"].transform("size")
    frame["score"] = k - frame["rank"].astype(float)
    return frame.groupby(["prompt", "response"])["score"].sum().reset_index()


def win_rates(pairs: pd.DataFrame) -> pd.DataFrame:
    """Judge score per response = mean probability of winning its comparisons.

    ``pairs`` has columns ``prompt``, ``response_a``, ``response_b``, ``p_a``.
    """
    a = pairs.rename(columns={"response_a": "response"})[["prompt", "response", "p_a"]]
    b = pairs.rename(columns={"response_b": "response"})[["prompt", "response", "p_a"]]
    b = b.assign(p_a=1 - b["p_a"])
    both = pd.concat([a, b], ignore_index=True).rename(columns={"p_a": "score"})
    return both.groupby(["prompt", "response"])["score"].mean().reset_index()


def _tau_b(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = kendalltau(x, y, variant="b")
    return float(result.statistic)


def kendall_tau(rankings: pd.DataFrame, judge_scores: pd.DataFrame) -> Figure:
    """Mean over prompts (3+ responses) of Kendall tau_b between the judge's scores
    and the raters' Borda count, with ``scipy.stats.kendalltau(variant="b")``.
    Prompts where either side is constant (tau undefined) are skipped."""
    borda = borda_scores(rankings)
    merged = borda.merge(
        judge_scores, on=["prompt", "response"], suffixes=("", "_judge")
    )
    taus: list[float] = []
    for _, block in merged.groupby("prompt"):
        if len(block) < MIN_RESPONSES:
            continue
        tau = _tau_b(
            block["score_judge"].to_numpy(dtype=float),
            block["score"].to_numpy(dtype=float),
        )
        if not math.isnan(tau):
            taus.append(tau)
    if not taus:
        return undefined("no prompt with 3+ responses has a defined tau_b")
    return Figure(float(np.mean(taus)), len(taus))


def kendall_tau_ceiling(rankings: pd.DataFrame) -> Figure:
    """Ceiling (section 5.7): tau_b of each rater's ranking against the Borda count
    of the other raters, averaged over raters and prompts (3+ responses)."""
    taus: list[float] = []
    for _, block in rankings.groupby("prompt"):
        if block["response"].nunique() < MIN_RESPONSES:
            continue
        for rater, own in block.groupby("rater"):
            others = block[block["rater"] != rater]
            if others.empty:
                continue
            merged = own.merge(borda_scores(others), on=["prompt", "response"])
            if len(merged) < MIN_RESPONSES:
                continue
            tau = _tau_b(
                -merged["rank"].to_numpy(dtype=float),
                merged["score"].to_numpy(dtype=float),
            )
            if not math.isnan(tau):
                taus.append(tau)
    if not taus:
        return undefined("no prompt has two raters ranking 3+ responses")
    return Figure(float(np.mean(taus)), len(taus))
