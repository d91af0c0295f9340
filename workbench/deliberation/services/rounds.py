from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

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
        raise ApplicationError(gettext("A round scoped to one group needs that group."))
    if scope == Round.Scope.ALL:
        group = None
    if group is not None and group.workshop_id != workshop.pk:
        raise ApplicationError(gettext("That group belongs to another workshop."))
    if opens_at and closes_at and closes_at <= opens_at:
        raise ApplicationError(gettext("A round must close after it opens."))
    position = workshop.rounds.count()
    if not title:
        label = Round.Kind(kind).label
        title = (
            gettext("%(kind)s (%(group)s)") % {"kind": label, "group": group.name}
            if group
            else gettext("%(kind)s (all groups)") % {"kind": label}
        )
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


# PostgreSQL advisory lock classes. A lock's object id is the row's pk folded into
# 31 bits: a collision only makes two rounds (or participants) wait on each other.
ROUND_INPUT_LOCK_CLASS = 7_310_001
PARTICIPANT_INPUT_LOCK_CLASS = 7_310_002


def _advisory_locks(
    *, round_id: int, shared: bool, participant_id: int | None = None
) -> None:
    """Takes the round's input lock (and a participant's, exclusive) until the
    transaction ends, in one statement. PostgreSQL only: SQLite serialises writers."""
    if connection.vendor != "postgresql":
        return
    round_lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    sql = f"SELECT {round_lock}(%s, %s)"
    params = [ROUND_INPUT_LOCK_CLASS, round_id % 2**31]
    if participant_id is not None:
        sql += ", pg_advisory_xact_lock(%s, %s)"
        params += [PARTICIPANT_INPUT_LOCK_CLASS, participant_id % 2**31]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def round_hold_for_input(*, round_: Round, participant_id: int | None = None) -> Round:
    """Re-reads the round while holding its input lock, shared, until the caller's
    transaction ends; with `participant_id`, also holds that participant's input lock
    exclusively, so one participant's submissions are stored one after another.

    Services that store input in a round (votes, proposals) call this before checking
    that the round is open; round transitions take the same lock exclusively. A close
    therefore waits for the input that already holds the lock, and input arriving
    later queues behind the close and then reads the round as closed: nothing is
    stored in a round after its close commits, while any number of participants still
    write at once. PostgreSQL queues lock requests fairly, so a close is not starved by
    a stream of votes (a FOR SHARE row lock would be). The read is a separate statement
    so that it sees what committed while it waited.
    """
    round_lock_for_input(round_id=round_.pk, participant_id=participant_id)
    return Round.objects.get(pk=round_.pk)


def round_lock_for_input(*, round_id: int, participant_id: int | None = None) -> None:
    """Takes the locks of round_hold_for_input without reading the round: the caller
    reads it in its own next statement."""
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError(
            "Input locks are held until the transaction ends: take them inside one."
        )
    _advisory_locks(round_id=round_id, shared=True, participant_id=participant_id)


def _transition(*, round_: Round, to: str, actor: User | None) -> Round:
    """Moves a round to OPEN or CLOSED. Holds the round's input lock (exclusive: no
    vote or proposal is being stored meanwhile) and its row lock while it decides."""
    _advisory_locks(round_id=round_.pk, shared=False)
    locked = Round.objects.select_for_update(no_key=True).get(pk=round_.pk)
    if locked.status == to:
        return locked
    if locked.status == Round.Status.CLOSED:
        raise ApplicationError(
            gettext("A closed round stays closed; add a new round instead.")
        )
    now = timezone.now()
    locked.status = to
    fields = ["status", "updated_at"]
    if to == Round.Status.OPEN:
        if locked.kind == Round.Kind.RANK and not locked.shortlist.exists():
            raise ApplicationError(
                gettext("Choose the shortlist to rank before opening the round.")
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
        raise ApplicationError(
            gettext("The shortlist can change only before the round opens.")
        )
    for principle in chosen:
        if principle.workshop_id != round_.workshop_id:
            raise ApplicationError(
                gettext("A shortlisted principle belongs to another workshop.")
            )
        if not principle.is_votable:
            raise ApplicationError(
                gettext("“%(text)s” is not an approved principle.")
                % {"text": principle.text[:60]}
            )
    if round_.kind == Round.Kind.RANK and len(chosen) < 2:
        raise ApplicationError(
            gettext("A rank round needs at least two principles to order.")
        )
    round_.shortlist.set(chosen)
    return round_
