"""Distributional figures of encoding-gap.md section 5.6.

s(pi) is the share of raters preferring A, a tie counting one half; p_J is the
judge's probability that A is better (mean over both orders, or 1 / 0 / 0.5 from
the hard verdict when the provider gave no probabilities).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon  # type: ignore[import-untyped]

from workbench.judging.metrics._data import (
    Figure,
    FloatArray,
    IntArray,
    Prepared,
    combine_verdicts,
    normalise_labels,
    prepare,
    undefined,
)

__all__ = ["brier_score", "js_distance", "js_noise_floor", "preference_share"]


def shares(counts: IntArray) -> FloatArray:
    """s per item from an items x (a, b, tie) count matrix (NaN for no labels)."""
    total = counts.sum(axis=1).astype(float)
    value = counts[:, 0] + 0.5 * counts[:, 2]
    out: FloatArray = np.full(len(counts), np.nan)
    np.divide(value, total, out=out, where=total > 0)
    return out


def js_per_item(s: FloatArray, p: FloatArray) -> FloatArray:
    """JS distance (base 2) between Bernoulli(s) and Bernoulli(p), elementwise."""
    left = np.column_stack([s, 1 - s])
    right = np.column_stack([p, 1 - p])
    distance: FloatArray = np.asarray(
        jensenshannon(left, right, axis=1, base=2), dtype=np.float64
    )
    return distance


def _prepared(
    labels: pd.DataFrame,
    verdicts: pd.DataFrame | None,
    groups: Mapping[Any, Any] | pd.Series | None,
) -> Prepared:
    combined = None if verdicts is None else combine_verdicts(verdicts)
    return prepare(normalise_labels(labels, groups), combined)


def preference_share(
    labels: pd.DataFrame, *, groups: Mapping[Any, Any] | pd.Series | None = None
) -> pd.Series:
    """s(pi) (section 5.6) per item with >= 2 labels, indexed by item."""
    prep = _prepared(labels, None, groups)
    return pd.Series(shares(prep.counts), index=prep.items, name="s")


def js_from_prepared(prep: Prepared) -> tuple[Figure, FloatArray]:
    """Mean JS distance and the per-item distances (NaN where undefined)."""
    per_item = np.full(prep.n_items, np.nan)
    keep = ~np.isnan(prep.p_j)
    if not keep.any():
        return undefined(
            "no item has both a judge probability and two or more labels"
        ), (per_item)
    per_item[keep] = js_per_item(shares(prep.counts)[keep], prep.p_j[keep])
    return Figure(float(per_item[keep].mean()), int(keep.sum())), per_item


def js_distance(
    labels: pd.DataFrame,
    verdicts: pd.DataFrame,
    *,
    groups: Mapping[Any, Any] | pd.Series | None = None,
) -> Figure:
    """JSD_c (section 5.6): mean over items of the JS distance, base 2, between
    Bernoulli(s) and Bernoulli(p_J), with scipy ``jensenshannon`` (the distance,
    i.e. the square root of the divergence). Over items with >= 2 labels and a
    verdict. 0 = same distribution, 1 = disjoint.
    """
    return js_from_prepared(_prepared(labels, verdicts, groups))[0]


def noise_floor_from_prepared(prep: Prepared, *, repeats: int, seed: int) -> Figure:
    if prep.n_items == 0:
        return undefined("no item has labels from two or more raters")
    rng = np.random.default_rng(seed)
    n_rows = prep.n_labels
    sizes = np.bincount(prep.item_idx, minlength=prep.n_items)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    results = np.empty(repeats)
    for r in range(repeats):
        keys = rng.random(n_rows)
        # Rank of each label within its item under a random key -> random halves.
        by_key = np.lexsort((keys, prep.item_idx))
        rank = np.empty(n_rows, dtype=np.int64)
        rank[by_key] = np.arange(n_rows) - starts[prep.item_idx[by_key]]
        first = rank < (sizes // 2)[prep.item_idx]
        half = np.zeros((2, prep.n_items, 3), dtype=np.int64)
        np.add.at(half, (1 - first.astype(np.int64), prep.item_idx, prep.label_idx), 1)
        results[r] = float(js_per_item(shares(half[0]), shares(half[1])).mean())
    return Figure(float(results.mean()), prep.n_items)


def js_noise_floor(
    labels: pd.DataFrame,
    *,
    repeats: int = 200,
    seed: int = 0,
    groups: Mapping[Any, Any] | pd.Series | None = None,
) -> Figure:
    """Noise floor of JSD_c (section 5.6): the JS distance between the preference
    shares of two random halves of each item's raters (sizes floor(n/2) and the
    rest), averaged over items with >= 2 labels, then over ``repeats`` random splits
    drawn from ``numpy.random.default_rng(seed)``.
    """
    return noise_floor_from_prepared(
        _prepared(labels, None, groups), repeats=repeats, seed=seed
    )


def brier_score(
    labels: pd.DataFrame,
    verdicts: pd.DataFrame,
    *,
    groups: Mapping[Any, Any] | pd.Series | None = None,
) -> Figure:
    """Brier score (section 5.6): mean over items of (p_J - s)^2, same items as JSD."""
    prep = _prepared(labels, verdicts, groups)
    keep = ~np.isnan(prep.p_j)
    if not keep.any():
        return undefined("no item has both a judge probability and two or more labels")
    diff = prep.p_j[keep] - shares(prep.counts)[keep]
    return Figure(float(np.mean(diff**2)), int(keep.sum()))
