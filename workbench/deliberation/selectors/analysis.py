"""The stored opinion analysis (services/analysis.py computes it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
from django.db.models import Max, OuterRef, QuerySet, Subquery

from workbench.analysis.polis.groups import GroupVotes
from workbench.analysis.polis.priority import priorities
from workbench.deliberation.models import (
    ModerationEvent,
    RankingBallot,
    Round,
    VoteRecord,
    Workshop,
    WorkshopAnalysis,
)


def analysis_latest(
    *, workshop: Workshop, include_failed: bool = False
) -> WorkshopAnalysis | None:
    """The newest stored run (by when it read the data); failed runs only when
    asked for, so pages keep the last good figures."""
    runs = WorkshopAnalysis.objects.filter(workshop=workshop)
    if not include_failed:
        runs = runs.filter(error="")
    return runs.order_by("-computed_at", "-id").first()


def _newest(rows: QuerySet[Any], key: str, column: str) -> Subquery:
    return Subquery(rows.values(key).annotate(m=Max(column)).values("m"))


@dataclass(frozen=True)
class Watermarks:
    """The newest vote record id, moderation event id and ballot change."""

    votes: int | None
    moderation: int | None
    ballots: datetime | None


def analysis_watermarks(*, workshop_id: int) -> Watermarks:
    """The workshop's watermarks now, in one query."""
    current = (
        Workshop.objects.filter(pk=workshop_id)
        .annotate(
            votes=_newest(
                VoteRecord.objects.filter(participant__workshop_id=OuterRef("pk")),
                "participant__workshop_id",
                "id",
            ),
            moderation=_newest(
                ModerationEvent.objects.filter(workshop_id=OuterRef("pk")),
                "workshop_id",
                "id",
            ),
            ballots=_newest(
                RankingBallot.objects.filter(round__workshop_id=OuterRef("pk")),
                "round__workshop_id",
                "updated_at",
            ),
        )
        .values_list("votes", "moderation", "ballots")
        .first()
    )
    return Watermarks(*(current or (None, None, None)))


def analysis_is_stale(
    *, workshop: Workshop, analysis: WorkshopAnalysis | None = None
) -> bool:
    """Whether a vote, a moderation action or a ballot came after the run read the
    data (the latest successful run when none is given); True without any run."""
    analysis = analysis or analysis_latest(workshop=workshop)
    if analysis is None:
        return True
    seen = Watermarks(
        analysis.vote_watermark,
        analysis.moderation_watermark,
        analysis.ballot_watermark,
    )
    return seen != analysis_watermarks(workshop_id=workshop.pk)


def analysis_priorities(*, workshop_id: int) -> dict[int, float] | None:
    """Principle pk -> routing priority from the latest successful run, or None
    without one. Reads only the small priorities column, not the result."""
    stored = (
        WorkshopAnalysis.objects.filter(workshop_id=workshop_id, error="")
        .order_by("-computed_at", "-id")
        .values_list("priorities", flat=True)
        .first()
    )
    if stored is None:
        return None
    return {int(pk): float(value) for pk, value in stored.items()}


def analysis_ballots(*, workshop_id: int) -> list[list[int]]:
    """The ballots of the latest rank round that has any, those ranking the
    candidate set most of them rank (a ballot from before a shortlist change would
    rank another set, which the social-choice rules cannot mix)."""
    rows = list(
        RankingBallot.objects.filter(
            round__workshop_id=workshop_id, round__kind=Round.Kind.RANK
        )
        .order_by("-round__position", "-round__created_at", "-round_id", "id")
        .values_list("round_id", "ranking")
    )
    if not rows:
        return []
    latest = rows[0][0]
    ballots = [[int(pk) for pk in ranking] for rid, ranking in rows if rid == latest]
    common, _ = Counter(frozenset(b) for b in ballots).most_common(1)[0]
    return [b for b in ballots if frozenset(b) == common]


@cache
def unvoted_priority(*, is_meta: bool = False) -> float:
    """Polis's priority of a principle nobody voted on yet: the new-comment boost
    makes it (0.5 · 0.5 · 9)² ≈ 5.06 (a meta principle 7²). Also the weight of a
    principle newer than the latest run."""
    zeros = np.zeros((1, 1), dtype=np.int64)
    votes = GroupVotes(agree=zeros, disagree=zeros, count=zeros, n_members=zeros[0])
    return float(priorities(votes, np.zeros(1), np.array([is_meta]))[0])
