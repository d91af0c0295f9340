from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from workbench.deliberation.management.arguments import workshop_named
from workbench.deliberation.polis_io.exporter import polis_export


class Command(BaseCommand):
    help = (
        "Writes a workshop as a Polis export folder (comments.csv, votes.csv, "
        "participants-votes.csv, summary.csv); the importer reads it back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--out", required=True, type=Path, metavar="DIR")

    def handle(self, *args: Any, **options: Any) -> None:
        workshop = workshop_named(options["slug"])
        result = polis_export(workshop=workshop, out=options["out"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {result.folder}: {result.comments} comments, "
                f"{result.participants} voters, {result.votes} votes, "
                f"{result.vote_records} vote records."
            )
        )
