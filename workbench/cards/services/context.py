"""What every card of a workshop reads, loaded once per workshop: the latest
good analysis, the encoding-gap report (the same call `encoding_gap --json`
makes), the latest published constitution, the facilitator's narrative."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.cards.selectors import card_narrative_for_card
from workbench.deliberation.models import Constitution, ParticipantGroup, Workshop
from workbench.deliberation.selectors.analysis import analysis_latest
from workbench.judging.services.encoding_gap import encoding_gap_report


@dataclass(frozen=True)
class CardContext:
    workshop: Workshop
    analysis: dict[str, Any] | None
    analysis_computed_at: str | None
    encoding_gap: dict[str, Any]
    constitution: Constitution | None
    narrative: dict[str, Any]
    group_names: dict[int, str]


def card_context(*, workshop: Workshop) -> CardContext:
    analysis = analysis_latest(workshop=workshop)
    return CardContext(
        workshop=workshop,
        analysis=analysis.result if analysis is not None else None,
        analysis_computed_at=analysis.computed_at.isoformat() if analysis else None,
        encoding_gap=encoding_gap_report(workshop=workshop),
        constitution=Constitution.objects.filter(workshop=workshop)
        .order_by("-published_at", "-id")
        .first(),
        narrative=card_narrative_for_card(workshop=workshop),
        group_names=dict(
            ParticipantGroup.objects.filter(workshop=workshop).values_list("pk", "name")
        ),
    )
