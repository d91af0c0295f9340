from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.core.errors import ApplicationError
from workbench.deliberation.demo import DemoResult, demo_build


class Command(BaseCommand):
    help = (
        "Loads the demo workshops: a real Polis conversation and a two-group "
        "workshop with live votes. Does nothing if they exist, unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo workshops and build them again.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = demo_build(reset=options["reset"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if result.created:
            self.stdout.write(self.style.SUCCESS("Built the demo workshops."))
        else:
            self.stdout.write(
                "The demo workshops already exist; run with --reset to rebuild them."
            )
        self._print_access(result)

    def _print_access(self, result: DemoResult) -> None:
        self.stdout.write(f"Facilitator login: {result.username} / {result.password}")
        self.stdout.write("Participant invite links (append to the server's URL):")
        for link in result.links:
            self.stdout.write(f"  {link.workshop} / {link.group}: {link.path}")
