"""Consensus across the whole conversation and across groups (Polis's
repness.clj `consensus-stats` / `select-consensus-comments`, and the
`:group-aware-consensus` step of conversation.clj)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from workbench.analysis.polis.groups import GroupVotes, column_votes
from workbench.analysis.polis.matrix import VoteMatrix
from workbench.analysis.polis.stats import Z_90, prop_test, smoothed_probability

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

TOP_N = 5


@dataclass(frozen=True)
class ConsensusPrinciple:
    """One entry of Polis's consensus `agree` or `disagree` list."""

    principle: object
    n_success: int
    n_trials: int
    p_success: float
    p_test: float


@dataclass(frozen=True)
class Consensus:
    agree: list[ConsensusPrinciple]
    disagree: list[ConsensusPrinciple]


def select_consensus_side(
    successes: IntArray,
    trials: IntArray,
    principles: npt.NDArray[np.generic],
    *,
    excluded: BoolArray,
) -> list[ConsensusPrinciple]:
    """Principles with p > 0.5 and a significant prop test, ranked by p·z
    (stable, so ties keep principle order), top 5."""
    p = smoothed_probability(successes, trials)
    z = prop_test(successes, trials)
    eligible = np.flatnonzero((p > 0.5) & (z > Z_90) & ~excluded)
    ranked = eligible[np.argsort(-(p * z)[eligible], kind="stable")][:TOP_N]
    return [
        ConsensusPrinciple(
            principle=principles[j],
            n_success=int(successes[j]),
            n_trials=int(trials[j]),
            p_success=float(p[j]),
            p_test=float(z[j]),
        )
        for j in ranked
    ]


def consensus(matrix: VoteMatrix, *, excluded: BoolArray) -> Consensus:
    """Polis's consensus lists, over *every* participant (not only grouped ones).
    Mod-out principles (`excluded`) are left out, so whether their cells are zeroed
    makes no difference."""
    votes = column_votes(matrix)
    agree, disagree, trials = votes.agree[0], votes.disagree[0], votes.count[0]
    principles = matrix.principles
    return Consensus(
        agree=select_consensus_side(agree, trials, principles, excluded=excluded),
        disagree=select_consensus_side(disagree, trials, principles, excluded=excluded),
    )


def group_aware_consensus(votes: GroupVotes) -> FloatArray:
    """Π_g (A_g + 1) / (S_g + 2): the chance every group agrees (Polis's
    `group-aware-consensus`, computed on the raw matrix)."""
    return np.asarray(
        np.prod((votes.agree + 1.0) / (votes.count + 2.0), axis=0), dtype=np.float64
    )


def group_aware_dissensus(votes: GroupVotes) -> FloatArray:
    """Π_g (D_g + 1) / (S_g + 2): the same for disagreement (red-dwarf's
    `group-aware-consensus-disagree`; Polis has only the agree form)."""
    return np.asarray(
        np.prod((votes.disagree + 1.0) / (votes.count + 2.0), axis=0),
        dtype=np.float64,
    )
