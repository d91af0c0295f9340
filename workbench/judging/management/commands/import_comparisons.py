from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from workbench.core.errors import ApplicationError
from workbench.deliberation.management.arguments import workshop_named
from workbench.deliberation.models import Round, Workshop
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.comparisons.reader import FORMATS
from workbench.judging.models import ComparisonSet
from workbench.judging.services.compare import comparison_set_link_round


class Command(BaseCommand):
    help = (
        "Imports prompts, response pairs and any human labels into a workshop as one "
        "comparison set, atomically: the workbench's own CSV/JSONL format, ICAI's "
        "text_a/text_b/preferred_text CSV, or HH-RLHF chosen/rejected JSON Lines "
        "(gzip accepted). --round links the set to a compare round of the workshop, "
        "in the same transaction."
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
        parser.add_argument(
            "--round",
            type=int,
            metavar="ID",
            dest="round_id",
            help="A compare round of the workshop, not yet linked to another set, "
            "whose participants will judge the imported items.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        workshop = workshop_named(options["workshop"], then="Nothing was imported.")
        round_ = self._round(workshop, options["round_id"])
        try:
            with transaction.atomic():
                summary = comparisons_import(
                    workshop=workshop,
                    path=options["file"],
                    fmt=options["fmt"],
                    principle_text=options["principle"],
                    name=options["name"],
                )
                if round_ is not None:
                    comparison_set_link_round(
                        comparison_set=summary.comparison_set, round_=round_
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
                + (f" Linked to round {round_.pk} “{round_.title}”." if round_ else "")
            )
        )

    def _round(self, workshop: Workshop, round_id: int | None) -> Round | None:
        """The round named by --round, checked before the file is read (the link
        is checked again, under lock, inside the import's transaction)."""
        if round_id is None:
            return None
        round_ = Round.objects.filter(pk=round_id, workshop=workshop).first()
        if round_ is None:
            raise CommandError(
                f"“{workshop.slug}” has no round {round_id}. Nothing was imported."
            )
        if round_.kind != Round.Kind.COMPARE:
            raise CommandError(
                f"Round {round_id} “{round_.title}” is a {round_.kind} round, not a "
                "compare round. Nothing was imported."
            )
        linked = ComparisonSet.objects.filter(round=round_).first()
        if linked is not None:
            raise CommandError(
                f"Round {round_id} “{round_.title}” already uses the comparison set "
                f"“{linked.name}”. Nothing was imported."
            )
        return round_
