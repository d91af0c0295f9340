"""The stored analysis result, built from a workshop's votes without a query:
services/analysis.py reads the inputs and stores what this returns.

The `result` is a contract: the results pages and `analyze --json` read it
(DESIGN.md "Contracts" is a subset). Ids are external ids (a Polis import's
comment and participant ids, else str(pk)); opinion group ids are the integers
0..k-1, written as strings where they are JSON keys; participant groups are
named. Keys:

- computed_at, n_votes, n_participants (participants with a vote),
  n_principles (principles listed below), status ("ok" or "not_enough_data"),
  message;
- participants: participant -> opinion group id, or null outside every group;
- groups: opinion group id -> members;
- principles: every voted principle and every unvoted one on the agenda, by pk:
  id, external_id, text, agree, disagree, pass, per_group and
  per_participant_group ({agree, disagree, pass}), group_aware_consensus
  (opinion groups) and group_aware_consensus_participant_groups, extremity, x, y
  (PCA plane), priority (routing), mod_out (rejected, merged or meta: left out of
  the PCA, consensus and repness, as in Polis), is_meta, status;
- consensus: {agree, disagree}: Polis's consensus lists over every voter;
- divisive: the principles opinion groups split on most (`DIVISIVE_N`, see
  `divisive`);
- repness, repness_participant_groups: group -> representative principles;
- map: participants [{id, x, y, group, participant_group, in_conv}] and
  principles [{external_id, x, y}] (mod-out ones left off), Polis's two
  projections (participants scaled by sqrt(n_principles / n_votes));
- rules: rule -> adopted external ids, strongest overall agree share first;
- comparison: RuleComparison.as_dict() over the participant groups, with the
  ballots of the latest rank round that has any.

Floats that are not finite are stored as null (JSON has no NaN).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from workbench.analysis.comparison import RuleComparison, RuleSettings, compare_rules
from workbench.analysis.polis import AnalysisResult, GroupFigures, analyze
from workbench.analysis.polis.groups import GroupVotes, column_votes
from workbench.analysis.polis.repness import RepresentativePrinciple
from workbench.deliberation.models import Principle
from workbench.deliberation.selectors.analysis import Watermarks, unvoted_priority

FloatArray = npt.NDArray[np.float64]
Json = dict[str, Any]

MIN_PARTICIPANTS = 2
MIN_PRINCIPLES = 2
DIVISIVE_N = 5


@dataclass(frozen=True)
class PrincipleRow:
    pk: int
    external_id: str
    text: str
    status: str
    merged: bool
    is_meta: bool

    @property
    def mod_out(self) -> bool:
        return self.merged or self.status == Principle.Status.REJECTED

    @property
    def on_agenda(self) -> bool:
        return self.status == Principle.Status.APPROVED and not self.merged


@dataclass(frozen=True)
class AnalysisInputs:
    """What the analysis reads: votes (participant pk, principle pk, vote), the
    participants (pk -> external id, group name), the principles, and the ballots
    of one rank round (principle pks, best first)."""

    votes: pd.DataFrame
    participants: dict[int, tuple[str, str]]
    group_names: list[str]
    principles: dict[int, PrincipleRow]
    ballots: list[list[int]]
    watermarks: Watermarks


# JSON helpers --------------------------------------------------------------


def _f(x: object) -> float | None:
    """A JSON number: None for NaN and infinities."""
    value = float(x)  # type: ignore[arg-type]
    return value if math.isfinite(value) else None


def _finite(value: Any) -> Any:
    """`value` with every non-finite float replaced by None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _counts(votes: GroupVotes, g: int, j: int) -> dict[str, int]:
    return {
        "agree": int(votes.agree[g, j]),
        "disagree": int(votes.disagree[g, j]),
        "pass": int(votes.count[g, j] - votes.agree[g, j] - votes.disagree[g, j]),
    }


ZERO_COUNTS = {"agree": 0, "disagree": 0, "pass": 0}


def _repness_entry(entry: RepresentativePrinciple, external: str) -> Json:
    return {
        "external_id": external,
        "repful_for": entry.repful_for,
        "repness": _f(entry.repness),
        "repness_test": _f(entry.repness_test),
        "p_success": _f(entry.p_success),
        "p_test": _f(entry.p_test),
        "n_success": entry.n_success,
        "n_trials": entry.n_trials,
        "best_agree": entry.best_agree,
    }


# Figures -------------------------------------------------------------------


def divisive(analysis: AnalysisResult, n: int = DIVISIVE_N) -> list[int]:
    """Column indices of the principles the opinion groups split on most: the
    largest gap between the highest and the lowest per-group smoothed agree
    probability (A + 1) / (S + 2), among principles not moderated out that at
    least two groups voted on; ties go to the higher extremity. Only a positive
    gap counts, so with one opinion group the list is empty."""
    figures = analysis.opinion
    voted = figures.votes.count > 0
    pa = np.where(voted, figures.stats.pa, np.nan)
    enough = (voted.sum(axis=0) >= 2) & ~analysis.mod_out
    if not enough.any():
        return []
    candidates = np.flatnonzero(enough)
    gap = np.nanmax(pa[:, candidates], axis=0) - np.nanmin(pa[:, candidates], axis=0)
    positive = gap > 0
    candidates, gap = candidates[positive], gap[positive]
    order = np.lexsort((-analysis.extremity[candidates], -gap))
    return [int(j) for j in candidates[order][:n]]


@dataclass(frozen=True)
class _Context:
    inputs: AnalysisInputs
    analysis: AnalysisResult
    predefined: GroupFigures
    totals: GroupVotes  # every voter as one group
    participant_ids: list[str]  # external id per matrix row
    principle_ids: list[str]  # external id per matrix column


def _context(inputs: AnalysisInputs, analysis: AnalysisResult) -> _Context:
    if analysis.predefined is None:
        raise ValueError("the analysis needs the participant groups")
    matrix = analysis.matrix
    totals = column_votes(matrix)
    return _Context(
        inputs=inputs,
        analysis=analysis,
        predefined=analysis.predefined,
        totals=totals,
        participant_ids=[inputs.participants[int(p)][0] for p in matrix.participants],
        principle_ids=[
            inputs.principles[int(p)].external_id for p in matrix.principles
        ],
    )


def _voted_entry(ctx: _Context, j: int) -> Json:
    analysis, opinion, predefined = ctx.analysis, ctx.analysis.opinion, ctx.predefined
    row = ctx.inputs.principles[int(analysis.matrix.principles[j])]
    x, y = analysis.principle_projection[j]
    return {
        "id": row.pk,
        "external_id": row.external_id,
        "text": row.text,
        **_counts(ctx.totals, 0, j),
        "per_group": {
            str(g): _counts(opinion.votes, i, j)
            for i, g in enumerate(opinion.group_ids)
        },
        "per_participant_group": {
            str(g): _counts(predefined.votes, i, j)
            for i, g in enumerate(predefined.group_ids)
        },
        "group_aware_consensus": _f(opinion.group_aware_consensus[j]),
        "group_aware_consensus_participant_groups": _f(
            predefined.group_aware_consensus[j]
        ),
        "extremity": _f(analysis.extremity[j]),
        "x": _f(x),
        "y": _f(y),
        "priority": _f(opinion.priorities[j]),
        "mod_out": bool(analysis.mod_out[j]),
        "is_meta": row.is_meta,
        "status": row.status,
    }


def _unvoted_entry(
    row: PrincipleRow, opinion_groups: Sequence[Hashable], group_names: Sequence[str]
) -> Json:
    """A principle on the agenda nobody voted on: zero counts, Polis's figures for
    zero votes (each group contributes 1/2 to the group-aware consensus), and the
    new-principle priority, so the voting page shows it soon."""
    return {
        "id": row.pk,
        "external_id": row.external_id,
        "text": row.text,
        **ZERO_COUNTS,
        "per_group": {str(g): dict(ZERO_COUNTS) for g in opinion_groups},
        "per_participant_group": {g: dict(ZERO_COUNTS) for g in group_names},
        "group_aware_consensus": 0.5 ** len(opinion_groups),
        "group_aware_consensus_participant_groups": 0.5 ** len(group_names),
        "extremity": 0.0,
        "x": 0.0,
        "y": 0.0,
        "priority": unvoted_priority(is_meta=row.is_meta),
        "mod_out": row.is_meta,
        "is_meta": row.is_meta,
        "status": row.status,
    }


def _principles(
    inputs: AnalysisInputs, ctx: _Context | None, opinion_groups: Sequence[Hashable]
) -> list[Json]:
    voted: dict[int, Json] = {}
    if ctx is not None:
        for j, pk in enumerate(ctx.analysis.matrix.principles):
            voted[int(pk)] = _voted_entry(ctx, j)
    unvoted = {
        pk: _unvoted_entry(row, opinion_groups, inputs.group_names)
        for pk, row in inputs.principles.items()
        if pk not in voted and row.on_agenda
    }
    entries = voted | unvoted
    return [entries[pk] for pk in sorted(entries)]


def _repness(figures: GroupFigures, principle_ext: dict[int, str]) -> Json:
    return {
        str(g): [
            _repness_entry(e, principle_ext[int(e.principle)])  # type: ignore[call-overload]
            for e in entries
        ]
        for g, entries in figures.representative.items()
    }


def _map(ctx: _Context) -> Json:
    analysis = ctx.analysis
    labels = analysis.opinion.labels
    groups = [ctx.inputs.participants[int(p)][1] for p in analysis.matrix.participants]
    return {
        "participants": [
            {
                "id": ctx.participant_ids[i],
                "x": _f(x),
                "y": _f(y),
                "group": None if labels[i] < 0 else int(labels[i]),
                "participant_group": groups[i],
                "in_conv": bool(analysis.in_conv[i]),
            }
            for i, (x, y) in enumerate(analysis.participant_projection)
        ],
        "principles": [
            {"external_id": ctx.principle_ids[j], "x": _f(x), "y": _f(y)}
            for j, (x, y) in enumerate(analysis.principle_projection)
            if not analysis.mod_out[j]
        ],
    }


def _status(inputs: AnalysisInputs, analysis: AnalysisResult | None) -> tuple[str, str]:
    if analysis is None:
        return (
            "not_enough_data",
            "No votes yet: the analysis starts with the first votes.",
        )
    n_voters = len(analysis.matrix.participants)
    n_principles = int((~analysis.mod_out).sum())
    if n_voters < MIN_PARTICIPANTS:
        return "not_enough_data", (
            f"Only {n_voters} participant has voted; opinion groups need at least "
            f"{MIN_PARTICIPANTS}."
        )
    if n_principles < MIN_PRINCIPLES:
        return "not_enough_data", (
            f"Votes on {n_principles} principle so far (moderated-out ones aside); "
            f"the opinion map needs at least {MIN_PRINCIPLES}."
        )
    k = len(analysis.opinion.group_ids)
    return "ok", (
        f"{k} opinion group{'s' if k != 1 else ''} from {n_voters} participants' "
        f"{len(analysis.matrix.votes)} votes on {analysis.matrix.shape[1]} principles."
    )


# The rule comparison -------------------------------------------------------


def rule_comparison(
    inputs: AnalysisInputs,
    analysis: AnalysisResult | None,
    settings: RuleSettings | None = None,
) -> RuleComparison:
    """Every rule over the participant groups: the principles not moderated out
    that have votes, plus any the ballots rank (with their votes' counts left at
    zero when they have none). Labels are external ids and group names."""
    groups: list[Hashable] = list(inputs.group_names)
    if analysis is not None and analysis.predefined is not None:
        cols = np.flatnonzero(~analysis.mod_out)
        pks = [int(p) for p in analysis.matrix.principles[cols]]
        groups = list(analysis.predefined.group_ids)
        agree = analysis.predefined.votes.agree[:, cols].T.astype(float)
        total = analysis.predefined.votes.count[:, cols].T.astype(float)
        dense: FloatArray | None = analysis.matrix.values[:, cols]
    else:
        pks, dense = [], None
        agree = total = np.zeros((0, len(groups)))
    known = set(pks)
    ranked = list(dict.fromkeys(c for b in inputs.ballots for c in b))
    extra = [pk for pk in ranked if pk not in known and pk in inputs.principles]
    ballots = inputs.ballots if len(extra) == len(set(ranked) - known) else []
    if extra:
        pad = np.zeros((len(extra), len(groups)))
        agree, total = np.vstack([agree, pad]), np.vstack([total, pad])
        if dense is not None:
            blank = np.full((dense.shape[0], len(extra)), np.nan)
            dense = np.hstack([dense, blank])
    external = [inputs.principles[pk].external_id for pk in [*pks, *extra]]
    by_pk = dict(zip([*pks, *extra], external, strict=True))
    return compare_rules(
        agree,
        total,
        principles=external,
        groups=groups,
        ballots=[[by_pk[pk] for pk in b] for b in ballots] or None,
        votes=dense,
        settings=settings,
    )


def _rules(
    comparison: RuleComparison, shares: dict[str, float]
) -> dict[str, list[str]]:
    """Each rule's adopted principles, the strongest overall agree share first."""
    order = {p: i for i, p in enumerate(comparison.principles)}
    return {
        outcome.rule: sorted(
            (str(p) for p in outcome.adopted),
            key=lambda p: (-shares.get(p, 0.0), order[p]),
        )
        for outcome in comparison.outcomes
    }


# The result ----------------------------------------------------------------


def _header(
    inputs: AnalysisInputs,
    analysis: AnalysisResult | None,
    computed_at: datetime,
    principles: list[Json],
) -> Json:
    status, message = _status(inputs, analysis)
    return {
        "computed_at": computed_at.isoformat(),
        "n_votes": len(inputs.votes),
        "n_participants": 0 if analysis is None else len(analysis.matrix.participants),
        "n_principles": len(principles),
        "status": status,
        "message": message,
    }


def _empty_figures(inputs: AnalysisInputs) -> Json:
    return {
        "participants": {},
        "groups": {},
        "consensus": {"agree": [], "disagree": []},
        "divisive": [],
        "repness": {},
        "repness_participant_groups": {g: [] for g in inputs.group_names},
        "map": {"participants": [], "principles": []},
    }


def _figures(ctx: _Context) -> Json:
    analysis = ctx.analysis
    opinion = analysis.opinion
    principle_ext = {
        int(pk): ext
        for pk, ext in zip(analysis.matrix.principles, ctx.principle_ids, strict=True)
    }
    consensus = analysis.consensus
    return {
        "participants": {
            ext: None if label < 0 else int(label)
            for ext, label in zip(ctx.participant_ids, opinion.labels, strict=True)
        },
        "groups": {
            str(g): int(n)
            for g, n in zip(opinion.group_ids, opinion.votes.n_members, strict=True)
        },
        "consensus": {
            side: [principle_ext[int(c.principle)] for c in entries]  # type: ignore[call-overload]
            for side, entries in (
                ("agree", consensus.agree),
                ("disagree", consensus.disagree),
            )
        },
        "divisive": [ctx.principle_ids[j] for j in divisive(analysis)],
        "repness": _repness(opinion, principle_ext),
        "repness_participant_groups": _repness(ctx.predefined, principle_ext),
        "map": _map(ctx),
    }


def analysis_result(
    inputs: AnalysisInputs, *, computed_at: datetime
) -> tuple[Json, dict[str, float]]:
    """The stored result (module docstring) and the routing priorities by
    principle pk (as str)."""
    analysis: AnalysisResult | None = None
    ctx: _Context | None = None
    if not inputs.votes.empty:
        rows = inputs.principles.values()
        analysis = analyze(
            inputs.votes,
            mod_out=[r.pk for r in rows if r.mod_out],
            meta=[r.pk for r in rows if r.is_meta],
            groups={pk: group for pk, (_, group) in inputs.participants.items()},
        )
        ctx = _context(inputs, analysis)
    opinion_groups = [] if analysis is None else analysis.opinion.group_ids
    principles = _principles(inputs, ctx, opinion_groups)
    comparison = rule_comparison(inputs, analysis)
    shares = {
        p["external_id"]: p["agree"] / n
        for p in principles
        if (n := p["agree"] + p["disagree"] + p["pass"])
    }
    result = {
        **_header(inputs, analysis, computed_at, principles),
        **(_empty_figures(inputs) if ctx is None else _figures(ctx)),
        "principles": principles,
        "rules": _rules(comparison, shares),
        "comparison": _finite(comparison.as_dict()),
    }
    routing = {
        str(p["id"]): p["priority"] for p in principles if p["priority"] is not None
    }
    return result, routing
