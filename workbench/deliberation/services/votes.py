"""Casting votes: the hottest write path (hundreds of votes a second)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Field, Model
from django.utils import timezone
from django.utils.translation import gettext

from workbench.core.errors import ApplicationError, NotAvailableError
from workbench.deliberation.models import (
    Participant,
    Principle,
    Round,
    Vote,
    VoteChoice,
    VoteRecord,
)
from workbench.deliberation.selectors.translations import language_names
from workbench.deliberation.services.analysis import analysis_request_on_commit
from workbench.deliberation.services.input_limits import (
    WINDOW,
    input_rate_check,
    votes_per_minute,
)
from workbench.deliberation.services.rounds import round_lock_for_input

# The round, whether the principle is on its agenda (principle_agenda's rule, written
# out) and whether this form was already stored: one statement. Compiling the same
# checks through the ORM cost more CPU than all the rest of a vote (1.5 of 5 ms
# measured); tests/deliberation/test_vote_agenda.py holds this to principle_agenda.
# The last column is the participant's VOTES_PER_MINUTE-th latest vote within the
# last minute (input_limits.py): NULL while they are under the limit.
_ROUND_AND_CHECKS_SQL = """
SELECT
    r.workshop_id, r.kind, r.scope, r.group_id, r.status, r.opens_at, r.closes_at,
    EXISTS (
        SELECT 1 FROM deliberation_principle p
        WHERE p.id = %(principle)s
          AND p.workshop_id = r.workshop_id
          AND p.status = 'approved'
          AND p.merged_into_id IS NULL
          AND (
            EXISTS (SELECT 1 FROM deliberation_round_shortlist s
                    WHERE s.round_id = r.id AND s.principle_id = p.id)
            OR (
              NOT EXISTS (SELECT 1 FROM deliberation_round_shortlist s
                          WHERE s.round_id = r.id)
              AND (r.scope = 'all' OR p.group_id = r.group_id OR p.group_id IS NULL)
            )
          )
    ),
    EXISTS (
        SELECT 1 FROM deliberation_voterecord v
        WHERE v.participant_id = %(participant)s AND v.client_token = %(token)s
    ),
    (
        SELECT v.cast_at FROM deliberation_voterecord v
        WHERE v.participant_id = %(participant)s AND v.cast_at > %(since)s
        ORDER BY v.cast_at DESC
        LIMIT 1 OFFSET %(skip)s
    )
FROM deliberation_round r
WHERE r.id = %(round)s
"""


@dataclass(frozen=True)
class _Checks:
    round_: Round
    on_agenda: bool
    resubmitted: bool
    # The participant's VOTES_PER_MINUTE-th latest vote, if within the last minute.
    nth_latest: datetime | None


def _round_and_checks(
    *,
    round_id: int,
    principle_id: int,
    participant_id: int,
    token: uuid.UUID | None,
    now: datetime,
) -> _Checks:
    params = {
        "round": round_id,
        "principle": principle_id,
        "participant": participant_id,
        "token": _db_value(VoteRecord, "client_token", token),
        "since": _db_value(VoteRecord, "cast_at", now - WINDOW),
        "skip": max(votes_per_minute() - 1, 0),
    }
    with connection.cursor() as cursor:
        cursor.execute(_ROUND_AND_CHECKS_SQL, params)
        row = cursor.fetchone()
    if row is None:
        raise NotAvailableError(gettext("This round does not exist."))
    (
        workshop_id,
        kind,
        scope,
        group_id,
        status,
        opens_at,
        closes_at,
        on_agenda,
        again,
        nth_latest,
    ) = row
    round_ = Round(
        pk=round_id,
        workshop_id=workshop_id,
        kind=kind,
        scope=scope,
        group_id=group_id,
        status=status,
        opens_at=_aware(opens_at),
        closes_at=_aware(closes_at),
    )
    return _Checks(round_, bool(on_agenda), bool(again), _aware(nth_latest))


# The history row, then the current vote (upserted). Plain SQL that PostgreSQL and
# SQLite both run, for the same reason as above; values pass through the model fields'
# own conversion (_db_value), so they are stored exactly as the ORM would store them.
_RECORD_SQL = """
INSERT INTO deliberation_voterecord
    (participant_id, principle_id, round_id, choice, cast_at, client_token,
     shown_language)
VALUES (%s, %s, %s, %s, %s, %s, %s)
"""
_UPSERT_SQL = """
INSERT INTO deliberation_vote (participant_id, principle_id, round_id, choice, cast_at)
VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (participant_id, principle_id) DO UPDATE
SET choice = excluded.choice, cast_at = excluded.cast_at, round_id = excluded.round_id
RETURNING id
"""


def _db_value(model: type[Model], name: str, value: object) -> Any:
    """`value` as the database backend stores it in this column (backend-specific)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field.get_db_prep_value(value, connection)


def _write(
    *,
    participant_id: int,
    principle_id: int,
    round_id: int,
    choice: int,
    now: datetime,
    token: uuid.UUID | None,
    shown_language: str = "",
) -> int:
    """Stores the history row and upserts the current vote; returns the vote's id."""
    cast_at = _db_value(Vote, "cast_at", now)
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD_SQL,
            [
                participant_id,
                principle_id,
                round_id,
                choice,
                cast_at,
                _db_value(VoteRecord, "client_token", token),
                shown_language,
            ],
        )
        cursor.execute(
            _UPSERT_SQL, [participant_id, principle_id, round_id, choice, cast_at]
        )
        (vote_id,) = cursor.fetchone()
    return int(vote_id)


def _aware(value: datetime | str | None) -> datetime | None:
    """A timestamp from a raw cursor. SQLite hands back naive UTC (as text or as a
    datetime, depending on the column's declared type); PostgreSQL an aware one."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _check_round(*, participant: Participant, round_: Round) -> None:
    """Refuses a round the participant cannot see (NotAvailableError: the pages answer
    404, as for any round they cannot see) or that does not accept votes now."""
    if (
        round_.workshop_id != participant.workshop_id
        or not round_.admits_group(participant.group_id)
        or round_.status == Round.Status.DRAFT
    ):
        raise NotAvailableError(gettext("This round is not open to your group."))
    if round_.kind != Round.Kind.VOTE:
        raise NotAvailableError(gettext("This round is not a voting round."))
    if not round_.is_open_at(timezone.now()):
        raise ApplicationError(
            gettext("This round is closed; votes are no longer accepted.")
        )


@transaction.atomic
def vote_cast(
    *,
    participant: Participant,
    round_: Round,
    principle: Principle,
    choice: int,
    client_token: uuid.UUID | None = None,
    shown_language: str = "",
) -> Vote:
    """Records a vote exactly once.

    The history row and the current-vote upsert are one transaction. The round's input
    lock (shared) and the participant's (exclusive) are taken first: one participant's
    votes are stored one after another, so the current vote is always the last in the
    history, their VOTES_PER_MINUTE limit is exact (RateLimitedError past it), and a
    vote racing round_close is either stored before the close commits or refused. The
    round is read in the next statement, so it sees that close. A resubmitted form
    (same client_token) changes nothing and is not counted against the limit. Only
    the pks of `round_` and `principle` are used; `participant` needs its
    workshop_id and group_id.

    `shown_language` is the language of the facilitator's translation the page
    showed (see selectors/translations.py), kept on the history row only; the vote
    counts toward the principle whatever language it was read in. A value outside
    settings.LANGUAGES is stored as "" (the original wording).
    """
    if choice not in VoteChoice.values:
        raise ApplicationError(gettext("A vote is agree, disagree or pass."))
    round_lock_for_input(round_id=round_.pk, participant_id=participant.pk)
    now = timezone.now()
    checks = _round_and_checks(
        round_id=round_.pk,
        principle_id=principle.pk,
        participant_id=participant.pk,
        token=client_token,
        now=now,
    )
    round_ = checks.round_
    _check_round(participant=participant, round_=round_)
    if not checks.on_agenda:
        raise ApplicationError(gettext("This principle is not on this round's agenda."))
    if checks.resubmitted:
        return Vote.objects.get(participant=participant, principle=principle)
    input_rate_check(nth_latest=checks.nth_latest, now=now)
    vote_id = _write(
        participant_id=participant.pk,
        principle_id=principle.pk,
        round_id=round_.pk,
        choice=choice,
        now=now,
        token=client_token,
        shown_language=shown_language if shown_language in language_names() else "",
    )
    # No query: a cache.add after commit, then at most one enqueue per window.
    analysis_request_on_commit(workshop_id=participant.workshop_id)
    vote = Vote(
        pk=vote_id,
        participant=participant,
        principle_id=principle.pk,
        round=round_,
        choice=choice,
        cast_at=now,
    )
    return vote
