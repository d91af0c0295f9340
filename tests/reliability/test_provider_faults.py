"""Provider faults at the adapter boundary, through real judge runs (issue 7).

``tests/judging/test_llm_providers.py`` proves how the adapter classifies and
retries one call; ``tests/judging/test_runs_service.py`` proves a run's idempotence,
cache, cancel and resume with plain 500s. This file puts each fault inside a run
executed by the service (``judge_run_execute``, the Celery task's body) against the
local fake provider, with the retry policy shrunk through ``settings.JUDGE_RETRY``
exactly as ``JUDGE_REQUEST_TIMEOUT`` and friends set it in production, and checks
what a facilitator is left with:

- the run finishes every verdict it can (the healthy items are stored);
- each failure is on its verdict row (``error`` and the adapter's reason in
  ``raw_output``) and summed up on the run (``error``, ``verdicts_failed``);
- no (item, order, sample) is stored twice;
- the provider received exactly the requests the retry policy allows;
- every failed call is recorded (a JudgeAttemptFailure, retried or the last), and
  the calls that were retried are counted by kind on the page and in the API's
  progress, also when the run got every answer in the end; a call that answered
  leaves no row;
- the judge-run page and the API's progress say what could not be done.

Item 0 of each set is the one the provider mistreats (the fake answers by the
request's text); the other items get a normal answer.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from django.urls import reverse

from tests.judging.fake_providers import (
    Action,
    FakeProviderServer,
    Hang,
    Malformed,
    RateLimited,
    Recorded,
    ServerError,
    Status,
    Success,
)
from tests.judging.test_runs_service import URL_ENV, make_config, make_set, start
from workbench.judging.models import (
    JudgeAttemptFailure,
    JudgeConfig,
    JudgeRun,
    Verdict,
)
from workbench.judging.prompts import PROMPT_ID
from workbench.judging.services.runs import judge_run_cancel, judge_run_execute

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = 4
TOTAL = ITEMS * 2  # both orders, one sample
BAD = 2  # item 0 in both orders
MAX_ATTEMPTS = 3
REQUEST_TIMEOUT = 0.4  # JUDGE_REQUEST_TIMEOUT for these tests
DEADLINE = 1.2  # JUDGE_RETRY_DEADLINE: the most one verdict may take
RETRY = {
    "max_attempts": MAX_ATTEMPTS,
    "base_delay": 0.02,
    "max_delay": 0.05,
    "request_timeout": REQUEST_TIMEOUT,
    "deadline": DEADLINE,
}


@pytest.fixture
def server(monkeypatch, settings) -> Iterator[FakeProviderServer]:
    settings.JUDGE_RETRY = dict(RETRY)
    settings.JUDGE_REQUESTS_PER_MINUTE = {}  # no budget: only the retry policy waits
    with FakeProviderServer() as fake:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-faults-not-a-real-key")
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-faults-not-a-real-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.anthropic_url)
        monkeypatch.setenv(URL_ENV, fake.openai_url)
        yield fake


def is_item(recorded: Recorded, n: int) -> bool:
    return f"Question {n} for" in json.dumps(recorded.body)


def item_zero_gets(
    fault: Action | Callable[[], Action],
) -> Callable[[Recorded], Action]:
    def respond(recorded: Recorded) -> Action:
        if not is_item(recorded, 0):
            return Success()
        return fault() if callable(fault) else fault

    return respond


def body_key(recorded: Recorded) -> str:
    return json.dumps(recorded.body, sort_keys=True)


def run_once(setup, config: JudgeConfig | None = None, **execute) -> JudgeRun:
    run = start(make_set(setup, items=ITEMS), config or make_config())
    judge_run_execute(run_id=run.pk, **{"concurrency": 4, **execute})
    run.refresh_from_db()
    return run


def assert_each_verdict_once(run: JudgeRun) -> None:
    keys = Counter(
        Verdict.objects.filter(run=run).values_list("item_id", "order", "sample")
    )
    assert len(keys) == run.verdicts_total
    assert set(keys.values()) == {1}


def item_zero_verdicts(run: JudgeRun) -> list[Verdict]:
    first = run.comparison_set.items.order_by("id").first()
    return list(Verdict.objects.filter(run=run, item=first))


def assert_partly_failed(run: JudgeRun, error: str, label: str) -> list[Verdict]:
    """Item 0 failed with ``error`` in both orders; every other verdict is stored."""
    assert_each_verdict_once(run)
    assert run.status == JudgeRun.Status.FAILED
    assert (run.verdicts_done, run.verdicts_failed) == (TOTAL - BAD, BAD)
    assert run.error == (
        f"{BAD} of {TOTAL} verdicts failed ({BAD} {label}); the other "
        f"{TOTAL - BAD} are stored. Resume the run to ask again for the failed "
        "ones only."
    )
    bad = item_zero_verdicts(run)
    assert {(v.error, v.choice) for v in bad} == {(error, None)}
    good = Verdict.objects.filter(run=run).exclude(pk__in=[v.pk for v in bad])
    assert set(good.values_list("error", flat=True)) == {""}
    assert None not in set(good.values_list("choice", flat=True))
    return bad


def failed_calls(run: JudgeRun) -> Counter[tuple[str, bool]]:
    """The run's recorded failed calls by (kind, retried)."""
    rows = JudgeAttemptFailure.objects.filter(run=run)
    return Counter(rows.values_list("kind", "retried"))


def assert_retries_shown(owner_client, setup, run: JudgeRun, **by_kind: int) -> None:
    """The page and the API's progress count the retried calls by kind."""
    api = owner_client.get(
        reverse("api:runs-progress", args=[setup.workshop.slug, run.pk])
    ).json()
    assert (api["retried"], api["retried_by_kind"]) == (sum(by_kind.values()), by_kind)
    html = page_of(owner_client, setup, run)
    if not by_kind:
        assert 'id="run-retried"' not in html
        return
    n = sum(by_kind.values())
    calls = (
        "1 call to the provider failed and was retried"
        if n == 1
        else (f"{n} calls to the provider failed and were retried")
    )
    labels = {
        "rate_limited": "rate limited (429)",
        "server_error": "server error (5xx)",
        "timeout": "timeout",
        "malformed_body": "unreadable answer",
    }
    parts = ", ".join(
        f"{count} \u00d7 {labels[kind]}" for kind, count in by_kind.items()
    )
    assert f'<p id="run-retried">{calls}: {parts}.</p>' in html


def page_of(owner_client, setup, run: JudgeRun) -> str:
    url = reverse("deliberation:judge-run", args=[setup.workshop.slug, run.pk])
    response = owner_client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def assert_page_says_what_failed(owner_client, setup, run: JudgeRun) -> str:
    html = page_of(owner_client, setup, run)
    assert "<strong>Failed</strong>" in html
    assert f"{TOTAL - BAD} of {TOTAL} verdicts, 0 from cache, {BAD} failed" in html
    assert f'<p class="error" dir="auto">{run.error}</p>' in html
    assert "Resume run" in html
    api = owner_client.get(
        reverse("api:runs-progress", args=[setup.workshop.slug, run.pk])
    )
    assert api.status_code == 200
    progress = api.json()
    assert (progress["status"], progress["failed"]) == ("failed", BAD)
    assert progress["error"] == run.error
    return html


# --- 429 with Retry-After ----------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_429_with_retry_after_waits_then_succeeds(
    setup, server, owner_client, provider
):
    server.answer_with(item_zero_gets(Success()))
    server.script(RateLimited(retry_after="1"))  # the very first request
    config = (
        make_config()
        if provider == "openai"
        else JudgeConfig.objects.create(
            provider="anthropic", model="claude-haiku-4-5", prompt_version=PROMPT_ID
        )
    )

    started = time.monotonic()
    run = run_once(setup, config, concurrency=1)
    elapsed = time.monotonic() - started

    assert run.status == JudgeRun.Status.DONE, run.error
    assert (run.verdicts_done, run.verdicts_failed, run.error) == (TOTAL, 0, "")
    assert_each_verdict_once(run)
    requests = server.requests
    assert len(requests) == TOTAL + 1  # the refused call, asked once more
    first, retry = requests[0], requests[1]
    assert body_key(first) == body_key(retry)
    assert retry.at - first.at >= 1.0  # Retry-After honoured, not the 20 ms backoff
    assert elapsed >= 1.0
    html = page_of(owner_client, setup, run)
    assert "<strong>Done</strong>" in html
    assert 'class="error"' not in html
    # Done with every answer, and the refused call is still on record; the eight
    # calls that answered left no row.
    assert failed_calls(run) == {("rate_limited", True): 1}
    row = JudgeAttemptFailure.objects.get(run=run)
    assert (row.attempt, row.http_status) == (1, 429)
    assert row.waited_s >= 1.0
    assert_retries_shown(owner_client, setup, run, rate_limited=1)


def test_persistent_429_gives_up_after_the_allowed_attempts(
    setup, server, owner_client, caplog
):
    caplog.set_level("INFO", logger="workbench.judging.llm")
    server.answer_with(item_zero_gets(RateLimited(retry_after="0.3")))

    run = run_once(setup)

    bad = assert_partly_failed(run, "rate_limited", "rate limited")
    for verdict in bad:
        assert verdict.raw_output.startswith(
            f"[rate_limited] gave up after {MAX_ATTEMPTS} attempts; last: "
            "rate_limited: Error code: 429"
        )
    tries = [r for r in server.requests if is_item(r, 0)]
    assert len(tries) == BAD * MAX_ATTEMPTS
    assert server.request_count == BAD * MAX_ATTEMPTS + (TOTAL - BAD)
    # Each retry of the same question waited at least the server's Retry-After.
    by_body: dict[str, list[float]] = {}
    for r in tries:
        by_body.setdefault(body_key(r), []).append(r.at)
    gaps = [b - a for times in by_body.values() for a, b in itertools.pairwise(times)]
    assert len(gaps) == BAD * (MAX_ATTEMPTS - 1)
    assert min(gaps) >= 0.3
    # Every retried failure is in the log, with its kind and its wait.
    retried = [m for m in caplog.messages if "failed (rate_limited); retrying" in m]
    assert len(retried) == BAD * (MAX_ATTEMPTS - 1)
    # ... and on record: two retried calls per verdict, then its last.
    assert failed_calls(run) == {
        ("rate_limited", True): BAD * (MAX_ATTEMPTS - 1),
        ("rate_limited", False): BAD,
    }
    assert_page_says_what_failed(owner_client, setup, run)
    assert_retries_shown(
        owner_client, setup, run, rate_limited=BAD * (MAX_ATTEMPTS - 1)
    )


# --- 500 --------------------------------------------------------------------------


def test_500_then_success_stores_every_verdict(setup, server, owner_client):
    server.answer_with(item_zero_gets(Success()))
    server.script(ServerError(500), ServerError(503))

    run = run_once(setup, concurrency=1)

    assert run.status == JudgeRun.Status.DONE, run.error
    assert_each_verdict_once(run)
    assert server.request_count == TOTAL + 2
    assert len({body_key(r) for r in server.requests[:3]}) == 1  # one question, 3 asks
    rows = JudgeAttemptFailure.objects.filter(run=run).order_by("attempt")
    assert [(r.attempt, r.http_status, r.retried) for r in rows] == [
        (1, 500, True),
        (2, 503, True),
    ]
    assert_retries_shown(owner_client, setup, run, server_error=2)


def test_persistent_500_fails_only_its_verdicts(setup, server, owner_client):
    server.answer_with(item_zero_gets(ServerError(500)))

    run = run_once(setup)

    bad = assert_partly_failed(run, "server", "server error")
    for verdict in bad:
        assert "[server_error] gave up after 3 attempts" in verdict.raw_output
        assert "Error code: 500" in verdict.raw_output
    assert server.request_count == BAD * MAX_ATTEMPTS + (TOTAL - BAD)
    assert failed_calls(run) == {("server_error", True): 4, ("server_error", False): 2}
    assert_page_says_what_failed(owner_client, setup, run)
    assert_retries_shown(owner_client, setup, run, server_error=4)


# --- timeouts -----------------------------------------------------------------------


def test_a_timeout_then_success(setup, server, owner_client):
    server.answer_with(item_zero_gets(Success()))
    server.script(Hang(seconds=10))

    started = time.monotonic()
    run = run_once(setup, concurrency=1)
    elapsed = time.monotonic() - started

    assert run.status == JudgeRun.Status.DONE, run.error
    assert_each_verdict_once(run)
    assert server.request_count == TOTAL + 1
    # The client gave up after JUDGE_REQUEST_TIMEOUT, not the server's 10 s.
    assert REQUEST_TIMEOUT <= elapsed < REQUEST_TIMEOUT + 2.0
    assert failed_calls(run) == {("timeout", True): 1}
    assert_retries_shown(owner_client, setup, run, timeout=1)


def test_persistent_timeouts_fail_only_their_verdicts(setup, server, owner_client):
    # Each try sleeps past JUDGE_REQUEST_TIMEOUT; three tries fit in the deadline
    # only if they are short, so the deadline may end a verdict first.
    server.answer_with(item_zero_gets(Hang(seconds=10)))

    started = time.monotonic()
    run = run_once(setup)
    elapsed = time.monotonic() - started

    bad = assert_partly_failed(run, "timeout", "timeout")
    for verdict in bad:
        assert verdict.raw_output.startswith(("[timeout]", "[deadline]"))
        assert "timeout" in verdict.raw_output.split("]", 1)[1]
    tries = [r for r in server.requests if is_item(r, 0)]
    # Tries of REQUEST_TIMEOUT each (capped by the time left) within DEADLINE.
    assert BAD * 2 <= len(tries) <= BAD * MAX_ATTEMPTS
    assert server.request_count == len(tries) + (TOTAL - BAD)
    assert elapsed < DEADLINE + 2.0
    # Every try that timed out is on record; all but each verdict's last retried.
    assert failed_calls(run) == {
        ("timeout", True): len(tries) - BAD,
        ("timeout", False): BAD,
    }
    assert_page_says_what_failed(owner_client, setup, run)
    assert_retries_shown(owner_client, setup, run, timeout=len(tries) - BAD)


def test_a_provider_that_hangs_forever_is_ended_by_the_deadline(
    setup, server, owner_client, settings
):
    settings.JUDGE_RETRY = {**RETRY, "max_attempts": 50}  # only the deadline stops it
    server.always(Hang(seconds=600))

    started = time.monotonic()
    run = run_once(setup, concurrency=TOTAL)
    elapsed = time.monotonic() - started

    assert_each_verdict_once(run)
    assert run.status == JudgeRun.Status.FAILED
    assert (run.verdicts_done, run.verdicts_failed) == (0, TOTAL)
    assert run.error == (
        f"All {TOTAL} verdicts failed ({TOTAL} timeout). Check the provider, then "
        "resume."
    )
    for verdict in Verdict.objects.filter(run=run):
        assert verdict.error == "timeout"
        assert verdict.raw_output.startswith(
            f"[deadline] no answer within the {DEADLINE:g} s deadline after "
        )
        assert verdict.raw_output.endswith("last failure: timeout")
    # All verdicts at once: the run lasts about one deadline, not forever.
    assert DEADLINE - 0.1 <= elapsed < DEADLINE + 2.0, elapsed
    per_verdict = Counter(body_key(r) for r in server.requests)
    assert len(per_verdict) == TOTAL
    # Tries of REQUEST_TIMEOUT each until the deadline: at most 3 fit in 1.2 s;
    # on a loaded machine the third may not start (its wait would cross it).
    most = math.ceil(DEADLINE / REQUEST_TIMEOUT)
    assert set(per_verdict.values()) <= set(range(2, most + 1)), per_verdict
    html = page_of(owner_client, setup, run)
    assert "<strong>Failed</strong>" in html
    assert f"0 of {TOTAL} verdicts, 0 from cache, {TOTAL} failed" in html
    assert run.error in html


# --- broken bodies and answers --------------------------------------------------------


def test_truncated_json_is_a_provider_fault_the_run_can_retry(
    setup, server, owner_client
):
    server.answer_with(item_zero_gets(Malformed()))  # a 200 cut off mid-object

    run = run_once(setup)

    bad = assert_partly_failed(run, "server", "server error")
    for verdict in bad:
        assert verdict.raw_output.startswith(
            "[malformed_body] response body is not JSON"
        )
    # One extra try for a broken body (RetryPolicy.malformed_retries), no more.
    assert server.request_count == BAD * 2 + (TOTAL - BAD)
    assert failed_calls(run) == {
        ("malformed_body", True): BAD,
        ("malformed_body", False): BAD,
    }
    assert_page_says_what_failed(owner_client, setup, run)
    assert_retries_shown(owner_client, setup, run, malformed_body=BAD)


def test_a_non_json_body_is_a_provider_fault(setup, server, owner_client):
    server.answer_with(
        item_zero_gets(Malformed(body="<html><h1>502 Bad Gateway</h1></html>"))
    )

    run = run_once(setup)

    bad = assert_partly_failed(run, "server", "server error")
    assert all("[malformed_body]" in v.raw_output for v in bad)
    assert server.request_count == BAD * 2 + (TOTAL - BAD)
    html = assert_page_says_what_failed(owner_client, setup, run)
    assert "Bad Gateway" not in html  # the provider's page is not echoed


def test_an_answer_that_names_neither_option_is_the_judges_answer(
    setup, server, owner_client
):
    server.answer_with(item_zero_gets(Success(text="Both are fine.", top=None)))

    run = run_once(setup)

    assert_each_verdict_once(run)
    # The judge did answer, once per question; asking again at temperature 0
    # would pay for the same answer. The run is done and says so.
    assert server.request_count == TOTAL
    assert run.status == JudgeRun.Status.DONE
    assert (run.verdicts_done, run.verdicts_failed) == (TOTAL - BAD, BAD)
    assert run.error == (
        f"{BAD} of {TOTAL} answers were malformed ({BAD} malformed answer)."
    )
    for verdict in item_zero_verdicts(run):
        assert (verdict.error, verdict.choice) == ("malformed", None)
        assert verdict.raw_output.startswith("Both are fine.\n[unparseable] ")
        assert verdict.input_tokens == 120  # paid for: recorded
    html = page_of(owner_client, setup, run)
    assert "<strong>Done</strong>" in html
    assert run.error in html
    assert failed_calls(run) == {}  # every call answered; the answer was the fault
    assert_retries_shown(owner_client, setup, run)


def test_an_auth_failure_is_named_and_not_retried(setup, server, owner_client):
    server.answer_with(item_zero_gets(Status(401, "invalid x-api-key")))

    run = run_once(setup)

    bad = assert_partly_failed(run, "refused", "refused")
    assert all(v.raw_output.startswith("[auth] ") for v in bad)
    assert server.request_count == TOTAL  # a 401 is final
    assert failed_calls(run) == {("auth", False): BAD}
    assert_page_says_what_failed(owner_client, setup, run)
    assert_retries_shown(owner_client, setup, run)


# --- every fault at once, then resume -------------------------------------------


def test_mixed_faults_then_resume_asks_only_for_the_failed(setup, server, owner_client):
    faults: dict[int, Action] = {
        0: ServerError(500),
        1: Hang(seconds=10),
        2: Malformed(),
    }

    def respond(recorded: Recorded) -> Action:
        for n, fault in faults.items():
            if is_item(recorded, n):
                return fault
        return Success()

    server.answer_with(respond)
    run = start(make_set(setup, items=ITEMS), make_config())
    judge_run_execute(run_id=run.pk, concurrency=TOTAL)
    run.refresh_from_db()

    assert_each_verdict_once(run)
    assert run.status == JudgeRun.Status.FAILED
    assert (run.verdicts_done, run.verdicts_failed) == (2, 6)
    assert run.error.startswith("6 of 8 verdicts failed (")
    assert "4 server error" in run.error
    assert "2 timeout" in run.error
    asked = server.request_count
    assert page_of(owner_client, setup, run).count(run.error) == 1
    before_resume = failed_calls(run)
    assert before_resume[("server_error", True)] == 4
    assert before_resume[("malformed_body", True)] == 2

    server.answer_with(lambda recorded: Success())
    response = owner_client.post(
        reverse("deliberation:judge-run-resume", args=[setup.workshop.slug, run.pk])
    )
    assert response.status_code == 302
    judge_run_execute(run_id=run.pk, concurrency=4)
    run.refresh_from_db()

    assert run.status == JudgeRun.Status.DONE
    assert (run.verdicts_done, run.verdicts_failed, run.error) == (TOTAL, 0, "")
    assert_each_verdict_once(run)
    assert server.request_count == asked + 6  # the six failed, once each
    # The resume answered at once; the first task's failures stay on record.
    assert failed_calls(run) == before_resume


# --- cancel while waiting out a Retry-After -------------------------------------


def test_cancel_is_seen_while_a_retry_after_is_waited_out(setup, server, settings):
    settings.JUDGE_RETRY = {**RETRY, "deadline": 60.0}
    server.always(RateLimited(retry_after="20"))
    run = start(make_set(setup, items=1), make_config())

    cancelled_at: list[float] = []

    def cancel_once_both_wait() -> None:
        while server.request_count < 2:  # both verdicts got their 429
            time.sleep(0.02)
        time.sleep(0.2)
        judge_run_cancel(run=run)
        cancelled_at.append(time.monotonic())

    canceller = threading.Thread(target=cancel_once_both_wait)
    canceller.start()
    judge_run_execute(run_id=run.pk, concurrency=2)
    ended = time.monotonic()
    canceller.join()
    elapsed = ended - cancelled_at[0]

    run.refresh_from_db()
    assert run.status == JudgeRun.Status.CANCELLED
    assert elapsed < 1.5, elapsed  # not the 20 s the provider asked for
    assert server.request_count == 2  # one per verdict; no retry after the cancel
    assert not Verdict.objects.filter(run=run).exists()  # a resume asks again


def test_the_tasks_time_budget_also_ends_a_long_wait(setup, server, settings):
    settings.JUDGE_RETRY = {**RETRY, "deadline": 60.0}
    server.always(RateLimited(retry_after="20"))
    run = start(make_set(setup, items=1), make_config())

    started = time.monotonic()
    ended = judge_run_execute(
        run_id=run.pk, concurrency=2, budget_s=1.0, reenqueue=False
    )
    elapsed = time.monotonic() - started

    assert ended is False  # the budget ran out: a new task carries on
    assert elapsed < 3.0, elapsed  # the budget, not the 20 s Retry-After
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.RUNNING
    assert server.request_count == 2
    assert not Verdict.objects.filter(run=run).exists()
