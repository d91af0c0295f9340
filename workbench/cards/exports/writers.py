"""Writes a workshop's tables as CSV, JSON or Parquet files, plus its Polis export.

CSV is what people open in spreadsheets, so text cells a spreadsheet would run as a
formula are neutralised there (OWASP's "CSV injection" advice: a leading single
quote). JSON and Parquet are read by programs and keep every text exactly. The
Polis files under `polis/` come from the Polis exporter, which keeps text exact so
the importer reads them back unchanged (its module docstring says why).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import pandas as pd
from django.utils import timezone

from workbench.cards.exports.tables import TABLES, workshop_tables
from workbench.deliberation.models import Workshop
from workbench.deliberation.polis_io.exporter import polis_export

Format = Literal["csv", "json", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "json", "parquet")
POLIS = "polis"
MANIFEST = "manifest.json"

# OWASP's list: a spreadsheet treats a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ISO_UTC = "%Y-%m-%dT%H:%M:%S.%fZ"


def neutralise_formula(text: str) -> str:
    """`text` as a spreadsheet shows it rather than runs it."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _text_frame(frame: pd.DataFrame, *, neutralise: bool) -> pd.DataFrame:
    """Timestamps as UTC ISO 8601 text; text cells neutralised when asked."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            out[name] = column.dt.strftime(ISO_UTC).astype("string")
        elif neutralise and isinstance(column.dtype, pd.StringDtype):
            out[name] = column.map(neutralise_formula, na_action="ignore").astype(
                "string"
            )
    return out


def write_table(frame: pd.DataFrame, path: Path, *, fmt: Format) -> Path:
    """One table in one file: `path` plus the format's suffix."""
    target = path.with_suffix(f".{fmt}")
    if fmt == "csv":
        _text_frame(frame, neutralise=True).to_csv(
            target, index=False, lineterminator="\n", encoding="utf-8"
        )
    elif fmt == "json":
        text = _text_frame(frame, neutralise=False).to_json(
            orient="records", force_ascii=False, double_precision=15
        )
        target.write_text(text or "[]", encoding="utf-8")
    else:
        frame.to_parquet(target, engine="pyarrow", index=False)
    return target


def _manifest(
    *, workshop: Workshop, fmt: Format, tables: dict[str, pd.DataFrame], polis: bool
) -> dict[str, object]:
    descriptions = {spec.name: spec.description for spec in TABLES}
    return {
        "workshop": workshop.slug,
        "format": fmt,
        "exported_at": timezone.now().strftime(ISO_UTC),
        "tables": {
            name: {
                "file": f"{name}.{fmt}",
                "rows": len(frame),
                "description": descriptions[name],
                "columns": {column: str(frame[column].dtype) for column in frame},
            }
            for name, frame in tables.items()
        },
        "polis": f"{POLIS}/" if polis else None,
        "docs": "docs/exports.md in the workbench's repository",
    }


def export_write(
    *,
    workshop: Workshop,
    fmt: Format,
    out: Path,
    tables: Iterable[str] | None = None,
    polis: bool = True,
) -> dict[str, int]:
    """Writes the tables (all, or `tables`) into the existing folder `out`, the
    Polis files into `out/polis/` when `polis`, and a manifest. Returns the row
    count of each table."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    frames = workshop_tables(workshop=workshop, names=tables)
    for name, frame in frames.items():
        write_table(frame, out / name, fmt=fmt)
    if polis:
        polis_export(workshop=workshop, out=out / POLIS)
    manifest = _manifest(workshop=workshop, fmt=fmt, tables=frames, polis=polis)
    (out / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return {name: len(frame) for name, frame in frames.items()}


def export_to_folder(
    *,
    workshop: Workshop,
    fmt: Format,
    out: Path,
    tables: Iterable[str] | None = None,
    polis: bool = True,
) -> dict[str, int]:
    """Like `export_write`, all or nothing: the files are written into a temporary
    folder beside `out`, which is renamed to `out` only once complete. `out` must
    not exist yet, or be an empty folder."""
    out = out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not an empty folder.")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        counts = export_write(
            workshop=workshop, fmt=fmt, out=staging, tables=tables, polis=polis
        )
        if out.exists():
            out.rmdir()
        # A rename on one filesystem: readers see no folder or the whole folder.
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts


def export_archive_name(*, workshop: Workshop, fmt: Format) -> str:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return f"{workshop.slug}-data-{fmt}-{stamp}.zip"


def export_archive(
    *, workshop: Workshop, fmt: Format, tables: Iterable[str] | None = None
) -> tuple[bytes, str]:
    """Every table (and the Polis files) as one zip, and a file name for it: what
    the API's download endpoint sends."""
    buffer = io.BytesIO()
    name = export_archive_name(workshop=workshop, fmt=fmt)
    with tempfile.TemporaryDirectory(prefix="workbench-export-") as tmp:
        root = Path(tmp)
        export_write(workshop=workshop, fmt=fmt, out=root, tables=tables)
        folder = name.removesuffix(".zip")
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{folder}/{path.relative_to(root).as_posix()}")
    return buffer.getvalue(), name
