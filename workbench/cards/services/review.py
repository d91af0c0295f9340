"""Review rounds: group representatives endorse or object to the wording of each
card before it is final (STELA's validation step), and the outcome each card shows."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from workbench.cards.models import CardReview, ReviewVerdict
from workbench.cards.selectors import principle_version_current, review_subjects
from workbench.core.errors import ApplicationError, NotAvailableError
from workbench.core.text_order import text_order
from workbench.deliberation.models import (
    Constitution,
    Participant,
    ParticipantGroup,
    Principle,
    Round,
)
from workbench.deliberation.services.rounds import round_hold_for_input

COMMENT_MAX_LENGTH = 1000

ENDORSED = "endorsed"
OBJECTED = "objected"
MIXED = "mixed"
NOT_REVIEWED = "not reviewed"


@transaction.atomic
def card_review_submit(
    *,
    participant: Participant,
    round_: Round,
    verdict: str,
    comment: str = "",
    principle: Principle | None = None,
    constitution: Constitution | None = None,
) -> CardReview:
    """Stores the participant's endorsement of, or objection to, one card of the
    round: once per card, a later submission replaces the verdict and comment (so a
    double submit stores the same row twice over and changes nothing).

    Holds the round's input lock, shared (a close waits for this, or this sees the
    round closed), and the participant's, exclusive (their submissions are stored one
    after another, so two at once cannot both insert). Raises NotAvailableError for a
    round or card the participant cannot see, ApplicationError for a closed round or
    bad input."""
    if (principle is None) == (constitution is None):
        raise ApplicationError(gettext("Review one card at a time."))
    round_ = round_hold_for_input(round_=round_, participant_id=participant.pk)
    if (
        round_.workshop_id != participant.workshop_id
        or round_.kind != Round.Kind.REVIEW
        or round_.status == Round.Status.DRAFT
        or not round_.admits_group(participant.group_id)
    ):
        raise NotAvailableError(gettext("This activity is not available to you."))
    if not round_.is_open_at(timezone.now()):
        raise ApplicationError(
            gettext("This activity is not open, so nothing was saved.")
        )
    if verdict not in ReviewVerdict.values:
        raise ApplicationError(gettext("Choose Endorse or Object."))
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ApplicationError(
            gettext("Please keep your comment under %(limit)s characters.")
            % {"limit": COMMENT_MAX_LENGTH}
        )
    subjects = review_subjects(round_=round_)
    defaults: dict[str, Any] = {"verdict": verdict, "comment": comment}
    if principle is not None:
        if principle.pk not in {p.pk for p in subjects.principles}:
            raise NotAvailableError(
                gettext("This principle is not part of this review.")
            )
        # The wording the participant read: the current version, re-read under the
        # locks so that an edit committed meanwhile is what gets recorded.
        defaults["principle_version"] = principle_version_current(
            principle_id=principle.pk
        )
        review, _ = CardReview.objects.update_or_create(
            round=round_,
            participant=participant,
            principle_id=principle.pk,
            defaults=defaults,
        )
        return review
    if constitution is None or subjects.constitution != constitution:
        raise NotAvailableError(
            gettext("This constitution is not part of this review.")
        )
    review, _ = CardReview.objects.update_or_create(
        round=round_,
        participant=participant,
        constitution_id=constitution.pk,
        defaults=defaults,
    )
    return review


def review_status(per_group: dict[str, dict[str, int]]) -> str:
    """The outcome from the counts of each group that reviewed:

    * "objected": more than half of all reviewers object;
    * "endorsed": in every group that reviewed, more than half endorse;
    * "mixed": anything else (a tie in a group, or one group against);
    * "not reviewed": nobody reviewed.

    The first two cannot both hold: a majority in every group is a majority overall.
    """
    reviewed = {g: c for g, c in per_group.items() if c["endorse"] + c["object"]}
    if not reviewed:
        return NOT_REVIEWED
    endorse = sum(c["endorse"] for c in reviewed.values())
    object_ = sum(c["object"] for c in reviewed.values())
    if 2 * object_ > endorse + object_:
        return OBJECTED
    if all(2 * c["endorse"] > c["endorse"] + c["object"] for c in reviewed.values()):
        return ENDORSED
    return MIXED


def _latest_round(
    *, principle: Principle | None, constitution: Constitution | None
) -> Round | None:
    """The latest review round (in the facilitator's order) that covered the card:
    a principle on its shortlist, a constitution that was the latest when it opened,
    or any card someone reviewed in it."""
    rounds = Round.objects.filter(kind=Round.Kind.REVIEW).exclude(
        status=Round.Status.DRAFT
    )
    if principle is not None:
        rounds = rounds.filter(workshop_id=principle.workshop_id).filter(
            Q(shortlist=principle) | Q(card_reviews__principle=principle)
        )
    elif constitution is not None:
        covered = Q(opened_at__gte=constitution.published_at)
        later = (
            Constitution.objects.filter(
                workshop_id=constitution.workshop_id,
                published_at__gt=constitution.published_at,
            )
            .order_by("published_at")
            .first()
        )
        if later is not None:
            covered &= Q(opened_at__lt=later.published_at)
        rounds = rounds.filter(workshop_id=constitution.workshop_id).filter(
            covered | Q(card_reviews__constitution=constitution)
        )
    return rounds.distinct().order_by("-position", "-created_at", "-pk").first()


def _groups_of(round_: Round) -> list[str]:
    groups = ParticipantGroup.objects.filter(workshop_id=round_.workshop_id)
    if round_.scope == Round.Scope.GROUP and round_.group_id is not None:
        groups = groups.filter(pk=round_.group_id)
    return list(
        groups.order_by(text_order("name"), "pk").values_list("name", flat=True)
    )


def card_review_summary(
    *, principle: Principle | None = None, constitution: Constitution | None = None
) -> dict[str, Any]:
    """The outcome of the latest review round that covered the card (one of
    `principle`, `constitution`): {"status", "round": {id, title, closed_at} | None,
    "endorse", "object", "per_group": {group name: {endorse, object}} (every group the
    round was for), "comments": [{group, verdict, comment}]}. Comments are the
    participants' own text, unescaped: whatever shows them escapes them."""
    if (principle is None) == (constitution is None):
        raise ValueError("Pass exactly one of principle and constitution.")
    round_ = _latest_round(principle=principle, constitution=constitution)
    if round_ is None:
        return {
            "status": NOT_REVIEWED,
            "round": None,
            "endorse": 0,
            "object": 0,
            "per_group": {},
            "comments": [],
        }
    reviews = CardReview.objects.filter(round=round_)
    if principle is not None:
        reviews = reviews.filter(principle=principle)
    else:
        reviews = reviews.filter(constitution=constitution)
    rows = list(
        reviews.order_by("created_at", "id").values_list(
            "participant__group__name", "verdict", "comment"
        )
    )
    per_group = {name: {"endorse": 0, "object": 0} for name in _groups_of(round_)}
    for group, verdict, _comment in rows:
        per_group.setdefault(group, {"endorse": 0, "object": 0})[verdict] += 1
    totals = Counter(verdict for _group, verdict, _comment in rows)
    return {
        "status": review_status(per_group),
        "round": {
            "id": round_.pk,
            "title": round_.title,
            "closed_at": round_.closed_at.isoformat() if round_.closed_at else None,
        },
        "endorse": totals[ReviewVerdict.ENDORSE],
        "object": totals[ReviewVerdict.OBJECT],
        "per_group": per_group,
        "comments": [
            {"group": group, "verdict": verdict, "comment": comment}
            for group, verdict, comment in rows
            if comment
        ],
    }
