"""Threshold rules that turn vote counts into an adopted set. Pure numpy, no ORM.

Arrays are principles x groups: `agree[i, g]` agree votes on principle i from group g,
`total[i, g]` all votes (agree + disagree + pass) on it from that group.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def agree_share(agree: FloatArray, total: FloatArray) -> FloatArray:
    """Agree votes over all votes, passes included; NaN where a group cast none."""
    agree = np.asarray(agree, dtype=float)
    total = np.asarray(total, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, agree / np.where(total > 0, total, 1), np.nan)


def ccai_rule(
    agree: FloatArray, total: FloatArray, *, threshold: float, min_votes: int = 1
) -> BoolArray:
    """The CCAI rule: adopt a principle whose agree share is at least `threshold` in
    every group. A group with fewer than `min_votes` votes on it cannot vouch for it,
    so the principle is not adopted (silence is not consent)."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must be between 0 and 1")
    total = np.asarray(total, dtype=float)
    if total.ndim != 2 or total.shape[1] == 0:
        return np.zeros(total.shape[0] if total.ndim else 0, dtype=bool)
    share = agree_share(agree, total)
    enough = total >= max(min_votes, 1)
    passes = np.where(enough, share >= threshold, False)
    return np.asarray(passes.all(axis=1), dtype=bool)


def overall_threshold_rule(
    agree: FloatArray, total: FloatArray, *, threshold: float, min_votes: int = 1
) -> BoolArray:
    """Adopt a principle whose agree share over everyone (groups pooled) reaches the
    threshold: the majority-style baseline CCAI is compared with."""
    agree_all = np.asarray(agree, dtype=float).sum(axis=1, keepdims=True)
    total_all = np.asarray(total, dtype=float).sum(axis=1, keepdims=True)
    return ccai_rule(agree_all, total_all, threshold=threshold, min_votes=min_votes)
