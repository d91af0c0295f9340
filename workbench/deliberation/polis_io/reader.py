"""Reads a Polis export folder (the openData layout) into validated pandas frames.

Pure: no database. Every problem raises PolisFormatError naming the file, the line in
the file (1-based, the header is line 1) and the column, so a researcher can open the
file at that spot and fix it.

Cells are read as text and converted here, column by column, rather than by pandas'
own dtype inference: inference turns a comment reading "NA" into a missing value and
reports a bad number without saying where it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
from django.conf import settings

from workbench.core.errors import ApplicationError

COMMENTS = "comments.csv"
VOTES = "votes.csv"
PARTICIPANTS_VOTES = "participants-votes.csv"
SUMMARY = "summary.csv"

# participants-votes.csv columns that are not comment ids.
MATRIX_META_COLUMNS = (
    "participant",
    "xid",
    "group-id",
    "n-comments",
    "n-votes",
    "n-agree",
    "n-disagree",
)
VOTE_VALUES = (-1, 0, 1)
# Polis ids are small non-negative integers; 18 digits keeps any id inside int64.
_INTEGER = r"-?\d{1,18}"
_TRUE = {"true", "1", "t", "yes"}
_FALSE = {"false", "0", "f", "no", ""}
# The largest file of the openData exports in ../shared/data is 3.3 MB; a file past
# this is refused before it is read (settings.WORKBENCH["POLIS_MAX_BYTES"]).
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


class PolisFormatError(ApplicationError):
    """A Polis file that cannot be imported, located as precisely as the file allows."""

    def __init__(
        self,
        file: str,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        where = file
        if line is not None:
            where += f" line {line}"
        if column is not None:
            where += f", column {column}" if line is not None else f" column {column}"
        super().__init__(
            f"{where}: {message}", extra={"file": file, "line": line, "column": column}
        )


def _describe(values: Collection[int]) -> str:
    items = [str(v) for v in values]
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else items[0]


def _decode(name: str, data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):  # a byte-order mark, as Excel writes
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _encoding_error(name, data, exc) from None


def _encoding_error(
    name: str, data: bytes, exc: UnicodeDecodeError
) -> PolisFormatError:
    # Everything before the bad byte decoded, so it can be parsed to find the line and
    # the CSV column the byte falls in.
    before = data[: exc.start].decode("utf-8")
    line = before.count("\n") + 1
    try:
        records = [row for row in csv.reader(io.StringIO(before)) if row]
    except csv.Error:  # not CSV before the byte either (a binary file): no column
        records = []
    column = None
    if len(records) > 1:
        header, partial = records[0], records[-1]
        index = len(partial) - 1
        column = header[index] if index < len(header) else f"#{index + 1}"
    return PolisFormatError(
        name,
        f"byte 0x{data[exc.start]:02x} is not valid UTF-8; save the file as UTF-8",
        line=line,
        column=column,
    )


@dataclass
class _Table:
    """One CSV file: its text (to locate lines) and its cells as strings."""

    name: str
    text: str
    frame: pd.DataFrame

    @cached_property
    def _record_lines(self) -> list[int]:
        # A quoted comment can span several lines, so a record's position is not its
        # line number; the csv module tracks physical lines. Computed only on error.
        starts: list[int] = []
        reader = csv.reader(io.StringIO(self.text))
        end_of_previous, seen_header = 0, False
        try:
            for row in reader:
                if row:  # pandas skips blank lines, so they are not records
                    if seen_header:
                        starts.append(end_of_previous + 1)
                    seen_header = True
                end_of_previous = reader.line_num
        except csv.Error:
            # Text pandas read but the csv module refuses (a bare carriage return,
            # a field past its size limit): the lines found so far; later rows
            # are placed by their position.
            pass
        return starts

    def line(self, position: int) -> int:
        lines = self._record_lines
        return lines[position] if position < len(lines) else position + 2

    def fail(self, position: int, column: str, message: str) -> NoReturn:
        raise PolisFormatError(
            self.name, message, line=self.line(position), column=column
        )

    def fail_first(self, bad: pd.Series, column: str, message: str) -> None:
        """Raises for the first row flagged in `bad`; `{value}` shows its cell."""
        flags = bad.to_numpy(dtype=bool)
        if flags.any():
            position = int(flags.argmax())
            value = str(self.frame[column].iloc[position])
            self.fail(position, column, message.format(value=value))

    def has(self, column: str) -> bool:
        return column in self.frame.columns

    def require(self, *columns: str) -> None:
        missing = [c for c in columns if not self.has(c)]
        if missing:
            found = ", ".join(map(str, self.frame.columns)) or "nothing"
            raise PolisFormatError(
                self.name,
                f"missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} (the header has: {found})",
                line=1,
                column=missing[0],
            )

    def integers(self, column: str, *, allowed: Sequence[int] = ()) -> pd.Series:
        raw = self.frame[column].str.strip()
        expected = _describe(allowed) if allowed else "a whole number"
        self.fail_first(raw == "", column, f"the value is empty (expected {expected})")
        self.fail_first(
            ~raw.str.fullmatch(_INTEGER), column, f"'{{value}}' is not {expected}"
        )
        values = pd.to_numeric(raw).astype("int64")
        if allowed:
            self.fail_first(
                ~values.isin(allowed), column, f"'{{value}}' is not {expected}"
            )
        return values

    def optional_integers(self, column: str) -> pd.Series:
        """Whole numbers or blanks (pandas' nullable Int64)."""
        raw = self.frame[column].str.strip()
        ok = (raw == "") | raw.str.fullmatch(_INTEGER)
        self.fail_first(~ok, column, "'{value}' is not a whole number or empty")
        return pd.to_numeric(raw.mask(raw == "")).astype("Int64")

    def booleans(self, column: str) -> pd.Series:
        raw = self.frame[column].str.strip().str.lower()
        self.fail_first(
            ~raw.isin(_TRUE | _FALSE), column, "'{value}' is not true or false"
        )
        return raw.isin(_TRUE).astype(bool)

    def texts(self, column: str, *, blank_ok: bool = False) -> pd.Series:
        values = self.frame[column].astype(str)
        if not blank_ok:
            self.fail_first(values.str.strip() == "", column, "the text is empty")
        return values

    def unique(self, column: str, values: pd.Series) -> None:
        repeated = values.duplicated().to_numpy()
        if repeated.any():
            position = int(repeated.argmax())
            first = int((values == values.iloc[position]).to_numpy().argmax())
            self.fail(
                position,
                column,
                f"{values.iloc[position]} appears twice (first on line "
                f"{self.line(first)})",
            )


def _parser_error(name: str, exc: pd.errors.ParserError) -> PolisFormatError:
    # pandas' C parser says "Expected 5 fields in line 7, saw 6"; lift out the line.
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if found:
        expected, line, saw = found.groups()
        return PolisFormatError(
            name,
            f"the row has {saw} fields but the header has {expected}",
            line=int(line),
        )
    return PolisFormatError(name, f"not a readable CSV file ({exc})")


def max_bytes() -> int:
    return int(settings.WORKBENCH.get("POLIS_MAX_BYTES", DEFAULT_MAX_BYTES))


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, refused by its size before any of it is read."""
    limit = max_bytes()
    if path.stat().st_size > limit:
        raise PolisFormatError(
            path.name,
            f"the file is larger than the limit of {limit / 1024 / 1024:g} MB",
        )
    return path.read_bytes()


def _read_table(folder: Path, name: str, *, header: bool = True) -> _Table:
    text = _decode(name, _read_bytes(folder / name))
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=0 if header else None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
        )
    except pd.errors.EmptyDataError:
        raise PolisFormatError(name, "the file is empty") from None
    except pd.errors.ParserError as exc:
        raise _parser_error(name, exc) from None
    if header:
        frame.columns = [str(c).strip() for c in frame.columns]
    # Rows shorter than the header come back as NaN even without NA parsing.
    return _Table(name=name, text=text, frame=frame.fillna(""))


def _read_comments(folder: Path) -> pd.DataFrame:
    table = _read_table(folder, COMMENTS)
    table.require("timestamp", "comment-id", "author-id", "moderated", "comment-body")
    if table.frame.empty:
        raise PolisFormatError(COMMENTS, "the file has a header but no comments")
    size = len(table.frame)
    comments = pd.DataFrame(
        {
            "comment_id": table.integers("comment-id"),
            # Blank for a facilitator's seed, which no participant wrote.
            "author_id": table.optional_integers("author-id"),
            "ms": table.integers("timestamp"),
            "moderated": table.integers("moderated", allowed=VOTE_VALUES),
            "is_meta": table.booleans("is-meta")
            if table.has("is-meta")
            else np.zeros(size, dtype=bool),
            "is_seed": table.booleans("is-seed")
            if table.has("is-seed")
            else np.zeros(size, dtype=bool),
            "text": table.texts("comment-body"),
        }
    )
    table.unique("comment-id", comments["comment_id"])
    return comments


def _check_known(table: _Table, column: str, ids: pd.Series, known: pd.Series) -> None:
    table.fail_first(
        ~ids.isin(known),
        column,
        f"vote on unknown comment id {{value}} (not in {COMMENTS})",
    )


def _read_votes(folder: Path, comment_ids: pd.Series) -> pd.DataFrame:
    table = _read_table(folder, VOTES)
    table.require("timestamp", "comment-id", "voter-id", "vote")
    votes = pd.DataFrame(
        {
            "ms": table.integers("timestamp"),
            "comment_id": table.integers("comment-id"),
            "voter_id": table.integers("voter-id"),
            "vote": table.integers("vote", allowed=VOTE_VALUES),
        }
    )
    _check_known(table, "comment-id", votes["comment_id"], comment_ids)
    return votes


@dataclass(frozen=True)
class _Matrix:
    participants: pd.DataFrame  # participant_id, group_id (Int64), xid
    votes: pd.DataFrame  # voter_id, comment_id, vote


def _matrix_columns(table: _Table, comment_ids: pd.Series) -> list[str]:
    columns = [c for c in table.frame.columns if c not in MATRIX_META_COLUMNS]
    known = set(comment_ids.tolist())
    for column in columns:
        if not pd.Series([column]).str.fullmatch(_INTEGER).iloc[0]:
            raise PolisFormatError(
                table.name,
                "neither a known column nor a comment id",
                line=1,
                column=column,
            )
        if int(column) not in known:
            raise PolisFormatError(
                table.name,
                f"comment id {column} is not in {COMMENTS}",
                line=1,
                column=column,
            )
    return columns


def _read_matrix(folder: Path, comment_ids: pd.Series) -> _Matrix:
    table = _read_table(folder, PARTICIPANTS_VOTES)
    table.require("participant")
    columns = _matrix_columns(table, comment_ids)
    size = len(table.frame)
    participants = pd.DataFrame(
        {
            "participant_id": table.integers("participant"),
            "group_id": table.optional_integers("group-id")
            if table.has("group-id")
            else pd.array([pd.NA] * size, dtype="Int64"),
            "xid": table.texts("xid", blank_ok=True).str.strip()
            if table.has("xid")
            else [""] * size,
        }
    )
    table.unique("participant", participants["participant_id"])
    cells = table.frame[columns].to_numpy(dtype=str)
    cells = np.char.strip(cells)
    bad = ~np.isin(cells, ["", "-1", "0", "1"])
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        table.fail(row, columns[col], f"'{cells[row, col]}' is not -1, 0, 1 or empty")
    rows, cols = np.nonzero(cells != "")
    votes = pd.DataFrame(
        {
            "voter_id": participants["participant_id"].to_numpy()[rows],
            "comment_id": np.array([int(c) for c in columns], dtype="int64")[cols],
            "vote": cells[rows, cols].astype("int64"),
        }
    )
    return _Matrix(participants=participants, votes=votes)


def _read_summary(folder: Path) -> dict[str, str]:
    if not (folder / SUMMARY).is_file():
        return {}
    table = _read_table(folder, SUMMARY, header=False)
    if table.frame.shape[1] < 2:
        raise PolisFormatError(SUMMARY, "expected key,value rows")
    keys = table.frame.iloc[:, 0].str.strip()
    return dict(zip(keys, table.frame.iloc[:, 1], strict=True))


@dataclass(frozen=True)
class PolisConversation:
    """A validated conversation. Ids are Polis's integer ids."""

    name: str
    summary: dict[str, str]
    # comment_id, author_id (Int64, blank for seeds), ms, moderated, is_meta,
    # is_seed, text
    comments: pd.DataFrame
    # The full history (ms, comment_id, voter_id, vote) in file order, or None
    # when only participants-votes.csv was given.
    history: pd.DataFrame | None
    # participant_id, group_id (Int64), xid; None without participants-votes.csv.
    matrix_participants: pd.DataFrame | None
    # The latest votes as participants-votes.csv states them (voter_id, comment_id,
    # vote); None without that file.
    matrix_votes: pd.DataFrame | None
    files: tuple[str, ...]

    def vote_history(self, *, default_ms: int) -> pd.DataFrame:
        """Every vote row; a matrix-only export stands in as one row per cell."""
        if self.history is not None:
            return self.history
        if self.matrix_votes is None:  # read_polis_folder requires one of the two
            raise ApplicationError("The conversation has no votes.")
        return self.matrix_votes.assign(ms=default_ms)[
            ["ms", "comment_id", "voter_id", "vote"]
        ]

    def latest_votes(self, *, default_ms: int) -> pd.DataFrame:
        """One row per (voter, comment): the latest; a tie goes to the later row."""
        history = self.vote_history(default_ms=default_ms)
        ordered = history.sort_values("ms", kind="stable")
        return ordered.drop_duplicates(["voter_id", "comment_id"], keep="last")

    def participants(self) -> pd.DataFrame:
        """Everyone who wrote or voted, by id: participant_id, group_id, xid."""
        ids = [self.comments["author_id"].dropna().astype("int64")]
        if self.history is not None:
            ids.append(self.history["voter_id"])
        if self.matrix_participants is not None:
            ids.append(self.matrix_participants["participant_id"])
        everyone = pd.DataFrame(
            {"participant_id": np.unique(pd.concat(ids).to_numpy())}
        )
        if self.matrix_participants is None:
            return everyone.assign(
                group_id=pd.array([pd.NA] * len(everyone), dtype="Int64"), xid=""
            )
        merged = everyone.merge(
            self.matrix_participants, on="participant_id", how="left"
        )
        merged["xid"] = merged["xid"].fillna("")
        return merged


def read_polis_folder(folder: Path) -> PolisConversation:
    """Reads and validates every file; raises PolisFormatError on the first problem."""
    if not folder.is_dir():
        raise ApplicationError(f"{folder} is not a folder.")
    if not (folder / COMMENTS).is_file():
        raise PolisFormatError(COMMENTS, f"not found in {folder}")
    has_votes = (folder / VOTES).is_file()
    has_matrix = (folder / PARTICIPANTS_VOTES).is_file()
    if not (has_votes or has_matrix):
        raise PolisFormatError(
            VOTES, f"not found in {folder} (nor {PARTICIPANTS_VOTES}); one is needed"
        )
    summary = _read_summary(folder)
    comments = _read_comments(folder)
    history = _read_votes(folder, comments["comment_id"]) if has_votes else None
    matrix = _read_matrix(folder, comments["comment_id"]) if has_matrix else None
    files = [COMMENTS]
    files += [VOTES] if has_votes else []
    files += [PARTICIPANTS_VOTES] if has_matrix else []
    files += [SUMMARY] if summary else []
    return PolisConversation(
        name=folder.name,
        summary=summary,
        comments=comments,
        history=history,
        matrix_participants=matrix.participants if matrix else None,
        matrix_votes=matrix.votes if matrix else None,
        files=tuple(files),
    )
