from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.core.errors import ApplicationError
from workbench.deliberation.models import Workshop
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.comparisons.reader import FORMATS


class Command(BaseCommand):
    help = (
        "Imports prompts, response pairs and any human labels into a workshop as one "
        "comparison set, atomically: the workbench's own CSV/JSONL format, ICAI's "
        "text_a/text_b/preferred_text CSV, or HH-RLHF chosen/rejected JSON Lines "
        "(gzip accepted)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--workshop", required=True, metavar="SLUG")
        parser.add_argument(
            "--format", default="auto", choices=["auto", *FORMATS], dest="fmt"
        )
        parser.add_argument(
            "--principle",
            metavar="TEXT",
            help="The principle the labels follow (ICAI and HH-RLHF files).",
        )
        parser.add_argument(
            "--name", help="The comparison set's name (default: the file's name)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        workshop = Workshop.objects.filter(slug=options["workshop"]).first()
        if workshop is None:
            raise CommandError(
                f"There is no workshop “{options['workshop']}”. Nothing was imported."
            )
        try:
            summary = comparisons_import(
                workshop=workshop,
                path=options["file"],
                fmt=options["fmt"],
                principle_text=options["principle"],
                name=options["name"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} Nothing was imported.") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported “{summary.comparison_set.name}” ({summary.format}) into "
                f"“{workshop.slug}”: {summary.items} items, {summary.prompts} prompts, "
                f"{summary.responses} responses, {summary.judgments} judgments, "
                f"{summary.principles_created} new principles, "
                f"{summary.participants_created} new participants "
                f"in {time.perf_counter() - started:.1f}s."
            )
        )
