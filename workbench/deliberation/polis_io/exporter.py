"""Writes a workshop in the Polis openData layout; the importer reads it back unchanged.

Ids are the Polis ids of imported rows and the workbench's own pks for the rest. Text is
written exactly as stored: formula neutralising would break the round trip, and these
files are data for pandas and Polis tools rather than spreadsheets. The csv module
quotes every cell that holds a comma, a quote or a line break.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db.models import Count

from workbench.deliberation.models import (
    Participant,
    Principle,
    PrincipleVersion,
    Vote,
    VoteRecord,
    Workshop,
)
from workbench.deliberation.polis_io.importer import datetime_to_ms
from workbench.deliberation.polis_io.reader import (
    COMMENTS,
    PARTICIPANTS_VOTES,
    SUMMARY,
    VOTES,
)

COMMENT_COLUMNS = [
    "timestamp",
    "datetime",
    "comment-id",
    "author-id",
    "agrees",
    "disagrees",
    "moderated",
    "is-meta",
    "is-seed",
    "comment-body",
]
VOTE_COLUMNS = ["timestamp", "datetime", "comment-id", "voter-id", "vote"]
MATRIX_COLUMNS = [
    "participant",
    "xid",
    "group-id",
    "n-comments",
    "n-votes",
    "n-agree",
    "n-disagree",
]
MODERATED = {
    Principle.Status.APPROVED: 1,
    Principle.Status.PENDING: 0,
    Principle.Status.REJECTED: -1,
}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_WHOLE_NUMBER = re.compile(r"-?\d{1,18}")


@dataclass(frozen=True)
class PolisExportResult:
    folder: Path
    comments: int
    participants: int
    votes: int
    vote_records: int


def polis_datetime(moment: datetime) -> str:
    """Polis's (Java's) date format, in UTC, with English names whatever the locale."""
    moment = moment.astimezone(UTC)
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
        f"{moment:%H:%M:%S} UTC {moment.year}"
    )


def polis_ids(rows: Iterable[tuple[int, str]]) -> dict[int, int]:
    """pk -> Polis id: the imported id where it is a whole number, else the pk, moved
    past every id in use if it would collide with one."""
    pairs = sorted(rows)
    result = {pk: int(ext) for pk, ext in pairs if _WHOLE_NUMBER.fullmatch(ext)}
    taken = set(result.values())
    next_free = max(taken, default=-1) + 1
    for pk, _ in pairs:
        if pk in result:
            continue
        if pk in taken:
            while next_free in taken:
                next_free += 1
            result[pk] = next_free
        else:
            result[pk] = pk
        taken.add(result[pk])
    return result


def _write(
    path: Path, header: Sequence[str] | None, rows: Iterable[Sequence[object]]
) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if header is not None:
            writer.writerow(header)
        writer.writerows(rows)


@dataclass(frozen=True)
class _Ids:
    principles: dict[int, int]
    participants: dict[int, int]


def _ids(workshop: Workshop) -> _Ids:
    return _Ids(
        principles=polis_ids(workshop.principles.values_list("pk", "external_id")),
        participants=polis_ids(workshop.participants.values_list("pk", "external_id")),
    )


def polis_export(*, workshop: Workshop, out: Path) -> PolisExportResult:
    """Writes comments.csv, votes.csv, participants-votes.csv and summary.csv."""
    out.mkdir(parents=True, exist_ok=True)
    ids = _ids(workshop)
    comments = _write_comments(workshop, ids, out / COMMENTS)
    records = _write_votes(workshop, ids, out / VOTES)
    voters, votes = _write_matrix(workshop, ids, out / PARTICIPANTS_VOTES)
    _write_summary(workshop, out / SUMMARY, voters=voters)
    return PolisExportResult(
        folder=out,
        comments=comments,
        participants=voters,
        votes=votes,
        vote_records=records,
    )


def _write_comments(workshop: Workshop, ids: _Ids, path: Path) -> int:
    first_versions = dict(
        PrincipleVersion.objects.filter(
            principle__workshop=workshop, number=1
        ).values_list("principle_id", "created_at")
    )
    tallies = Counter(
        {
            (principle, choice): n
            for principle, choice, n in VoteRecord.objects.filter(
                principle__workshop=workshop
            )
            .values("principle_id", "choice")
            .annotate(n=Count("id"))
            .values_list("principle_id", "choice", "n")
            .order_by()
        }
    )
    rows: list[tuple[int, list[object]]] = []
    for p in workshop.principles.order_by():
        created = first_versions.get(p.pk, p.created_at)
        # A merged principle is out of the conversation, as a moderated-out comment is.
        moderated = -1 if p.merged_into_id else MODERATED[Principle.Status(p.status)]
        polis_id = ids.principles[p.pk]
        row: list[object] = [
            datetime_to_ms(created),
            polis_datetime(created),
            polis_id,
            "" if p.author_id is None else ids.participants[p.author_id],
            tallies[(p.pk, 1)],  # Polis counts superseded votes too
            tallies[(p.pk, -1)],
            moderated,
            "true" if p.is_meta else "false",
            "true" if p.is_seed else "false",
            p.text,
        ]
        rows.append((polis_id, row))
    rows.sort(key=lambda pair: pair[0])
    _write(path, COMMENT_COLUMNS, [row for _, row in rows])
    return len(rows)


def _write_votes(workshop: Workshop, ids: _Ids, path: Path) -> int:
    records = (
        VoteRecord.objects.filter(principle__workshop=workshop)
        .order_by("cast_at", "id")
        .values_list("cast_at", "principle_id", "participant_id", "choice")
    )
    rows = [
        [
            datetime_to_ms(cast_at),
            polis_datetime(cast_at),
            ids.principles[principle],
            ids.participants[participant],
            choice,
        ]
        for cast_at, principle, participant, choice in records.iterator(chunk_size=5000)
    ]
    _write(path, VOTE_COLUMNS, rows)
    return len(rows)


def _participant_meta(workshop: Workshop, ids: _Ids) -> dict[int, tuple[str, str]]:
    """Polis id -> (xid, group-id) as they were imported."""
    meta: dict[int, tuple[str, str]] = {}
    for pk, external, source in workshop.participants.values_list(
        "pk", "external_id", "source_data"
    ):
        xid = source.get("polis_xid", "")
        if not xid and external and not _WHOLE_NUMBER.fullmatch(external):
            xid = external  # an id from elsewhere that Polis cannot hold as its own
        group = source.get("polis_group_id")
        meta[ids.participants[pk]] = (str(xid), "" if group is None else str(group))
    return meta


def _write_matrix(workshop: Workshop, ids: _Ids, path: Path) -> tuple[int, int]:
    latest: dict[int, dict[int, int]] = {}
    for participant, principle, choice in Vote.objects.filter(
        principle__workshop=workshop
    ).values_list("participant_id", "principle_id", "choice"):
        latest.setdefault(ids.participants[participant], {})[
            ids.principles[principle]
        ] = choice
    authored = Counter(
        ids.participants[author]
        for author in Participant.objects.filter(
            workshop=workshop, principles__isnull=False
        ).values_list("pk", flat=True)
    )
    meta = _participant_meta(workshop, ids)
    comment_ids = sorted(ids.principles.values())
    rows = []
    for voter in sorted(latest):
        cells = latest[voter]
        xid, group = meta[voter]
        choices = list(cells.values())
        rows.append(
            [
                voter,
                xid,
                group,
                authored[voter],
                len(choices),
                choices.count(1),
                choices.count(-1),
                *(cells.get(c, "") for c in comment_ids),
            ]
        )
    _write(path, [*MATRIX_COLUMNS, *map(str, comment_ids)], rows)
    return len(rows), sum(len(cells) for cells in latest.values())


def _write_summary(workshop: Workshop, path: Path, *, voters: int) -> None:
    groups = {
        source.get("polis_group_id")
        for source in workshop.participants.values_list("source_data", flat=True)
    } - {None}
    commenters = (
        workshop.principles.exclude(author=None).values("author").distinct().count()
    )
    rows: list[list[object]] = [
        ["topic", workshop.question],
        ["url", ""],
        ["views", workshop.participants.count()],
        ["voters", voters],
        ["voters-in-conv", voters],
        ["commenters", commenters],
        ["comments", workshop.principles.count()],
        ["groups", len(groups) if groups else workshop.groups.count()],
        ["conversation-description", workshop.description],
    ]
    _write(path, None, rows)
