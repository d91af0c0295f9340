"""Read-only queries of the judging app."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from workbench.deliberation.models import Principle, PrincipleVersion, Round, Workshop
from workbench.judging.models import JudgeAttemptFailure, JudgeRun, RunStatus

FINAL_STATUSES = frozenset({RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED})


def judge_run_progress(*, run: JudgeRun) -> dict[str, Any]:
    """The run's counters as stored now (read fresh from the database)."""
    row = (
        JudgeRun.objects.filter(pk=run.pk)
        .values(
            "status",
            "verdicts_total",
            "verdicts_done",
            "verdicts_failed",
            "cache_hits",
            "cost_estimate",
            "error",
        )
        .get()
    )
    total = row["verdicts_total"]
    finished = row["verdicts_done"] + row["verdicts_failed"]
    return {
        "status": row["status"],
        "done": row["verdicts_done"],
        "failed": row["verdicts_failed"],
        "total": total,
        "cache_hits": row["cache_hits"],
        "cost": row["cost_estimate"],
        "percent": round(100.0 * finished / total, 1) if total else 100.0,
        "finished": row["status"] in FINAL_STATUSES,
        "error": row["error"],
        **_retried(run.pk),
    }


def _retried(run_id: int) -> dict[str, Any]:
    """Failed provider calls that were retried, by kind, most frequent first."""
    counts = (
        JudgeAttemptFailure.objects.filter(run_id=run_id, retried=True)
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by("-n", "kind")
    )
    by_kind = dict(counts)
    return {"retried": sum(by_kind.values()), "retried_by_kind": by_kind}


def compare_rounds_unlinked(*, workshop: Workshop) -> list[Round]:
    """The workshop's compare rounds that use no comparison set yet."""
    return list(
        Round.objects.filter(
            workshop=workshop, kind=Round.Kind.COMPARE, comparison_set__isnull=True
        ).order_by("position", "created_at")
    )


def principle_versions_current(*, workshop: Workshop) -> list[PrincipleVersion]:
    """The latest version of each of the workshop's accepted principles."""
    principles = Principle.objects.filter(
        workshop=workshop, status=Principle.Status.APPROVED, merged_into__isnull=True
    ).prefetch_related("versions")
    current = []
    for principle in principles.order_by("created_at", "id"):
        versions = sorted(principle.versions.all(), key=lambda v: v.number)
        if versions:
            current.append(versions[-1])
    return current
