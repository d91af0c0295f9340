"""Reads for the facilitator's pages. Each takes a workshop that the caller already
fetched with `workshop_get_for_user`, so everything here is scoped to its owner."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from workbench.accounts.models import User
from workbench.core.text_order import text_order
from workbench.deliberation.models import (
    Constitution,
    ModerationEvent,
    ParticipantGroup,
    Principle,
    PrincipleVersion,
    Round,
    Workshop,
)


def group_list_for_workshop(*, workshop: Workshop) -> QuerySet[ParticipantGroup]:
    return workshop.groups.annotate(
        n_participants=Count("participants", distinct=True)
    ).order_by(text_order("name"), "pk")


def round_list_for_workshop(*, workshop: Workshop) -> QuerySet[Round]:
    return workshop.rounds.select_related("group").order_by("position", "created_at")


def principle_list_pending(*, workshop: Workshop) -> QuerySet[Principle]:
    """The moderation queue: pending principles not folded into another one."""
    return (
        workshop.principles.filter(
            status=Principle.Status.PENDING, merged_into__isnull=True
        )
        .select_related("group", "round")
        .order_by("created_at", "id")
    )


def principle_list_merge_targets(*, workshop: Workshop) -> QuerySet[Principle]:
    """Principles a duplicate may be merged into: not rejected and not merged."""
    return (
        workshop.principles.filter(merged_into__isnull=True)
        .exclude(status=Principle.Status.REJECTED)
        .order_by("created_at", "id")
    )


def principle_list_shortlist_candidates(*, round_: Round) -> QuerySet[Principle]:
    """Approved, unmerged principles in the round's scope, for its shortlist."""
    votable = Principle.objects.filter(
        workshop_id=round_.workshop_id,
        status=Principle.Status.APPROVED,
        merged_into__isnull=True,
    )
    if round_.scope == Round.Scope.GROUP:
        votable = votable.filter(Q(group_id=round_.group_id) | Q(group__isnull=True))
    return votable.order_by("created_at", "id")


def principle_list_for_workshop(*, workshop: Workshop) -> QuerySet[Principle]:
    return workshop.principles.select_related("group", "merged_into").order_by(
        "created_at", "id"
    )


def principle_version_list(*, principle: Principle) -> QuerySet[PrincipleVersion]:
    return principle.versions.select_related("edited_by").order_by("number")


def moderation_event_list(
    *, workshop: Workshop, principle: Principle | None = None
) -> QuerySet[ModerationEvent]:
    events = ModerationEvent.objects.filter(workshop=workshop)
    if principle is not None:
        events = events.filter(principle=principle)
    return events.select_related("actor", "principle", "round").order_by(
        "created_at", "id"
    )


def constitution_list_for_workshop(*, workshop: Workshop) -> QuerySet[Constitution]:
    return workshop.constitutions.select_related("published_by").order_by(
        "-published_at"
    )


def constitution_get_for_user(
    *, user: User, workshop: Workshop, pk: int
) -> Constitution:
    try:
        return Constitution.objects.select_related("published_by").get(
            pk=pk, workshop=workshop, workshop__owner=user
        )
    except Constitution.DoesNotExist:
        raise Http404("No such constitution.") from None
