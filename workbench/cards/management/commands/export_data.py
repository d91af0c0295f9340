from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.cards.exports import FORMATS, TABLE_NAMES, export_to_folder
from workbench.deliberation.management.arguments import workshop_named


class Command(BaseCommand):
    help = (
        "Writes every table of a workshop (docs/exports.md) as CSV, JSON or Parquet "
        "files into a new folder, with the Polis export under polis/. All or "
        "nothing: the folder appears only once complete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", choices=FORMATS, default="csv", dest="fmt")
        parser.add_argument("--out", required=True, type=Path, metavar="DIR")
        parser.add_argument(
            "--tables",
            default="",
            metavar="A,B",
            help="Only these tables (comma-separated); the Polis files only when "
            f"'polis' is listed. Tables: {', '.join(TABLE_NAMES)}.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workshop = workshop_named(options["slug"])
        names = [n.strip() for n in options["tables"].split(",") if n.strip()]
        polis = not names or "polis" in names
        tables = [n for n in names if n != "polis"] if names else None
        unknown = sorted(set(tables or []) - set(TABLE_NAMES))
        if unknown:
            raise CommandError(
                f"Unknown tables: {', '.join(unknown)}. "
                f"Tables: {', '.join([*TABLE_NAMES, 'polis'])}."
            )
        try:
            counts = export_to_folder(
                workshop=workshop,
                fmt=options["fmt"],
                out=options["out"],
                tables=tables,
                polis=polis,
            )
        except FileExistsError as error:
            raise CommandError(str(error)) from None
        rows = sum(counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {options['out']}: {len(counts)} tables, {rows} rows"
                + (", and the Polis files in polis/." if polis else ".")
            )
        )
