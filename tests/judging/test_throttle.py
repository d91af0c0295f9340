"""Per-provider request budgets (JUDGE_REQUESTS_PER_MINUTE): calls are spaced
60/budget seconds apart across threads and processes, through Redis when there is
one; a cancelled run stops waiting; judge runs keep to the budget, retries
included, as the fake provider's clock shows."""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import threading
import time
import uuid

import pytest
import redis
from django.conf import settings as django_settings

from tests.judging.fake_providers import FakeProviderServer, RateLimited
from tests.judging.test_runs_service import make_config, make_set, start
from workbench.judging.models import JudgeRun, Verdict
from workbench.judging.services import throttle as throttle_module
from workbench.judging.services.runs import judge_run_cancel, judge_run_execute
from workbench.judging.services.throttle import (
    CHECK_EVERY_S,
    KEY_PREFIX,
    LocalSlots,
    RedisSlots,
    Throttle,
    judge_throttle,
    throttle_redis_url,
)

URL_ENV = "FAKE_JUDGE_BASE_URL"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def fake_throttle(clock: FakeClock, rpm: int) -> Throttle:
    return Throttle(
        provider="openai",
        interval_s=60 / rpm,
        store=LocalSlots(clock=clock),
        sleep=clock.sleep,
        clock=clock,
    )


def broker_redis() -> redis.Redis:
    url = str(django_settings.CELERY_BROKER_URL)
    if not url.startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://…")
    return redis.Redis.from_url(url)


# --- the limiter, on a fake clock -----------------------------------------------------


def test_calls_are_spaced_sixty_seconds_over_the_budget_apart():
    clock = FakeClock()
    limiter = fake_throttle(clock, rpm=120)

    slots = [limiter.acquire() for _ in range(5)]

    assert slots == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert clock.now == 2.0  # the fifth call waited for its slot
    assert max(clock.sleeps) <= CHECK_EVERY_S  # and looked up while it waited


def test_a_caller_told_to_stop_stops_waiting_and_its_slot_stays_unused():
    clock = FakeClock()
    limiter = fake_throttle(clock, rpm=1)
    assert limiter.acquire() == 0.0
    checks = []

    def stop_on_third_check() -> bool:
        checks.append(clock.now)
        return len(checks) >= 3

    assert limiter.acquire(should_stop=stop_on_third_check) is None
    assert clock.now == 2 * CHECK_EVERY_S  # not the 60 s its slot was due in
    # The abandoned slot (60 s) is not handed to anyone: the budget is under-used,
    # never exceeded.
    assert limiter.acquire() == 120.0


def test_threads_of_one_process_share_its_budget():
    limiter = Throttle(provider="openai", interval_s=0.02, store=LocalSlots())
    granted: list[tuple[float, float]] = []
    lock = threading.Lock()

    def call_five_times() -> None:
        for _ in range(5):
            slot = limiter.acquire()
            called = time.monotonic()
            assert slot is not None
            with lock:
                granted.append((slot, called))

    threads = [threading.Thread(target=call_five_times) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    slots = sorted(slot for slot, _ in granted)
    assert len(slots) == 40
    assert min(b - a for a, b in itertools.pairwise(slots)) >= 0.02 - 1e-9
    assert all(called >= slot for slot, called in granted)


def test_an_unreachable_redis_falls_back_to_this_process_budget(caplog):
    clock = FakeClock()
    store = RedisSlots(
        redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5),
        fallback=LocalSlots(clock=clock),
    )
    limiter = Throttle(
        provider="openai", interval_s=1.0, store=store, sleep=clock.sleep, clock=clock
    )

    with caplog.at_level(logging.WARNING, logger="workbench.judging.throttle"):
        slots = [limiter.acquire() for _ in range(3)]

    assert slots == [0.0, 1.0, 2.0]
    assert "Redis unavailable" in caplog.text
    assert len(caplog.records) == 1  # warned once, not per call


# --- configuration ----------------------------------------------------------------


def test_the_budget_is_per_provider_and_zero_means_no_limit(settings):
    settings.JUDGE_REQUESTS_PER_MINUTE = {"openai": 120, "anthropic": 0}

    openai = judge_throttle(provider="openai")
    assert openai is not None
    assert openai.interval_s == 0.5
    assert openai.key == f"{KEY_PREFIX}openai"
    assert judge_throttle(provider="anthropic") is None
    assert judge_throttle(provider="offline") is None


def test_the_budget_is_kept_in_the_cache_redis_else_the_broker_redis(settings):
    redis_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.internal:6379/1,redis://replica.internal:6379/1",
    }
    local_cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    settings.CELERY_BROKER_URL = "redis://broker.internal:6379/0"

    settings.CACHES = {"default": redis_cache}
    assert throttle_redis_url() == "redis://cache.internal:6379/1"
    settings.CACHES = {"default": local_cache}
    assert throttle_redis_url() == "redis://broker.internal:6379/0"

    # The embedded default (file broker, memory cache): this process's budget.
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.JUDGE_REQUESTS_PER_MINUTE = {"openai": 60}
    assert throttle_redis_url() is None
    limiter = judge_throttle(provider="openai")
    assert limiter is not None
    assert limiter.store is throttle_module._local


# --- real Redis, two processes -------------------------------------------------------


def _acquire_in_process(url, key, interval, calls, barrier, results) -> None:
    store = RedisSlots(redis.Redis.from_url(url), fallback=LocalSlots())
    limiter = Throttle(provider="openai", interval_s=interval, store=store, key=key)
    barrier.wait(timeout=10)
    for _ in range(calls):
        slot = limiter.acquire()
        results.put((slot, time.time()))  # the moment a provider call would start


def test_two_processes_together_never_exceed_the_budget_in_any_window():
    client = broker_redis()
    url = str(django_settings.CELERY_BROKER_URL)
    key = f"{KEY_PREFIX}test-{uuid.uuid4().hex}"
    rpm, calls = 600, 12  # one call every 0.1 s; at most 10 in any second
    interval, window, budget = 60 / rpm, 1.0, rpm // 60
    # fork: the children need only redis and the throttle, not a Django set-up.
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    results = context.Queue()
    processes = [
        context.Process(
            target=_acquire_in_process,
            args=(url, key, interval, calls, barrier, results),
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            process.start()
        by_process = [[results.get(timeout=30) for _ in range(calls)] for _ in range(2)]
    finally:
        for process in processes:
            process.join(timeout=10)
        client.delete(key)
    assert [p.exitcode for p in processes] == [0, 0]

    granted = sorted(item for items in by_process for item in items)
    slots = [slot for slot, _ in granted]
    # Both processes were calling at the same time ...
    assert len(slots) == 2 * calls
    # ... yet every window of one second (a minute's budget scaled down) holds at
    # most the budget, wherever it starts.
    for start_at in slots:
        assert sum(start_at <= s < start_at + window - 1e-6 for s in slots) <= budget
    assert min(b - a for a, b in itertools.pairwise(slots)) >= (interval - 1e-6)
    # No call started before its slot (Redis's clock and this host's are one).
    assert all(called >= slot - 1e-3 for slot, called in granted)
    assert slots[-1] - slots[0] >= (2 * calls - 1) * interval - 1e-6


# --- judge runs ----------------------------------------------------------------------


@pytest.fixture
def server(monkeypatch, settings):
    settings.JUDGE_RETRY = {"max_attempts": 3, "base_delay": 0.01, "max_delay": 0.02}
    client = broker_redis()
    client.delete(f"{KEY_PREFIX}openai")  # no reservation left by another test
    with FakeProviderServer() as fake:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv(URL_ENV, fake.openai_url)
        yield fake
    client.delete(f"{KEY_PREFIX}openai")


@pytest.mark.django_db(transaction=True)
def test_a_run_keeps_to_the_providers_budget_retries_included(setup, server, settings):
    settings.JUDGE_REQUESTS_PER_MINUTE = {"openai": 120}  # one call every 0.5 s
    interval = 0.5
    server.script(RateLimited(retry_after="0"))  # one retry: a tenth request
    run = start(make_set(setup, items=4), make_config())

    started = time.monotonic()
    judge_run_execute(run_id=run.pk, concurrency=4)

    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE
    assert Verdict.objects.filter(run=run).count() == 8
    arrivals = sorted(r.at for r in server.requests)  # the fake's clock
    assert len(arrivals) == 9
    # The k-th request reached the provider no sooner than k intervals after the
    # run began, although 4 threads were ready to call at once (without the budget
    # all 9 arrive within a few tens of milliseconds).
    for k, at in enumerate(arrivals):
        assert at - started >= k * interval - 0.01, (k, at - started)


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_run_stops_its_calls_waiting_for_a_slot(setup, server, settings):
    settings.JUDGE_REQUESTS_PER_MINUTE = {"openai": 1}  # the next slot is 60 s away
    run = start(make_set(setup, items=2), make_config())
    finished = threading.Event()

    def execute() -> None:
        from django.db import connections

        try:
            judge_run_execute(run_id=run.pk, concurrency=2)
        finally:
            finished.set()
            connections.close_all()

    thread = threading.Thread(target=execute)
    thread.start()
    deadline = time.monotonic() + 20
    while not Verdict.objects.filter(run=run).exists():
        assert time.monotonic() < deadline, "no first verdict"
        time.sleep(0.05)
    judge_run_cancel(run=run)

    # Well before the 60 s slot: the waiting calls gave up.
    assert finished.wait(timeout=15)
    thread.join(timeout=5)
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.CANCELLED
    assert server.request_count == 1
    assert Verdict.objects.filter(run=run).count() == 1
