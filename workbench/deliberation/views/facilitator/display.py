"""Vote counts shaped for the bar-and-number rows the facilitator's pages show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.deliberation.selectors.results import PrincipleTally


def _percent(part: int, whole: int) -> str:
    # A plain string keeps the decimal point whatever the locale, for inline CSS.
    return f"{100 * part / whole:.1f}" if whole else "0"


@dataclass(frozen=True)
class BarRow:
    label: str
    agree: int
    disagree: int
    passes: int
    agree_share: float | None = None

    @property
    def total(self) -> int:
        return self.agree + self.disagree + self.passes

    @property
    def agree_pct(self) -> str:
        return _percent(self.agree, self.total)

    @property
    def disagree_pct(self) -> str:
        return _percent(self.disagree, self.total)

    @property
    def pass_pct(self) -> str:
        return _percent(self.passes, self.total)


@dataclass(frozen=True)
class PrincipleBars:
    principle_id: int
    text: str
    overall: BarRow
    groups: list[BarRow]
    status: str = ""
    merged: bool = False
    adopted: bool = False


def bars_from_tally(
    tally: PrincipleTally, group_names: dict[int, str]
) -> PrincipleBars:
    principle = tally.principle
    groups = [
        BarRow(name, counts["agree"], counts["disagree"], counts["pass"])
        for gid, name in group_names.items()
        if (counts := tally.per_group.get(gid))
    ]
    return PrincipleBars(
        principle_id=principle.pk,
        text=principle.text,
        overall=BarRow("", tally.agree, tally.disagree, tally.passes),
        groups=groups,
        status="" if principle.is_votable else principle.get_status_display(),
        merged=principle.merged_into_id is not None,
    )


def bars_from_figures(figure: dict[str, Any]) -> PrincipleBars:
    """From one principle's figures in a constitution preview or snapshot."""
    groups = [
        BarRow(
            name,
            counts["agree"],
            counts["disagree"],
            counts["pass"],
            counts.get("agree_share"),
        )
        for name, counts in figure["per_group"].items()
    ]
    return PrincipleBars(
        principle_id=figure["id"],
        text=figure["text"],
        overall=BarRow("", figure["agree"], figure["disagree"], figure["pass"]),
        groups=groups,
        adopted=figure["adopted"],
    )
