"""The encoding-gap page's figures, computed once per state of the data.

Computing the report takes seconds (bootstrap intervals, permutation tests), so the
computed figures - not the rendered page, which carries a CSRF token, messages and
the reader's language - are cached under a key that changes whenever anything the
figures depend on does: the run and every run on its set (status and counts), the
set's judgments and items (count and largest id), the workshop's principle versions
and its latest opinion-group analysis.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Final

from django.core.cache import cache
from django.db.models import Count, Max

from workbench.deliberation.models import (
    PrincipleVersion,
    Workshop,
    WorkshopAnalysis,
)
from workbench.judging.models import (
    ComparisonItem,
    HumanJudgment,
    JudgeRun,
)
from workbench.judging.services.encoding_gap import (
    encoding_gap_report,
)
from workbench.judging.services.leaderboard import judge_leaderboard
from workbench.judging.services.versions import version_comparison

CACHE_PREFIX: Final = "encoding-gap-page:v1:"
CACHE_SECONDS: Final = 24 * 3600


def _cache_key(workshop: Workshop, run: JudgeRun | None) -> str:
    sets = (
        [run.comparison_set_id]
        if run is not None
        else list(workshop.comparison_sets.values_list("id", flat=True))
    )
    judgments = HumanJudgment.objects.filter(
        item__comparison_set_id__in=sets
    ).aggregate(n=Count("id"), last=Max("id"))
    items = ComparisonItem.objects.filter(comparison_set_id__in=sets).aggregate(
        n=Count("id"), last=Max("id")
    )
    runs = list(
        JudgeRun.objects.filter(comparison_set_id__in=sets)
        .order_by("id")
        .values_list("id", "status", "verdicts_done", "verdicts_failed")
    )
    versions = PrincipleVersion.objects.filter(principle__workshop=workshop).aggregate(
        n=Count("id"), last=Max("id")
    )
    analysis = WorkshopAnalysis.objects.filter(workshop=workshop).aggregate(
        last=Max("id")
    )
    payload = repr(
        (
            workshop.pk,
            run.pk if run else None,
            sorted(judgments.items()),
            sorted(items.items()),
            runs,
            sorted(versions.items()),
            analysis["last"],
        )
    )
    return CACHE_PREFIX + hashlib.sha256(payload.encode()).hexdigest()


def report_data(*, workshop: Workshop, run: JudgeRun | None) -> dict[str, Any]:
    """The report, the versions and the leaderboard, computed once per state of
    the data (module docstring); ``seconds`` is how long computing them took."""
    key = _cache_key(workshop, run)
    data: dict[str, Any] | None = cache.get(key)
    if data is not None:
        return data
    started = time.perf_counter()
    data = {
        "report": encoding_gap_report(workshop=workshop, run=run),
        "versions": version_comparison(workshop=workshop, run=run) if run else [],
        "leaderboard": (
            judge_leaderboard(comparison_set=run.comparison_set) if run else None
        ),
    }
    data["seconds"] = time.perf_counter() - started
    cache.set(key, data, CACHE_SECONDS)
    return data


__all__ = ["report_data"]
