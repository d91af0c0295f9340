"""Reads for value cards: what a review round covers, a participant's reviews, and
the facilitator's narrative."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from workbench.cards.models import CardNarrative, CardReview
from workbench.deliberation.models import (
    Constitution,
    Participant,
    Principle,
    PrincipleVersion,
    Round,
    Workshop,
)

NARRATIVE_FIELDS = (
    "recruitment",
    "representativeness",
    "deliberation_design",
    "limitations",
)


@dataclass(frozen=True)
class ReviewSubjects:
    """What a review round asks its participants to endorse or object to."""

    principles: list[Principle]
    constitution: Constitution | None

    def __bool__(self) -> bool:
        return bool(self.principles) or self.constitution is not None


def constitution_latest(*, workshop_id: int) -> Constitution | None:
    return (
        Constitution.objects.filter(workshop_id=workshop_id)
        .order_by("-published_at", "-pk")
        .first()
    )


def review_subjects(*, round_: Round) -> ReviewSubjects:
    """The round's shortlist (each principle's current wording) and the workshop's
    latest published constitution. An empty shortlist stands for the principles that
    constitution adopted, so a round opened straight after publishing reviews it all.
    Principles merged away or no longer approved drop out: their card is not final."""
    constitution = constitution_latest(workshop_id=round_.workshop_id)
    principles = Principle.objects.filter(
        workshop_id=round_.workshop_id,
        status=Principle.Status.APPROVED,
        merged_into__isnull=True,
    )
    if round_.shortlist.exists():
        principles = principles.filter(shortlisted_in=round_)
    elif constitution is not None:
        principles = principles.filter(
            pk__in=[entry["id"] for entry in constitution.principles]
        )
    else:
        principles = principles.none()
    return ReviewSubjects(
        principles=list(principles.order_by("created_at", "id")),
        constitution=constitution,
    )


def principle_version_current(*, principle_id: int) -> PrincipleVersion | None:
    return (
        PrincipleVersion.objects.filter(principle_id=principle_id)
        .order_by("-number")
        .first()
    )


def reviews_of_participant(
    *, participant: Participant, round_: Round
) -> dict[tuple[str, int], CardReview]:
    """The participant's reviews in the round, keyed by ("principle" | "constitution",
    subject id)."""
    reviews = CardReview.objects.filter(participant=participant, round=round_)
    keyed: dict[tuple[str, int], CardReview] = {}
    for review in reviews:
        if review.principle_id is not None:
            keyed[("principle", review.principle_id)] = review
        elif review.constitution_id is not None:
            keyed[("constitution", review.constitution_id)] = review
    return keyed


def review_rounds_for_workshop(*, workshop: Workshop) -> QuerySet[Round]:
    return (
        workshop.rounds.filter(kind=Round.Kind.REVIEW)
        .select_related("group")
        .prefetch_related(
            Prefetch("shortlist", queryset=Principle.objects.order_by("created_at"))
        )
        .order_by("position", "created_at")
    )


def card_narrative_get(*, workshop: Workshop) -> CardNarrative | None:
    return CardNarrative.objects.filter(workshop=workshop).first()


def card_narrative_for_card(*, workshop: Workshop) -> dict[str, Any]:
    """The narrative as a card's legitimacy section shows it: the four fields (empty
    strings when never written), marked as the facilitator's own words."""
    narrative = card_narrative_get(workshop=workshop)
    fields = {
        name: getattr(narrative, name) if narrative else "" for name in NARRATIVE_FIELDS
    }
    return {**fields, "written_by": "facilitator"}
