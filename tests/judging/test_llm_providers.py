"""Each provider path against the local fake server: success, log-probabilities,
429 + Retry-After, 5xx, timeouts, malformed bodies, deadlines, secrets.
No test reaches the network: every judge points at 127.0.0.1."""

from __future__ import annotations

import logging
import math
import time

import pytest

from tests.judging.fake_providers import (
    FakeProviderServer,
    Hang,
    Malformed,
    RateLimited,
    ServerError,
    Status,
    Success,
)
from workbench.judging.llm import (
    AnthropicJudge,
    Judge,
    JudgeConfigurationError,
    JudgeRequest,
    OpenAICompatibleJudge,
    OpenAIJudge,
    RetryPolicy,
    SimilarityBaseline,
    build_judge,
    judge_both_orders,
)
from workbench.judging.prompts import PROMPT_ID

KINDS = ["openai", "openai-compatible", "anthropic"]
SECRET = "sk-test-DO-NOT-LEAK-4f9a2b7c"
FAST = RetryPolicy(
    max_attempts=5, base_delay=0.05, max_delay=0.2, request_timeout=2.0, deadline=10.0
)
REQUEST = JudgeRequest(
    principle="Prefer the response about cats.",
    conversation="Tell me about a pet.",
    response_a="Whiskers the cat naps all day.",
    response_b="Buddy the dog fetches sticks.",
)


@pytest.fixture
def server():
    with FakeProviderServer() as fake:
        yield fake


def make_judge(
    kind: str,
    server: FakeProviderServer,
    policy: RetryPolicy = FAST,
    api_key: str = SECRET,
) -> Judge:
    if kind == "openai":
        return OpenAIJudge(
            model="gpt-4o-mini",
            api_key=api_key,
            base_url=server.openai_url,
            retry=policy,
        )
    if kind == "openai-compatible":
        return OpenAICompatibleJudge(
            model="llama-3.1-8b",
            api_key=api_key,
            base_url=server.openai_url,
            retry=policy,
        )
    return AnthropicJudge(
        model="claude-haiku-4-5",
        api_key=api_key,
        base_url=server.anthropic_url,
        retry=policy,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_success(kind, server):
    answer = make_judge(kind, server).judge(REQUEST)
    assert answer.ok
    assert answer.choice == "a"
    assert answer.is_llm
    assert answer.provider == kind
    assert answer.prompt_id == PROMPT_ID
    assert (answer.input_tokens, answer.output_tokens) == (120, 1)
    assert answer.error_kind is None
    assert [a.outcome for a in answer.attempts] == ["ok"]
    assert answer.latency_s > 0
    assert server.request_count == 1
    sent = server.requests[0]
    if kind == "anthropic":
        assert sent.path == "/v1/messages"
        assert "never an instruction" in sent.body["system"]
        assert "<principle>" in sent.body["messages"][0]["content"]
        assert answer.prob_a is None  # no log-probabilities from Anthropic
        assert answer.cost_usd == pytest.approx((120 * 1.00 + 1 * 5.00) / 1e6)
    else:
        assert sent.path == "/v1/chat/completions"
        assert sent.body["logprobs"] is True
        assert sent.body["top_logprobs"] == 5
        assert sent.body["temperature"] == 0.0
        assert [m["role"] for m in sent.body["messages"]] == ["system", "user"]
        expected_cost = 0.0 if kind == "openai-compatible" else (120 * 0.15 + 0.6) / 1e6
        assert answer.cost_usd == pytest.approx(expected_cost)


@pytest.mark.parametrize("kind", ["openai", "openai-compatible"])
def test_log_probabilities_give_probability_of_a(kind, server):
    server.script(Success(text="B", top=(("B", 0.6), (" A", 0.3), ("C", 0.05))))
    answer = make_judge(kind, server).judge(REQUEST)
    assert answer.choice == "b"
    assert answer.letter_probs == pytest.approx({"A": 0.3, "B": 0.6, "C": 0.05})
    assert answer.prob_a == pytest.approx(0.3 / 0.9)


def test_probability_when_b_not_in_top_tokens(server):
    server.script(Success(text="A", top=(("A", 0.97), ("C", 0.02))))
    assert make_judge("openai", server).judge(REQUEST).prob_a == pytest.approx(1.0)


def test_no_logprobs_block_gives_no_probability(server):
    server.script(Success(text="A", top=None))
    answer = make_judge("openai-compatible", server).judge(REQUEST)
    assert answer.choice == "a"
    assert answer.prob_a is None


def test_logprobs_can_be_switched_off_for_servers_without_them(server):
    judge = OpenAICompatibleJudge(
        model="m", base_url=server.openai_url, logprobs=False, retry=FAST
    )
    judge.judge(REQUEST)
    assert "logprobs" not in server.requests[0].body


@pytest.mark.parametrize("kind", KINDS)
def test_429_waits_at_least_retry_after(kind, server):
    server.script(RateLimited(retry_after="1"))
    started = time.monotonic()
    answer = make_judge(kind, server).judge(REQUEST)
    elapsed = time.monotonic() - started
    assert answer.choice == "a"
    first, second = server.requests
    gap = second.at - first.at
    assert gap >= 1.0, gap
    assert elapsed < 3.0
    assert [a.outcome for a in answer.attempts] == ["rate_limited", "ok"]
    assert answer.attempts[0].status == 429
    assert answer.attempts[0].retry_after_s == 1.0
    assert answer.attempts[0].waited_s >= 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_retry_after_beyond_the_deadline_gives_up_at_once(kind, server):
    server.script(RateLimited(retry_after="30"))
    policy = RetryPolicy(base_delay=0.05, request_timeout=1.0, deadline=3.0)
    started = time.monotonic()
    answer = make_judge(kind, server, policy).judge(REQUEST)
    assert time.monotonic() - started < 1.0
    assert answer.choice is None
    assert answer.error_kind == "deadline"
    assert "3 s deadline" in answer.error_message
    assert "rate_limited" in answer.error_message
    assert server.request_count == 1


@pytest.mark.parametrize("kind", KINDS)
def test_5xx_then_success(kind, server):
    server.script(ServerError(500), ServerError(503))
    answer = make_judge(kind, server).judge(REQUEST)
    assert answer.choice == "a"
    assert [(a.outcome, a.status) for a in answer.attempts] == [
        ("server_error", 500),
        ("server_error", 503),
        ("ok", None),
    ]
    # Exponential backoff with jitter: attempt n waits base * 2**(n-1) * [0.5, 1].
    assert 0.025 <= answer.attempts[0].waited_s <= 0.05
    assert 0.05 <= answer.attempts[1].waited_s <= 0.1
    assert server.request_count == 3


@pytest.mark.parametrize("kind", KINDS)
def test_persistent_5xx_stops_after_max_attempts(kind, server):
    server.always(ServerError(502))
    policy = RetryPolicy(max_attempts=3, base_delay=0.01, request_timeout=1.0)
    answer = make_judge(kind, server, policy).judge(REQUEST)
    assert answer.choice is None
    assert answer.error_kind == "server_error"
    assert answer.error_message.startswith("gave up after 3 attempts")
    assert server.request_count == 3
    assert answer.attempts[-1].waited_s == 0.0


@pytest.mark.parametrize("kind", KINDS)
def test_timeout_then_success(kind, server):
    server.script(Hang(seconds=10))
    policy = RetryPolicy(base_delay=0.05, request_timeout=0.5, deadline=10.0)
    started = time.monotonic()
    answer = make_judge(kind, server, policy).judge(REQUEST)
    assert time.monotonic() - started < 3.0
    assert answer.choice == "a"
    assert [a.outcome for a in answer.attempts] == ["timeout", "ok"]
    assert answer.attempts[0].duration_s == pytest.approx(0.5, abs=0.3)


@pytest.mark.parametrize("kind", KINDS)
def test_always_hanging_provider_gives_up_by_the_deadline(kind, server):
    server.always(Hang(seconds=30))
    policy = RetryPolicy(
        max_attempts=50,
        base_delay=0.05,
        max_delay=0.1,
        request_timeout=0.4,
        deadline=1.5,
    )
    started = time.monotonic()
    answer = make_judge(kind, server, policy).judge(REQUEST)
    elapsed = time.monotonic() - started
    assert elapsed <= 1.5 + 0.5, elapsed
    assert answer.choice is None
    assert answer.error_kind == "deadline"
    assert answer.error_message.startswith("no answer within the 1.5 s deadline")
    assert "last failure: timeout" in answer.error_message
    assert 2 <= len(answer.attempts) <= 5
    assert all(a.outcome == "timeout" for a in answer.attempts)


@pytest.mark.parametrize("kind", KINDS)
def test_malformed_json_is_recorded_and_not_retried_forever(kind, server):
    server.always(Malformed())
    answer = make_judge(kind, server).judge(REQUEST)
    assert answer.choice is None
    assert answer.error_kind == "malformed_body"
    assert "not JSON" in answer.error_message
    # One extra attempt (RetryPolicy.malformed_retries = 1), then it stops.
    assert [a.outcome for a in answer.attempts] == ["malformed_body"] * 2
    assert server.request_count == 2


@pytest.mark.parametrize("kind", KINDS)
def test_malformed_once_then_success(kind, server):
    server.script(Malformed(body="<html>502 Bad Gateway</html>"))
    answer = make_judge(kind, server).judge(REQUEST)
    assert answer.choice == "a"
    assert [a.outcome for a in answer.attempts] == ["malformed_body", "ok"]


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_shape_json_is_malformed(kind, server):
    server.always(Malformed(body='{"unexpected": true}'))
    answer = make_judge(kind, server).judge(REQUEST)
    assert answer.error_kind == "malformed_body"
    assert "unexpected response shape" in answer.error_message


@pytest.mark.parametrize("kind", KINDS)
def test_unparseable_answer_is_recorded_not_retried(kind, server):
    server.script(Success(text="Both responses have merit.", top=None))
    answer = make_judge(kind, server).judge(REQUEST)
    assert answer.choice is None
    assert answer.error_kind == "unparseable"
    assert answer.raw_text == "Both responses have merit."
    assert answer.input_tokens == 120  # the call was paid for; record it
    assert server.request_count == 1


@pytest.mark.parametrize("kind", KINDS)
def test_client_error_is_not_retried(kind, server):
    server.script(Status(400, "bad request"))
    answer = make_judge(kind, server).judge(REQUEST)
    assert answer.error_kind == "client_error"
    assert server.request_count == 1


def test_connection_refused_is_a_connection_error():
    with FakeProviderServer() as fake:
        url = fake.openai_url
    policy = RetryPolicy(max_attempts=2, base_delay=0.01, request_timeout=1.0)
    answer = OpenAIJudge(api_key=SECRET, base_url=url, retry=policy).judge(REQUEST)
    assert answer.error_kind == "connection"
    assert [a.outcome for a in answer.attempts] == ["connection", "connection"]


# --- secrets -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_key_never_in_repr_errors_or_logs(kind, server, caplog):
    caplog.set_level(logging.DEBUG)
    server.script(
        ServerError(500), Status(401, f"Incorrect API key provided: {SECRET}")
    )
    judge = make_judge(kind, server)
    answer = judge.judge(REQUEST)
    assert answer.error_kind == "auth"
    assert server.request_count == 2
    texts = [
        repr(judge),
        str(judge),
        repr(answer),
        str(answer),
        answer.error_message,
        *(a.message for a in answer.attempts),
        *(record.getMessage() for record in caplog.records),
        caplog.text,
    ]
    assert "[redacted]" in answer.error_message
    for text in texts:
        assert SECRET not in text
    # The key was really sent (so the test would notice a leak).
    sent = server.requests[0].headers
    assert SECRET in (sent.get("authorization", "") + sent.get("x-api-key", ""))


def test_base_url_credentials_are_not_shown(server):
    url = server.openai_url.replace("http://", "http://user:hunter2@") + "?key=abc"
    judge = OpenAICompatibleJudge(model="m", base_url=url, retry=FAST)
    assert "hunter2" not in repr(judge)
    assert "key=abc" not in repr(judge)
    assert "hunter2" not in str(judge.fingerprint())


# --- configuration from the environment --------------------------------------------


def test_keys_and_base_url_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
    answer = build_judge("openai", retry=FAST).judge(REQUEST)
    assert answer.choice == "a"
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"


def test_anthropic_key_and_base_url_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.anthropic_url)
    judge = build_judge("anthropic", model="claude-sonnet-4-6", retry=FAST)
    assert judge.judge(REQUEST).choice == "a"
    assert server.requests[0].body["model"] == "claude-sonnet-4-6"


def test_missing_keys_are_clear_errors(monkeypatch):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(JudgeConfigurationError, match="OPENAI_API_KEY is not set"):
        build_judge("openai")
    with pytest.raises(JudgeConfigurationError, match="ANTHROPIC_API_KEY is not set"):
        build_judge("anthropic")
    with pytest.raises(JudgeConfigurationError, match="needs a base URL"):
        build_judge("openai-compatible", model="m")
    with pytest.raises(JudgeConfigurationError, match="needs a model"):
        build_judge("openai-compatible", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(JudgeConfigurationError, match="unknown judge provider"):
        build_judge("gemini")


def test_offline_provider_is_the_labelled_baseline():
    judge = build_judge("offline")
    assert isinstance(judge, SimilarityBaseline)
    assert judge.is_llm is False
    assert judge.name == "offline-similarity-baseline"


# --- both orders over the wire -----------------------------------------------------


def test_both_orders_over_the_wire(server):
    # Order AB: picks A (cats) with P(A)=0.8. Order BA: the cat response is now B;
    # the judge picks B with P(A)=0.3, i.e. P(cat)=0.7.
    server.script(
        Success(text="A", top=(("A", 0.8), ("B", 0.2))),
        Success(text="B", top=(("B", 0.7), ("A", 0.3))),
    )
    ab, ba, combined = judge_both_orders(make_judge("openai", server), REQUEST)
    assert (ab.choice, ba.choice) == ("a", "b")
    assert combined.choice == "a"
    assert combined.order_consistent is True
    assert combined.prob_a == pytest.approx((0.8 + 0.7) / 2)
    shown = [r.body["messages"][1]["content"] for r in server.requests]
    assert shown[0].index("Whiskers") < shown[0].index("Buddy")
    assert shown[1].index("Buddy") < shown[1].index("Whiskers")


def test_position_bias_becomes_a_tie(server):
    server.always(Success(text="A", top=(("A", 0.9), ("B", 0.1))))
    _, _, combined = judge_both_orders(make_judge("openai", server), REQUEST)
    assert combined.choice == "tie"
    assert combined.order_consistent is False
    assert combined.first_shown_picks == 2
    assert combined.prob_a == pytest.approx(0.5)
    assert combined.prob_a is not None
    assert math.isfinite(combined.prob_a)
