"""Coverage of a compare round, for the facilitator: judgments per item per group."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from workbench.deliberation.models import ParticipantGroup, Round
from workbench.judging.models import ComparisonItem, HumanJudgment


@dataclass(frozen=True)
class CoverageRow:
    item: ComparisonItem
    per_group: list[int]  # aligned with Coverage.groups
    total: int  # every judgment on the item, from any group (imported ones too)


@dataclass(frozen=True)
class Coverage:
    groups: list[ParticipantGroup]
    rows: list[CoverageRow]

    @property
    def minimum_per_group(self) -> list[int]:
        """Per group, the fewest judgments any item has from it (0 with no items)."""
        return [
            min((row.per_group[i] for row in self.rows), default=0)
            for i in range(len(self.groups))
        ]


def compare_coverage(*, round_: Round) -> Coverage:
    """Per item of the round's comparison set, its judgments from each group in the
    round's scope (the round's group, or every group of the workshop)."""
    if round_.scope == Round.Scope.GROUP and round_.group is not None:
        groups = [round_.group]
    else:
        groups = list(ParticipantGroup.objects.filter(workshop_id=round_.workshop_id))
    items = list(
        ComparisonItem.objects.filter(comparison_set__round=round_)
        .select_related("principle_version", "prompt")
        .order_by("id")
    )
    counts: dict[tuple[int, int], int] = {}
    totals: dict[int, int] = {}
    for item_id, group_id, n in (
        HumanJudgment.objects.filter(item__in=items)
        .values_list("item_id", "participant__group_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[item_id, group_id] = n
        totals[item_id] = totals.get(item_id, 0) + n
    rows = [
        CoverageRow(
            item=item,
            per_group=[counts.get((item.pk, group.pk), 0) for group in groups],
            total=totals.get(item.pk, 0),
        )
        for item in items
    ]
    return Coverage(groups=groups, rows=rows)
