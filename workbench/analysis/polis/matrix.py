"""The vote matrix: participants x principles, built from long-form votes.

Follows Polis's `raw-rating-mat` and `rating-mat` (math/src/polismath/math/
conversation.clj and named_matrix.clj). Votes use agree = +1, disagree = -1,
pass = 0. The matrix is kept sparse (one entry per vote), because most
participants vote on few principles; `values` gives the dense form with NaN where
there is no vote (Polis's nil).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MIN_VOTES = 7
GREEDY_N = 15


@dataclass(frozen=True)
class VoteMatrix:
    """Vote k is participant `participants[rows[k]]`'s `votes[k]` on principle
    `principles[cols[k]]`; one vote per cell. Ids are sorted."""

    participants: npt.NDArray[np.generic]
    principles: npt.NDArray[np.generic]
    rows: IntArray
    cols: IntArray
    votes: FloatArray

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.participants), len(self.principles)

    @cached_property
    def values(self) -> FloatArray:
        """Dense participants x principles matrix, NaN where there is no vote."""
        dense = np.full(self.shape, np.nan)
        dense[self.rows, self.cols] = self.votes
        return dense

    @cached_property
    def n_votes(self) -> IntArray:
        """Votes per participant, passes included (Polis's `user-vote-counts`)."""
        counts = np.bincount(self.rows, minlength=self.shape[0])
        return np.asarray(counts, dtype=np.int64)

    def columns_of(self, principles: Iterable[object]) -> IntArray:
        """Column indices of those principles that have a column; others are ignored
        (Polis allows moderating out a comment nobody voted on)."""
        index = pd.Index(self.principles)
        found = index.get_indexer(pd.Index(list(principles)))
        return np.asarray(found[found >= 0], dtype=np.int64)

    def column_flags(self, principles: Iterable[object]) -> BoolArray:
        flags = np.zeros(self.shape[1], dtype=np.bool_)
        flags[self.columns_of(principles)] = True
        return flags


def build_vote_matrix(
    votes: pd.DataFrame,
    *,
    participant: str = "participant",
    principle: str = "principle",
    vote: str = "vote",
) -> VoteMatrix:
    """Index long-form votes. A participant who voted twice on a principle keeps
    the last row, so pass the votes in time order."""
    rows, participants = pd.factorize(votes[participant], sort=True)
    cols, principles = pd.factorize(votes[principle], sort=True)
    cell = pd.Series(rows.astype(np.int64) * max(len(principles), 1) + cols)
    latest = ~cell.duplicated(keep="last").to_numpy()
    return VoteMatrix(
        participants=np.asarray(participants),
        principles=np.asarray(principles),
        rows=np.asarray(rows[latest], dtype=np.int64),
        cols=np.asarray(cols[latest], dtype=np.int64),
        votes=votes[vote].to_numpy(dtype=np.float64)[latest],
    )


def rating_values(matrix: VoteMatrix, mod_out: Iterable[object]) -> FloatArray:
    """Polis's `rating-mat`, dense: the mod-out columns set to 0 for *every*
    participant, missing cells included (`nm/zero-out-columns` uses
    `matrix/set-column`). Mod-out is moderated-out plus meta principles
    (`mod-update` in conversation.clj)."""
    values = matrix.values.copy()
    values[:, matrix.columns_of(mod_out)] = 0.0
    return values


def in_conv_mask(
    n_votes: IntArray,
    n_principles: int,
    *,
    min_votes: int = MIN_VOTES,
    greedy_n: int = GREEDY_N,
) -> BoolArray:
    """Participants taken into the analysis (Polis's `in-conv`, conversation.clj):
    at least min(7, n_principles) votes; if fewer than 15 qualify, the top voters
    fill up to 15. Polis's set is sticky across updates (once in, always in); this
    is the cold computation. Ties among top voters go to the earlier participant
    (Polis's order there is a hash map's)."""
    mask = np.asarray(n_votes >= min(min_votes, n_principles))
    missing = greedy_n - int(mask.sum())
    if missing > 0:
        candidates = np.flatnonzero(~mask)
        order = np.argsort(-n_votes[candidates], kind="stable")
        mask[candidates[order[:missing]]] = True
    return mask
