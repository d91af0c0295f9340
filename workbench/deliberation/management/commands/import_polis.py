from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.core.errors import ApplicationError
from workbench.deliberation.polis_io.importer import polis_import, polis_import_owner


class Command(BaseCommand):
    help = (
        "Imports a Polis export folder (openData layout: comments.csv plus votes.csv "
        "and/or participants-votes.csv, optional summary.csv) into a workshop, "
        "atomically."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--workshop", required=True, metavar="SLUG")
        parser.add_argument(
            "--owner",
            metavar="USERNAME",
            help="Owner of a new workshop (default: the only superuser).",
        )
        parser.add_argument("--title", default="", help="Title of a new workshop.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            owner = (
                polis_import_owner(username=options["owner"])
                if options["owner"]
                else None
            )
            result = polis_import(
                folder=options["folder"],
                slug=options["workshop"],
                owner=owner,
                title=options["title"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} Nothing was imported.") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported into “{result.workshop.slug}”: {result.comments} comments, "
                f"{result.participants} participants, {result.votes} votes "
                f"({result.vote_records} vote records) "
                f"in {time.perf_counter() - started:.1f}s."
            )
        )
