"""Agreement figures of encoding-gap.md section 5 (items 1-5).

Every function takes the human-label table and/or the verdict table described in
the package docstring and returns a :class:`Figure` (NaN plus a reason when the
figure is undefined).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Literal

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]

from workbench.judging.metrics._data import (
    Figure,
    ItemSums,
    Prepared,
    TieBreak,
    chance,
    combine_verdicts,
    item_sums,
    normalise_labels,
    prepare,
    undefined,
)

__all__ = [
    "cohen_kappa",
    "first_position_rate",
    "gap",
    "gwet_ac1",
    "human_ceiling",
    "judge_agreement",
    "krippendorff_alpha",
    "normalized_agreement",
    "order_consistency",
    "relevance",
]


def relevance(verdicts: pd.DataFrame) -> Figure:
    """R_c (section 5.1): share of judged items where the judge's verdict J is not None.

    Computed over every judged item (the rows of ``verdicts``), whatever the number
    of human labels, because it describes the judge alone.
    """
    combined = combine_verdicts(verdicts)
    n = len(combined)
    if n == 0:
        return undefined("no judged items")
    return Figure(float(combined["J"].notna().mean()), n)


def order_consistency(verdicts: pd.DataFrame) -> Figure:
    """Share of items whose verdict survives the order swap (section 5.1).

    Over items where both orders answered a, b or tie; an item counts as
    consistent when both orders gave the same label.
    """
    consistent = combine_verdicts(verdicts)["consistent"].dropna()
    if consistent.empty:
        return undefined("the judge answered in both orders on no item")
    return Figure(float(consistent.astype(bool).mean()), len(consistent))


def first_position_rate(verdicts: pd.DataFrame) -> Figure:
    """How often a decisive per-order answer picks the response shown first (5.1).

    0.5 means no position bias; over all decisive (a or b) per-order answers.
    """
    combined = combine_verdicts(verdicts)
    decisive = int(combined["decisive_orders"].sum())
    if decisive == 0:
        return undefined("the judge gave no decisive per-order answer")
    return Figure(float(combined["first_picks"].sum()) / decisive, decisive)


def _prepared(
    labels: pd.DataFrame,
    verdicts: pd.DataFrame | None,
    groups: Mapping[Any, Any] | pd.Series | None,
    tie_is_label: bool | None = None,
) -> Prepared:
    clean = normalise_labels(labels, groups)
    combined = None if verdicts is None else combine_verdicts(verdicts)
    return prepare(clean, combined, tie_is_label=tie_is_label)


def _sums(prep: Prepared, tie_break: TieBreak, seed: int) -> ItemSums:
    return item_sums(
        prep, prep.item_idx, prep.label_idx, tie_break=tie_break, seed=seed
    )


def ceiling_from_sums(sums: ItemSums) -> Figure:
    n = float(sums.labels.sum())
    if n == 0:
        return undefined("no item has labels from two or more raters")
    return Figure(float(sums.ceiling_hits.sum()) / n, int(n))


def agreement_from_sums(sums: ItemSums, against: Literal["loo", "all"]) -> Figure:
    if float(sums.labels.sum()) == 0:
        return undefined("no item has labels from two or more raters")
    if against == "loo":
        n = float((sums.labels * sums.judged).sum())
        hits = float(sums.judge_hits.sum())
    else:
        n = float((sums.judged * (sums.labels > 0)).sum())
        hits = float(sums.majority_hit.sum())
    if n == 0:
        return undefined("the judge abstained on every item with two or more labels")
    return Figure(hits / n, int(n))


def human_ceiling(
    labels: pd.DataFrame,
    *,
    tie_break: TieBreak = "random",
    seed: int = 0,
    groups: Mapping[Any, Any] | pd.Series | None = None,
) -> Figure:
    """H_c (section 5.2): mean over items and raters of 1[h_i = mode(h_-i)].

    AlpacaEval's leave-one-out definition over items with at least two labels
    (``na`` excluded). A tie among modes is broken at random with
    ``numpy.random.default_rng(seed)``, one draw per label in (item, rater) order,
    or by its expectation with ``tie_break="expected"``. ``n`` = labels averaged.
    """
    prep = _prepared(labels, None, groups)
    return ceiling_from_sums(_sums(prep, tie_break, seed))


def judge_agreement(
    labels: pd.DataFrame,
    verdicts: pd.DataFrame,
    *,
    against: Literal["loo", "all"] = "loo",
    tie_break: TieBreak = "random",
    seed: int = 0,
    groups: Mapping[Any, Any] | pd.Series | None = None,
) -> Figure:
    """A_c (section 5.3): agreement of the judge's verdict J with the raters.

    ``against="loo"``: mean over relevant items (J not None, >= 2 labels) and their
    raters i of 1[J = mode(h_-i)], the same draws as :func:`human_ceiling` with the
    same seed; ``n`` = labels. ``against="all"``: mean over relevant items of
    1[J = mode of all raters] (ICAI comparability); ``n`` = items.
    """
    prep = _prepared(labels, verdicts, groups)
    return agreement_from_sums(_sums(prep, tie_break, seed), against)


def gap(ceiling: Figure, agreement: Figure) -> Figure:
    """Gap_c = H_c - A_c (section 5.4), as a fraction (x 100 for points).

    Positive: the judge agrees with the raters less than they agree with each other.
    """
    if not ceiling.defined:
        return undefined(f"human ceiling undefined: {ceiling.reason}")
    if not agreement.defined:
        return undefined(f"judge agreement undefined: {agreement.reason}")
    return Figure(ceiling.value - agreement.value, agreement.n)


def normalized_agreement(
    agreement: Figure, ceiling: Figure, *, tie_is_label: bool
) -> Figure:
    """NA_c = (A_c - q) / (H_c - q) (section 5.4); q = 1/3 if tie is a label, else 1/2.

    Undefined when H_c <= q: raters agree no better than chance, so there is no
    headroom to normalise by.
    """
    if not ceiling.defined:
        return undefined(f"human ceiling undefined: {ceiling.reason}")
    if not agreement.defined:
        return undefined(f"judge agreement undefined: {agreement.reason}")
    q = chance(tie_is_label)
    if ceiling.value - q <= 1e-12:
        return undefined("human ceiling is at or below chance", agreement.n)
    return Figure((agreement.value - q) / (ceiling.value - q), agreement.n)


def kappa_from_codes(
    judge: np.ndarray[Any, Any], majority: np.ndarray[Any, Any], *, variant: str
) -> Figure:
    """Cohen's kappa of paired codes (items with a verdict and a majority)."""
    n = len(judge)
    if n == 0:
        return undefined("no item has both a verdict and two or more labels")
    if variant == "half":
        return Figure(2.0 * float(np.mean(judge == majority)) - 1.0, n)
    if len(np.union1d(judge, majority)) < 2:
        return undefined("judge and majority use a single label: kappa is 0/0", n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(cohen_kappa_score(judge, majority, labels=[0, 1, 2]))
    if np.isnan(value):
        return undefined("expected agreement is 1: kappa is 0/0", n)
    return Figure(value, n)


def cohen_kappa(
    labels: pd.DataFrame,
    verdicts: pd.DataFrame,
    *,
    variant: Literal["standard", "half"] = "standard",
    seed: int = 0,
    groups: Mapping[Any, Any] | pd.Series | None = None,
) -> Figure:
    """Cohen's kappa of J against the raters' majority (section 5.5).

    Over items with a verdict and >= 2 labels; the majority is the all-raters mode,
    a tie broken by the same seeded draw as :func:`judge_agreement`.
    ``variant="standard"``: sklearn ``cohen_kappa_score`` (p_e from the
    marginals); ``"half"``: p_e = 0.5, i.e. 2 p_o - 1.
    """
    prep = _prepared(labels, verdicts, groups)
    sums = _sums(prep, "random", seed)
    keep = (prep.judge >= 0) & (sums.labels > 0)
    return kappa_from_codes(prep.judge[keep], sums.majority[keep], variant=variant)


def alpha_from_counts(value_counts: np.ndarray[Any, Any]) -> Figure:
    """Krippendorff's nominal alpha from an items x (a, b, tie) count matrix."""
    pairable = value_counts[value_counts.sum(axis=1) >= 2]
    n_values = int(pairable.sum())
    if len(pairable) == 0:
        return undefined("no item has two or more values")
    if int((pairable.sum(axis=0) > 0).sum()) < 2:
        return undefined("every value is the same label: alpha is 0/0", n_values)
    value = float(
        krippendorff.alpha(value_counts=pairable, level_of_measurement="nominal")
    )
    return Figure(value, n_values)


def krippendorff_alpha(
    labels: pd.DataFrame,
    verdicts: pd.DataFrame | None = None,
    *,
    groups: Mapping[Any, Any] | pd.Series | None = None,
) -> Figure:
    """Krippendorff's alpha, nominal (section 5.5), via ``krippendorff.alpha``.

    Raters are coders, items with >= 2 human labels are units, ``na`` and
    unlabelled cells are missing. With ``verdicts`` the judge is one more coder
    (J None = missing). ``n`` = pairable values.
    """
    prep = _prepared(labels, verdicts, groups)
    return alpha_from_counts(with_judge(prep) if verdicts is not None else prep.counts)


def with_judge(prep: Prepared) -> np.ndarray[Any, Any]:
    """Item x label counts with the judge's verdict added as one more coder."""
    counts = prep.counts.copy()
    judged = prep.judge >= 0
    counts[np.flatnonzero(judged), prep.judge[judged]] += 1
    return counts


def ac1_from_counts(value_counts: np.ndarray[Any, Any], n_categories: int) -> Figure:
    """Gwet's AC1 (section 5.5) from a units x categories count matrix.

    Gwet (2008), as ``irrCAC.raw.CAC(...).gwet()`` computes it with identity
    weights and ``categories`` = all ``n_categories`` possible labels: p_a = mean
    over units with >= 2 ratings of sum_k n_uk (n_uk - 1) / (n_u (n_u - 1));
    pi_k = mean over units with >= 1 rating of n_uk / n_u; p_e = sum_k pi_k
    (1 - pi_k) / (q - 1). Missing ratings are simply absent from a unit's counts.

    Written out here because irrCAC itself cannot be installed next to this
    project's scipy and pandas (every irrCAC release pins scipy==1.12.0 and
    pandas<3); the tests check this against irrCAC's published example.
    """
    counts = np.asarray(value_counts, dtype=float)
    if n_categories < 2:
        msg = "AC1 needs at least two possible categories"
        raise ValueError(msg)
    rated = counts.sum(axis=1)
    pairable = rated >= 2
    n_values = int(rated[pairable].sum())
    if not pairable.any():
        return undefined("no item has two or more values")
    per_unit = (counts[pairable] * (counts[pairable] - 1)).sum(axis=1)
    p_a = float(np.mean(per_unit / (rated[pairable] * (rated[pairable] - 1))))
    shares = counts[rated > 0] / rated[rated > 0, None]
    pi = shares.mean(axis=0)
    p_e = float(np.sum(pi * (1 - pi))) / (n_categories - 1)
    # p_e <= (q - 1) / q < 1, so the coefficient is always defined.
    return Figure((p_a - p_e) / (1 - p_e), n_values)


def ac1_categories(tie_is_label: bool, *codes: np.ndarray[Any, Any]) -> int:
    """How many labels AC1's chance term spreads over: a and b, plus tie when tie
    is a label of the data (or a judge's split verdict brings one in)."""
    tie_seen = any(bool(np.any(np.asarray(c) == 2)) for c in codes)
    return 3 if tie_is_label or tie_seen else 2


def ac1_from_codes(
    judge: np.ndarray[Any, Any], majority: np.ndarray[Any, Any], *, tie_is_label: bool
) -> Figure:
    """AC1 of paired codes (the judge's verdict and the raters' majority per item):
    two raters per unit, on the same items as :func:`kappa_from_codes`."""
    n = len(judge)
    if n == 0:
        return undefined("no item has both a verdict and two or more labels")
    counts = np.zeros((n, 3), dtype=np.int64)
    rows = np.arange(n)
    np.add.at(counts, (rows, judge), 1)
    np.add.at(counts, (rows, majority), 1)
    figure = ac1_from_counts(counts, ac1_categories(tie_is_label, judge, majority))
    return Figure(figure.value, n)


def ac1_humans_from_prepared(prep: Prepared) -> Figure:
    """AC1 among the raters (multi-rater, missing values allowed) on ``prep``."""
    return ac1_from_counts(
        prep.counts, ac1_categories(prep.tie_is_label, prep.label_idx)
    )


def gwet_ac1(
    labels: pd.DataFrame,
    verdicts: pd.DataFrame | None = None,
    *,
    seed: int = 0,
    groups: Mapping[Any, Any] | pd.Series | None = None,
    tie_is_label: bool | None = None,
) -> Figure:
    """Gwet's AC1 (section 5.5), the check when one label dominates.

    With ``verdicts``: the judge's verdict J against the raters' majority on the
    same items, with the same seeded tie-break, as :func:`cohen_kappa`; ``n`` =
    items. Without: among the raters, items with >= 2 labels as units, raters who
    did not label an item missing; ``n`` = labels. Cohen's kappa falls when one
    label dominates (its chance term grows with the marginals) although the raters
    agree - the kappa paradox; AC1's chance term shrinks instead, so the two side
    by side tell a judge that disagrees from one that agrees on a lopsided set.
    Categories are a and b, plus tie when tie is a label (see :func:`chance`).
    """
    prep = _prepared(labels, verdicts, groups, tie_is_label)
    if verdicts is None:
        return ac1_humans_from_prepared(prep)
    sums = _sums(prep, "random", seed)
    keep = (prep.judge >= 0) & (sums.labels > 0)
    return ac1_from_codes(
        prep.judge[keep], sums.majority[keep], tie_is_label=prep.tie_is_label
    )
