"""Vote tallies, read in a few aggregate queries, shaped for the analysis code."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from django.db.models import Count, Max, Q

from workbench.core.text_order import text_order
from workbench.deliberation.models import Participant, Principle, Vote, Workshop


@dataclass
class GroupParticipation:
    group_id: int
    name: str
    participants: int
    voters: int
    votes: int


def participation_by_group(*, workshop: Workshop) -> list[GroupParticipation]:
    rows = workshop.groups.annotate(
        n_participants=Count("participants", distinct=True),
        n_voters=Count(
            "participants", filter=Q(participants__votes__isnull=False), distinct=True
        ),
    ).order_by(text_order("name"), "pk")
    votes = dict(
        Vote.objects.filter(participant__workshop=workshop)
        .values("participant__group_id")
        .annotate(n=Count("id"))
        .values_list("participant__group_id", "n")
    )
    return [
        GroupParticipation(
            group_id=g.pk,
            name=g.name,
            participants=g.n_participants,
            voters=g.n_voters,
            votes=votes.get(g.pk, 0),
        )
        for g in rows
    ]


def vote_counts_frame(*, workshop: Workshop) -> pd.DataFrame:
    """One row per (principle, group, choice) with the number of current votes.

    Columns: principle_id, group_id, choice, n. Empty frame (same columns) if no votes.
    """
    rows = (
        Vote.objects.filter(participant__workshop=workshop)
        .values("principle_id", "participant__group_id", "choice")
        .annotate(n=Count("id"))
        .order_by()
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["principle_id", "participant__group_id", "choice", "n"]
    )
    return frame.rename(columns={"participant__group_id": "group_id"})


@dataclass
class PrincipleTally:
    principle: Principle
    agree: int = 0
    disagree: int = 0
    passes: int = 0
    per_group: dict[int, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.agree + self.disagree + self.passes


CHOICE_KEYS = {1: "agree", -1: "disagree", 0: "pass"}


def principle_tallies(
    *, workshop: Workshop, include_unvoted: bool = True
) -> list[PrincipleTally]:
    """Agree / disagree / pass per principle, overall and per participant group."""
    principles = (
        workshop.principles.select_related("merged_into")
        .annotate(n_versions=Count("versions"))
        .order_by("created_at", "id")
    )
    tallies = {p.pk: PrincipleTally(principle=p) for p in principles}
    group_ids = list(workshop.groups.values_list("pk", flat=True))
    for tally in tallies.values():
        tally.per_group = {
            gid: {"agree": 0, "disagree": 0, "pass": 0} for gid in group_ids
        }
    counts = (
        Vote.objects.filter(participant__workshop=workshop)
        .values_list("principle_id", "participant__group_id", "choice")
        .annotate(n=Count("id"))
        .order_by()
    )
    for principle_id, group_id, choice, n in counts:
        tally = tallies[principle_id]
        key = CHOICE_KEYS[choice]
        tally.per_group[group_id][key] += n
        if key == "agree":
            tally.agree += n
        elif key == "disagree":
            tally.disagree += n
        else:
            tally.passes += n
    result = list(tallies.values())
    if not include_unvoted:
        result = [t for t in result if t.total]
    return result


def last_vote_at(*, workshop: Workshop) -> object:
    return Vote.objects.filter(participant__workshop=workshop).aggregate(
        m=Max("cast_at")
    )["m"]


def participant_count(*, workshop: Workshop) -> int:
    return Participant.objects.filter(workshop=workshop).count()
