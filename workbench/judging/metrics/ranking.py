"""Ranking figures for prompts with 3+ responses (encoding-gap.md section 5.7).

Human rankings: a long table with columns ``prompt``, ``rater``, ``response``,
``rank`` (1 = best; equal ranks allowed). Judge scores: columns ``prompt``,
``response``, ``score`` (higher = better), e.g. :func:`win_rates` of the judge's
pairwise probabilities.

:func:`pairwise_ranking_figures` gets there from pairwise comparisons instead:
when several items of one principle share a prompt and together compare three or
more of its responses, each response is scored by its win rate - the judge's on
p_J, the raters' on their labels (a tie is half a win) - and the scores are
ranked against each other.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import kendalltau, spearmanr  # type: ignore[import-untyped]

from workbench.judging.metrics._data import Figure, undefined

__all__ = [
    "borda_scores",
    "kendall_tau",
    "kendall_tau_ceiling",
    "pairwise_ranking_figures",
    "ranked_prompts",
    "win_rates",
]

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


def _rho(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = spearmanr(x, y)
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


# --- rankings from pairwise comparisons -----------------------------------------

NO_RANKED_PROMPT = "no prompt has three or more responses compared under this principle"
Correlation = Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], float]


def ranked_prompts(pairs: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``pairs`` (item, prompt, response_a, response_b) whose prompt has
    :data:`MIN_RESPONSES` or more distinct responses among its items."""
    missing = {"item", "prompt", "response_a", "response_b"} - set(pairs.columns)
    if missing:
        msg = f"pairs table lacks column(s): {', '.join(sorted(missing))}"
        raise ValueError(msg)
    responses = pd.concat(
        [
            pairs[["prompt", "response_a"]].rename(columns={"response_a": "r"}),
            pairs[["prompt", "response_b"]].rename(columns={"response_b": "r"}),
        ]
    )
    sizes = responses.groupby("prompt")["r"].nunique()
    keep = sizes.index[sizes >= MIN_RESPONSES]
    return pairs[pairs["prompt"].isin(keep)].reset_index(drop=True)


def _label_scores(labels: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per (label, response of its item): prompt, rater, response, score
    (1 for the chosen response, 0 for the other, 1/2 each for a tie)."""
    merged = labels.merge(pairs, on="item")
    p_a = merged["label"].map({"a": 1.0, "b": 0.0, "tie": 0.5})
    a = pd.DataFrame(
        {
            "prompt": merged["prompt"],
            "rater": merged["rater"],
            "item": merged["item"],
            "response": merged["response_a"],
            "score": p_a,
        }
    )
    b = a.assign(response=merged["response_b"].to_numpy(), score=1 - p_a)
    return pd.concat([a, b], ignore_index=True)


def _mean_scores(scores: pd.DataFrame) -> pd.DataFrame:
    return scores.groupby(["prompt", "response"])["score"].mean().reset_index()


def _per_prompt(
    judge: pd.DataFrame, humans: pd.DataFrame, correlation: Correlation
) -> list[float]:
    merged = judge.merge(humans, on=["prompt", "response"], suffixes=("_j", "_h"))
    values = []
    for _, block in merged.groupby("prompt"):
        if len(block) < MIN_RESPONSES:
            continue
        value = correlation(
            block["score_j"].to_numpy(dtype=float),
            block["score_h"].to_numpy(dtype=float),
        )
        if not math.isnan(value):
            values.append(value)
    return values


def _ceiling(scores: pd.DataFrame, items_per_prompt: pd.Series) -> list[float]:
    """tau_b of each rater who labelled every item of a prompt against the win
    rates of the other such raters, per prompt."""
    taus: list[float] = []
    for prompt, block in scores.groupby("prompt"):
        covered = block.groupby("rater")["item"].nunique()
        complete = covered.index[covered == items_per_prompt[prompt]]
        if len(complete) < 2:
            continue
        raters = block[block["rater"].isin(complete)]
        for rater in complete:
            own = _mean_scores(raters[raters["rater"] == rater])
            others = _mean_scores(raters[raters["rater"] != rater])
            taus.extend(_per_prompt(own, others, _tau_b))
    return taus


def pairwise_ranking_figures(
    labels: pd.DataFrame, combined: pd.DataFrame | None, pairs: pd.DataFrame
) -> tuple[dict[str, Figure], int]:
    """Kendall tau_b, Spearman rho and the tau ceiling from pairwise comparisons.

    ``labels``: clean labels (item, rater, label in a / b / tie); ``combined``:
    :func:`combine_verdicts` output (None = no judge); ``pairs``: one row per item
    with its ``prompt``, ``response_a`` and ``response_b`` ids.

    Only prompts with 3+ responses count (:func:`ranked_prompts`). A response's
    judge score is its mean win probability p_J over the prompt's judged pairs
    (:func:`win_rates`; p_J falls back to 1 / 0 / 0.5 from J, and pairs without a
    verdict J are left out). The raters' aggregate is each response's win rate
    over their labels - the Borda count divided by the comparisons it took part
    in, so it ranks as Borda does when every rater compared every pair and does
    not favour a response that happened to be compared more often when they did
    not. ``kendall_tau`` / ``spearman_rho``: the mean over prompts of scipy's
    ``kendalltau(variant="b")`` / ``spearmanr`` between the two (a prompt where
    either side is constant is skipped); ``n`` = prompts. ``kendall_tau_ceiling``:
    tau_b of each rater who labelled every pair of a prompt against the win rates
    of the other such raters, averaged over raters and prompts; ``n`` = those
    (rater, prompt) pairs. Returns the figures and the number of prompts with 3+
    responses.
    """
    ranked = ranked_prompts(pairs)
    n_prompts = int(ranked["prompt"].nunique())
    figures: dict[str, Figure] = {}
    if n_prompts == 0:
        for key in ("kendall_tau", "spearman_rho", "kendall_tau_ceiling"):
            figures[key] = undefined(NO_RANKED_PROMPT)
        return figures, 0
    scores = _label_scores(labels, ranked)
    humans = _mean_scores(scores)
    taus: list[float] = []
    rhos: list[float] = []
    reason = "no item of a prompt with 3+ responses has a judge verdict"
    if combined is not None:
        judged = ranked.merge(
            combined.loc[combined["J"].notna(), ["p_J"]],
            left_on="item",
            right_index=True,
        ).dropna(subset=["p_J"])
        if not judged.empty:
            judge = win_rates(judged.rename(columns={"p_J": "p_a"}))
            taus = _per_prompt(judge, humans, _tau_b)
            rhos = _per_prompt(judge, humans, _rho)
            reason = "no prompt with 3+ responses has a defined correlation"
    if scores.empty:
        reason = "no prompt with 3+ responses has human labels"
    figures["kendall_tau"] = (
        Figure(float(np.mean(taus)), len(taus)) if taus else undefined(reason)
    )
    figures["spearman_rho"] = (
        Figure(float(np.mean(rhos)), len(rhos)) if rhos else undefined(reason)
    )
    ceiling = _ceiling(scores, ranked.groupby("prompt")["item"].nunique())
    figures["kendall_tau_ceiling"] = (
        Figure(float(np.mean(ceiling)), len(ceiling))
        if ceiling
        else undefined(
            "no prompt with 3+ responses has two raters who compared all its pairs"
        )
    )
    return figures, n_prompts
