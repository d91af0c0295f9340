from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.cards.render.json import cards_json
from workbench.cards.render.markdown import cards_markdown
from workbench.cards.schema import CardInvalidError
from workbench.cards.services.build import cards_for_workshop
from workbench.deliberation.management.arguments import workshop_named


class Command(BaseCommand):
    help = (
        "Writes a workshop's value cards (the latest constitution's, then one per "
        "adopted principle) as PDF, JSON or Markdown (DESIGN.md, 'Contracts')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["pdf", "json", "md"], required=True)
        parser.add_argument("--out", required=True, help="The file to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        workshop = workshop_named(options["slug"])
        cards = cards_for_workshop(workshop=workshop)
        if not cards:
            raise CommandError(
                f"Workshop “{workshop.slug}” has no cards yet: publish a constitution "
                "or approve a principle first."
            )
        out = Path(options["out"])
        try:
            if options["format"] == "pdf":
                # Imported here: WeasyPrint is heavy and only this branch needs it.
                from workbench.cards.render.pdf import cards_pdf

                out.write_bytes(cards_pdf(cards, title=workshop.title))
            elif options["format"] == "json":
                out.write_text(cards_json(cards), encoding="utf-8")
            else:
                out.write_text(cards_markdown(cards), encoding="utf-8")
        except CardInvalidError as error:
            raise CommandError(error.message) from error
        except OSError as error:
            raise CommandError(f"Cannot write {out}: {error.strerror}") from error
        self.stdout.write(f"Wrote {len(cards)} cards to {out}.")
