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


# The CCAI notebook (saffronh/ccai, ccai_data_processing.ipynb) sweeps the per-group
# agree threshold from 0.6 to 1.0 in steps of 0.05 (shared/reference/platforms.md 1a).
CCAI_SWEEP: tuple[float, ...] = tuple(round(0.6 + 0.05 * i, 2) for i in range(9))


def ccai_sweep(
    agree: FloatArray,
    total: FloatArray,
    *,
    thresholds: tuple[float, ...] = CCAI_SWEEP,
    min_votes: int = 1,
) -> dict[float, int]:
    """How many principles the CCAI rule adopts at each threshold, as in the CCAI
    notebook's sweep over 0.6..1.0."""
    return {
        t: int(ccai_rule(agree, total, threshold=t, min_votes=min_votes).sum())
        for t in thresholds
    }


def group_aware_consensus_from_counts(
    agree: FloatArray, total: FloatArray
) -> FloatArray:
    """Polis's group-aware consensus Π_g (A_g + 1) / (S_g + 2) from the same
    principles x groups matrices (polis.md section 2; conversation.clj). A group
    with no vote on a principle contributes 1/2; with no group at all it is NaN."""
    agree = np.asarray(agree, dtype=float)
    total = np.asarray(total, dtype=float)
    if total.ndim != 2 or total.shape[1] == 0:
        return np.full(total.shape[0] if total.ndim else 0, np.nan)
    return np.asarray(np.prod((agree + 1) / (total + 2), axis=1), dtype=float)


def gac_rule(
    gac: FloatArray, *, threshold: float, n_groups: int | None = None
) -> BoolArray:
    """Adopt a principle whose group-aware consensus reaches `threshold`.

    GAC is a product over groups, so with more groups it shrinks: with `n_groups`
    the threshold is compared with the per-group geometric mean GAC^(1/n_groups)
    instead, so one threshold means the same for any number of groups. NaN (no
    groups) never passes."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must be between 0 and 1")
    score = np.asarray(gac, dtype=float)
    if n_groups is not None:
        if n_groups < 1:
            raise ValueError("n_groups must be at least 1")
        score = score ** (1.0 / n_groups)
    return np.asarray(np.nan_to_num(score, nan=-1.0) >= threshold, dtype=bool)


def size_adaptive_threshold(n_voters: FloatArray | int) -> FloatArray:
    """OSCCAI's size-adaptive threshold min(0.85, 0.66 · (1 + 2 / log2(2 + n))).

    Source: collect-intel/osccai, apps/consensus-service/api/update_gac_scores.py,
    `is_constitutionable` (shared/reference/platforms.md 1b). Here n is the number
    of participants who voted on the principle (agree, disagree or pass), so each
    principle gets its own threshold; OSCCAI uses the poll's participant count,
    which is the same thing when everyone votes on everything. It stays at the
    0.85 cap up to n = 121 and falls towards 0.66 as n grows."""
    n = np.maximum(np.asarray(n_voters, dtype=float), 0.0)
    return np.asarray(np.minimum(0.85, 0.66 * (1 + 2 / np.log2(2 + n))), dtype=float)


def size_adaptive_rule(score: FloatArray, n_voters: FloatArray) -> BoolArray:
    """Adopt a principle whose score (OSCCAI compares group-aware consensus) reaches
    its own size-adaptive threshold; a principle nobody voted on never passes."""
    score = np.asarray(score, dtype=float)
    n = np.asarray(n_voters, dtype=float)
    passes = np.nan_to_num(score, nan=-1.0) >= size_adaptive_threshold(n)
    return np.asarray(passes & (n > 0), dtype=bool)
