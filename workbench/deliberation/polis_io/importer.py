"""Stores a Polis conversation as a workshop: all of it in one transaction, or nothing.

Polis has one open crowd, so every participant joins one group; the conversation
becomes one closed cross-group vote round holding the imported principles and votes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone

from workbench.accounts.models import User
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import (
    ModerationEvent,
    Participant,
    ParticipantGroup,
    Principle,
    PrincipleVersion,
    Round,
    Vote,
    VoteRecord,
    Workshop,
)
from workbench.deliberation.polis_io.reader import PolisConversation, read_polis_folder
from workbench.deliberation.services.workshops import group_create, workshop_create

GROUP_NAME = "Polis participants"
BATCH_SIZE = 5000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATUS_FROM_MODERATED = {
    1: Principle.Status.APPROVED,
    0: Principle.Status.PENDING,
    -1: Principle.Status.REJECTED,
}


@dataclass(frozen=True)
class PolisImportResult:
    workshop: Workshop
    participants: int
    comments: int
    votes: int
    vote_records: int


def ms_to_datetime(ms: int) -> datetime:
    # Integer arithmetic: a float division would round some milliseconds.
    return EPOCH + timedelta(milliseconds=ms)


def datetime_to_ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def polis_import_owner(*, username: str | None) -> User:
    """The named user, or else the only superuser."""
    if username:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise ApplicationError(f"There is no user called “{username}”.") from None
    superusers = list(User.objects.filter(is_superuser=True)[:2])
    if len(superusers) != 1:
        found = "no superuser" if not superusers else "several superusers"
        raise ApplicationError(
            f"There is {found}; name the workshop's owner with --owner USERNAME."
        )
    return superusers[0]


def polis_import(
    *,
    folder: Path,
    slug: str,
    owner: User | None = None,
    title: str = "",
) -> PolisImportResult:
    """Imports a Polis export folder into the workshop `slug`, creating it if needed.

    Every file is read and validated before the transaction opens; a bad file raises
    PolisFormatError and nothing is stored. A new workshop belongs to `owner`, or else
    to the only superuser.
    """
    try:
        validate_slug(slug)
    except ValidationError:
        raise ApplicationError(
            f"“{slug}” is not a valid workshop address: use letters, digits, - and _."
        ) from None
    conversation = read_polis_folder(folder)
    with transaction.atomic():
        workshop = _workshop_for_import(
            conversation, slug=slug, owner=owner, title=title
        )
        return _store(conversation, workshop=workshop, actor=owner or workshop.owner)


def _workshop_for_import(
    conversation: PolisConversation, *, slug: str, owner: User | None, title: str
) -> Workshop:
    source = f"polis:{conversation.name}"
    # The row lock makes a second import into the same workshop wait, then refuse.
    existing = Workshop.objects.select_for_update().filter(slug=slug).first()
    if existing is None:
        owner = owner or polis_import_owner(username=None)
        topic = conversation.summary.get("topic", "").strip()
        return workshop_create(
            owner=owner,
            title=(title or topic or conversation.name)[:200],
            question=topic or title or conversation.name,
            description=conversation.summary.get("conversation-description", ""),
            slug=slug,
            source=source,
        )
    if owner is not None and existing.owner_id != owner.pk:
        raise ApplicationError(f"Workshop “{slug}” belongs to another facilitator.")
    if existing.principles.exists():
        raise ApplicationError(
            f"Workshop “{slug}” already has principles; import into a new workshop."
        )
    if existing.participants.exclude(external_id="").exists():
        raise ApplicationError(
            f"Workshop “{slug}” already holds imported participants."
        )
    existing.source = source
    existing.save(update_fields=["source", "updated_at"])
    return existing


def _store(
    conversation: PolisConversation, *, workshop: Workshop, actor: User
) -> PolisImportResult:
    now_ms = datetime_to_ms(timezone.now())
    history = conversation.vote_history(default_ms=now_ms)
    latest = conversation.latest_votes(default_ms=now_ms)
    group = _polis_group(workshop)
    round_ = _create_round(conversation, workshop=workshop, history=history)
    people = _create_participants(conversation.participants(), workshop, group)
    principles = _create_principles(
        conversation.comments, workshop, group, round_, people
    )
    _bulk_create_votes(VoteRecord, history, people, principles, round_)
    _bulk_create_votes(Vote, latest, people, principles, round_)
    counts = {
        "participants": len(people),
        "comments": len(principles),
        "votes": len(latest),
        "vote_records": len(history),
    }
    ModerationEvent.objects.create(
        workshop=workshop,
        round=round_,
        actor=actor,
        action=ModerationEvent.Action.IMPORT,
        reason=f"Polis export {conversation.name}",
        data=_event_data(conversation, counts),
    )
    return PolisImportResult(workshop=workshop, **counts)


def _event_data(
    conversation: PolisConversation, counts: dict[str, int]
) -> dict[str, Any]:
    return {
        "format": "polis-opendata",
        "source": conversation.name,
        "files": list(conversation.files),
        "url": conversation.summary.get("url", ""),
        # Without votes.csv there are no timestamps: votes carry the import time.
        "history": conversation.history is not None,
        **counts,
    }


def _polis_group(workshop: Workshop) -> ParticipantGroup:
    existing = workshop.groups.filter(name=GROUP_NAME).first()
    if existing is not None:
        return existing
    return group_create(
        workshop=workshop,
        name=GROUP_NAME,
        description="Everyone in the imported Polis conversation (one open crowd).",
    )


def _create_round(
    conversation: PolisConversation, *, workshop: Workshop, history: pd.DataFrame
) -> Round:
    moments = pd.concat([conversation.comments["ms"], history["ms"]])
    return Round.objects.create(
        workshop=workshop,
        title=f"Polis conversation {conversation.name}",
        kind=Round.Kind.VOTE,
        scope=Round.Scope.ALL,
        status=Round.Status.CLOSED,
        opened_at=ms_to_datetime(int(moments.min())),
        closed_at=ms_to_datetime(int(moments.max())),
        position=workshop.rounds.count(),
    )


def _create_participants(
    frame: pd.DataFrame, workshop: Workshop, group: ParticipantGroup
) -> dict[int, int]:
    """Creates everyone who wrote or voted; returns Polis id -> participant pk."""
    rows = []
    for polis_id, group_id, xid in frame[
        ["participant_id", "group_id", "xid"]
    ].itertuples(index=False):
        source: dict[str, object] = {}
        if not pd.isna(group_id):
            source["polis_group_id"] = int(group_id)
        if xid:
            source["polis_xid"] = str(xid)
        rows.append(
            Participant(
                workshop=workshop,
                group=group,
                external_id=str(polis_id),
                source_data=source,
            )
        )
    Participant.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    # Read the pks back: not every database returns them from a bulk insert.
    created = workshop.participants.exclude(external_id="").values_list(
        "external_id", "pk"
    )
    return {int(external): pk for external, pk in created}


def _create_principles(
    comments: pd.DataFrame,
    workshop: Workshop,
    group: ParticipantGroup,
    round_: Round,
    people: dict[int, int],
) -> dict[int, int]:
    """Creates a principle and its version 1 per comment; returns Polis id -> pk."""
    ordered = comments.sort_values("comment_id").to_dict("records")
    Principle.objects.bulk_create(
        [
            Principle(
                workshop=workshop,
                round=round_,
                group=group,
                author_id=None
                if pd.isna(row["author_id"])
                else people[int(row["author_id"])],
                text=str(row["text"]),
                status=STATUS_FROM_MODERATED[int(row["moderated"])],
                is_meta=bool(row["is_meta"]),
                is_seed=bool(row["is_seed"]),
                external_id=str(row["comment_id"]),
            )
            for row in ordered
        ],
        batch_size=BATCH_SIZE,
    )
    created = dict(workshop.principles.values_list("external_id", "pk"))
    PrincipleVersion.objects.bulk_create(
        [
            PrincipleVersion(
                principle_id=created[str(row["comment_id"])],
                number=1,
                text=str(row["text"]),
                created_at=ms_to_datetime(int(row["ms"])),
            )
            for row in ordered
        ],
        batch_size=BATCH_SIZE,
    )
    return {int(external): pk for external, pk in created.items()}


def _vote_columns(
    frame: pd.DataFrame, people: dict[int, int], principles: dict[int, int]
) -> zip[tuple[int, int, int, int]]:
    return zip(
        frame["voter_id"].map(people).tolist(),
        frame["comment_id"].map(principles).tolist(),
        frame["vote"].tolist(),
        frame["ms"].tolist(),
        strict=True,
    )


VoteModel = TypeVar("VoteModel", Vote, VoteRecord)


def _bulk_create_votes(
    model: type[VoteModel],
    rows: pd.DataFrame,
    people: dict[int, int],
    principles: dict[int, int],
    round_: Round,
) -> None:
    """Vote (the latest per pair) and VoteRecord (the history) rows share one shape."""
    model.objects.bulk_create(
        (
            model(
                participant_id=participant,
                principle_id=principle,
                round=round_,
                choice=vote,
                cast_at=ms_to_datetime(ms),
            )
            for participant, principle, vote, ms in _vote_columns(
                rows, people, principles
            )
        ),
        batch_size=BATCH_SIZE,
    )
