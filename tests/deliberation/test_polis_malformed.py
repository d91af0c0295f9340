"""Malformed Polis files are refused (file, line and column named); none is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from workbench.core.errors import ApplicationError
from workbench.deliberation.models import Vote
from workbench.deliberation.polis_io import importer
from workbench.deliberation.polis_io.importer import polis_import

COMMENTS = (
    "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
    "1500000000000,Fri Jul 14 02:40:00 UTC 2017,0,0,1,0,1,Plain comment\n"
    '1500000001000,Fri Jul 14 02:40:01 UTC 2017,1,1,1,0,1,"A comment over\n'
    'two lines, with ""quotes"""\n'
    "1500000002000,Fri Jul 14 02:40:02 UTC 2017,2,1,0,1,-1,=SUM(A1)\n"
)
VOTES = (
    "timestamp,datetime,comment-id,voter-id,vote\n"
    "1500000003000,x,0,0,1\n"
    "1500000004000,x,1,0,-1\n"
    "1500000005000,x,1,2,0\n"
)
MATRIX = (
    "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1,2\n"
    "0,0,1,2,1,1,1,-1,\n"
    "2,,0,1,0,0,,0,\n"
)


def write_folder(folder: Path, **files: str | bytes) -> Path:
    """A small valid export; keyword arguments replace (or, as None, drop) files."""
    contents: dict[str, str | bytes | None] = {
        "comments.csv": COMMENTS,
        "votes.csv": VOTES,
        "participants-votes.csv": MATRIX,
    }
    contents.update({k.replace("_", "-") + ".csv": v for k, v in files.items()})
    folder.mkdir(exist_ok=True)
    for name, content in contents.items():
        if content is None:
            continue
        data = content.encode() if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"deliberation", "accounts"}
    }


def import_fails(folder: Path, owner) -> str:
    before = row_counts()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_polis", str(folder), "--workshop", "bad", "--owner", owner.username
        )
    assert row_counts() == before
    message = str(caught.value)
    assert message.endswith("Nothing was imported.")
    return message


@pytest.mark.django_db
def test_the_valid_fixture_imports(owner, tmp_path):
    result = polis_import(folder=write_folder(tmp_path), slug="ok", owner=owner)

    assert (result.comments, result.participants, result.votes) == (3, 3, 3)
    texts = set(result.workshop.principles.values_list("text", flat=True))
    assert 'A comment over\ntwo lines, with "quotes"' in texts
    assert "=SUM(A1)" in texts


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"votes": VOTES + "1500000006000,x,2,0,x\n"},
            "votes.csv line 5, column vote: 'x' is not -1, 0 or 1",
        ),
        (
            {"votes": VOTES + "1500000006000,x,2,0,2\n"},
            "votes.csv line 5, column vote: '2' is not -1, 0 or 1",
        ),
        (
            {"votes": VOTES.replace(",vote\n", ",choice\n")},
            "votes.csv line 1, column vote: missing required column vote",
        ),
        (
            {"votes": VOTES + "1500000006000,x,99,0,1\n"},
            "votes.csv line 5, column comment-id: vote on unknown comment id 99",
        ),
        (
            {"votes": VOTES + "soon,x,1,0,1\n"},
            "votes.csv line 5, column timestamp: 'soon' is not a whole number",
        ),
        (
            # The two-line comment pushes the bad record to line 6 of the file.
            {"comments": COMMENTS + "1500000009000,x,3,1,0,0,2,Bad status\n"},
            "comments.csv line 6, column moderated: '2' is not -1, 0 or 1",
        ),
        (
            {"comments": COMMENTS + "1500000009000,x,1,1,0,0,1,Again\n"},
            "comments.csv line 6, column comment-id: 1 appears twice (first on line 3)",
        ),
        (
            {"comments": COMMENTS + "1500000009000,x,3,1,0,0,1,\n"},
            "comments.csv line 6, column comment-body: the text is empty",
        ),
        (
            {"participants_votes": MATRIX + "5,1,0,1,0,0,1,2,\n"},
            "participants-votes.csv line 4, column 1: '2' is not -1, 0, 1 or empty",
        ),
        (
            {"participants_votes": MATRIX.replace(",2\n", ",7\n", 1)},
            "participants-votes.csv line 1, column 7: comment id 7 is not in "
            "comments.csv",
        ),
        (
            {"votes": VOTES + "1500000006000,x,2,0,1,extra\n"},
            "votes.csv line 5: the row has 6 fields but the header has 5",
        ),
        ({"votes": ""}, "votes.csv: the file is empty"),
        ({"comments": ""}, "comments.csv: the file is empty"),
        (
            {"comments": COMMENTS.splitlines(keepends=True)[0]},
            "comments.csv: the file has a header but no comments",
        ),
        ({"comments": None}, "comments.csv: not found in"),
        (
            {"votes": None, "participants_votes": None},
            "votes.csv: not found in",
        ),
    ],
    ids=[
        "bad-vote",
        "vote-out-of-range",
        "missing-column",
        "unknown-comment",
        "bad-timestamp",
        "bad-moderated-after-multiline",
        "duplicate-comment-id",
        "empty-comment",
        "bad-matrix-cell",
        "matrix-unknown-comment",
        "extra-field",
        "empty-votes",
        "empty-comments",
        "no-comments",
        "missing-comments",
        "no-votes-at-all",
    ],
)
def test_malformed_input_is_refused_and_nothing_stored(
    owner, tmp_path, files, expected
):
    message = import_fails(write_folder(tmp_path, **files), owner)

    assert expected in message


@pytest.mark.django_db
def test_bytes_that_are_not_utf8_are_located(owner, tmp_path):
    latin1 = COMMENTS.replace("Plain comment", "Caf\xe9 comment").encode("latin-1")

    message = import_fails(write_folder(tmp_path, comments=latin1), owner)

    assert (
        "comments.csv line 2, column comment-body: byte 0xe9 is not valid UTF-8"
        in message
    )


@pytest.mark.django_db
def test_a_failure_while_writing_rolls_everything_back(owner, tmp_path, monkeypatch):
    write_rows = importer._bulk_create_votes

    def explode_after_the_history(model, *args, **kwargs):
        # The vote history is already written when the latest votes fail.
        if model is Vote:
            raise ApplicationError("The disk is full.")
        return write_rows(model, *args, **kwargs)

    monkeypatch.setattr(importer, "_bulk_create_votes", explode_after_the_history)
    before = row_counts()

    with pytest.raises(ApplicationError):
        polis_import(folder=write_folder(tmp_path), slug="half", owner=owner)

    assert row_counts() == before


@pytest.mark.django_db
def test_a_workshop_with_principles_is_refused(setup, owner, tmp_path):
    message = import_fails_into(write_folder(tmp_path), "ai-values", owner)

    assert "already has principles" in message


def import_fails_into(folder: Path, slug: str, owner) -> str:
    before = row_counts()
    with pytest.raises(CommandError) as caught:
        call_command("import_polis", str(folder), "--workshop", slug)
    assert row_counts() == before
    return str(caught.value)


@pytest.mark.django_db
def test_a_new_workshop_without_owner_needs_a_single_superuser(owner, tmp_path):
    message = import_fails_into(write_folder(tmp_path), "new", owner)

    assert "no superuser" in message
    assert "--owner" in message


@pytest.mark.django_db
def test_an_unknown_owner_is_refused(owner, tmp_path):
    before = row_counts()
    with pytest.raises(CommandError, match="no user called “nobody”"):
        call_command(
            "import_polis",
            str(write_folder(tmp_path)),
            "--workshop",
            "x",
            "--owner",
            "nobody",
        )
    assert row_counts() == before


@pytest.mark.django_db
def test_an_invalid_slug_is_refused(owner, tmp_path):
    with pytest.raises(ApplicationError, match="not a valid workshop address"):
        polis_import(folder=write_folder(tmp_path), slug="no spaces", owner=owner)
