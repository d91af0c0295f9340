from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction
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
            raise ApplicationError(
                "Choose the shortlist to rank before opening the round."
            )
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


def round_hold_for_input(*, round_: Round) -> Round:
    """Re-reads the round under a share lock held until the caller's transaction ends.

    Services that store input in a round (votes, proposals) call this before checking
    that the round is open. round_close takes the row's FOR NO KEY UPDATE lock, which
    conflicts with FOR SHARE: the close waits for every input that already holds the
    share lock, and input arriving later waits for the close to commit and then reads
    the round as closed. So nothing is stored in a round after its close commits, and
    many participants still write at once (share locks do not conflict). Django's
    select_for_update has no FOR SHARE, hence the raw query; SQLite serialises writers
    on its own and has no row locks.
    """
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError(
            "round_hold_for_input must run inside a transaction."
        )
    if connection.vendor != "postgresql":
        return Round.objects.get(pk=round_.pk)
    rows = list(
        Round.objects.raw(
            "SELECT * FROM deliberation_round WHERE id = %s FOR SHARE", [round_.pk]
        )
    )
    if not rows:
        raise Round.DoesNotExist(f"Round {round_.pk} does not exist.")
    return rows[0]


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
            raise ApplicationError(
                "A shortlisted principle belongs to another workshop."
            )
        if not principle.is_votable:
            raise ApplicationError(
                f"“{principle.text[:60]}” is not an approved principle."
            )
    if round_.kind == Round.Kind.RANK and len(chosen) < 2:
        raise ApplicationError("A rank round needs at least two principles to order.")
    round_.shortlist.set(chosen)
    return round_
