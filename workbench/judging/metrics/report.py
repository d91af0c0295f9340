"""One principle's encoding-gap figures, as ``encoding_gap --json`` prints them.

See the package docstring for the input frames and encoding-gap.md section 5 for
the definitions; this module only assembles the figures of the sibling modules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.judging.metrics._data import (
    Figure,
    FloatArray,
    ItemSums,
    Prepared,
    TieBreak,
    chance,
    combine_verdicts,
    item_sums,
    normalise_labels,
    prepare,
    subset,
    undefined,
)
from workbench.judging.metrics.agreement import (
    ac1_categories,
    ac1_from_codes,
    ac1_humans_from_prepared,
    agreement_from_sums,
    alpha_from_counts,
    ceiling_from_sums,
    gap,
    kappa_from_codes,
    normalized_agreement,
    with_judge,
)
from workbench.judging.metrics.controls import (
    flipped_agreement_from_prepared,
    longer_response,
    prefer_longer_share,
)
from workbench.judging.metrics.distribution import (
    js_from_prepared,
    noise_floor_from_prepared,
    shares,
)
from workbench.judging.metrics.inference import (
    Interval,
    cluster_bootstrap,
    permutation_p_value,
    wilson_interval,
)
from workbench.judging.metrics.ranking import pairwise_ranking_figures

__all__ = ["principle_report"]

DisparityTest = Literal["judge_agreement", "normalized_agreement"]

BOOTSTRAPPED = (
    "human_ceiling",
    "judge_agreement",
    "judge_agreement_all_raters",
    "gap",
    "normalized_agreement",
    "kappa",
    "js_distance",
    "brier",
    "ac1",
)


def _label_figures(
    prep: Prepared, *, tie_break: TieBreak, seed: int, noise_repeats: int
) -> tuple[dict[str, Figure], ItemSums]:
    """Every figure that depends on the human labels, for one set of label rows."""
    sums = item_sums(
        prep, prep.item_idx, prep.label_idx, tie_break=tie_break, seed=seed
    )
    ceiling = ceiling_from_sums(sums)
    agreement = agreement_from_sums(sums, "loo")
    keep = (prep.judge >= 0) & (sums.labels > 0)
    alpha_h = alpha_from_counts(prep.counts)
    alpha_j = alpha_from_counts(with_judge(prep))
    delta = (
        Figure(alpha_j.value - alpha_h.value, alpha_j.n)
        if alpha_h.defined and alpha_j.defined
        else undefined("alpha with or without the judge is undefined")
    )
    js, _ = js_from_prepared(prep)
    has_p = ~np.isnan(prep.p_j)
    brier = (
        Figure(
            float(np.mean((prep.p_j[has_p] - shares(prep.counts)[has_p]) ** 2)),
            int(has_p.sum()),
        )
        if has_p.any()
        else undefined("no item has both a judge probability and two or more labels")
    )
    figures = {
        "human_ceiling": ceiling,
        "judge_agreement": agreement,
        "judge_agreement_all_raters": agreement_from_sums(sums, "all"),
        "gap": gap(ceiling, agreement),
        "normalized_agreement": normalized_agreement(
            agreement, ceiling, tie_is_label=prep.tie_is_label
        ),
        "kappa": kappa_from_codes(
            prep.judge[keep], sums.majority[keep], variant="standard"
        ),
        "kappa_half": kappa_from_codes(
            prep.judge[keep], sums.majority[keep], variant="half"
        ),
        "ac1": ac1_from_codes(
            prep.judge[keep], sums.majority[keep], tie_is_label=prep.tie_is_label
        ),
        "ac1_humans": ac1_humans_from_prepared(prep),
        "alpha_humans": alpha_h,
        "alpha_with_judge": alpha_j,
        "alpha_delta": delta,
        "js_distance": js,
        "js_noise_floor": noise_floor_from_prepared(
            prep, repeats=noise_repeats, seed=seed
        ),
        "brier": brier,
        "judge_agreement_flipped": flipped_agreement_from_prepared(
            prep, tie_break=tie_break, seed=seed
        ),
    }
    return figures, sums


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(all="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _bootstrap_statistic(prep: Prepared, sums: ItemSums) -> Any:
    """Vectorised statistic over resampled item indices for :data:`BOOTSTRAPPED`."""
    q = chance(prep.tie_is_label)
    judged_labels = sums.labels * sums.judged
    has_all = sums.judged * (sums.labels > 0)
    _, js_items = js_from_prepared(prep)
    has_js = ~np.isnan(js_items)
    js_vals = np.where(has_js, js_items, 0.0)
    brier_vals = np.where(
        has_js, (np.nan_to_num(prep.p_j) - shares(prep.counts)) ** 2, 0.0
    )
    keep = (prep.judge >= 0) & (sums.labels > 0)
    pairs = np.zeros((prep.n_items, 9))
    kept = np.flatnonzero(keep)
    pairs[kept, prep.judge[kept] * 3 + sums.majority[kept]] = 1.0
    # AC1's categories are fixed by the whole sample, not by each resample.
    q_ac1 = ac1_categories(prep.tie_is_label, prep.judge[kept], sums.majority[kept])

    def statistic(idx: np.ndarray[Any, Any]) -> FloatArray:
        h = _ratio(sums.ceiling_hits[idx].sum(-1), sums.labels[idx].sum(-1))
        a = _ratio(sums.judge_hits[idx].sum(-1), judged_labels[idx].sum(-1))
        a_all = _ratio(sums.majority_hit[idx].sum(-1), has_all[idx].sum(-1))
        with np.errstate(all="ignore"):
            na = np.where(h - q > 1e-12, (a - q) / (h - q), np.nan)
        table = pairs[idx].sum(-2).reshape((*idx.shape[:-1], 3, 3))
        n = table.sum(axis=(-2, -1))
        p_o = _ratio(np.trace(table, axis1=-2, axis2=-1), n)
        p_e = _ratio((table.sum(-1) * table.sum(-2)).sum(-1), n**2)
        kappa = _ratio(p_o - p_e, 1 - p_e)
        kappa = np.where(1 - p_e > 1e-12, kappa, np.nan)
        js = _ratio(js_vals[idx].sum(-1), has_js[idx].sum(-1))
        brier = _ratio(brier_vals[idx].sum(-1), has_js[idx].sum(-1))
        # AC1: pi_k = share of the 2n ratings (judge + majority) that are k.
        pi = _ratio(table.sum(-1) + table.sum(-2), 2 * n[..., None])
        p_e_ac1 = (pi * (1 - pi)).sum(-1) / (q_ac1 - 1)
        ac1 = _ratio(p_o - p_e_ac1, 1 - p_e_ac1)
        return np.stack([h, a, a_all, h - a, na, kappa, js, brier, ac1])

    return statistic


def _disparity(
    figures: Mapping[str, dict[str, Figure]], name: str = "normalized_agreement"
) -> tuple[str | None, Figure]:
    defined = {g: f[name].value for g, f in figures.items() if f[name].defined}
    if not defined:
        return None, undefined(f"no group has a defined {name}")
    best = max(defined, key=lambda g: defined[g])
    if len(defined) < 2:
        return best, undefined(f"fewer than two groups have a defined {name}")
    return best, Figure(max(defined.values()) - min(defined.values()), len(defined))


def _group_figure(
    prep: Prepared,
    rater_codes: np.ndarray[Any, Any],
    members: np.ndarray[Any, Any],
    figure: DisparityTest,
    **kw: Any,
) -> float:
    """One group's judge agreement or normalised agreement, for the permutation test."""
    sub = subset(prep, np.isin(rater_codes, members))
    sums = item_sums(sub, sub.item_idx, sub.label_idx, **kw)
    agreement = agreement_from_sums(sums, "loo")
    if figure == "judge_agreement":
        return agreement.value
    return normalized_agreement(
        agreement, ceiling_from_sums(sums), tie_is_label=prep.tie_is_label
    ).value


def _json(figure: Figure) -> float | None:
    return figure.json()


def _judge_figures(
    combined: pd.DataFrame, confidence_level: float
) -> tuple[dict[str, Figure], dict[str, list[float] | None]]:
    """Figures of the judge alone over every judged item, with Wilson intervals."""
    n_judged = len(combined)
    answered = combined["J"].notna()
    consistent = combined["consistent"].dropna().astype(bool)
    decisive = int(combined["decisive_orders"].sum())
    first = float(combined["first_picks"].sum())
    figures = {
        "relevance": Figure(float(answered.mean()), n_judged)
        if n_judged
        else undefined("no judged items"),
        "order_consistency": Figure(float(consistent.mean()), len(consistent))
        if len(consistent)
        else undefined("the judge answered in both orders on no item"),
        "first_position_rate": Figure(first / decisive, decisive)
        if decisive
        else undefined("the judge gave no decisive per-order answer"),
    }
    successes = {
        "relevance": float(answered.sum()),
        "order_consistency": float(consistent.sum()),
        "first_position_rate": first,
    }
    ci: dict[str, list[float] | None] = {}
    for name, figure in figures.items():
        interval = wilson_interval(
            successes[name], figure.n, alpha=1 - confidence_level
        )
        ci[name] = list(interval) if interval else None
    return figures, ci


def _pair_figures(
    clean: pd.DataFrame, combined: pd.DataFrame, pairs: pd.DataFrame | None
) -> tuple[dict[str, Figure], int | None]:
    """The figures that need the items' prompts and responses, for these labels:
    the raters' length preference and the ranking figures (section 5.7)."""
    if pairs is None:
        reason = "the items' prompts and responses were not given"
        return {
            "prefer_longer_humans": undefined(reason),
            "kendall_tau": undefined(reason),
            "kendall_tau_ceiling": undefined(reason),
            "spearman_rho": undefined(reason),
        }, None
    figures = {
        "prefer_longer_humans": prefer_longer_share(
            clean.set_index("item")["label"], longer_response(pairs)
        )
    }
    ranking, n_prompts = pairwise_ranking_figures(clean, combined, pairs)
    return figures | ranking, n_prompts


def _proportion_ci(figure: Figure, confidence_level: float) -> list[float] | None:
    """Wilson interval of a share Figure (value = successes / n)."""
    if not figure.defined:
        return None
    interval: Interval = wilson_interval(
        round(figure.value * figure.n), figure.n, alpha=1 - confidence_level
    )
    return list(interval) if interval else None


def _grouped(
    prep: Prepared,
    clean: pd.DataFrame,
    combined: pd.DataFrame,
    pairs: pd.DataFrame | None,
    judge_figures: Mapping[str, Figure],
    *,
    tie_break: TieBreak,
    rng_seed: int,
    noise_repeats: int,
    n_permutations: int,
    min_group_raters: int,
    disparity_test: DisparityTest,
) -> dict[str, Any]:
    """Per-group figures, the best-matching group and the disparity test, for the
    grouping held in ``clean["group"]`` (and ``prep.groups``); raters without a
    group take part in no group."""
    group_names = sorted({g for g in clean["group"] if g is not None})
    per_group_figures: dict[str, dict[str, Figure]] = {}
    per_group: dict[str, dict[str, Any]] = {}
    for name in group_names:
        rows = prep.groups == name
        sub = subset(prep, rows)
        group_figures, _ = _label_figures(
            sub, tie_break=tie_break, seed=rng_seed, noise_repeats=noise_repeats
        )
        members = clean[clean["group"] == name]
        paired, n_prompts = _pair_figures(members, combined, pairs)
        group_figures |= paired
        per_group_figures[name] = group_figures
        labelled = np.bincount(prep.item_idx[rows], minlength=prep.n_items)
        entry: dict[str, Any] = {k: _json(v) for k, v in judge_figures.items()}
        entry |= {k: _json(v) for k, v in group_figures.items()}
        entry["n_ranked_prompts"] = n_prompts
        entry["n_items"] = sub.n_items
        entry["n_human_labels"] = int(rows.sum())
        entry["n_raters"] = int(members["rater"].nunique())
        entry["thin_items"] = int(
            ((labelled > 0) & (labelled < min_group_raters)).sum()
        )
        entry["reasons"] = {k: v.reason for k, v in group_figures.items() if v.reason}
        per_group[name] = entry

    best, disparity = _disparity(per_group_figures)
    _, agreement_disparity = _disparity(per_group_figures, "judge_agreement")
    tested = agreement_disparity if disparity_test == "judge_agreement" else disparity
    p_value: float | None = None
    if tested.defined:
        rater_codes = np.asarray(pd.factorize(pd.Series(prep.raters))[0])
        grouped = pd.DataFrame({"rater": rater_codes, "group": prep.groups})
        samples = [
            np.unique(grouped.loc[grouped["group"] == g, "rater"].to_numpy())
            for g in group_names
        ]

        def statistic(*members: np.ndarray[Any, Any]) -> float:
            values = [
                _group_figure(
                    prep,
                    rater_codes,
                    m,
                    disparity_test,
                    tie_break=tie_break,
                    seed=rng_seed,
                )
                for m in members
            ]
            finite = [v for v in values if not math.isnan(v)]
            return max(finite) - min(finite) if len(finite) >= 2 else math.nan

        p_value = permutation_p_value(
            statistic, samples, n_resamples=n_permutations, seed=rng_seed
        )
    return {
        "per_group": per_group,
        "best": best,
        "disparity": disparity,
        "agreement_disparity": agreement_disparity,
        "p": p_value,
        "p_reason": None if tested.defined else tested.reason or "",
    }


def principle_report(
    labels_df: pd.DataFrame,
    verdicts: pd.DataFrame,
    *,
    pairs: pd.DataFrame | None = None,
    groups: Mapping[Any, Any] | pd.Series | None = None,
    opinion_groups: Mapping[Any, Any] | pd.Series | None = None,
    rng_seed: int = 0,
    tie_break: TieBreak = "random",
    tie_is_label: bool | None = None,
    n_resamples: int = 2000,
    n_permutations: int = 1000,
    noise_repeats: int = 200,
    confidence_level: float = 0.95,
    min_group_raters: int = 5,
    disparity_test: DisparityTest = "judge_agreement",
) -> dict[str, Any]:
    """The encoding-gap figures of one principle (DESIGN.md ``encoding_gap --json``).

    ``labels_df``, ``verdicts`` and ``pairs`` are the frames of the package
    docstring; without ``pairs`` the length and ranking figures are None.
    ``groups`` (rater -> group) overrides the labels' ``group`` column, e.g. with
    opinion groups. Every random draw derives from ``rng_seed``, so a report is
    reproducible. Undefined figures are None, with the cause in ``reasons``.

    ``ci`` maps a figure to [low, high]: cluster bootstrap over items (BCa,
    percentile fallback; ``n_resamples``) for the agreement, kappa, AC1 and
    distribution figures, Wilson for relevance, order consistency,
    first-position rate and the two P(prefer longer). ``per_group`` holds the
    label-dependent figures per group (only that group's labels; the judge-only
    figures are the principle's); ``thin_items`` counts items with fewer than
    ``min_group_raters`` labels from the group (section 5.8). ``group_disparity``
    = max - min normalised agreement over groups (best group = argmax).
    ``group_disparity_p`` is a permutation p-value (group labels shuffled across
    raters, ``n_permutations``, one-sided) of the max - min over groups of
    ``disparity_test``: by default the judge agreement A_g
    (``group_agreement_disparity``), not NA_g, because a shuffled group mixes
    readings, its ceiling falls towards chance and NA = (A - q) / (H - q)
    explodes, which swamps the null distribution (a glaring 2-group disparity
    scored p = 0.30 that way, p < 0.01 on A_g).

    Besides the agreement figures: ``ac1`` (Gwet, J against the majority on
    kappa's items) and ``ac1_humans`` (among the raters); ``judge_agreement_flipped``
    (A_c against the labels with a and b swapped, section 5.10);
    ``prefer_longer_judge`` / ``prefer_longer_humans`` (section 5.10); and
    ``kendall_tau``, ``kendall_tau_ceiling``, ``spearman_rho`` and
    ``n_ranked_prompts`` over prompts with 3+ responses (section 5.7, see
    :func:`pairwise_ranking_figures`). Per group: the same, on the group's labels.

    ``opinion_groups`` (rater -> opinion group; raters missing or mapped to None
    take part in no opinion group) gives the same per-group block for opinion
    groups: ``per_opinion_group``, ``best_matching_opinion_group``,
    ``opinion_group_disparity``, ``opinion_group_agreement_disparity`` and
    ``opinion_group_disparity_p``, computed exactly as their workshop-group twins.
    """
    clean = normalise_labels(labels_df, groups)
    combined = combine_verdicts(verdicts)
    prep = prepare(clean, combined, tie_is_label=tie_is_label)
    reasons: dict[str, str] = {}

    judge_figures, ci = _judge_figures(combined, confidence_level)
    judge_figures["prefer_longer_judge"] = (
        prefer_longer_share(combined["J"], longer_response(pairs))
        if pairs is not None
        else undefined("the items' prompts and responses were not given")
    )

    figures, sums = _label_figures(
        prep, tie_break=tie_break, seed=rng_seed, noise_repeats=noise_repeats
    )
    intervals = cluster_bootstrap(
        _bootstrap_statistic(prep, sums),
        prep.n_items,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        seed=rng_seed,
    )
    for name, interval in zip(BOOTSTRAPPED, intervals, strict=True):
        ci[name] = list(interval) if interval and figures[name].defined else None
    paired, n_ranked_prompts = _pair_figures(clean, combined, pairs)
    figures |= paired
    for name in ("prefer_longer_judge", "prefer_longer_humans"):
        ci[name] = _proportion_ci((judge_figures | figures)[name], confidence_level)

    common: dict[str, Any] = {
        "tie_break": tie_break,
        "rng_seed": rng_seed,
        "noise_repeats": noise_repeats,
        "n_permutations": n_permutations,
        "min_group_raters": min_group_raters,
        "disparity_test": disparity_test,
    }
    by_group = _grouped(prep, clean, combined, pairs, judge_figures, **common)
    if by_group["p_reason"] is not None:
        reasons["group_disparity_p"] = by_group["p_reason"]
    opinion_clean = normalise_labels(labels_df, opinion_groups or {})
    opinion_prep = prepare(opinion_clean, combined, tie_is_label=prep.tie_is_label)
    by_opinion = _grouped(
        opinion_prep, opinion_clean, combined, pairs, judge_figures, **common
    )
    if by_opinion["p_reason"] is not None:
        reasons["opinion_group_disparity_p"] = (
            by_opinion["p_reason"] if opinion_groups else "no opinion groups given"
        )

    all_figures = judge_figures | figures
    report: dict[str, Any] = {
        "n_items": len(set(clean["item"]) | set(combined.index)),
        "n_eligible_items": prep.n_items,
        "n_human_labels": len(clean),
        "n_raters": int(clean["rater"].nunique()),
        "chance": chance(prep.tie_is_label),
    }
    report |= {k: _json(v) for k, v in all_figures.items()}
    report |= {
        "n_ranked_prompts": n_ranked_prompts,
        "ci": ci,
        "per_group": by_group["per_group"],
        "best_matching_group": by_group["best"],
        "group_disparity": _json(by_group["disparity"]),
        "group_agreement_disparity": _json(by_group["agreement_disparity"]),
        "group_disparity_test": disparity_test,
        "group_disparity_p": by_group["p"],
        "per_opinion_group": by_opinion["per_group"],
        "best_matching_opinion_group": by_opinion["best"],
        "opinion_group_disparity": _json(by_opinion["disparity"]),
        "opinion_group_agreement_disparity": _json(by_opinion["agreement_disparity"]),
        "opinion_group_disparity_p": by_opinion["p"],
    }
    reasons |= {k: v.reason for k, v in all_figures.items() if v.reason}
    report["reasons"] = reasons
    return report
