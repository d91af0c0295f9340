"""Exporting writes the openData layout back; import -> export -> import -> export is
stable, and the exported latest votes are the source's participants-votes.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command

from tests.shared_data import polis_data_dir
from workbench.deliberation.models import Participant, Round
from workbench.deliberation.polis_io.exporter import polis_export, polis_ids
from workbench.deliberation.polis_io.importer import polis_import
from workbench.deliberation.services.principles import principle_seed
from workbench.deliberation.services.votes import vote_cast

VOTE_FILES = ("votes.csv", "participants-votes.csv")


def read_matrix(path: Path) -> pd.DataFrame:
    matrix = pd.read_csv(path, dtype=str, keep_default_na=False)
    return matrix.set_index("participant")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["scoop-hivemind.ubi", "bg2050-volunteers"])
def test_round_trip_keeps_every_vote(name, owner, tmp_path):
    source = polis_data_dir() / name
    polis_import(folder=source, slug="first", owner=owner)
    call_command("export_polis", "first", "--out", str(tmp_path / "e1"))
    polis_import(folder=tmp_path / "e1", slug="second", owner=owner)
    call_command("export_polis", "second", "--out", str(tmp_path / "e2"))

    for file in (*VOTE_FILES, "comments.csv", "summary.csv"):
        first = (tmp_path / "e1" / file).read_bytes()
        assert first == (tmp_path / "e2" / file).read_bytes(), file

    assert_latest_votes_equal_source(source, tmp_path / "e1")
    assert_history_equals_source(source, tmp_path / "e1")
    assert_comments_equal_source(source, tmp_path / "e1")


def assert_latest_votes_equal_source(source: Path, exported: Path) -> None:
    original = read_matrix(source / "participants-votes.csv")
    written = read_matrix(exported / "participants-votes.csv")
    assert sorted(written.index, key=int) == sorted(original.index, key=int)
    columns = [c for c in original.columns if c.isdigit()]
    assert written.loc[original.index, columns].equals(original[columns])
    # Comments nobody voted on get a column too, with every cell empty.
    extra = [c for c in written.columns if c.isdigit() and c not in columns]
    assert (written[extra] == "").all().all()
    for column in ("group-id", "n-votes", "n-agree", "n-disagree"):
        assert written.loc[original.index, column].equals(original[column]), column


def assert_history_equals_source(source: Path, exported: Path) -> None:
    columns = ["timestamp", "comment-id", "voter-id", "vote"]
    original = pd.read_csv(source / "votes.csv")[columns]
    written = pd.read_csv(exported / "votes.csv")[columns]
    order = ["timestamp", "comment-id", "voter-id", "vote"]
    assert (
        written.sort_values(order)
        .reset_index(drop=True)
        .equals(original.sort_values(order).reset_index(drop=True))
    )


def assert_comments_equal_source(source: Path, exported: Path) -> None:
    columns = ["timestamp", "comment-id", "author-id", "moderated", "comment-body"]
    original = pd.read_csv(source / "comments.csv", keep_default_na=False)
    written = pd.read_csv(exported / "comments.csv", keep_default_na=False)
    by_id = written.set_index("comment-id")
    original = original.set_index("comment-id")
    assert by_id.loc[original.index, columns[:1] + columns[2:]].equals(
        original[columns[:1] + columns[2:]]
    )
    # Polis counts every vote row, superseded ones included; so does the export.
    assert by_id.loc[original.index, "agrees"].equals(original["agrees"])
    assert by_id.loc[original.index, "disagrees"].equals(original["disagrees"])


@pytest.mark.django_db
def test_a_workbench_workshop_exports_with_its_own_ids(
    setup, participant_a, participant_b, vote_round, tmp_path
):
    owner = setup.workshop.owner
    tricky = principle_seed(
        workshop=setup.workshop,
        text='=HYPERLINK("x"), with "quotes", commas',
        actor=owner,
    )
    vote_cast(participant=participant_a, round_=vote_round, principle=tricky, choice=1)
    vote_cast(participant=participant_a, round_=vote_round, principle=tricky, choice=-1)
    vote_cast(
        participant=participant_b,
        round_=vote_round,
        principle=setup.seeds[0],
        choice=0,
    )

    result = polis_export(workshop=setup.workshop, out=tmp_path)

    assert (result.comments, result.participants, result.votes) == (4, 2, 2)
    assert result.vote_records == 3
    with (tmp_path / "comments.csv").open(newline="") as handle:
        rows = {int(r["comment-id"]): r for r in csv.DictReader(handle)}
    assert rows[tricky.pk]["comment-body"] == tricky.text  # exact, not neutralised
    assert rows[tricky.pk]["is-seed"] == "true"
    assert (rows[tricky.pk]["agrees"], rows[tricky.pk]["disagrees"]) == ("1", "1")
    matrix = read_matrix(tmp_path / "participants-votes.csv")
    assert matrix.loc[str(participant_a.pk), str(tricky.pk)] == "-1"
    assert matrix.loc[str(participant_b.pk), str(setup.seeds[0].pk)] == "0"
    assert matrix.loc[str(participant_a.pk), "group-id"] == ""

    again = polis_import(folder=tmp_path, slug="copy", owner=owner)
    assert again.votes == 2
    assert again.participants == 2  # the seeds have no author
    assert again.workshop.principles.get(external_id=str(tricky.pk)).text == tricky.text


def test_ids_keep_polis_ids_and_move_colliding_pks():
    rows = [(1, "0"), (2, "1"), (3, ""), (4, "worker-9"), (7, "")]

    assert polis_ids(rows) == {1: 0, 2: 1, 3: 3, 4: 4, 7: 7}
    assert polis_ids([(1, "5"), (5, ""), (6, "")]) == {1: 5, 5: 6, 6: 7}


@pytest.mark.django_db
def test_a_participant_id_from_elsewhere_becomes_the_xid(
    setup, participant_a, vote_round, tmp_path
):
    Participant.objects.filter(pk=participant_a.pk).update(external_id="worker-9")
    vote_cast(
        participant=participant_a,
        round_=vote_round,
        principle=setup.seeds[0],
        choice=1,
    )

    polis_export(workshop=setup.workshop, out=tmp_path)

    matrix = read_matrix(tmp_path / "participants-votes.csv")
    assert matrix.loc[str(participant_a.pk), "xid"] == "worker-9"
    assert Round.objects.filter(workshop=setup.workshop).count() == 1
