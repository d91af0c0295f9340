"""Routing priority of principles (Polis's `importance-metric` and
`priority-metric`, conversation.clj)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from workbench.analysis.polis.groups import GroupVotes

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

META_PRIORITY = 7.0


def importance(
    agree: FloatArray, passes: FloatArray, count: FloatArray, extremity: FloatArray
) -> FloatArray:
    """(1 - (P+1)/(S+2)) · (E+1) · (A+1)/(S+2)."""
    p = (passes + 1.0) / (count + 2.0)
    a = (agree + 1.0) / (count + 2.0)
    return np.asarray((1.0 - p) * (extremity + 1.0) * a, dtype=np.float64)


def priorities(
    votes: GroupVotes, extremity: FloatArray, is_meta: BoolArray
) -> FloatArray:
    """(importance · (1 + 8·2^(-S/5)))², 7² for meta principles; A, D, S summed over
    the groups. Polis uses the *previous* update's group votes here, and from
    2025-03 until its #2611 fix gave every comment 49; this uses the current ones."""
    agree = votes.agree.sum(axis=0).astype(np.float64)
    count = votes.count.sum(axis=0).astype(np.float64)
    passes = count - agree - votes.disagree.sum(axis=0)
    boost = 1.0 + 8.0 * np.power(2.0, -count / 5.0)
    value = importance(agree, passes, count, extremity) * boost
    return np.asarray(np.where(is_meta, META_PRIORITY, value) ** 2, dtype=np.float64)
