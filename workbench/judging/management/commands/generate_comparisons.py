from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.core.errors import ApplicationError
from workbench.deliberation.management.arguments import workshop_named
from workbench.deliberation.models import PrincipleVersion, Workshop
from workbench.judging.llm import LLM_PROVIDERS
from workbench.judging.models import ComparisonSet, GenerationStatus
from workbench.judging.selectors import principle_versions_current
from workbench.judging.services.generate import (
    comparison_set_generate,
    comparison_set_generation_execute,
    comparison_set_generation_progress,
    comparison_set_generation_resume,
)

BAR_WIDTH = 30
POLL_S = 0.5
NO_WORKER_HINT_S = 15.0
BASE_URL_ENV = "WORKBENCH_JUDGE_BASE_URL"
MAX_FILE_BYTES = 5_000_000


class Command(BaseCommand):
    help = (
        "Asks a provider for two contrasting responses to each prompt, per "
        "principle (one written to follow it, one written to ignore it), and stores "
        "them as a new comparison set of the workshop, with the model and the exact "
        "prompt that wrote each. The prompts file has one prompt per line, or JSON "
        'Lines of {"prompt": ...}. Runs through the Celery worker unless --eager. '
        "--resume ID of an interrupted generation writes only the missing responses. "
        "Keys come only from the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workshop", metavar="SLUG")
        parser.add_argument("--provider", choices=LLM_PROVIDERS)
        parser.add_argument("--model", help="Default: the provider's default model.")
        parser.add_argument("--prompts", type=Path, metavar="FILE")
        parser.add_argument(
            "--principle",
            type=int,
            action="append",
            dest="principles",
            metavar="ID",
            help="An accepted principle's id (repeatable; its current wording is "
            "used). Default: every accepted principle of the workshop.",
        )
        parser.add_argument("--name", help="The comparison set's name.")
        parser.add_argument("--seed", type=int, help="Seed of the A/B placement.")
        parser.add_argument(
            "--base-url",
            help="An OpenAI-compatible server's URL (with --eager; a worker reads "
            "OPENAI_BASE_URL from its own environment).",
        )
        parser.add_argument(
            "--resume",
            type=int,
            metavar="SET_ID",
            help="Resume an interrupted or failed generation of this set: only the "
            "missing responses are written (no other option is needed).",
        )
        parser.add_argument(
            "--eager",
            action="store_true",
            help="Generate in this process (no worker needed).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workshop = workshop_named(options["workshop"])
        if options["resume"] is not None:
            comparison_set = self._resume(workshop, options["resume"], options["eager"])
        else:
            comparison_set = self._start(workshop, options)
        started = time.monotonic()
        if options["eager"]:
            comparison_set_generation_execute(
                comparison_set_id=comparison_set.pk,
                progress=lambda: self._tick(comparison_set, started),
                reenqueue=False,
            )
        else:
            self._wait(comparison_set, started)
        self._draw(comparison_set, started)
        self.stdout.write("")
        self._summary(comparison_set)

    def _resume(self, workshop: Workshop, set_id: int, eager: bool) -> ComparisonSet:
        comparison_set = ComparisonSet.objects.filter(
            pk=set_id, workshop=workshop
        ).first()
        if comparison_set is None:
            raise CommandError(f"“{workshop.slug}” has no comparison set {set_id}.")
        if not comparison_set_generation_resume(
            comparison_set=comparison_set, enqueue=not eager
        ):
            raise CommandError(
                f"Set {set_id} “{comparison_set.name}” has nothing to resume "
                f"(generation: {comparison_set.generation_status or 'none'})."
            )
        self.stdout.write(f"Resuming “{comparison_set.name}” (set {set_id}).")
        return comparison_set

    def _start(self, workshop: Workshop, options: dict[str, Any]) -> ComparisonSet:
        if not options["provider"] or not options["prompts"]:
            raise CommandError("--provider and --prompts are required (or --resume).")
        prompts = read_prompts(options["prompts"])
        versions = self._versions(workshop, options["principles"])
        base_url_env = None
        if options["base_url"]:
            if not options["eager"]:
                raise CommandError(
                    "--base-url works with --eager only: a worker reads the base URL "
                    "from its own environment (OPENAI_BASE_URL)."
                )
            os.environ[BASE_URL_ENV] = options["base_url"]
            base_url_env = BASE_URL_ENV
        try:
            comparison_set = comparison_set_generate(
                workshop=workshop,
                name=options["name"] or f"generated from {options['prompts'].name}",
                prompts=prompts,
                principle_versions=versions,
                provider=options["provider"],
                model=options["model"],
                actor=None,
                seed=options["seed"],
                base_url_env=base_url_env,
                enqueue=not options["eager"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} Nothing was generated.") from exc
        spec = comparison_set.generation
        self.stdout.write(
            f"Generating “{comparison_set.name}” (set {comparison_set.pk}) with "
            f"{spec['provider']}:{spec['model']}: {len(versions)} principle(s) x "
            f"{len(prompts)} prompt(s) x 2 responses."
        )
        return comparison_set

    def _versions(
        self, workshop: Workshop, principle_ids: list[int] | None
    ) -> list[PrincipleVersion]:
        current = principle_versions_current(workshop=workshop)
        if not principle_ids:
            if not current:
                raise CommandError(
                    f"“{workshop.slug}” has no accepted principles. Nothing was "
                    "generated."
                )
            return current
        by_principle = {v.principle_id: v for v in current}
        missing = [pk for pk in principle_ids if pk not in by_principle]
        if missing:
            raise CommandError(
                "Not an accepted principle of "
                f"“{workshop.slug}”: {', '.join(map(str, missing))}. Nothing was "
                "generated."
            )
        return [by_principle[pk] for pk in principle_ids]

    def _wait(self, comparison_set: ComparisonSet, started: float) -> None:
        hinted = False
        while True:
            state = self._draw(comparison_set, started)
            if state["finished"]:
                return
            if (
                state["status"] == GenerationStatus.PENDING
                and not hinted
                and time.monotonic() - started > NO_WORKER_HINT_S
            ):
                self.stdout.write(
                    "\nStill pending: is a worker running? "
                    "(`celery -A workbench worker`, or use --eager)"
                )
                hinted = True
            time.sleep(POLL_S)

    def _tick(self, comparison_set: ComparisonSet, started: float) -> None:
        self._draw(comparison_set, started)

    def _draw(self, comparison_set: ComparisonSet, started: float) -> dict[str, Any]:
        state = comparison_set_generation_progress(comparison_set=comparison_set)
        needed = state["needed"] or 1
        filled = int(BAR_WIDTH * state["made"] / needed)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stdout.write(
            f"\r[{bar}] {state['made']}/{state['needed']} {state['percent']:5.1f}% "
            f"pairs {state['items']} ${state['cost']:.4f} "
            f"{time.monotonic() - started:6.1f}s",
            ending="",
        )
        self.stdout.flush()
        return state

    def _summary(self, comparison_set: ComparisonSet) -> None:
        state = comparison_set_generation_progress(comparison_set=comparison_set)
        line = (
            f"Set {comparison_set.pk} “{comparison_set.name}”: {state['status']}, "
            f"{state['made']} of {state['needed']} responses, {state['items']} items, "
            f"{state['input_tokens']} input and {state['output_tokens']} output "
            f"tokens, ~${state['cost']:.4f}"
        )
        if state["status"] == GenerationStatus.DONE:
            self.stdout.write(self.style.SUCCESS(line + "."))
            return
        self.stdout.write(self.style.ERROR(f"{line}. {state['error']}"))
        raise CommandError(
            "The generation did not finish. Resume it with `manage.py "
            f"generate_comparisons {comparison_set.workshop.slug} --resume "
            f"{comparison_set.pk}` or from the set's page: only the missing "
            "responses are written."
        )


def read_prompts(path: Path) -> list[str]:
    """Prompts from a file: one per line (blank lines skipped), or JSON Lines of
    objects with a "prompt" string. Errors name the line."""
    if not path.is_file():
        raise CommandError(f"There is no file {path}.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise CommandError(f"{path.name} is larger than {MAX_FILE_BYTES} bytes.")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path.name} is not UTF-8 text.") from exc
    numbered = [(n, line.strip()) for n, line in enumerate(lines, 1) if line.strip()]
    if not numbered:
        raise CommandError(f"{path.name} has no prompts.")
    if path.suffix.lower() not in {".jsonl", ".ndjson"} and not numbered[0][
        1
    ].startswith("{"):
        return [line for _, line in numbered]
    prompts = []
    for n, line in numbered:
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise CommandError(f"{path.name}, line {n}: not JSON ({exc}).") from exc
        prompt = row.get("prompt") if isinstance(row, dict) else None
        if not isinstance(prompt, str) or not prompt.strip():
            raise CommandError(
                f'{path.name}, line {n}: no "prompt" string in this object.'
            )
        prompts.append(prompt)
    return prompts
