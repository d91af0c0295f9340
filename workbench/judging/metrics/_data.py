"""Input validation and the shared numeric core of the encoding-gap metrics.

Everything here is internal; the public functions live in the sibling modules and
take the two frames described in the package docstring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

TieBreak = Literal["random", "expected"]

LABELS: tuple[str, str, str] = ("a", "b", "tie")
"""Human and judge labels that take part in agreement, in code order 0, 1, 2."""
NA = "na"
"""'The principle does not apply': excluded from agreement."""
LABEL_CODE: dict[str, int] = {label: code for code, label in enumerate(LABELS)}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Figure:
    """One metric value; ``value`` is NaN when undefined and ``reason`` says why.

    ``n`` is the number of units the value averages over (items or labels, as the
    metric's docstring says).
    """

    value: float
    n: int = 0
    reason: str | None = None

    def __float__(self) -> float:
        return self.value

    @property
    def defined(self) -> bool:
        return not math.isnan(self.value)

    def json(self) -> float | None:
        """The value for JSON output: ``None`` instead of NaN."""
        return self.value if self.defined else None


def undefined(reason: str, n: int = 0) -> Figure:
    return Figure(math.nan, n, reason)


def _clean_label(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NA:
        return None
    text = str(value).strip().lower()
    if text in LABEL_CODE or text == NA:
        return text
    if text in {"", "none", "nan"}:
        return None
    msg = f"unknown label {value!r}: expected one of a, b, tie, na"
    raise ValueError(msg)


def normalise_labels(
    labels: pd.DataFrame,
    groups: Mapping[Any, Any] | pd.Series | None = None,
) -> pd.DataFrame:
    """Validate the human-label table; return item, rater, group, label (clean).

    Rows with ``na`` or a missing label are dropped (they do not take part in
    agreement); rows are sorted by (item, rater) so random draws are reproducible.
    A rater who labelled the same item twice keeps the last label. ``groups``
    (rater -> group) replaces the table's ``group`` column, e.g. for opinion groups.
    """
    missing = {"item", "rater", "label"} - set(labels.columns)
    if missing:
        msg = f"labels table lacks column(s): {', '.join(sorted(missing))}"
        raise ValueError(msg)
    frame = pd.DataFrame(
        {
            "item": labels["item"].to_numpy(),
            "rater": labels["rater"].to_numpy(),
            "label": [_clean_label(v) for v in labels["label"]],
        }
    )
    if groups is not None:
        mapping = dict(groups.items()) if isinstance(groups, pd.Series) else groups
        frame["group"] = pd.Series(
            [mapping.get(r) for r in frame["rater"]], index=frame.index, dtype=object
        )
    elif "group" in labels.columns:
        frame["group"] = labels["group"].to_numpy()
    else:
        frame["group"] = None
    # object dtype keeps None: pandas 3 would store a str column's None as NaN.
    frame["group"] = pd.Series(
        [
            None if g is None or (isinstance(g, float) and math.isnan(g)) else str(g)
            for g in frame["group"]
        ],
        index=frame.index,
        dtype=object,
    )
    frame = frame[frame["label"].isin(LABELS)]
    frame = frame.drop_duplicates(["item", "rater"], keep="last")
    return frame.sort_values(["item", "rater"], kind="stable").reset_index(drop=True)


def combine_verdicts(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The judge's per-item verdict from its two orders.

    Input columns: ``item``; ``label_ab`` (answer when A was shown first) and
    ``label_ba`` (answer when B was shown first), both already mapped back to the
    original A/B and each one of a, b, tie, na or None; optional ``p_a_ab`` and
    ``p_a_ba``, the probability that the original A is better in each order.

    Output, indexed by item: ``J`` (a / b / tie, or None when either order
    abstained or said "does not apply" - the verdict counts only when both orders
    answered), ``p_J`` (mean of the available per-order probabilities; when there
    are none, 1 / 0 / 0.5 from J), ``consistent`` (both orders answered with the
    same label; None when either did not answer) and ``first_picks`` /
    ``decisive_orders`` (how many decisive per-order answers chose the response
    shown first, out of how many).
    """
    missing = {"item", "label_ab", "label_ba"} - set(verdicts.columns)
    if missing:
        msg = f"verdicts table lacks column(s): {', '.join(sorted(missing))}"
        raise ValueError(msg)
    ab = [_clean_label(v) for v in verdicts["label_ab"]]
    ba = [_clean_label(v) for v in verdicts["label_ba"]]
    verdict: list[str | None] = []
    consistent: list[bool | None] = []
    for x, y in zip(ab, ba, strict=True):
        if x in LABEL_CODE and y in LABEL_CODE:
            verdict.append(x if x == y else "tie")
            consistent.append(x == y)
        else:
            verdict.append(None)
            consistent.append(None)
    n = len(verdicts)
    p_ab = _prob_column(verdicts, "p_a_ab", n)
    p_ba = _prob_column(verdicts, "p_a_ba", n)
    both = np.vstack([p_ab, p_ba])
    have = ~np.isnan(both)
    count = have.sum(axis=0)
    total = np.where(have, both, 0.0).sum(axis=0)
    p_j = np.divide(total, count, out=np.full(n, np.nan), where=count > 0)
    hard = np.array(
        [{"a": 1.0, "b": 0.0, "tie": 0.5}.get(j or "", np.nan) for j in verdict]
    )
    p_j = np.where(np.isnan(p_j), hard, p_j)
    ab_arr = np.array(ab, dtype=object)
    ba_arr = np.array(ba, dtype=object)
    first = (ab_arr == "a").astype(int) + (ba_arr == "b").astype(int)
    decisive = np.isin(ab_arr, ["a", "b"]).astype(int) + np.isin(
        ba_arr, ["a", "b"]
    ).astype(int)
    index = pd.Index(verdicts["item"].to_numpy(), name="item")
    out = pd.DataFrame(
        {
            # object dtype keeps None (pandas would turn a string column's None to NaN)
            "J": pd.Series(verdict, index=index, dtype=object),
            "p_J": p_j,
            "consistent": pd.Series(consistent, index=index, dtype=object),
            "first_picks": first,
            "decisive_orders": decisive,
        },
        index=index,
    )
    if out.index.has_duplicates:
        msg = "verdicts table has more than one row for an item"
        raise ValueError(msg)
    return out


def _prob_column(frame: pd.DataFrame, column: str, n: int) -> FloatArray:
    if column not in frame.columns:
        return np.full(n, np.nan)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    if np.any((values < 0) | (values > 1)):
        msg = f"{column} must be a probability in [0, 1]"
        raise ValueError(msg)
    return values


@dataclass(frozen=True)
class Prepared:
    """Labels of the eligible items (>= 2 labels) as integer codes, plus the judge.

    ``items`` are the eligible items in sorted order; ``item_idx`` / ``label_idx``
    describe one row per human label; ``counts`` is items x (a, b, tie);
    ``judge`` is the judge's code per item (-1 = no verdict or not judged);
    ``p_j`` the judge's probability per item (NaN when none).
    """

    items: pd.Index
    item_idx: IntArray
    label_idx: IntArray
    raters: npt.NDArray[Any]
    groups: npt.NDArray[Any]
    counts: IntArray
    judge: IntArray
    p_j: FloatArray
    tie_is_label: bool

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_labels(self) -> int:
        return len(self.item_idx)


def prepare(
    labels: pd.DataFrame,
    combined: pd.DataFrame | None,
    *,
    min_labels: int = 2,
    tie_is_label: bool | None = None,
) -> Prepared:
    """Encode clean labels (see :func:`normalise_labels`) for the numeric core."""
    per_item = labels.groupby("item", sort=True)["label"].size()
    eligible = per_item.index[per_item >= min_labels]
    rows = labels[labels["item"].isin(eligible)]
    items = pd.Index(eligible)
    item_idx = items.get_indexer(rows["item"]).astype(np.int64)
    label_idx: IntArray = np.asarray(
        rows["label"].map(LABEL_CODE).to_numpy(dtype=np.int64), dtype=np.int64
    )
    counts = np.zeros((len(items), 3), dtype=np.int64)
    np.add.at(counts, (item_idx, label_idx), 1)
    judge = np.full(len(items), -1, dtype=np.int64)
    p_j = np.full(len(items), np.nan)
    if combined is not None and len(items):
        aligned = combined.reindex(items)
        judge = np.array(
            [LABEL_CODE.get(j, -1) if isinstance(j, str) else -1 for j in aligned["J"]],
            dtype=np.int64,
        )
        p_j = aligned["p_J"].to_numpy(dtype=float)
        p_j = np.where(judge >= 0, p_j, np.nan)
    if tie_is_label is None:
        tie_is_label = bool((labels["label"] == "tie").any())
    return Prepared(
        items=items,
        item_idx=item_idx,
        label_idx=label_idx,
        raters=rows["rater"].to_numpy(),
        groups=rows["group"].to_numpy(),
        counts=counts,
        judge=judge,
        p_j=p_j,
        tie_is_label=tie_is_label,
    )


@dataclass(frozen=True)
class ItemSums:
    """Per-item sums the agreement figures are ratios of (and the bootstrap resamples).

    ``labels`` and ``ceiling_hits`` count every label of the item; ``judged`` is 1
    when the judge gave a verdict; ``judge_hits`` counts labels whose leave-one-out
    mode equals the verdict (0 when there is none); ``majority_hit`` is 1 when the
    verdict equals the all-raters mode; ``majority`` is that mode's code.
    """

    labels: FloatArray
    ceiling_hits: FloatArray
    judged: FloatArray
    judge_hits: FloatArray
    majority_hit: FloatArray
    majority: IntArray


def _pick_mode(ismode: BoolArray, rng: np.random.Generator) -> IntArray:
    """Index of one of the tied modes per row, uniformly at random (seeded)."""
    n_modes = ismode.sum(axis=1)
    k = np.floor(rng.random(len(ismode)) * n_modes).astype(np.int64)
    picked: IntArray = np.argmax(ismode.cumsum(axis=1) > k[:, None], axis=1).astype(
        np.int64
    )
    return picked


def _per_item(item_idx: IntArray, weights: Any, n_items: int) -> FloatArray:
    sums: FloatArray = np.bincount(item_idx, weights=weights, minlength=n_items).astype(
        np.float64
    )
    return sums


def item_sums(
    prep: Prepared,
    item_idx: IntArray,
    label_idx: IntArray,
    *,
    tie_break: TieBreak,
    seed: int,
) -> ItemSums:
    """Leave-one-out ceiling and judge hits for the given label rows.

    The leave-one-out mode of row r is the most frequent label among the *other*
    labels of its item. ``tie_break="random"`` draws one of the tied modes with
    ``numpy.random.default_rng(seed)``: first one uniform draw per row, in the
    (item, rater) order of the rows, then one per item for the all-raters mode -
    so the same data and seed always give the same figure. ``"expected"``
    replaces the draw by its expectation (1 / number of tied modes for each tied
    mode), which is exact and seed-free.
    """
    n_items = prep.n_items
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_items, 3), dtype=np.int64)
    np.add.at(counts, (item_idx, label_idx), 1)
    loo = counts[item_idx] - np.eye(3, dtype=np.int64)[label_idx]
    ismode = loo == loo.max(axis=1, keepdims=True)
    # An item with a single label has an empty leave-one-out set: no mode.
    has_others = loo.sum(axis=1) > 0
    ismode &= has_others[:, None]
    n_modes = np.maximum(ismode.sum(axis=1), 1)
    judge_row = prep.judge[item_idx]
    judged_row = judge_row >= 0
    rows = np.arange(len(item_idx))
    if tie_break == "expected":
        ceiling = ismode[rows, label_idx] / n_modes
        judge_hit = np.where(
            judged_row, ismode[rows, np.maximum(judge_row, 0)] / n_modes, 0.0
        )
    else:
        picked = _pick_mode(ismode, rng)
        ceiling = ((picked == label_idx) & has_others).astype(float)
        judge_hit = ((picked == judge_row) & judged_row & has_others).astype(float)
    n_labels = _per_item(item_idx, has_others.astype(float), n_items)
    ceiling_hits = _per_item(item_idx, ceiling, n_items)
    judge_hits = _per_item(item_idx, judge_hit, n_items)
    judged = (prep.judge >= 0).astype(float)
    all_mode = counts == counts.max(axis=1, keepdims=True)
    all_mode &= (counts.sum(axis=1) > 0)[:, None]
    if tie_break == "expected":
        safe_j = np.maximum(prep.judge, 0)
        majority_hit = np.where(
            prep.judge >= 0,
            all_mode[np.arange(n_items), safe_j] / np.maximum(all_mode.sum(axis=1), 1),
            0.0,
        )
        majority = np.argmax(all_mode, axis=1).astype(np.int64)
    else:
        majority = _pick_mode(all_mode, rng)
        present = counts.sum(axis=1) > 0
        majority_hit = ((majority == prep.judge) & (prep.judge >= 0) & present).astype(
            float
        )
    return ItemSums(
        labels=n_labels,
        ceiling_hits=ceiling_hits,
        judged=judged,
        judge_hits=judge_hits,
        majority_hit=majority_hit,
        majority=majority,
    )


def chance(tie_is_label: bool) -> float:
    """Chance agreement q of encoding-gap.md section 5.4: 1/3 with ties, else 1/2."""
    return 1 / 3 if tie_is_label else 0.5


def subset(prep: Prepared, rows: BoolArray, *, min_labels: int = 2) -> Prepared:
    """The label rows selected by ``rows``, keeping items that still have
    ``min_labels`` labels (e.g. one group's labels: section 5.8)."""
    item_idx = prep.item_idx[rows]
    sizes = np.bincount(item_idx, minlength=prep.n_items)
    kept = np.flatnonzero(sizes >= min_labels)
    remap = np.full(prep.n_items, -1, dtype=np.int64)
    remap[kept] = np.arange(len(kept))
    keep_row = remap[item_idx] >= 0
    new_item = remap[item_idx[keep_row]]
    new_label = prep.label_idx[rows][keep_row].astype(np.int64)
    counts = np.zeros((len(kept), 3), dtype=np.int64)
    np.add.at(counts, (new_item, new_label), 1)
    return Prepared(
        items=prep.items[kept],
        item_idx=new_item,
        label_idx=new_label,
        raters=prep.raters[rows][keep_row],
        groups=prep.groups[rows][keep_row],
        counts=counts,
        judge=prep.judge[kept],
        p_j=prep.p_j[kept],
        tie_is_label=prep.tie_is_label,
    )


SWAP_AB: IntArray = np.array([1, 0, 2], dtype=np.int64)
"""Label codes with a and b swapped, tie unchanged (the flipped-label control)."""


def flip_ab(prep: Prepared) -> Prepared:
    """The same labels with a and b swapped (ties and the judge unchanged): the
    participants' reading turned upside down (section 5.10, ICAI's "unaligned")."""
    return replace(
        prep,
        label_idx=SWAP_AB[prep.label_idx],
        counts=prep.counts[:, SWAP_AB],
    )
