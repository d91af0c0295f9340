"""Reads comparison files into validated rows. Pure: no database.

Three formats, in CSV or JSON Lines (optionally gzip-compressed):

- ``workbench``: one human judgment per line, the columns of DESIGN.md's table
  (item, principle, prompt, response_a, response_b, label, annotator, group, reason).
- ``icai``: Inverse Constitutional AI's CSV (``text_a, text_b, preferred_text``), each
  text "Instruction: ...\\n\\nOutput: ..."; the instruction becomes the prompt. No
  principle column: the caller names one. The labels come from the generator, stored
  as one annotator, ``ICAI_ANNOTATOR``.
- ``hh-rlhf``: Anthropic HH-RLHF JSON Lines (``chosen``, ``rejected`` transcripts).
  The two transcripts are split at the last "\\n\\nAssistant:" they share: before it is
  the prompt (the conversation so far), after it the two final responses. Where the
  transcripts diverge earlier (5 of the 2,312 harmless-base test rows), a response
  may then hold more than one turn. Each pair had one crowdworker but the source names
  none, so every label is stored under one imported annotator, ``HH_ANNOTATOR``,
  standing for the anonymous crowd (not one person: no inter-rater figure can be
  computed from it). The chosen response is put at A or B by a hash of the row, so
  position carries no information about the label. A final response may be empty (the
  assistant said nothing; 4 rows of the harmless-base test split).

Every problem raises ComparisonFormatError naming the file, the line (1-based; a CSV
header is line 1) and the column.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from django.conf import settings

from workbench.core.errors import ApplicationError

FORMATS = ("workbench", "icai", "hh-rlhf")
LABELS = ("a", "b", "tie", "na")
WORKBENCH_REQUIRED = ("item", "principle", "prompt", "response_a", "response_b")
WORKBENCH_OPTIONAL = ("label", "annotator", "group", "reason")
ICAI_REQUIRED = ("text_a", "text_b", "preferred_text")
HH_REQUIRED = ("chosen", "rejected")
ICAI_ANNOTATOR = "icai generator"
ICAI_GROUP = "ICAI synthetic labels"
HH_ANNOTATOR = "hh-rlhf crowdworker"
HH_GROUP = "HH-RLHF crowdworkers"
DEFAULT_GROUP = "Imported annotators"
ASSISTANT = "\n\nAssistant:"
OUTPUT = "\n\nOutput:"
INSTRUCTION = "Instruction:"
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 200_000
MAX_ID_LENGTH = 64


class ComparisonFormatError(ApplicationError):
    """A comparison file that cannot be imported, located as precisely as possible."""

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


@dataclass(frozen=True)
class Row:
    """One line of a comparison file, normalised to the workbench's own columns."""

    line: int
    item: str
    principle: str | None
    prompt: str
    response_a: str
    response_b: str
    label: str | None = None
    annotator: str = ""
    group: str = ""
    reason: str = ""
    labels_ab: tuple[str, str] = ("", "")  # the source's names for A and B


@dataclass
class ComparisonFile:
    name: str
    format: str
    rows: list[Row] = field(default_factory=list)


def limits() -> tuple[int, int]:
    """(bytes, rows): settings.WORKBENCH may set COMPARISON_MAX_BYTES / _MAX_ROWS."""
    config = settings.WORKBENCH
    return (
        int(config.get("COMPARISON_MAX_BYTES", DEFAULT_MAX_BYTES)),
        int(config.get("COMPARISON_MAX_ROWS", DEFAULT_MAX_ROWS)),
    )


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    name = path.name
    if not path.is_file():
        raise ComparisonFormatError(name, "there is no such file")
    if path.stat().st_size > max_bytes:
        raise ComparisonFormatError(name, _too_big(max_bytes))
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        # Read at most one byte past the limit, so a small archive cannot expand
        # into memory without bound.
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as archive:
                data = archive.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise ComparisonFormatError(
                name, f"not a readable gzip file ({exc})"
            ) from None
        if len(data) > max_bytes:
            raise ComparisonFormatError(name, _too_big(max_bytes, unpacked=True))
    return data


def _too_big(max_bytes: int, *, unpacked: bool = False) -> str:
    what = "unpacked, the file" if unpacked else "the file"
    return (
        f"{what} is larger than the limit of {max_bytes / 1024 / 1024:g} MB; "
        "split it into smaller files"
    )


def _decode(name: str, data: bytes, *, is_csv: bool) -> str:
    if data.startswith(b"\xef\xbb\xbf"):  # a byte-order mark, as Excel writes
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")
        line = before.count("\n") + 1
        column = _csv_column_at_end(before) if is_csv else None
        if column is None:
            column = f"character {len(before) - before.rfind(chr(10))}"
        raise ComparisonFormatError(
            name,
            f"byte 0x{data[exc.start]:02x} is not valid UTF-8; save the file as UTF-8",
            line=line,
            column=column,
        ) from None


def _csv_column_at_end(text: str) -> str | None:
    try:
        records = [row for row in csv.reader(io.StringIO(text)) if row]
    except csv.Error:  # not CSV before the byte either (a binary file): no column
        return None
    if len(records) < 2:
        return None
    header, partial = records[0], records[-1]
    index = len(partial) - 1
    return header[index] if index < len(header) else f"#{index + 1}"


def _csv_records(name: str, text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line of the record, cells by column) for every non-blank record."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [c.strip() for c in next(reader)]
    except StopIteration:
        raise ComparisonFormatError(name, "the file is empty") from None
    except csv.Error as exc:
        raise ComparisonFormatError(
            name, f"not a readable CSV ({exc})", line=1
        ) from None
    yield 1, {c: c for c in header}
    end_of_previous = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ComparisonFormatError(
                name, f"not a readable CSV ({exc})", line=end_of_previous + 1
            ) from None
        line, end_of_previous = end_of_previous + 1, reader.line_num
        if not cells:
            continue
        if len(cells) > len(header):
            raise ComparisonFormatError(
                name,
                f"the row has {len(cells)} fields but the header has {len(header)}",
                line=line,
            )
        yield line, dict(zip(header, cells, strict=False))


def _jsonl_records(name: str, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ComparisonFormatError(
                name,
                f"not valid JSON ({exc.msg})",
                line=number,
                column=f"character {exc.colno}",
            ) from None
        if not isinstance(record, dict):
            raise ComparisonFormatError(
                name, "each line must be one JSON object", line=number
            )
        yield number, record


def _is_jsonl(name: str, text: str) -> bool:
    lowered = name.lower().removesuffix(".gz")
    if lowered.endswith((".jsonl", ".json", ".ndjson")):
        return True
    if lowered.endswith(".csv"):
        return False
    return text.lstrip().startswith("{")


def _detect(name: str, columns: set[str]) -> str:
    if set(HH_REQUIRED) <= columns:
        return "hh-rlhf"
    if set(ICAI_REQUIRED) <= columns:
        return "icai"
    if "item" in columns or "response_a" in columns:
        return "workbench"
    found = ", ".join(sorted(columns)) or "nothing"
    raise ComparisonFormatError(
        name,
        "cannot tell the format from the columns (expected item/principle/prompt/"
        "response_a/response_b, text_a/text_b/preferred_text, or chosen/rejected; "
        f"found {found}); name it with --format",
        line=1,
    )


def read_comparison_file(
    path: Path, *, fmt: str | None = None, principle: str | None = None
) -> ComparisonFile:
    """Reads and validates `path`; `fmt` None or "auto" detects the format. ICAI and
    HH-RLHF files have no principle column: `principle` names the one they test."""
    name = path.name
    max_bytes, max_rows = limits()
    data = _read_bytes(path, max_bytes)
    jsonl = _is_jsonl(name, data[:64].decode("utf-8", "replace"))
    text = _decode(name, data, is_csv=not jsonl)
    if jsonl:
        records = _limited(name, _jsonl_records(name, text), max_rows)
        columns = {key for _, record in records for key in record}
    else:
        reader = _csv_records(name, text)
        columns = set(next(reader)[1])
        records = _limited(name, reader, max_rows)
    if not records:
        raise ComparisonFormatError(name, "the file holds no comparisons")
    fmt = _detect(name, columns) if fmt in (None, "", "auto") else fmt
    if fmt not in FORMATS:
        raise ComparisonFormatError(
            name, f"unknown format “{fmt}” (use auto, {', '.join(FORMATS)})"
        )
    context = _Context(
        name=name, jsonl=jsonl, principle=_principle(name, fmt, principle)
    )
    _require_header(context, fmt, columns)
    parse = {"workbench": _workbench_row, "icai": _icai_row, "hh-rlhf": _hh_row}[fmt]
    rows = [parse(context, line, record) for line, record in records]
    if fmt == "icai":
        # Every ICAI row is its own pair; its position is its id (the unnamed index
        # column restarts in the mixed file, so it is not one).
        rows = [replace(row, item=str(i)) for i, row in enumerate(rows)]
    _check_consistency(name, rows)
    return ComparisonFile(name=name, format=fmt, rows=rows)


def _limited(
    name: str, records: Iterator[tuple[int, dict[str, Any]]], max_rows: int
) -> list[tuple[int, dict[str, Any]]]:
    kept: list[tuple[int, dict[str, Any]]] = []
    for line, record in records:
        if len(kept) == max_rows:
            raise ComparisonFormatError(
                name,
                f"the file has more than the limit of {max_rows} rows; "
                "split it into smaller files",
                line=line,
            )
        kept.append((line, record))
    return kept


def normalize_principle(text: str) -> str:
    return " ".join(text.split())


def _principle(name: str, fmt: str, principle: str | None) -> str | None:
    if fmt == "workbench":
        if principle:
            raise ComparisonFormatError(
                name, "the file names its own principles; leave out --principle"
            )
        return None
    text = normalize_principle(principle or "")
    if not text:
        raise ComparisonFormatError(
            name,
            f"a {fmt} file has no principle column; name the principle its labels "
            "follow with --principle TEXT",
        )
    _check_principle_length(name, text, line=None)
    return text


def _check_principle_length(name: str, text: str, *, line: int | None) -> None:
    limit = int(settings.WORKBENCH["PRINCIPLE_MAX_LENGTH"])
    if len(text) > limit:
        raise ComparisonFormatError(
            name,
            f"the principle has {len(text)} characters; the limit is {limit}",
            line=line,
            column="principle" if line is not None else None,
        )


@dataclass(frozen=True)
class _Context:
    name: str
    jsonl: bool
    principle: str | None

    def fail(
        self, line: int, column: str | None, message: str
    ) -> ComparisonFormatError:
        return ComparisonFormatError(self.name, message, line=line, column=column)

    def cell(
        self,
        line: int,
        record: dict[str, Any],
        column: str,
        *,
        required: bool = True,
        max_length: int | None = None,
    ) -> str:
        """The cell as text; an absent column or JSON null is empty."""
        if column not in record and required and self.jsonl:
            raise self.fail(line, column, "the field is missing")
        value = record.get(column)
        if value is None:
            value = ""
        elif isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(line, column, "expected text")
        value = str(value)
        if required and not value.strip():
            raise self.fail(line, column, "the text is empty")
        if max_length is not None and len(value.strip()) > max_length:
            raise self.fail(
                line, column, f"longer than the limit of {max_length} characters"
            )
        return value


def _require_header(context: _Context, fmt: str, columns: set[str]) -> None:
    if context.jsonl:
        return  # JSON Lines are checked line by line, each naming its line.
    required = {
        "workbench": WORKBENCH_REQUIRED,
        "icai": ICAI_REQUIRED,
        "hh-rlhf": HH_REQUIRED,
    }[fmt]
    missing = [c for c in required if c not in columns]
    if fmt == "workbench" and "label" in columns and "annotator" not in columns:
        missing.append("annotator")
    if missing:
        found = ", ".join(sorted(c or '""' for c in columns)) or "nothing"
        raise context.fail(
            1,
            missing[0],
            f"missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (the header has: {found})",
        )


def _workbench_row(context: _Context, line: int, record: dict[str, Any]) -> Row:
    def text(column: str) -> str:
        return context.cell(line, record, column)

    item = context.cell(line, record, "item", max_length=MAX_ID_LENGTH).strip()
    principle = normalize_principle(text("principle"))
    _check_principle_length(context.name, principle, line=line)
    response_a, response_b = text("response_a"), text("response_b")
    if response_a == response_b:
        raise context.fail(line, "response_b", "the same text as response_a")
    label = context.cell(line, record, "label", required=False).strip().lower()
    if label and label not in LABELS:
        raise context.fail(
            line, "label", f"“{label}” is not a label (use a, b, tie or na)"
        )
    annotator = context.cell(
        line, record, "annotator", required=False, max_length=MAX_ID_LENGTH
    ).strip()
    if label and not annotator:
        raise context.fail(line, "annotator", "a label needs the annotator's id")
    if annotator and not label:
        raise context.fail(
            line,
            "label",
            "an annotator without a label; leave both empty for an "
            "item without human labels yet",
        )
    return Row(
        line=line,
        item=item,
        principle=principle,
        prompt=text("prompt"),
        response_a=response_a,
        response_b=response_b,
        label=label or None,
        annotator=annotator,
        group=context.cell(
            line, record, "group", required=False, max_length=120
        ).strip(),
        reason=context.cell(line, record, "reason", required=False),
    )


def _split_icai(
    context: _Context, line: int, column: str, text: str
) -> tuple[str, str]:
    instruction, separator, output = text.partition(OUTPUT)
    instruction = instruction.strip()
    if not separator or not instruction.startswith(INSTRUCTION):
        raise context.fail(
            line, column, "expected “Instruction: …” then a blank line and “Output: …”"
        )
    prompt, output = instruction.removeprefix(INSTRUCTION).strip(), output.strip()
    if not prompt or not output:
        raise context.fail(line, column, "the instruction or the output is empty")
    return prompt, output


def _icai_row(context: _Context, line: int, record: dict[str, Any]) -> Row:
    prompt_a, response_a = _split_icai(
        context, line, "text_a", context.cell(line, record, "text_a")
    )
    prompt_b, response_b = _split_icai(
        context, line, "text_b", context.cell(line, record, "text_b")
    )
    if prompt_a != prompt_b:
        raise context.fail(line, "text_b", "its instruction differs from text_a's")
    if response_a == response_b:
        raise context.fail(line, "text_b", "the same output as text_a")
    preferred = context.cell(line, record, "preferred_text").strip()
    if preferred not in ("text_a", "text_b"):
        raise context.fail(
            line, "preferred_text", f"“{preferred}” is not text_a or text_b"
        )
    return Row(
        line=line,
        item="",  # set from the row's position
        principle=context.principle,
        prompt=prompt_a,
        response_a=response_a,
        response_b=response_b,
        label=preferred.removeprefix("text_"),
        annotator=ICAI_ANNOTATOR,
        group=ICAI_GROUP,
        labels_ab=("text_a", "text_b"),
    )


def split_transcripts(chosen: str, rejected: str) -> tuple[str, str, str] | None:
    """(prompt, chosen response, rejected response), split at the last Assistant
    turn both transcripts share; None when they share none."""
    shared = 0
    for x, y in zip(chosen, rejected, strict=False):
        if x != y:
            break
        shared += 1
    cut = chosen.rfind(ASSISTANT, 0, shared)
    if cut <= 0:
        return None
    start = cut + len(ASSISTANT)
    return chosen[:cut], chosen[start:].strip(), rejected[start:].strip()


def _hh_row(context: _Context, line: int, record: dict[str, Any]) -> Row:
    chosen = context.cell(line, record, "chosen")
    rejected = context.cell(line, record, "rejected")
    split = split_transcripts(chosen, rejected)
    if split is None:
        raise context.fail(
            line, "rejected", "chosen and rejected share no Human/Assistant turns"
        )
    prompt, good, bad = split
    if not prompt.strip():
        raise context.fail(
            line, "chosen", "the conversation before the answer is empty"
        )
    if good == bad:
        raise context.fail(line, "rejected", "the same final response as chosen")
    # The source always lists the chosen response first; a hash of the row (stable
    # across imports) decides its position so that A is not always the right answer.
    chosen_first = hashlib.sha256(f"{chosen}\0{rejected}".encode()).digest()[0] % 2
    a, b, label = (good, bad, "a") if chosen_first else (bad, good, "b")
    return Row(
        line=line,
        item=str(line),
        principle=context.principle,
        prompt=prompt.strip(),
        response_a=a,
        response_b=b,
        label=label,
        annotator=HH_ANNOTATOR,
        group=HH_GROUP,
        labels_ab=("chosen", "rejected") if chosen_first else ("rejected", "chosen"),
    )


def _check_consistency(name: str, rows: list[Row]) -> None:
    """Lines with the same item describe one comparison; one judgment per annotator
    per item; one group per annotator; one item per comparison."""
    first: dict[str, Row] = {}
    comparisons: dict[tuple[str | None, str, str, str], Row] = {}
    judged: dict[tuple[str, str], Row] = {}
    groups: dict[str, Row] = {}
    for row in rows:
        seen = first.setdefault(row.item, row)
        for column in ("principle", "prompt", "response_a", "response_b"):
            if getattr(row, column) != getattr(seen, column):
                raise ComparisonFormatError(
                    name,
                    f"differs from line {seen.line}, where item “{row.item}” first "
                    "appears (lines with the same item are one comparison)",
                    line=row.line,
                    column=column,
                )
        key = (row.principle, row.prompt, row.response_a, row.response_b)
        other = comparisons.setdefault(key, row)
        if other.item != row.item:
            raise ComparisonFormatError(
                name,
                f"the same principle, prompt and responses as item “{other.item}” "
                f"on line {other.line}; give them the same item id",
                line=row.line,
                column="item",
            )
        if not row.annotator:
            continue
        earlier = judged.setdefault((row.item, row.annotator), row)
        if earlier is not row:
            raise ComparisonFormatError(
                name,
                f"“{row.annotator}” already judged item “{row.item}” on line "
                f"{earlier.line}",
                line=row.line,
                column="annotator",
            )
        grouped = groups.setdefault(row.annotator, row)
        if row.group and grouped.group and row.group != grouped.group:
            raise ComparisonFormatError(
                name,
                f"“{row.annotator}” is in group “{grouped.group}” on line "
                f"{grouped.line}",
                line=row.line,
                column="group",
            )
        if row.group and not grouped.group:
            groups[row.annotator] = row
