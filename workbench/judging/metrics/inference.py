"""Uncertainty and multiple testing (encoding-gap.md sections 5.8-5.9).

Wilson intervals and Benjamini-Hochberg come from statsmodels; the cluster
bootstrap and the group permutation test from scipy.stats.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats  # type: ignore[import-untyped]
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from workbench.judging.metrics._data import FloatArray

__all__ = [
    "benjamini_hochberg",
    "cluster_bootstrap",
    "permutation_p_value",
    "wilson_interval",
]

Interval = tuple[float, float] | None


def wilson_interval(successes: float, n: int, *, alpha: float = 0.05) -> Interval:
    """Wilson score interval for a single proportion (section 5.9), via statsmodels
    ``proportion_confint(method="wilson")``; None when n = 0."""
    if n <= 0:
        return None
    low, high = proportion_confint(successes, n, alpha=alpha, method="wilson")
    return float(low), float(high)


def benjamini_hochberg(
    p_values: Sequence[float | None], *, alpha: float = 0.05
) -> tuple[list[bool | None], list[float | None]]:
    """Benjamini-Hochberg FDR control across principles x groups (section 5.9), via
    statsmodels ``multipletests(method="fdr_bh")``.

    Returns (reject, adjusted q-values) aligned with the input; a None / NaN
    p-value is left out of the family and gets None back.
    """
    values = [math.nan if p is None else float(p) for p in p_values]
    present = [i for i, p in enumerate(values) if not math.isnan(p)]
    reject: list[bool | None] = [None] * len(values)
    adjusted: list[float | None] = [None] * len(values)
    if present:
        rej, q, _, _ = multipletests(
            [values[i] for i in present], alpha=alpha, method="fdr_bh"
        )
        for slot, i in enumerate(present):
            reject[i] = bool(rej[slot])
            adjusted[i] = float(q[slot])
    return reject, adjusted


VectorStatistic = Callable[[np.ndarray[Any, Any]], FloatArray]


def cluster_bootstrap(
    statistic: VectorStatistic,
    n_clusters: int,
    *,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    seed: int = 0,
) -> list[Interval]:
    """Percentile-or-BCa bootstrap CIs of several figures, resampling clusters.

    ``statistic(idx)`` gets an integer array of cluster (item) indices of shape
    (..., m) - a resample with repeats - and returns the figures stacked on the
    first axis, shape (k, ...). Resampling is scipy ``stats.bootstrap`` over the
    cluster indices, so the items are the unit (section 5.9). BCa is tried first;
    where it is undefined (NaN: degenerate or too few distinct resamples, or a
    figure NaN in some resamples) the percentile interval is used instead, and
    where that is NaN too the figure gets None.
    """
    if n_clusters < 2:
        return [None] * len(statistic(np.zeros((1, 0), dtype=np.int64)))

    def vectorised(idx: np.ndarray[Any, Any], axis: int = -1) -> FloatArray:
        return statistic(np.moveaxis(idx, axis, -1))

    data = (np.arange(n_clusters),)
    results: dict[str, Any] = {}
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                res = stats.bootstrap(
                    data,
                    vectorised,
                    vectorized=True,
                    n_resamples=n_resamples,
                    confidence_level=confidence_level,
                    method=method,
                    rng=np.random.default_rng(seed),
                )
            except (ValueError, ZeroDivisionError):
                continue
        results[method] = res.confidence_interval
    k = len(statistic(np.arange(n_clusters)[None, :]))
    out: list[Interval] = []
    for j in range(k):
        interval: Interval = None
        for method in ("BCa", "percentile"):
            ci = results.get(method)
            if ci is None:
                continue
            low = float(np.atleast_1d(ci.low)[j])
            high = float(np.atleast_1d(ci.high)[j])
            if math.isfinite(low) and math.isfinite(high):
                interval = (low, high)
                break
        out.append(interval)
    return out


def permutation_p_value(
    statistic: Callable[..., float],
    samples: Sequence[np.ndarray[Any, Any]],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> float:
    """One-sided (greater) p-value of ``statistic(*samples)`` under reassignment of
    the pooled observations to the samples, sizes kept - scipy
    ``stats.permutation_test(permutation_type="independent")``. With raters as
    observations and groups as samples this shuffles group labels across raters
    (section 5.8). scipy counts the observed arrangement, p = (b + 1) / (m + 1),
    and runs the exact test when there are fewer arrangements than resamples.
    A NaN statistic in a resample counts as not exceeding the observed one.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = stats.permutation_test(
            tuple(samples),
            statistic,
            permutation_type="independent",
            vectorized=False,
            n_resamples=n_resamples,
            alternative="greater",
            rng=np.random.default_rng(seed),
        )
    return float(res.pvalue)
