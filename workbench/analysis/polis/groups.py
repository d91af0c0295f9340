"""Per-group vote counts (Polis's `votes-base` / `group-votes`, conversation.clj).

A grouping is an integer label per participant row: 0..n_groups-1, or -1 for a
participant outside every group (Polis: not in-conv; predefined groups: no group).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from workbench.analysis.polis.matrix import VoteMatrix

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class GroupVotes:
    """Arrays are groups x principles: agrees, disagrees and all votes (passes
    included, Polis's S) from each group's members; `n_members` per group."""

    agree: IntArray
    disagree: IntArray
    count: IntArray
    n_members: IntArray

    @property
    def passes(self) -> IntArray:
        return np.asarray(self.count - self.agree - self.disagree, dtype=np.int64)


def _count(keys: IntArray, where: BoolArray, shape: tuple[int, int]) -> IntArray:
    counts = np.bincount(keys[where], minlength=shape[0] * shape[1])
    return np.asarray(counts.reshape(shape), dtype=np.int64)


def group_votes(matrix: VoteMatrix, labels: IntArray, n_groups: int) -> GroupVotes:
    """Count each group's votes on the raw matrix (moderation ignored), as Polis
    does for group-votes."""
    shape = (n_groups, matrix.shape[1])
    group = labels[matrix.rows]
    keys = np.where(group >= 0, group * shape[1] + matrix.cols, 0)
    grouped = group >= 0
    n_members = np.bincount(labels[labels >= 0], minlength=n_groups)[:n_groups]
    return GroupVotes(
        agree=_count(keys, grouped & (matrix.votes > 0), shape),
        disagree=_count(keys, grouped & (matrix.votes < 0), shape),
        count=_count(keys, grouped, shape),
        n_members=np.asarray(n_members, dtype=np.int64),
    )


def column_votes(matrix: VoteMatrix) -> GroupVotes:
    """Every participant's votes per principle, as a single group."""
    return group_votes(matrix, np.zeros(matrix.shape[0], dtype=np.int64), 1)
