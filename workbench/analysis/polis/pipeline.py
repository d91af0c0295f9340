"""The whole Polis-compatible analysis of one set of votes (Polis's
small-conversation update, conversation.clj), without Polis's history: the same
votes always give the same result.

Degenerate input
----------------
`analyze` never raises because there is too little data; it always returns an
`AnalysisResult`, and `AnalysisResult.shortfall` says whether the opinion groups
mean anything (None) or why not (a `Shortfall`), so a caller shows "not enough data
yet" from that one field. Only malformed input raises (a missing column: KeyError).

- No votes (an empty frame): `Shortfall.NO_VOTES`. Zero participants, zero
  principles, zero opinion groups, empty consensus lists; every array is empty.
- Fewer than two distinct positions on the opinion map among the participants in
  the analysis: `Shortfall.ONE_POSITION`, and exactly one opinion group holding all
  of them. This is the case for one participant, everyone voting alike, all
  passes, and every principle moderated out (the projection is then 0 for all).
  Consensus, repness (against an empty "rest") and priorities are still computed,
  from Polis's smoothed formulas, so they are finite.
- One principle: the PCA has one component (the second is 0); with two opposed
  voters or more there are two groups and no shortfall.
- A predefined group with one member, or whose members never voted, keeps its
  place in `predefined.group_ids` with its (zero) counts; its figures are finite.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from workbench.analysis.polis.clusters import BASE_K, OpinionGroups, opinion_groups
from workbench.analysis.polis.consensus import (
    Consensus,
    consensus,
    group_aware_consensus,
    group_aware_dissensus,
)
from workbench.analysis.polis.groups import GroupVotes, group_votes
from workbench.analysis.polis.matrix import VoteMatrix, build_vote_matrix, in_conv_mask
from workbench.analysis.polis.pca import (
    PCA,
    extremity,
    fit_pca,
    project_participants,
    project_principles,
)
from workbench.analysis.polis.priority import priorities
from workbench.analysis.polis.repness import (
    RepnessStats,
    RepresentativePrinciple,
    repness_stats,
    select_representative,
)
from workbench.analysis.polis.threads import single_threaded

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class GroupFigures:
    """Everything that depends on a grouping. `labels[i]` indexes `group_ids`
    (-1: in no group); arrays are groups x principles or per principle."""

    group_ids: list[Hashable]
    labels: IntArray
    votes: GroupVotes
    stats: RepnessStats
    representative: dict[Hashable, list[RepresentativePrinciple]]
    group_aware_consensus: FloatArray
    group_aware_dissensus: FloatArray
    priorities: FloatArray


class Shortfall(StrEnum):
    """Why an analysis has no meaningful opinion groups (see the module docstring)."""

    NO_VOTES = "no_votes"
    """Nobody has voted: no participants, principles or groups."""
    ONE_POSITION = "one_position"
    """All participants in the analysis sit at one point of the opinion map: one
    group."""


@dataclass(frozen=True)
class AnalysisResult:
    """Rows follow `matrix.participants`, columns `matrix.principles`."""

    matrix: VoteMatrix
    mod_out: BoolArray
    is_meta: BoolArray
    in_conv: BoolArray
    pca: PCA
    participant_projection: FloatArray
    principle_projection: FloatArray
    extremity: FloatArray
    clustering: OpinionGroups
    consensus: Consensus
    opinion: GroupFigures
    predefined: GroupFigures | None

    @property
    def shortfall(self) -> Shortfall | None:
        """None when there are at least two opinion groups, else the reason."""
        if len(self.matrix.participants) == 0:
            return Shortfall.NO_VOTES
        if len(self.opinion.group_ids) < 2:
            return Shortfall.ONE_POSITION
        return None

    def figures_for(self, groups: Mapping[Hashable, Hashable]) -> GroupFigures:
        """Group figures for any participant -> group mapping."""
        labels, group_ids = labels_from_mapping(self.matrix.participants, groups)
        return group_figures(self, labels, group_ids)


def labels_from_mapping(
    participants: npt.NDArray[np.generic], groups: Mapping[Hashable, Hashable]
) -> tuple[IntArray, list[Hashable]]:
    """Label rows by a participant -> group mapping. Every group in the mapping is
    kept, sorted, even one whose members cast no vote; a participant the mapping
    leaves out gets -1."""
    keys = pd.Index(list(groups.keys()))
    codes, uniques = pd.factorize(
        pd.Series(list(groups.values()), dtype=object), sort=True
    )
    position = keys.get_indexer(pd.Index(participants))
    labels = np.where(position >= 0, codes[position], -1)
    return np.asarray(labels, dtype=np.int64), list(uniques)


class PrincipleContext(Protocol):
    """What a grouping's figures need besides the labels."""

    @property
    def matrix(self) -> VoteMatrix: ...
    @property
    def mod_out(self) -> BoolArray: ...
    @property
    def is_meta(self) -> BoolArray: ...
    @property
    def extremity(self) -> FloatArray: ...


def group_figures(
    result: PrincipleContext, labels: IntArray, group_ids: list[Hashable]
) -> GroupFigures:
    """Per-group counts, repness and its selection, group-aware consensus and
    priorities for one grouping. Counts use the raw votes (moderation ignored), as
    Polis's group-votes; Polis's repness uses the rating matrix, which differs only
    in the mod-out columns, and those are never selected."""
    votes = group_votes(result.matrix, labels, len(group_ids))
    stats = repness_stats(votes)
    selected = select_representative(
        stats, result.matrix.principles, excluded=result.mod_out
    )
    return GroupFigures(
        group_ids=group_ids,
        labels=labels,
        votes=votes,
        stats=stats,
        representative=dict(zip(group_ids, selected, strict=True)),
        group_aware_consensus=group_aware_consensus(votes),
        group_aware_dissensus=group_aware_dissensus(votes),
        priorities=priorities(votes, result.extremity, result.is_meta),
    )


@dataclass(frozen=True)
class _Base:
    matrix: VoteMatrix
    mod_out: BoolArray
    is_meta: BoolArray
    extremity: FloatArray


def _opinion_labels(
    projection: FloatArray, in_conv: BoolArray, base_k: int
) -> tuple[OpinionGroups, IntArray]:
    """Opinion groups of the in-conv participants; every row's group, -1 outside
    the analysis."""
    clustering = opinion_groups(projection[in_conv], base_k=base_k)
    labels = np.full(len(projection), -1, dtype=np.int64)
    labels[in_conv] = clustering.labels
    return clustering, labels


def analyze(
    votes: pd.DataFrame,
    *,
    mod_out: Iterable[object] = (),
    meta: Iterable[object] = (),
    groups: Mapping[Hashable, Hashable] | None = None,
    participant: str = "participant",
    principle: str = "principle",
    vote: str = "vote",
    base_k: int = BASE_K,
) -> AnalysisResult:
    """Run the analysis on long-form votes (agree +1, disagree -1, pass 0; the last
    row wins for a repeated participant/principle). `mod_out` are moderated-out
    principles; `meta` principles are treated as mod-out too and get the meta
    priority, as in Polis. `groups` is an optional predefined participant -> group
    mapping, analysed beside the opinion groups. Degenerate input returns a result
    with `shortfall` set (module docstring); BLAS and OpenMP run on one thread
    (threads.py)."""
    with single_threaded():
        return _analyze(
            build_vote_matrix(
                votes, participant=participant, principle=principle, vote=vote
            ),
            list(mod_out),
            list(meta),
            groups,
            base_k=base_k,
        )


def _analyze(
    matrix: VoteMatrix,
    mod_out: list[object],
    meta: list[object],
    groups: Mapping[Hashable, Hashable] | None,
    *,
    base_k: int,
) -> AnalysisResult:
    is_meta = matrix.column_flags(meta)
    excluded = matrix.column_flags([*mod_out, *meta])
    pca = fit_pca(matrix, excluded)
    projection = project_participants(matrix, pca, excluded)
    principle_projection = project_principles(pca)
    base = _Base(matrix, excluded, is_meta, extremity(principle_projection))
    in_conv = in_conv_mask(matrix.n_votes, len(matrix.principles))
    clustering, labels = _opinion_labels(projection, in_conv, base_k)
    n_groups = len(clustering.groups.sizes)
    return AnalysisResult(
        matrix=matrix,
        mod_out=excluded,
        is_meta=is_meta,
        in_conv=in_conv,
        pca=pca,
        participant_projection=projection,
        principle_projection=principle_projection,
        extremity=base.extremity,
        clustering=clustering,
        consensus=consensus(matrix, excluded=excluded),
        opinion=group_figures(base, labels, list(range(n_groups))),
        predefined=None
        if groups is None
        else group_figures(base, *labels_from_mapping(matrix.participants, groups)),
    )
