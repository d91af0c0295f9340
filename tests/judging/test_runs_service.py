"""Judge runs against the local fake provider (no network): one verdict per
(item, order, sample), one provider call per verdict, the cache, duplicates,
failures, cancel and resume, all counted at the server."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from tests.judging.fake_providers import FakeProviderServer, ServerError, Success
from workbench.judging.models import (
    ComparisonItem,
    ComparisonSet,
    JudgeConfig,
    JudgeRun,
    Prompt,
    Response,
    Verdict,
)
from workbench.judging.selectors import judge_run_progress
from workbench.judging.services.runs import (
    judge_run_cancel,
    judge_run_execute,
    judge_run_resume,
    judge_run_start,
)

ITEMS = 6
URL_ENV = "FAKE_JUDGE_BASE_URL"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(monkeypatch, settings):
    settings.JUDGE_RETRY = {"max_attempts": 2, "base_delay": 0.01, "max_delay": 0.02}
    with FakeProviderServer() as fake:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv(URL_ENV, fake.openai_url)
        yield fake


def make_set(setup, name: str = "pairs", items: int = ITEMS) -> ComparisonSet:
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


def make_config(**fields) -> JudgeConfig:
    return JudgeConfig.objects.create(
        provider="openai",
        model="gpt-4o-mini",
        prompt_version="cai-pairwise-v1",
        base_url_env_name=URL_ENV,
        **fields,
    )


def start(comparison_set, config) -> JudgeRun:
    return judge_run_start(
        comparison_set=comparison_set, config=config, actor=None, enqueue=False
    )


def test_a_run_stores_one_verdict_per_item_and_order_with_one_call_each(setup, server):
    run = start(make_set(setup), make_config())
    assert run.verdicts_total == ITEMS * 2

    assert judge_run_execute(run_id=run.pk, concurrency=4) is True

    run.refresh_from_db()
    verdicts = Verdict.objects.filter(run=run)
    assert verdicts.count() == ITEMS * 2 == server.request_count
    assert run.status == JudgeRun.Status.DONE
    assert (run.verdicts_done, run.verdicts_failed, run.cache_hits) == (12, 0, 0)
    assert run.started_at is not None
    assert run.finished_at is not None
    # The fake always answers "A" with P(A)=0.8, in the order shown: in the item's
    # terms that is "a" when shown A first and "b" when shown B first.
    assert set(verdicts.filter(order="ab").values_list("choice", flat=True)) == {"a"}
    assert set(verdicts.filter(order="ba").values_list("choice", flat=True)) == {"b"}
    assert {round(p, 3) for p in verdicts.values_list("probability_a", flat=True)} == {
        0.8,
        0.2,
    }
    one = verdicts.first()
    assert one is not None
    assert (one.input_tokens, one.output_tokens, one.error) == (120, 1, "")
    assert one.latency_ms is not None
    assert one.cost_estimate > 0
    assert run.cost_estimate == sum(v.cost_estimate for v in verdicts)
    progress = judge_run_progress(run=run)
    assert progress["percent"] == 100.0
    assert progress["finished"] is True
    assert progress["done"] == 12


def test_a_second_run_over_the_same_items_makes_no_call(setup, server):
    comparison_set = make_set(setup)
    config = make_config()
    first = start(comparison_set, config)
    judge_run_execute(run_id=first.pk, concurrency=4)
    assert server.request_count == ITEMS * 2

    second = start(comparison_set, config)
    judge_run_execute(run_id=second.pk, concurrency=4)

    second.refresh_from_db()
    assert server.request_count == ITEMS * 2
    assert second.status == JudgeRun.Status.DONE
    assert second.cache_hits == second.verdicts_done == ITEMS * 2
    assert second.cost_estimate == 0

    def answers(run):
        return sorted(
            Verdict.objects.filter(run=run).values_list(
                "item", "order", "choice", "probability_a", "cache_key"
            )
        )

    assert answers(first) == answers(second)


def test_another_sample_or_model_is_not_a_cache_hit(setup, server):
    comparison_set = make_set(setup, items=2)
    judge_run_execute(run_id=start(comparison_set, make_config()).pk)
    run = start(comparison_set, make_config(samples=2))
    judge_run_execute(run_id=run.pk)
    run.refresh_from_db()
    # sample 0 is cached; sample 1 is a new question
    assert (run.verdicts_total, run.cache_hits) == (8, 4)
    assert server.request_count == 4 + 4


def test_duplicated_and_redelivered_tasks_store_nothing_twice(setup, server):
    server.always(Success(delay=0.05))
    run = start(make_set(setup), make_config())

    # Two copies of the task at once: one holds the run, the other exits.
    def task() -> None:
        try:
            judge_run_execute(run_id=run.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=task) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert Verdict.objects.filter(run=run).count() == ITEMS * 2 == server.request_count

    # Redelivered after the worker died before marking the run done.
    JudgeRun.objects.filter(pk=run.pk).update(status=JudgeRun.Status.RUNNING)
    assert judge_run_execute(run_id=run.pk, concurrency=4) is True
    # Redelivered after the run ended: nothing to do.
    assert judge_run_execute(run_id=run.pk, concurrency=4) is True

    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE
    assert Verdict.objects.filter(run=run).count() == ITEMS * 2 == server.request_count
    assert run.verdicts_done == ITEMS * 2


def test_a_provider_that_always_fails_fails_the_run_with_its_errors(setup, server):
    server.always(ServerError(500))
    run = start(make_set(setup), make_config())

    judge_run_execute(run_id=run.pk, concurrency=4)

    run.refresh_from_db()
    assert run.status == JudgeRun.Status.FAILED
    assert run.error.startswith(f"All {ITEMS * 2} verdicts failed (12 server error)")
    assert (run.verdicts_done, run.verdicts_failed) == (0, ITEMS * 2)
    verdicts = Verdict.objects.filter(run=run)
    assert set(verdicts.values_list("error", flat=True)) == {"server"}
    assert set(verdicts.values_list("choice", flat=True)) == {None}
    assert all("[server_error]" in v.raw_output for v in verdicts)
    assert server.request_count == ITEMS * 2 * 2  # two attempts each (JUDGE_RETRY)
    # Failed verdicts are never served from the cache.
    server.always(Success())
    again = start(run.comparison_set, run.config)
    judge_run_execute(run_id=again.pk)
    again.refresh_from_db()
    assert again.status == JudgeRun.Status.DONE
    assert again.cache_hits == 0


def test_a_partly_failed_run_resumes_only_its_failed_verdicts(setup, server):
    server.script(*[Success()] * 4)
    server.always(ServerError(500))
    run = start(make_set(setup), make_config())

    judge_run_execute(run_id=run.pk, concurrency=1)

    run.refresh_from_db()
    assert run.status == JudgeRun.Status.FAILED
    assert run.error.startswith("8 of 12 verdicts failed (8 server error)")
    assert "Resume" in run.error
    assert (run.verdicts_done, run.verdicts_failed) == (4, 8)
    calls_before = server.request_count
    assert calls_before == 4 + 8 * 2

    server.always(Success())
    assert judge_run_resume(run=run, enqueue=False) is True
    judge_run_execute(run_id=run.pk, concurrency=4)

    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE
    assert run.error == ""
    assert server.request_count == calls_before + 8
    assert Verdict.objects.filter(run=run, error="").count() == ITEMS * 2


def test_cancel_stops_further_calls_and_resume_does_only_the_missing(setup, server):
    server.always(Success(delay=0.1))
    run = start(make_set(setup), make_config())

    def cancel_after_two() -> None:
        if Verdict.objects.filter(run=run).count() >= 2:
            judge_run_cancel(run=run)

    judge_run_execute(run_id=run.pk, concurrency=1, progress=cancel_after_two)

    run.refresh_from_db()
    stored = Verdict.objects.filter(run=run).count()
    assert run.status == JudgeRun.Status.CANCELLED
    assert 2 <= stored < ITEMS * 2
    assert server.request_count == stored
    assert judge_run_execute(run_id=run.pk) is True  # a cancelled run is not run
    assert server.request_count == stored

    assert judge_run_resume(run=run, enqueue=False) is True
    judge_run_execute(run_id=run.pk, concurrency=4)

    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE
    assert Verdict.objects.filter(run=run).count() == ITEMS * 2 == server.request_count


def test_a_worker_killed_mid_run_loses_nothing_and_repeats_no_call(setup, server):
    run = start(make_set(setup), make_config())

    class KilledError(Exception):
        pass

    def die_after_five() -> None:
        if Verdict.objects.filter(run=run).count() >= 5:
            raise KilledError

    with pytest.raises(KilledError):
        judge_run_execute(run_id=run.pk, concurrency=1, progress=die_after_five)
    assert server.request_count == 5
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.RUNNING
    assert run.verdicts_done == 5

    judge_run_execute(run_id=run.pk, concurrency=4)  # the redelivered task

    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE
    assert Verdict.objects.filter(run=run).count() == ITEMS * 2 == server.request_count
    assert run.verdicts_done == ITEMS * 2


def test_a_missing_key_fails_the_run_with_a_clear_message(setup, server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    run = start(make_set(setup, items=1), make_config())
    judge_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.FAILED
    assert "OPENAI_API_KEY" in run.error
    assert server.request_count == 0
