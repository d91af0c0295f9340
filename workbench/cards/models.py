"""Value cards: what is stored besides the records a card is built from.

A card itself is never stored: `cards.services` assembles it from the workshop's
votes, ballots, judgments, verdicts, analyses and constitutions every time, so it
cannot drift from them. Two things are not in those records and live here:

* the narrative a facilitator writes for the legitimacy section (recruitment,
  representativeness, deliberation design, limitations), shown on every card marked
  as written by the facilitator;
* the outcome of a review round: each group representative's endorsement of, or
  objection to, the wording of a principle's card or of the constitution's card
  (STELA's validation step).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from workbench.core.models import BaseModel
from workbench.deliberation.models import (
    Constitution,
    Participant,
    Principle,
    PrincipleVersion,
    Round,
    Workshop,
)


class CardNarrative(BaseModel):
    """The facilitator-written fields of a workshop's value cards."""

    workshop = models.OneToOneField(
        Workshop, on_delete=models.CASCADE, related_name="card_narrative"
    )
    recruitment = models.TextField(
        blank=True, help_text="How participants were found and invited."
    )
    representativeness = models.TextField(
        blank=True, help_text="Whom the participants represent, and whom they miss."
    )
    deliberation_design = models.TextField(
        blank=True, help_text="How the rounds were designed, and why."
    )
    limitations = models.TextField(
        blank=True, help_text="What the cards cannot support."
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    def __str__(self) -> str:
        return f"narrative of {self.workshop_id}"


class ReviewVerdict(models.TextChoices):
    ENDORSE = "endorse", _("Endorse")
    OBJECT = "object", _("Object")


class CardReview(models.Model):
    """One participant's endorsement of, or objection to, one card's wording in a
    review round: a principle's card (with the version they read) or the card of a
    published constitution. One per participant per card per round; changing one's
    mind updates it (``updated_at``)."""

    Verdict = ReviewVerdict

    round = models.ForeignKey(
        Round,
        on_delete=models.CASCADE,
        related_name="card_reviews",
        limit_choices_to={"kind": Round.Kind.REVIEW},
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="card_reviews"
    )
    principle = models.ForeignKey(
        Principle,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="card_reviews",
    )
    principle_version = models.ForeignKey(
        PrincipleVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="card_reviews",
        help_text="The wording the participant reviewed.",
    )
    constitution = models.ForeignKey(
        Constitution,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="card_reviews",
    )
    verdict = models.CharField(max_length=8, choices=ReviewVerdict.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(principle__isnull=False, constitution__isnull=True)
                    | Q(principle__isnull=True, constitution__isnull=False)
                ),
                name="card_review_one_subject",
            ),
            models.CheckConstraint(
                condition=(
                    Q(principle__isnull=True) | Q(principle_version__isnull=False)
                ),
                name="card_review_principle_has_version",
            ),
            models.CheckConstraint(
                condition=Q(verdict__in=ReviewVerdict.values),
                name="card_review_verdict_valid",
            ),
            models.UniqueConstraint(
                fields=["round", "participant", "principle"],
                condition=Q(principle__isnull=False),
                name="one_review_per_participant_principle",
            ),
            models.UniqueConstraint(
                fields=["round", "participant", "constitution"],
                condition=Q(constitution__isnull=False),
                name="one_review_per_participant_constitution",
            ),
        ]

    def __str__(self) -> str:
        subject = (
            f"principle {self.principle_id}"
            if self.principle_id
            else f"constitution {self.constitution_id}"
        )
        return f"{self.participant_id} {self.verdict}s {subject}"
