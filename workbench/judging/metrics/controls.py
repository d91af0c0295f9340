"""Controls of encoding-gap.md section 5.10: length bias and flipped labels.

A figure that looks like agreement can come from something other than the
principle: a judge (or a crowd) that prefers longer answers, or a judge whose
verdicts would score about as well against the opposite reading. These figures
say how much of that is present.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from workbench.judging.metrics._data import (
    Figure,
    Prepared,
    TieBreak,
    combine_verdicts,
    flip_ab,
    item_sums,
    normalise_labels,
    prepare,
    undefined,
)
from workbench.judging.metrics.agreement import agreement_from_sums

__all__ = [
    "judge_agreement_flipped",
    "longer_response",
    "prefer_longer",
    "prefer_longer_share",
]

PAIR_LENGTH_COLUMNS = ("item", "length_a", "length_b")


def longer_response(pairs: pd.DataFrame) -> pd.Series:
    """Item -> "a" or "b", whichever response has more characters; None when the
    two are equally long (such items say nothing about a length preference).

    ``pairs`` is the item table of the package docstring; only ``item``,
    ``length_a`` and ``length_b`` are read.
    """
    missing = set(PAIR_LENGTH_COLUMNS) - set(pairs.columns)
    if missing:
        msg = f"pairs table lacks column(s): {', '.join(sorted(missing))}"
        raise ValueError(msg)
    a = pd.to_numeric(pairs["length_a"], errors="coerce").to_numpy(dtype=float)
    b = pd.to_numeric(pairs["length_b"], errors="coerce").to_numpy(dtype=float)
    side = ["a" if x > y else "b" if y > x else None for x, y in zip(a, b, strict=True)]
    return pd.Series(
        side, index=pd.Index(pairs["item"].to_numpy(), name="item"), dtype=object
    )


def prefer_longer_share(choices: pd.Series, longer: pd.Series) -> Figure:
    """Share of decisive choices (a or b; ties, None and "na" left out) that pick
    the longer response, over items whose responses differ in length.

    ``choices`` is indexed by item and may repeat an item (one row per rater).
    ``n`` = the decisive choices counted.
    """
    side = longer.reindex(choices.index).to_numpy(dtype=object)
    picked = choices.to_numpy(dtype=object)
    decisive = np.isin(picked, ["a", "b"]) & np.isin(side, ["a", "b"])
    n = int(decisive.sum())
    if n == 0:
        return undefined(
            "no decisive choice on an item whose responses differ in length"
        )
    return Figure(float(np.mean(picked[decisive] == side[decisive])), n)


def prefer_longer(
    labels: pd.DataFrame,
    verdicts: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    groups: Mapping[Any, Any] | pd.Series | None = None,
) -> dict[str, Figure]:
    """P(prefer longer) (section 5.10) for the judge and for the raters.

    ``prefer_longer_judge`` is over the judge's combined verdicts J (both orders
    agreed on a or b); ``prefer_longer_humans`` over every a / b label, whatever
    the number of labels of the item. Length is the character count of the
    response; items with equally long responses are left out. 0.5 means no
    length preference (AlpacaEval reports 0.64 for its human raters).
    """
    longer = longer_response(pairs)
    clean = normalise_labels(labels, groups)
    combined = combine_verdicts(verdicts)
    return {
        "prefer_longer_judge": prefer_longer_share(combined["J"], longer),
        "prefer_longer_humans": prefer_longer_share(
            clean.set_index("item")["label"], longer
        ),
    }


def flipped_agreement_from_prepared(
    prep: Prepared, *, tie_break: TieBreak, seed: int
) -> Figure:
    """Judge agreement A_c against the labels of ``prep`` with a and b swapped."""
    flipped = flip_ab(prep)
    sums = item_sums(
        flipped, flipped.item_idx, flipped.label_idx, tie_break=tie_break, seed=seed
    )
    return agreement_from_sums(sums, "loo")


def judge_agreement_flipped(
    labels: pd.DataFrame,
    verdicts: pd.DataFrame,
    *,
    tie_break: TieBreak = "random",
    seed: int = 0,
    groups: Mapping[Any, Any] | pd.Series | None = None,
) -> Figure:
    """The flipped-label check (section 5.10, ICAI's "unaligned" setting).

    The judge agreement A_c of :func:`judge_agreement`, computed against the
    raters' labels with a and b swapped (ties and "na" unchanged), the same items,
    seed and tie-break. A judge that follows the raters' reading of the principle
    falls to near zero here; one whose agreement barely moves when the labels are
    reversed is not tracking the distinctions the raters make.
    """
    prep = prepare(normalise_labels(labels, groups), combine_verdicts(verdicts))
    return flipped_agreement_from_prepared(prep, tie_break=tie_break, seed=seed)
