from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.deliberation.management.arguments import workshop_named
from workbench.deliberation.services.analysis import analysis_refresh


class Command(BaseCommand):
    help = (
        "Analyses a workshop's votes now (opinion groups, consensus, repness, rules) "
        "and stores the result; --json prints it (DESIGN.md, 'Contracts')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--json", action="store_true", help="Print the whole result as JSON."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workshop = workshop_named(options["slug"])
        analysis = analysis_refresh(workshop=workshop)
        if analysis.error:
            raise CommandError(f"The analysis failed: {analysis.error}")
        result = analysis.result
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=1))
            return
        self.stdout.write(self._summary(result, analysis.duration_ms))

    def _summary(self, result: dict[str, Any], duration_ms: int) -> str:
        groups = ", ".join(f"{g}: {n}" for g, n in result["groups"].items()) or "none"
        rules = ", ".join(f"{r} {len(a)}" for r, a in result["rules"].items())
        lines = [
            f"{result['status']}: {result['message']}",
            f"{result['n_participants']} participants, {result['n_votes']} votes, "
            f"{result['n_principles']} principles ({duration_ms} ms)",
            f"opinion groups (members): {groups}",
            "consensus agree: " + (", ".join(result["consensus"]["agree"]) or "none"),
            "consensus disagree: "
            + (", ".join(result["consensus"]["disagree"]) or "none"),
            "divisive: " + (", ".join(result["divisive"]) or "none"),
            f"adopted per rule: {rules}",
        ]
        return "\n".join(lines)
