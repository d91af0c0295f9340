from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from workbench.core.errors import ApplicationError
from workbench.deliberation.management.arguments import workshop_named
from workbench.judging.llm import PROVIDERS
from workbench.judging.models import (
    ComparisonSet,
    JudgeConfig,
    JudgeControl,
    JudgeRun,
    RunStatus,
)
from workbench.judging.selectors import judge_run_progress
from workbench.judging.services.runs import (
    judge_config_get_or_create,
    judge_run_execute,
    judge_run_start,
)

BAR_WIDTH = 30
POLL_S = 0.5
NO_WORKER_HINT_S = 15.0
BASE_URL_ENV = "WORKBENCH_JUDGE_BASE_URL"


class Command(BaseCommand):
    help = (
        "Runs a judge over a workshop's comparison sets (every item, both orders) "
        "and shows a progress bar until it ends. Runs go through the Celery worker "
        "unless --eager; verdicts already known (same judge, prompt and texts) are "
        "copied, never paid for twice. Keys come only from the environment "
        "(OPENAI_API_KEY, ANTHROPIC_API_KEY)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workshop", metavar="SLUG")
        parser.add_argument("--provider", required=True, choices=PROVIDERS)
        parser.add_argument("--model", help="Default: the provider's default model.")
        parser.add_argument(
            "--base-url",
            help="An OpenAI-compatible server's URL (with --eager; a worker reads "
            "OPENAI_BASE_URL from its own environment).",
        )
        parser.add_argument("--samples", type=int, default=1)
        parser.add_argument(
            "--control",
            choices=["none", JudgeControl.NO_PRINCIPLE.value],
            default="none",
            help="no-principle: ask which response is better without showing the "
            "principle (the judge's own taste); encoding_gap reports it beside the "
            "run with the principle.",
        )
        parser.add_argument(
            "--set", dest="set_name", metavar="NAME", help="Only this comparison set."
        )
        parser.add_argument(
            "--eager",
            action="store_true",
            help="Judge in this process (no worker needed).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workshop = workshop_named(options["workshop"])
        sets = ComparisonSet.objects.filter(workshop=workshop)
        if options["set_name"]:
            sets = sets.filter(name=options["set_name"])
        if not sets.exists():
            raise CommandError(
                f"“{workshop.slug}” has no comparison set"
                + (f" called “{options['set_name']}”." if options["set_name"] else ".")
                + " Import one with `manage.py import_comparisons`."
            )
        if options["samples"] < 1:
            raise CommandError("--samples must be at least 1.")
        config = self._config(options)
        runs: list[JudgeRun] = []
        try:
            with transaction.atomic():
                runs.extend(
                    judge_run_start(
                        comparison_set=comparison_set,
                        config=config,
                        actor=None,
                        enqueue=not options["eager"],
                    )
                    for comparison_set in sets
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        label = f"{config.provider}:{config.model}" + (
            " (control: no principle)" if config.control else ""
        )
        self.stdout.write(
            f"Judging {len(runs)} comparison set(s) of “{workshop.slug}” with "
            f"{label}: {sum(r.verdicts_total for r in runs)} verdicts "
            f"(runs {', '.join(str(r.pk) for r in runs)})."
        )
        started = time.monotonic()
        if options["eager"]:
            for run in runs:
                judge_run_execute(
                    run_id=run.pk,
                    progress=lambda: self._draw(runs, started),
                    reenqueue=False,
                )
        else:
            self._wait(runs, started)
        self._draw(runs, started)
        self.stdout.write("")
        self._summary(runs)

    def _config(self, options: dict[str, Any]) -> JudgeConfig:
        base_url_env = ""
        if options["base_url"]:
            if not options["eager"]:
                raise CommandError(
                    "--base-url works with --eager only: a worker reads the base URL "
                    "from its own environment (OPENAI_BASE_URL)."
                )
            os.environ[BASE_URL_ENV] = options["base_url"]
            base_url_env = BASE_URL_ENV
        try:
            # An empty --model is the provider's default; the service resolves it.
            return judge_config_get_or_create(
                provider=options["provider"],
                model=options["model"] or "",
                samples=options["samples"],
                control=""
                if options["control"] == "none"
                else JudgeControl(options["control"]).value,
                base_url_env_name=base_url_env,
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} Pass --model.") from exc

    def _wait(self, runs: list[JudgeRun], started: float) -> None:
        hinted = False
        while True:
            states = [judge_run_progress(run=run) for run in runs]
            self._draw(runs, started, states)
            if all(state["finished"] for state in states):
                return
            waiting = all(state["status"] == RunStatus.PENDING for state in states)
            if waiting and not hinted and time.monotonic() - started > NO_WORKER_HINT_S:
                self.stdout.write(
                    "\nStill pending: is a worker running? "
                    "(`celery -A workbench worker`, or use --eager)"
                )
                hinted = True
            time.sleep(POLL_S)

    def _draw(
        self,
        runs: list[JudgeRun],
        started: float,
        states: list[dict[str, Any]] | None = None,
    ) -> None:
        states = states or [judge_run_progress(run=run) for run in runs]
        total = sum(s["total"] for s in states) or 1
        done = sum(s["done"] for s in states)
        failed = sum(s["failed"] for s in states)
        hits = sum(s["cache_hits"] for s in states)
        cost = sum(s["cost"] for s in states)
        filled = int(BAR_WIDTH * (done + failed) / total)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stdout.write(
            f"\r[{bar}] {done + failed}/{total} {100 * (done + failed) / total:5.1f}% "
            f"failed {failed} cached {hits} ${cost:.4f} "
            f"{time.monotonic() - started:6.1f}s",
            ending="",
        )
        self.stdout.flush()

    def _summary(self, runs: list[JudgeRun]) -> None:
        problems = []
        for run in runs:
            run.refresh_from_db()
            line = (
                f"Run {run.pk} on “{run.comparison_set.name}”: {run.status}, "
                f"{run.verdicts_done} verdicts, {run.verdicts_failed} failed, "
                f"{run.cache_hits} from the cache, ~${run.cost_estimate:.4f}"
                + (f". {run.error}" if run.error else ".")
            )
            if run.status == RunStatus.DONE:
                self.stdout.write(self.style.SUCCESS(line))
            else:
                problems.append(line)
                self.stdout.write(self.style.ERROR(line))
        if problems:
            raise CommandError(f"{len(problems)} run(s) did not finish.")
