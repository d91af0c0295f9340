"""What the facilitator's live panel and the room's presentation show: who joined,
who took part in each open round, how many answers each open round has, the
moderation queue and the latest judge run.

Everything is read in a fixed number of aggregate queries (one per kind of open
round, plus four), however many participants, votes or rounds there are."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from workbench.cards.models import CardReview
from workbench.deliberation.models import (
    Principle,
    RankingBallot,
    Round,
    Vote,
    Workshop,
)
from workbench.judging.models import HumanJudgment, JudgeRun, RunStatus
from workbench.judging.selectors import FINAL_STATUSES


@dataclass(frozen=True)
class GroupLive:
    group_id: int
    name: str
    joined: int


@dataclass
class RoundLive:
    """An open round: its answers (votes, proposals, ...), and the people who gave
    them, in total and per participant group."""

    round: Round
    accepting: bool
    answers: int = 0
    people: int = 0
    people_per_group: dict[int, int] = field(default_factory=dict)

    def people_in(self, group_id: int) -> int:
        return self.people_per_group.get(group_id, 0)


@dataclass(frozen=True)
class JudgeRunLive:
    pk: int
    status: str
    done: int
    failed: int
    total: int

    @property
    def percent(self) -> int:
        if not self.total:
            return 100
        return round(100 * (self.done + self.failed) / self.total)

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def status_label(self) -> str:
        return str(RunStatus(self.status).label)


@dataclass
class LiveDashboard:
    groups: list[GroupLive]
    open_rounds: list[RoundLive]
    pending: int
    judge_run: JudgeRunLive | None

    @property
    def joined(self) -> int:
        return sum(group.joined for group in self.groups)

    @property
    def group_rows(self) -> list[tuple[GroupLive, list[int]]]:
        """Each group with the people who took part in each open round, in the
        order of `open_rounds`."""
        return [
            (group, [r.people_in(group.group_id) for r in self.open_rounds])
            for group in self.groups
        ]

    @property
    def fingerprint(self) -> str:
        """Changes whenever any figure shown changes: a poll that brings the same
        fingerprint back is answered with "no change"."""
        figures: list[Any] = [self.pending, self.judge_run]
        figures += [(g.group_id, g.name, g.joined) for g in self.groups]
        figures += [
            (
                r.round.pk,
                r.round.title,
                r.accepting,
                r.answers,
                sorted(r.people_per_group.items()),
            )
            for r in self.open_rounds
        ]
        return hashlib.sha256(repr(figures).encode()).hexdigest()[:16]


def _answer_rows(kind: str, round_ids: list[int]) -> list[tuple[int, int, int, int]]:
    """(round_id, group_id, answers, people) rows for the open rounds of a kind."""
    base: QuerySet[Any]
    if kind == Round.Kind.VOTE:
        base = Vote.objects.filter(round_id__in=round_ids)
        keys = {"round_key": "round_id", "group_key": "participant__group_id"}
        person = "participant_id"
    elif kind == Round.Kind.PROPOSE:
        base = Principle.objects.filter(round_id__in=round_ids, author__isnull=False)
        keys = {"round_key": "round_id", "group_key": "author__group_id"}
        person = "author_id"
    elif kind == Round.Kind.RANK:
        base = RankingBallot.objects.filter(round_id__in=round_ids)
        keys = {"round_key": "round_id", "group_key": "participant__group_id"}
        person = "participant_id"
    elif kind == Round.Kind.COMPARE:
        base = HumanJudgment.objects.filter(
            item__comparison_set__round_id__in=round_ids
        )
        keys = {
            "round_key": "item__comparison_set__round_id",
            "group_key": "participant__group_id",
        }
        person = "participant_id"
    else:
        base = CardReview.objects.filter(round_id__in=round_ids)
        keys = {"round_key": "round_id", "group_key": "participant__group_id"}
        person = "participant_id"
    rows = (
        base.values(keys["round_key"], keys["group_key"])
        .annotate(answers=Count("id"), people=Count(person, distinct=True))
        .values_list(keys["round_key"], keys["group_key"], "answers", "people")
        .order_by()
    )
    return [(int(r), int(g), int(a), int(p)) for r, g, a, p in rows]


def _judge_run_latest(workshop: Workshop) -> JudgeRunLive | None:
    row = (
        JudgeRun.objects.filter(comparison_set__workshop=workshop)
        .order_by("-created_at", "-id")
        .values_list(
            "pk", "status", "verdicts_done", "verdicts_failed", "verdicts_total"
        )
        .first()
    )
    if row is None:
        return None
    pk, status, done, failed, total = row
    return JudgeRunLive(pk=pk, status=status, done=done, failed=failed, total=total)


def live_dashboard(*, workshop: Workshop) -> LiveDashboard:
    """The live panel's figures, read now."""
    now = timezone.now()
    rounds = list(
        workshop.rounds.filter(status=Round.Status.OPEN)
        .select_related("group")
        .order_by("position", "created_at")
    )
    open_rounds = {
        r.pk: RoundLive(round=r, accepting=r.is_open_at(now)) for r in rounds
    }
    groups = [
        GroupLive(group_id=g.pk, name=g.name, joined=g.n_participants)
        for g in workshop.groups.annotate(n_participants=Count("participants"))
        .only("pk", "name")
        .order_by("name")
    ]
    by_kind: dict[str, list[int]] = defaultdict(list)
    for r in rounds:
        by_kind[r.kind].append(r.pk)
    for kind, round_ids in sorted(by_kind.items()):
        for round_id, group_id, answers, people in _answer_rows(kind, round_ids):
            live = open_rounds[round_id]
            live.answers += answers
            live.people += people
            live.people_per_group[group_id] = people
    pending = workshop.principles.filter(
        status=Principle.Status.PENDING, merged_into__isnull=True
    ).count()
    return LiveDashboard(
        groups=groups,
        open_rounds=list(open_rounds.values()),
        pending=pending,
        judge_run=_judge_run_latest(workshop),
    )
