"""Celery tasks of the judging app: thin, they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from workbench.judging.services.generate import (
    DEFAULT_BUDGET_S as GENERATE_BUDGET_S,
)
from workbench.judging.services.generate import (
    comparison_set_generation_execute,
    comparison_set_generation_fail,
)
from workbench.judging.services.runs import (
    DEFAULT_BUDGET_S,
    judge_run_execute,
    judge_run_fail,
)


@shared_task(
    acks_late=True,  # idempotent: each verdict is stored once (see services.runs)
    reject_on_worker_lost=True,
    soft_time_limit=int(DEFAULT_BUDGET_S) + 180,
    time_limit=int(DEFAULT_BUDGET_S) + 240,
)
def judge_run_task(run_id: int) -> None:
    """Does the run's missing verdicts for up to DEFAULT_BUDGET_S seconds (the
    service enqueues a continuation if some are left). An exception fails the run
    with its message; a killed worker's task is redelivered and resumes."""
    try:
        judge_run_execute(run_id=run_id, budget_s=DEFAULT_BUDGET_S)
    except Exception as exc:
        judge_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(
    acks_late=True,  # idempotent: each response is stored once (services.generate)
    reject_on_worker_lost=True,
    soft_time_limit=int(GENERATE_BUDGET_S) + 180,
    time_limit=int(GENERATE_BUDGET_S) + 240,
)
def comparison_set_generate_task(comparison_set_id: int) -> None:
    """Writes the set's missing responses for up to GENERATE_BUDGET_S seconds (the
    service enqueues a continuation if some are left), then makes its items. An
    exception fails the generation with its message; resuming writes only what is
    missing."""
    try:
        comparison_set_generation_execute(
            comparison_set_id=comparison_set_id, budget_s=GENERATE_BUDGET_S
        )
    except Exception as exc:
        comparison_set_generation_fail(
            comparison_set_id=comparison_set_id,
            error=f"{type(exc).__name__}: {exc}",
        )
        raise
