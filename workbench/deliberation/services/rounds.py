from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from workbench.accounts.models import User
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import (
    ModerationEvent,
    ParticipantGroup,
    Principle,
    Round,
    Workshop,
)


@transaction.atomic
def round_create(
    *,
    workshop: Workshop,
    kind: str,
    title: str = "",
    scope: str = Round.Scope.ALL,
    group: ParticipantGroup | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> Round:
    if scope == Round.Scope.GROUP and group is None:
        raise ApplicationError("A round scoped to one group needs that group.")
    if scope == Round.Scope.ALL:
        group = None
    if group is not None and group.workshop_id != workshop.pk:
        raise ApplicationError("That group belongs to another workshop.")
    if opens_at and closes_at and closes_at <= opens_at:
        raise ApplicationError("A round must close after it opens.")
    position = workshop.rounds.count()
    if not title:
        label = Round.Kind(kind).label
        title = f"{label} ({group.name})" if group else f"{label} (all groups)"
    round_ = Round(
        workshop=workshop,
        kind=kind,
        title=title,
        scope=scope,
        group=group,
        opens_at=opens_at,
        closes_at=closes_at,
        position=position,
    )
    round_.full_clean()
    round_.save()
    return round_


def _transition(*, round_: Round, to: str, actor: User | None) -> Round:
    """Moves a round to OPEN or CLOSED. Holds the round's row lock while it decides."""
    locked = Round.objects.select_for_update(no_key=True).get(pk=round_.pk)
    if locked.status == to:
        return locked
    if locked.status == Round.Status.CLOSED:
        raise ApplicationError("A closed round stays closed; add a new round instead.")
    now = timezone.now()
    locked.status = to
    fields = ["status", "updated_at"]
    if to == Round.Status.OPEN:
        if locked.kind == Round.Kind.RANK and not locked.shortlist.exists():
            raise ApplicationError("Choose the shortlist to rank before opening the round.")
        locked.opened_at = now
        fields.append("opened_at")
    else:
        locked.closed_at = now
        fields.append("closed_at")
    locked.save(update_fields=fields)
    ModerationEvent.objects.create(
        workshop_id=locked.workshop_id,
        round=locked,
        actor=actor,
        action=ModerationEvent.Action.ROUND_OPEN
        if to == Round.Status.OPEN
        else ModerationEvent.Action.ROUND_CLOSE,
        data={"round": locked.title, "kind": locked.kind, "scope": locked.scope},
    )
    return locked


@transaction.atomic
def round_open(*, round_: Round, actor: User | None = None) -> Round:
    return _transition(round_=round_, to=Round.Status.OPEN, actor=actor)


@transaction.atomic
def round_close(*, round_: Round, actor: User | None = None) -> Round:
    return _transition(round_=round_, to=Round.Status.CLOSED, actor=actor)


@transaction.atomic
def round_set_shortlist(*, round_: Round, principles: Iterable[Principle]) -> Round:
    chosen = list(principles)
    if round_.status != Round.Status.DRAFT:
        raise ApplicationError("The shortlist can change only before the round opens.")
    for principle in chosen:
        if principle.workshop_id != round_.workshop_id:
            raise ApplicationError("A shortlisted principle belongs to another workshop.")
        if not principle.is_votable:
            raise ApplicationError(f"“{principle.text[:60]}” is not an approved principle.")
    if round_.kind == Round.Kind.RANK and len(chosen) < 2:
        raise ApplicationError("A rank round needs at least two principles to order.")
    round_.shortlist.set(chosen)
    return round_
