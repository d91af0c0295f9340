"""Judge runs: one verdict per (item, order, sample), idempotent, cached and resumable.

A run is executed by one Celery task at a time (a PostgreSQL advisory lock on the
run; a duplicate or redelivered task that cannot take it exits). Inside the task a
thread pool of ``concurrency`` workers makes the provider calls: a judge call is
I/O-bound, so threads give the concurrency without the broker round trips, the
ordering problems and the partial-failure bookkeeping of one task per chunk.

Idempotency is per verdict: each answer is stored with ``get_or_create`` on the
unique (run, item, order, sample) together with its counter update, in one
transaction, so a worker killed mid-run loses at most the calls in flight and a
redelivered task (``acks_late``) only does the verdicts that are missing. Before any
call the cache key (a hash of the judge, the prompt version and every text in the
order shown, the temperature and the sample) is looked up among ALL earlier
verdicts without an error: a hit is copied and no provider is called.

Every provider call (the first attempt and each retry, never a cache hit nor the
offline baseline) first waits for a slot of the provider's requests-per-minute
budget, shared by all worker processes (``services.throttle``). Each call that
failed is stored with its verdict as a JudgeAttemptFailure (its kind, whether it was
retried), so a run that got its answers after retries still shows what it met.

A task works for at most ``budget_s`` seconds, then re-enqueues itself, so long runs
stay inside the Celery time limits. Cancel flips the status; workers check it
between calls and while they wait out a backoff, a Retry-After or a slot. Resume
puts the run back to pending (dropping its failed verdicts so they are retried)
and enqueues it: only the missing verdicts are done.

A worker killed mid-run (SIGKILL, a lost machine) leaves the run "running" with
its task unacknowledged. Its database connections die with it, and so does the
advisory lock, so the run is claimable again at once: by the broker's redelivery
of the task (Redis: after ``visibility_timeout``) or by ``judge_run_resume``.
``tests/judging/test_worker_kill.py`` kills a real worker and shows both.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from workbench.accounts.models import User
from workbench.core.errors import ApplicationError
from workbench.core.locks import advisory_lock
from workbench.core.work_queue import work_through
from workbench.judging.llm import (
    DEFAULT_MODELS,
    Judge,
    JudgeAnswer,
    JudgeConfigurationError,
    JudgeRequest,
    RetryPolicy,
    build_judge,
    request_cache_key,
)
from workbench.judging.llm import base_url_env_name as llm_base_url_env_name
from workbench.judging.llm.offline import BASELINE_MODEL
from workbench.judging.models import (
    ComparisonItem,
    ComparisonSet,
    JudgeAttemptFailure,
    JudgeConfig,
    JudgeControl,
    JudgeProvider,
    JudgeRun,
    Order,
    RunStatus,
    Verdict,
    VerdictError,
)
from workbench.judging.prompts import PROMPT_ID
from workbench.judging.services.throttle import (
    Throttle,
    WaitStoppedError,
    judge_throttle,
    retry_wait,
)

logger = logging.getLogger("workbench.judging.runs")

DEFAULT_CONCURRENCY: Final = 16
DEFAULT_BUDGET_S: Final = 240.0
CANCEL_CHECK_S: Final = 0.25
_LOCK_NAMESPACE: Final = 0x4A554447  # "JUDG": the advisory lock's first key

_FLIP: Final = {"a": "b", "b": "a", "tie": "tie", "na": "na"}

_ERRORS: Final[dict[str, str]] = {
    "rate_limited": VerdictError.RATE_LIMITED,
    "server_error": VerdictError.SERVER,
    "connection": VerdictError.SERVER,
    "timeout": VerdictError.TIMEOUT,
    "deadline": VerdictError.TIMEOUT,
    # A body cut off or not JSON (a proxy's error page) is the provider's fault,
    # not the judge's answer: the run fails and a resume asks again.
    "malformed_body": VerdictError.SERVER,
    "unparseable": VerdictError.MALFORMED,
    "auth": VerdictError.REFUSED,
    "client_error": VerdictError.REFUSED,
}

ProgressCallback = Callable[[], None]


# --- start, cancel, resume ---------------------------------------------------------


def judge_run_verdicts_needed(
    *, comparison_set: ComparisonSet, config: JudgeConfig
) -> int:
    orders = 2 if config.both_orders else 1
    return comparison_set.items.count() * orders * config.samples


def judge_model(*, provider: str, model: str = "") -> str:
    """The model a judge of ``provider`` runs: the one named, else the
    provider's default (the offline baseline has only one)."""
    model = model.strip()
    if provider == JudgeProvider.OFFLINE:
        return BASELINE_MODEL
    if model:
        return model
    if provider not in DEFAULT_MODELS:
        raise ApplicationError(
            gettext("The %(provider)s judge needs a model name.")
            % {"provider": provider}
        )
    return DEFAULT_MODELS[provider]


def judge_config_get_or_create(
    *,
    provider: str,
    model: str = "",
    samples: int = 1,
    control: str = JudgeControl.NONE,
    base_url_env_name: str | None = None,
) -> JudgeConfig:
    """The judge configuration with these settings and the current prompt, shared
    by every run that uses them (so their verdicts share the cache). An empty model
    is the provider's default (the offline baseline has only one). Keys and base
    URLs stay in the worker's environment: an OpenAI-compatible judge stores only
    the name of the variable that holds its URL (by default the one that is set)."""
    model = judge_model(provider=provider, model=model)
    if base_url_env_name is None:
        base_url_env_name = (
            llm_base_url_env_name()
            if provider == JudgeProvider.OPENAI_COMPATIBLE
            else ""
        )
    fields = {
        "provider": provider,
        "model": model,
        "prompt_version": PROMPT_ID,
        "temperature": 0.0,
        "samples": samples,
        "both_orders": True,
        "control": control,
        "base_url_env_name": base_url_env_name,
    }
    config = JudgeConfig.objects.filter(**fields).first()
    return config or JudgeConfig.objects.create(**fields)


def judge_run_start(
    *,
    comparison_set: ComparisonSet,
    config: JudgeConfig,
    actor: User | None,
    enqueue: bool = True,
) -> JudgeRun:
    """Creates a pending run over every item of the set and enqueues it after the
    transaction commits (``enqueue=False``: the caller executes it)."""
    total = judge_run_verdicts_needed(comparison_set=comparison_set, config=config)
    if total == 0:
        raise ApplicationError(
            gettext("The comparison set “%(name)s” has no items to judge.")
            % {"name": comparison_set.name}
        )
    with transaction.atomic():
        run = JudgeRun.objects.create(
            config=config,
            comparison_set=comparison_set,
            verdicts_total=total,
            created_by=actor,
        )
        if enqueue:
            _enqueue_on_commit(run.pk)
    return run


def judge_run_cancel(*, run: JudgeRun) -> bool:
    """Stops a pending or running run; workers stop before their next call.
    Returns False when the run had already ended."""
    updated = JudgeRun.objects.filter(
        pk=run.pk, status__in=[RunStatus.PENDING, RunStatus.RUNNING]
    ).update(status=RunStatus.CANCELLED, finished_at=timezone.now())
    run.refresh_from_db()
    return updated == 1


def judge_run_resume(
    *, run: JudgeRun, retry_failed: bool = True, enqueue: bool = True
) -> bool:
    """Puts a cancelled, failed or stalled run back to pending and enqueues it:
    only the verdicts it lacks are done (with ``retry_failed``, the failed ones are
    dropped first so they are asked again). Returns False for a finished run.

    A "running" run whose worker died is claimable at once (its advisory lock died
    with the worker's connection). Resuming a run that a live task still executes
    is harmless: that task carries on (pending does not stop it), and the task
    enqueued here cannot take the lock and exits."""
    with transaction.atomic():
        locked = JudgeRun.objects.select_for_update().filter(pk=run.pk).first()
        if locked is None or locked.status == RunStatus.DONE:
            return False
        if retry_failed:
            deleted, _ = (
                Verdict.objects.filter(run=locked).exclude(error=Verdict.Error.NONE)
            ).delete()
            if deleted:
                locked.verdicts_failed = max(0, locked.verdicts_failed - deleted)
        locked.status = RunStatus.PENDING
        locked.finished_at = None
        locked.error = ""
        locked.save(
            update_fields=[
                "status",
                "finished_at",
                "error",
                "verdicts_failed",
                "updated_at",
            ]
        )
        if enqueue:
            _enqueue_on_commit(locked.pk)
    run.refresh_from_db()
    return True


def judge_run_fail(*, run_id: int, error: str) -> None:
    """Marks a run that has not ended as failed (the task's ``on_failure``)."""
    JudgeRun.objects.filter(
        pk=run_id, status__in=[RunStatus.PENDING, RunStatus.RUNNING]
    ).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error=error[:2000],
    )


def _enqueue_on_commit(run_id: int) -> None:
    from workbench.judging.tasks import judge_run_task  # noqa: PLC0415 (cycle)

    transaction.on_commit(lambda: judge_run_task.delay(run_id))


# --- execution ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Unit:
    item_id: int
    order: str
    sample: int
    request: JudgeRequest
    cache_key: str


def judge_run_execute(
    *,
    run_id: int,
    concurrency: int | None = None,
    budget_s: float | None = None,
    progress: ProgressCallback | None = None,
    reenqueue: bool = True,
) -> bool:
    """Does the run's missing verdicts. Returns True when the run has ended (or was
    not this call's to do: finished, cancelled, or held by another task), False
    when ``budget_s`` ran out first (and, with ``reenqueue``, a task continues it).
    ``progress`` is called in the calling thread as verdicts are stored."""
    claimed = JudgeRun.objects.filter(
        pk=run_id, status__in=[RunStatus.PENDING, RunStatus.RUNNING]
    ).update(
        status=RunStatus.RUNNING,
        started_at=Coalesce(F("started_at"), timezone.now()),
    )
    if not claimed:
        return True
    with advisory_lock(_LOCK_NAMESPACE, run_id) as locked:
        if not locked:
            logger.info("judge run %s is being executed by another task", run_id)
            return True
        run = JudgeRun.objects.select_related("config").get(pk=run_id)
        deadline = None if budget_s is None else time.monotonic() + budget_s
        gate = _Gate(run_id, deadline)
        throttle = judge_throttle(provider=run.config.provider)
        try:
            judge = _judge_for(run.config, sleep=_retry_sleep(throttle, gate))
        except JudgeConfigurationError as err:
            judge_run_fail(run_id=run_id, error=str(err))
            return True
        caller = _Caller(judge, throttle if judge.is_llm else None, gate)
        units = _missing_units(run, judge)
        _copy_cache_hits(run, units)
        misses = _without_verdict(run, units)
        workers = _concurrency(run.config, judge, concurrency)
        if progress is not None:
            progress()
        work_through(
            misses,
            lambda unit: _ask_and_store(run_id, caller, unit),
            workers=workers,
            should_stop=gate.should_stop,
            progress=progress,
            thread_name="judge",
        )
        if gate.cancelled:
            return True
        return _finish_or_continue(run_id, reenqueue=reenqueue)


def _concurrency(config: JudgeConfig, judge: Judge, requested: int | None) -> int:
    if not judge.is_llm or connection.vendor == "sqlite":
        return 1  # the offline baseline is CPU-bound; SQLite wants one writer
    if requested is not None:
        return max(1, requested)
    per_provider = getattr(settings, "JUDGE_CONCURRENCY", {})
    if isinstance(per_provider, dict):
        return int(per_provider.get(config.provider, DEFAULT_CONCURRENCY))
    return max(1, int(per_provider))


def _judge_for(
    config: JudgeConfig, *, sleep: Callable[[float], None] | None = None
) -> Judge:
    """Keys and base URLs come from the environment, never from the database.
    ``sleep`` is the adapter's wait between attempts."""
    base_url = None
    if config.base_url_env_name:
        base_url = os.environ.get(config.base_url_env_name)
        if not base_url:
            raise JudgeConfigurationError(
                f"{config.base_url_env_name} is not set (the judge's base URL)"
            )
    retry = getattr(settings, "JUDGE_RETRY", None)
    return build_judge(
        config.provider,
        model=config.model or None,
        base_url=base_url,
        temperature=config.temperature,
        retry=RetryPolicy(**retry) if retry else None,
        sleep=sleep,
    )


def _missing_units(run: JudgeRun, judge: Judge) -> list[_Unit]:
    config = run.config
    orders = [Order.AB, Order.BA] if config.both_orders else [Order.AB]
    done = set(run.verdicts.values_list("item_id", "order", "sample"))
    items = (
        ComparisonItem.objects.filter(comparison_set_id=run.comparison_set_id)
        .select_related("prompt", "response_a", "response_b", "principle_version")
        .order_by("id")
    )
    units = []
    for item in items.iterator(chunk_size=500):
        principle = (
            None
            if config.control == JudgeControl.NO_PRINCIPLE
            else item.principle_version.text
        )
        shown_ab = JudgeRequest(
            principle=principle,
            conversation=item.prompt.text,
            response_a=item.response_a.text,
            response_b=item.response_b.text,
        )
        for order in orders:
            request = shown_ab if order == Order.AB else shown_ab.swapped()
            for sample in range(config.samples):
                if (item.pk, order, sample) in done:
                    continue
                key = request_cache_key(judge, request, sample=sample)
                units.append(_Unit(item.pk, order, sample, request, key))
    return units


def _copy_cache_hits(run: JudgeRun, units: list[_Unit]) -> None:
    """Copies every earlier error-free verdict with the same cache key."""
    cached: dict[str, Verdict] = {}
    keys = sorted({u.cache_key for u in units})
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        for verdict in (
            Verdict.objects.filter(cache_key__in=chunk, error=Verdict.Error.NONE)
            .exclude(run=run)
            .order_by("cache_key", "created_at")
        ):
            cached.setdefault(verdict.cache_key, verdict)
    copies = [
        Verdict(
            run=run,
            item_id=unit.item_id,
            order=unit.order,
            sample=unit.sample,
            choice=hit.choice,
            probability_a=hit.probability_a,
            rationale=hit.rationale,
            raw_output=hit.raw_output,
            input_tokens=hit.input_tokens,
            output_tokens=hit.output_tokens,
            latency_ms=hit.latency_ms,
            cost_estimate=Decimal(0),  # nothing was paid for a copy
            cache_key=unit.cache_key,
        )
        for unit in units
        if (hit := cached.get(unit.cache_key)) is not None
    ]
    if not copies:
        return
    with transaction.atomic():
        before = run.verdicts.count()
        Verdict.objects.bulk_create(copies, batch_size=1000, ignore_conflicts=True)
        added = run.verdicts.count() - before
        JudgeRun.objects.filter(pk=run.pk).update(
            verdicts_done=F("verdicts_done") + added,
            cache_hits=F("cache_hits") + added,
        )


def _without_verdict(run: JudgeRun, units: list[_Unit]) -> list[_Unit]:
    done = set(run.verdicts.values_list("item_id", "order", "sample"))
    return [u for u in units if (u.item_id, u.order, u.sample) not in done]


class _Gate:
    """Tells workers to stop: the run was cancelled (or has otherwise ended), or
    the time budget ran out. The database is read at most every ``CANCEL_CHECK_S``
    seconds. A run put back to pending by ``judge_run_resume`` while this task
    still holds it is not a reason to stop: the task that resume enqueued cannot
    take the lock and exits, so this one must see the run through."""

    def __init__(self, run_id: int, deadline: float | None) -> None:
        self.run_id = run_id
        self.deadline = deadline
        self.cancelled = False
        self._checked = 0.0
        self._lock = threading.Lock()

    def should_stop(self) -> bool:
        if self.cancelled:
            return True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return True
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= CANCEL_CHECK_S:
                self._checked = now
                status = (
                    JudgeRun.objects.filter(pk=self.run_id)
                    .values_list("status", flat=True)
                    .first()
                )
                self.cancelled = status not in {RunStatus.PENDING, RunStatus.RUNNING}
        return self.cancelled


@dataclass(frozen=True, slots=True)
class _Caller:
    """Asks the judge, each call inside the provider's budget (``throttle``)."""

    judge: Judge
    throttle: Throttle | None
    gate: _Gate

    def ask(self, request: JudgeRequest) -> JudgeAnswer | None:
        """The judge's answer, or None when the run stopped before it was had
        (nothing is stored: a resumed run asks again)."""
        if (
            self.throttle is not None
            and self.throttle.acquire(should_stop=self.gate.should_stop) is None
        ):
            return None
        try:
            return self.judge.judge(request)
        except WaitStoppedError:  # the wait between attempts (retry_wait)
            return None


def _retry_sleep(throttle: Throttle | None, gate: _Gate) -> Callable[[float], None]:
    return retry_wait(throttle, gate.should_stop, check_every=CANCEL_CHECK_S)


def _ask_and_store(run_id: int, caller: _Caller, unit: _Unit) -> None:
    answer = caller.ask(unit.request)
    if answer is None:
        return
    defaults = _verdict_fields(answer, unit)
    with transaction.atomic():
        verdict, created = Verdict.objects.get_or_create(
            run_id=run_id,
            item_id=unit.item_id,
            order=unit.order,
            sample=unit.sample,
            defaults=defaults,
        )
        if not created:
            return
        _record_failed_attempts(run_id, unit, answer)
        failed = bool(verdict.error)
        JudgeRun.objects.filter(pk=run_id).update(
            verdicts_done=F("verdicts_done") + (0 if failed else 1),
            verdicts_failed=F("verdicts_failed") + (1 if failed else 0),
            cost_estimate=F("cost_estimate") + verdict.cost_estimate,
        )


def _record_failed_attempts(run_id: int, unit: _Unit, answer: JudgeAnswer) -> None:
    """One row per failed provider call behind this verdict (none when the first
    call answered): every attempt but the last was retried."""
    last = len(answer.attempts) - 1
    rows = [
        JudgeAttemptFailure(
            run_id=run_id,
            item_id=unit.item_id,
            order=unit.order,
            sample=unit.sample,
            attempt=attempt.number,
            kind=attempt.outcome,
            http_status=attempt.status,
            retried=index < last,
            waited_s=attempt.waited_s,
        )
        for index, attempt in enumerate(answer.attempts)
        if attempt.outcome != "ok"
    ]
    if rows:
        JudgeAttemptFailure.objects.bulk_create(rows)


def _verdict_fields(answer: JudgeAnswer, unit: _Unit) -> dict[str, object]:
    """An answer in the item's terms (A is ``response_a`` whatever the order)."""
    choice: str | None = answer.choice
    prob_a = answer.prob_a
    if unit.order == Order.BA:
        choice = _FLIP[choice] if choice is not None else None
        prob_a = None if prob_a is None else 1.0 - prob_a
    error = ""
    if choice is None:
        error = _ERRORS.get(answer.error_kind or "", VerdictError.OTHER)
    raw = answer.raw_text
    if error and answer.error_message:
        raw = f"{raw}\n[{answer.error_kind}] {answer.error_message}".strip()
    return {
        "choice": choice,
        "probability_a": None if prob_a is None else min(1.0, max(0.0, prob_a)),
        "raw_output": raw,
        "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens,
        "latency_ms": round(answer.latency_s * 1000),
        "cost_estimate": Decimal(str(answer.cost_usd or 0)).quantize(
            Decimal("0.000001")
        ),
        "error": error,
        "cache_key": unit.cache_key,
    }


def _finish_or_continue(run_id: int, *, reenqueue: bool) -> bool:
    run = JudgeRun.objects.get(pk=run_id)
    verdicts = Verdict.objects.filter(run_id=run_id)
    stored = verdicts.count()
    if stored < run.verdicts_total:
        if reenqueue:
            with transaction.atomic():
                _enqueue_on_commit(run_id)
        return False
    failed = Counter(
        verdicts.exclude(error=Verdict.Error.NONE).values_list("error", flat=True)
    )
    status, message = _outcome(run.verdicts_total, failed)
    cost = verdicts.aggregate(total=Sum("cost_estimate"))["total"] or Decimal(0)
    JudgeRun.objects.filter(
        pk=run_id, status__in=[RunStatus.PENDING, RunStatus.RUNNING]
    ).update(
        status=status,
        error=message,
        verdicts_done=stored - sum(failed.values()),
        verdicts_failed=sum(failed.values()),
        cost_estimate=cost,
        finished_at=timezone.now(),
    )
    return True


def _outcome(total: int, failed: Counter[str]) -> tuple[str, str]:
    """Malformed answers are the judge's answers, recorded as such: the run is
    done. Calls that failed (server, timeout, rate limit) fail the run."""
    if not failed:
        return RunStatus.DONE, ""
    kinds = ", ".join(
        f"{count} {VerdictError(kind).label.lower()}"
        for kind, count in failed.most_common()
    )
    n = sum(failed.values())
    if set(failed) == {VerdictError.MALFORMED}:
        return RunStatus.DONE, f"{n} of {total} answers were malformed ({kinds})."
    if n == total:
        return (
            RunStatus.FAILED,
            f"All {total} verdicts failed ({kinds}). Check the provider, then resume.",
        )
    return (
        RunStatus.FAILED,
        f"{n} of {total} verdicts failed ({kinds}); the other {total - n} are "
        "stored. Resume the run to ask again for the failed ones only.",
    )


__all__ = [
    "judge_config_get_or_create",
    "judge_run_cancel",
    "judge_run_execute",
    "judge_run_fail",
    "judge_run_resume",
    "judge_run_start",
    "judge_run_verdicts_needed",
]
