"""A real Celery worker SIGKILLed in the middle of a judge run (issue 4): after a
fresh worker resumes it, every verdict is present once and no answered provider
call is made again, counted at the fake provider.

What really happens when a worker dies with the Redis broker: its task was
delivered but never acknowledged (``acks_late``), so kombu keeps it in the
``unacked`` hash and gives it back to the queue once it is older than the
transport's ``visibility_timeout`` (one hour by default), when a worker sweeps.
The run stays "running" meanwhile. The dead worker's PostgreSQL connections close
with the process, and its advisory lock on the run with them, so whichever comes
first, the redelivered task or the facilitator's resume, takes the run and does
only the verdicts it lacks. Both paths are tested, and so is a resume pressed while
the worker is alive after all.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, connections

from tests.judging.fake_providers import FakeProviderServer, Success
from tests.judging.test_runs_service import URL_ENV, make_config, make_set, start
from tests.worker import worker_factory  # noqa: F401 - the fixture, used by name
from workbench.judging.models import JudgeConfig, JudgeRun, Verdict
from workbench.judging.services.runs import (
    _LOCK_NAMESPACE,
    judge_run_execute,
    judge_run_resume,
    judge_run_start,
)

ITEMS = 60
TOTAL = ITEMS * 2  # both orders, one sample
CONCURRENCY = 4
LATENCY = 0.15
KILL_AFTER = 20  # verdicts stored before the kill (of 120; about 0.8 s in)
VISIBILITY_TIMEOUT = 3.0  # the fresh worker's, for the redelivery path

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(monkeypatch):
    with FakeProviderServer() as fake:
        fake.always(Success(delay=LATENCY))
        # Each worker copies this environment when it starts.
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv(URL_ENV, fake.openai_url)
        monkeypatch.setenv("JUDGE_CONCURRENCY_OPENAI", str(CONCURRENCY))
        yield fake


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stored(run: JudgeRun) -> int:
    return Verdict.objects.filter(run=run).count()


def lock_held(run: JudgeRun) -> bool:
    """Whether any session holds the run's advisory lock (services.runs)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = %s AND objid = %s AND objsubid = 2",
            [_LOCK_NAMESPACE, run.pk],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def body_key(body: dict) -> str:
    return json.dumps(body, sort_keys=True)


@pytest.mark.worker
@pytest.mark.parametrize("resumed_by", ["redelivery", "facilitator"])
def test_a_killed_worker_loses_no_verdict_and_repeats_no_answered_call(
    setup, server, request, resumed_by
):
    start_worker = request.getfixturevalue("worker_factory")
    comparison_set = make_set(setup, items=ITEMS)
    config = JudgeConfig.objects.create(
        provider="openai",
        model="gpt-4o-mini",
        prompt_version="cai-pairwise-v1",
        base_url_env_name=URL_ENV,
    )
    first = start_worker()
    run = judge_run_start(comparison_set=comparison_set, config=config, actor=None)
    wait_until(lambda: stored(run) >= KILL_AFTER, 30, "the first verdicts")

    first.kill()

    # The dead worker's connections, and the advisory lock, die with it.
    wait_until(lambda: not lock_held(run), 10, "the dead worker's lock to go")
    time.sleep(0.3)  # a request sent just before the kill has arrived by now
    asked_before_kill = server.requests
    stored_at_kill = stored(run)
    assert KILL_AFTER <= stored_at_kill < TOTAL, first.output
    # Every request before the kill was for a different verdict; those whose answer
    # the worker never stored were in flight when it died. Their answers were lost
    # with the process (no provider keeps an answer for a second asking), so they
    # are the only calls that can be made twice: at most one per thread.
    in_flight = len(asked_before_kill) - stored_at_kill
    assert 0 <= in_flight <= CONCURRENCY
    assert len({body_key(r.body) for r in asked_before_kill}) == len(asked_before_kill)

    # Stuck: "running", and nothing moves without a worker.
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.RUNNING
    time.sleep(1.0)
    assert stored(run) == stored_at_kill
    assert server.request_count == len(asked_before_kill)

    if resumed_by == "facilitator":
        second = start_worker()
        assert judge_run_resume(run=run) is True
    else:
        # No resume: the broker gives the unacknowledged task back once it is
        # older than the visibility timeout (shortened for this worker).
        second = start_worker(visibility_timeout=VISIBILITY_TIMEOUT)

    def ended() -> bool:
        run.refresh_from_db()
        return run.status not in {JudgeRun.Status.PENDING, JudgeRun.Status.RUNNING}

    wait_until(ended, 40, f"the resumed run to end\n{second.output}")

    assert run.status == JudgeRun.Status.DONE, run.error
    assert (run.verdicts_done, run.verdicts_failed) == (TOTAL, 0)
    verdicts = Counter(
        Verdict.objects.filter(run=run).values_list("item_id", "order", "sample")
    )
    expected = {
        (item_id, order, 0)
        for item_id in comparison_set.items.values_list("id", flat=True)
        for order in ("ab", "ba")
    }
    assert set(verdicts) == expected
    assert set(verdicts.values()) == {1}
    assert not Verdict.objects.filter(run=run).exclude(error="").exists()

    requests = Counter(body_key(r.body) for r in server.requests)
    assert len(requests) == TOTAL  # every verdict was asked for
    repeated = {key for key, count in requests.items() if count > 1}
    assert set(requests.values()) <= {1, 2}
    # Only the calls in flight at the kill were repeated; no stored one was.
    assert len(repeated) == in_flight
    assert repeated <= {body_key(r.body) for r in asked_before_kill}
    assert server.request_count == TOTAL + in_flight


def test_resuming_a_run_whose_task_is_alive_does_not_stall_it(setup, server):
    """A facilitator who takes a slow run for a dead one and resumes it: the live
    task carries on, the task the resume enqueued (started on another worker while
    the live one still waits for a slow call) finds the run held and exits, and the
    run ends with every verdict asked once."""
    server.script(Success(delay=0.2), Success(delay=3.0))  # one thread waits 3 s
    server.always(Success(delay=0.2))
    run = start(make_set(setup, items=4), make_config())
    second: list[bool] = []

    def enqueued_task() -> None:
        time.sleep(1.0)  # the live task's other thread has seen "pending" by now
        try:
            second.append(judge_run_execute(run_id=run.pk, concurrency=2))
        finally:
            connections.close_all()

    thread = threading.Thread(target=enqueued_task)

    def resume_once() -> None:  # called by the live task as verdicts are stored
        if not thread.is_alive() and not second and stored(run) >= 1:
            assert judge_run_resume(run=run, enqueue=False) is True
            thread.start()

    judge_run_execute(run_id=run.pk, concurrency=2, progress=resume_once)
    thread.join(timeout=10)

    assert second == [True]  # it did not execute the run: the live task held it
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE
    assert stored(run) == 8 == server.request_count
