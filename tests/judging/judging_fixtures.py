"""Comparison sets and judge runs for the facilitator's judging pages."""

from __future__ import annotations

from typing import Any

from workbench.judging.llm.offline import BASELINE_MODEL
from workbench.judging.models import (
    ComparisonItem,
    ComparisonSet,
    JudgeConfig,
    JudgeRun,
    Prompt,
    Response,
)
from workbench.judging.prompts import PROMPT_ID
from workbench.judging.services.runs import judge_run_start


def make_set(setup: Any, name: str = "pairs", items: int = 3) -> ComparisonSet:
    version = setup.seeds[0].versions.get()
    comparison_set = ComparisonSet.objects.create(
        workshop=setup.workshop, name=name, source="generated"
    )
    for n in range(items):
        prompt = Prompt.objects.create(
            comparison_set=comparison_set, text=f"Question {n} for {name}?"
        )
        a = Response.objects.create(prompt=prompt, text=f"Answer {n} A", position=0)
        b = Response.objects.create(prompt=prompt, text=f"Answer {n} B", position=1)
        ComparisonItem.objects.create(
            comparison_set=comparison_set,
            principle_version=version,
            prompt=prompt,
            response_a=a,
            response_b=b,
        )
    return comparison_set


def make_offline_run(setup: Any, name: str = "pairs") -> JudgeRun:
    """A pending offline run over a new set (not enqueued)."""
    config = JudgeConfig.objects.create(
        provider="offline", model=BASELINE_MODEL, prompt_version=PROMPT_ID
    )
    return judge_run_start(
        comparison_set=make_set(setup, name=name),
        config=config,
        actor=None,
        enqueue=False,
    )
