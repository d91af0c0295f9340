from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from workbench.accounts.models import User
from workbench.deliberation.models import (
    Participant,
    ParticipantGroup,
    Principle,
    Round,
    Workshop,
)


def workshop_list_for_user(*, user: User) -> QuerySet[Workshop]:
    return (
        Workshop.objects.filter(owner=user)
        .annotate(n_participants=Count("participants", distinct=True))
        .order_by("-created_at")
    )


def workshop_get_for_user(*, user: User, slug: str) -> Workshop:
    """The user's own workshop; anyone else gets a 404 that hides that it exists."""
    try:
        return Workshop.objects.get(slug=slug, owner=user)
    except Workshop.DoesNotExist:
        raise Http404("No such workshop.") from None


def group_get_for_user(*, user: User, workshop: Workshop, pk: int) -> ParticipantGroup:
    try:
        return ParticipantGroup.objects.get(
            pk=pk, workshop=workshop, workshop__owner=user
        )
    except ParticipantGroup.DoesNotExist:
        raise Http404("No such group.") from None


def round_get_for_user(*, user: User, workshop: Workshop, pk: int) -> Round:
    try:
        return Round.objects.get(pk=pk, workshop=workshop, workshop__owner=user)
    except Round.DoesNotExist:
        raise Http404("No such round.") from None


def principle_get_for_user(*, user: User, workshop: Workshop, pk: int) -> Principle:
    try:
        return Principle.objects.get(pk=pk, workshop=workshop, workshop__owner=user)
    except Principle.DoesNotExist:
        raise Http404("No such principle.") from None


def group_get_by_token(*, token: str) -> ParticipantGroup:
    try:
        return ParticipantGroup.objects.select_related("workshop").get(
            invite_token=token
        )
    except ParticipantGroup.DoesNotExist:
        raise Http404(
            "This invite link is not valid. Ask the facilitator for a new one."
        ) from None


def rounds_for_participant(*, participant: Participant) -> QuerySet[Round]:
    """Rounds the participant can see: their group's rounds and cross-group rounds,
    drafts excluded."""
    in_scope = Q(scope=Round.Scope.ALL) | Q(
        scope=Round.Scope.GROUP, group_id=participant.group_id
    )
    return (
        Round.objects.filter(in_scope, workshop_id=participant.workshop_id)
        .exclude(status=Round.Status.DRAFT)
        .order_by("position", "created_at")
    )


def round_get_for_participant(*, participant: Participant, pk: int) -> Round:
    """A non-draft round the participant's group can see; others are a 404."""
    try:
        return rounds_for_participant(participant=participant).get(pk=pk)
    except Round.DoesNotExist:
        raise Http404("No such round.") from None


def rounds_open_now(*, participant: Participant) -> list[Round]:
    now = timezone.now()
    return [
        r for r in rounds_for_participant(participant=participant) if r.is_open_at(now)
    ]
