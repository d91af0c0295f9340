"""Importing the real openData conversations: every count and every cell checked against
figures computed here from the source files, independently of the importer."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command

from tests.factories import WorkshopFactory
from tests.shared_data import polis_data_dir
from workbench.deliberation.models import (
    ModerationEvent,
    Participant,
    PrincipleVersion,
    Round,
    Vote,
    VoteRecord,
    Workshop,
)
from workbench.deliberation.polis_io.importer import polis_import

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def conversations() -> list[str]:
    return sorted(
        p.name for p in polis_data_dir().iterdir() if (p / "comments.csv").is_file()
    )


def test_the_shared_data_holds_the_four_conversations():
    assert set(conversations()) >= {
        "vtaiwan.uberx",
        "austria-climate.5twd2jsnkf.2022-08-08",
        "scoop-hivemind.ubi",
        "bg2050-volunteers",
    }


def source_latest_cells(folder: Path) -> set[tuple[str, str, int]]:
    """(participant, comment, vote) for every filled cell of participants-votes.csv."""
    matrix = pd.read_csv(folder / "participants-votes.csv")
    comment_columns = [c for c in matrix.columns if c.isdigit()]
    long = matrix.melt(
        id_vars="participant", value_vars=comment_columns, var_name="comment"
    ).dropna(subset=["value"])
    return {
        (str(p), str(c), int(v))
        for p, c, v in long[["participant", "comment", "value"]].itertuples(index=False)
    }


def stored_latest_cells(workshop: Workshop) -> set[tuple[str, str, int]]:
    return set(
        Vote.objects.filter(participant__workshop=workshop).values_list(
            "participant__external_id", "principle__external_id", "choice"
        )
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", conversations())
def test_import_matches_the_source_files(name, owner):
    folder = polis_data_dir() / name
    comments = pd.read_csv(folder / "comments.csv")
    votes = pd.read_csv(folder / "votes.csv")
    matrix = pd.read_csv(folder / "participants-votes.csv")
    people = (
        set(comments["author-id"]) | set(votes["voter-id"]) | set(matrix["participant"])
    )
    latest = votes.sort_values("timestamp", kind="stable").drop_duplicates(
        ["voter-id", "comment-id"], keep="last"
    )

    result = polis_import(folder=folder, slug="imported", owner=owner)

    workshop = result.workshop
    assert workshop.source == f"polis:{name}"
    assert workshop.groups.count() == 1
    assert Participant.objects.filter(workshop=workshop).count() == len(people)
    assert workshop.principles.count() == len(comments)
    assert PrincipleVersion.objects.filter(principle__workshop=workshop).count() == len(
        comments
    )
    assert Vote.objects.filter(participant__workshop=workshop).count() == len(latest)
    assert VoteRecord.objects.filter(participant__workshop=workshop).count() == len(
        votes
    )
    # Every cell: same filled cells with the same votes, and no vote where it is empty.
    assert stored_latest_cells(workshop) == source_latest_cells(folder)
    assert_history_equal(workshop, votes)
    assert_comments_equal(workshop, comments)
    assert_groups_equal(workshop, matrix)
    assert_round_and_log(workshop, result)


def assert_history_equal(workshop: Workshop, votes: pd.DataFrame) -> None:
    stored = Counter(
        (p, c, (at - EPOCH) // timedelta(milliseconds=1), v)
        for p, c, at, v in VoteRecord.objects.filter(
            participant__workshop=workshop
        ).values_list(
            "participant__external_id", "principle__external_id", "cast_at", "choice"
        )
    )
    source = Counter(
        (str(p), str(c), int(t), int(v))
        for p, c, t, v in votes[
            ["voter-id", "comment-id", "timestamp", "vote"]
        ].itertuples(index=False)
    )
    assert stored == source


def assert_comments_equal(workshop: Workshop, comments: pd.DataFrame) -> None:
    status = {1: "approved", 0: "pending", -1: "rejected"}
    stored = {
        p.external_id: p
        for p in workshop.principles.select_related("author").prefetch_related(
            "versions"
        )
    }
    for row in comments.to_dict("records"):
        principle = stored[str(row["comment-id"])]
        assert principle.text == row["comment-body"]
        assert principle.status == status[row["moderated"]]
        assert principle.author.external_id == str(row["author-id"])
        assert principle.is_meta == bool(row.get("is-meta", False))
        assert principle.is_seed == bool(row.get("is-seed", False))
        (version,) = principle.versions.all()
        assert version.number == 1
        assert version.text == row["comment-body"]
        assert version.created_at == EPOCH + timedelta(milliseconds=row["timestamp"])


def assert_groups_equal(workshop: Workshop, matrix: pd.DataFrame) -> None:
    stored = {
        external: source.get("polis_group_id")
        for external, source in Participant.objects.filter(
            workshop=workshop
        ).values_list("external_id", "source_data")
    }
    for participant, group in matrix[["participant", "group-id"]].itertuples(
        index=False
    ):
        expected = None if pd.isna(group) else int(group)
        assert stored[str(participant)] == expected


def assert_round_and_log(workshop: Workshop, result) -> None:
    (round_,) = workshop.rounds.all()
    assert (round_.kind, round_.scope, round_.status) == ("vote", "all", "closed")
    assert not workshop.principles.exclude(round=round_).exists()
    (event,) = ModerationEvent.objects.filter(
        workshop=workshop, action=ModerationEvent.Action.IMPORT
    )
    assert event.data["vote_records"] == result.vote_records
    assert event.data["comments"] == result.comments


@pytest.mark.django_db
def test_only_participants_votes_gives_votes_and_equal_records(owner, tmp_path):
    source = polis_data_dir() / "scoop-hivemind.ubi"
    for name in ("comments.csv", "participants-votes.csv", "summary.csv"):
        (tmp_path / name).write_bytes((source / name).read_bytes())

    result = polis_import(folder=tmp_path, slug="matrix-only", owner=owner)

    workshop = result.workshop
    assert stored_latest_cells(workshop) == source_latest_cells(source)
    records = set(
        VoteRecord.objects.filter(participant__workshop=workshop).values_list(
            "participant__external_id", "principle__external_id", "choice"
        )
    )
    assert records == stored_latest_cells(workshop)
    assert result.vote_records == result.votes


@pytest.mark.django_db
def test_the_command_creates_the_workshop_for_the_named_owner(owner, capsys):
    call_command(
        "import_polis",
        str(polis_data_dir() / "scoop-hivemind.ubi"),
        "--workshop",
        "ubi",
        "--owner",
        owner.username,
        "--title",
        "UBI",
    )

    workshop = Workshop.objects.get(slug="ubi")
    assert workshop.owner == owner
    assert workshop.title == "UBI"
    assert workshop.question == "A Universal Basic Income for Aotearoa NZ?"
    assert "closed" in workshop.description
    assert "71 comments" in capsys.readouterr().out


@pytest.mark.django_db
def test_an_existing_empty_workshop_receives_the_import(owner):
    workshop = WorkshopFactory(owner=owner, slug="empty", title="Empty")

    polis_import(folder=polis_data_dir() / "scoop-hivemind.ubi", slug="empty")

    workshop.refresh_from_db()
    assert workshop.title == "Empty"
    assert workshop.source == "polis:scoop-hivemind.ubi"
    assert workshop.principles.count() == 71
    assert Round.objects.filter(workshop=workshop).count() == 1
