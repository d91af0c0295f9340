"""Text generation through each provider against the local fake server: success,
429 + Retry-After, 5xx, malformed bodies, empty answers, truncation, secrets; and
which providers the environment makes available. No test reaches the network."""

from __future__ import annotations

import time

import pytest

from tests.judging.fake_providers import (
    FakeProviderServer,
    Malformed,
    RateLimited,
    ServerError,
    Status,
    Success,
)
from workbench.judging.llm import (
    AnthropicJudge,
    GenerationRequest,
    JudgeConfigurationError,
    OpenAICompatibleJudge,
    OpenAIJudge,
    RetryPolicy,
    TextGenerator,
    available_providers,
    build_generator,
)

KINDS = ["openai", "openai-compatible", "anthropic"]
SECRET = "sk-test-DO-NOT-LEAK-77c1e0d9"
FAST = RetryPolicy(
    max_attempts=5, base_delay=0.05, max_delay=0.2, request_timeout=2.0, deadline=10.0
)
REQUEST = GenerationRequest(
    system="You write example replies.", user="Reply to: how do I boil an egg?"
)
REPLY = "Put the egg in boiling water for nine minutes."


@pytest.fixture
def server():
    with FakeProviderServer() as fake:
        yield fake


def make_generator(kind: str, server: FakeProviderServer) -> TextGenerator:
    if kind == "openai":
        return OpenAIJudge(
            model="gpt-4o-mini", api_key=SECRET, base_url=server.openai_url, retry=FAST
        )
    if kind == "openai-compatible":
        return OpenAICompatibleJudge(
            model="llama-3.1-8b", api_key=SECRET, base_url=server.openai_url, retry=FAST
        )
    return AnthropicJudge(
        model="claude-haiku-4-5",
        api_key=SECRET,
        base_url=server.anthropic_url,
        retry=FAST,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_generation_returns_the_text_with_tokens_and_cost(kind, server):
    server.script(Success(text=f"  {REPLY}\n", input_tokens=50, output_tokens=12))
    generation = make_generator(kind, server).generate(REQUEST)
    assert generation.ok
    assert generation.text == REPLY
    assert (generation.provider, generation.input_tokens) == (kind, 50)
    assert generation.output_tokens == 12
    assert generation.truncated is False
    assert [a.outcome for a in generation.attempts] == ["ok"]
    sent = server.requests[0]
    assert server.request_count == 1
    assert sent.body["max_tokens"] == 600
    assert "temperature" not in sent.body  # the provider's default sampling
    if kind == "anthropic":
        assert sent.path == "/v1/messages"
        assert sent.body["system"] == REQUEST.system
        assert sent.body["messages"] == [{"role": "user", "content": REQUEST.user}]
        assert generation.cost_usd == pytest.approx((50 * 1.00 + 12 * 5.00) / 1e6)
    else:
        assert sent.path == "/v1/chat/completions"
        assert "logprobs" not in sent.body  # a judge asks for them; a writer does not
        assert sent.body["messages"] == [
            {"role": "system", "content": REQUEST.system},
            {"role": "user", "content": REQUEST.user},
        ]
        expected = 0.0 if kind == "openai-compatible" else (50 * 0.15 + 12 * 0.6) / 1e6
        assert generation.cost_usd == pytest.approx(expected)


@pytest.mark.parametrize("kind", KINDS)
def test_a_temperature_is_sent_when_asked_for(kind, server):
    request = GenerationRequest(system="s", user="u", temperature=0.7, max_tokens=50)
    make_generator(kind, server).generate(request)
    assert server.requests[0].body["temperature"] == 0.7
    assert server.requests[0].body["max_tokens"] == 50


@pytest.mark.parametrize("kind", KINDS)
def test_429_waits_at_least_retry_after_then_writes(kind, server):
    server.script(RateLimited(retry_after="1"), Success(text=REPLY))
    generation = make_generator(kind, server).generate(REQUEST)
    first, second = server.requests
    assert second.at - first.at >= 1.0
    assert generation.text == REPLY
    assert [a.outcome for a in generation.attempts] == ["rate_limited", "ok"]


@pytest.mark.parametrize("kind", KINDS)
def test_5xx_is_retried_then_writes(kind, server):
    server.script(ServerError(500), ServerError(503), Success(text=REPLY))
    generation = make_generator(kind, server).generate(REQUEST)
    assert generation.text == REPLY
    assert server.request_count == 3


@pytest.mark.parametrize("kind", KINDS)
def test_persistent_5xx_is_a_failure_without_text(kind, server):
    server.always(ServerError(502))
    generator = make_generator(kind, server)
    generator.retry = RetryPolicy(max_attempts=3, base_delay=0.01, request_timeout=1)
    generation = generator.generate(REQUEST)
    assert not generation.ok
    assert generation.text == ""
    assert generation.error_kind == "server_error"
    assert generation.error_message.startswith("gave up after 3 attempts")
    assert server.request_count == 3


@pytest.mark.parametrize("kind", KINDS)
def test_malformed_body_is_a_failure_after_one_retry(kind, server):
    server.always(Malformed())
    generation = make_generator(kind, server).generate(REQUEST)
    assert generation.error_kind == "malformed_body"
    assert server.request_count == 2


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_answer_is_not_a_response(kind, server):
    server.script(Success(text="   ", top=None))
    generation = make_generator(kind, server).generate(REQUEST)
    assert not generation.ok
    assert generation.error_kind == "unparseable"
    assert generation.input_tokens == 120  # the call was paid for; record it
    assert server.request_count == 1  # not retried: asking again costs again


@pytest.mark.parametrize("kind", KINDS)
def test_a_reply_cut_at_max_tokens_is_marked_truncated(kind, server):
    server.script(Success(text="Put the egg in", truncated=True))
    generation = make_generator(kind, server).generate(REQUEST)
    assert generation.ok
    assert generation.truncated is True


@pytest.mark.parametrize("kind", KINDS)
def test_the_key_never_appears_in_a_failed_generation(kind, server):
    server.script(Status(401, f"Incorrect API key provided: {SECRET}"))
    generator = make_generator(kind, server)
    generation = generator.generate(REQUEST)
    assert generation.error_kind == "auth"
    assert "[redacted]" in generation.error_message
    for text in (repr(generator), repr(generation), generation.error_message):
        assert SECRET not in text


def test_the_offline_baseline_cannot_write():
    with pytest.raises(JudgeConfigurationError, match="cannot write responses"):
        build_generator("offline")


def test_build_generator_reads_key_and_url_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.anthropic_url)
    generator = build_generator("anthropic", model="claude-sonnet-4-6", retry=FAST)
    started = time.monotonic()
    assert generator.generate(REQUEST).ok
    assert time.monotonic() - started < 2
    sent = server.requests[0].headers
    assert SECRET in sent.get("authorization", "") + sent.get("x-api-key", "")
    assert server.requests[0].body["model"] == "claude-sonnet-4-6"


def test_available_providers_follow_the_environment_at_call_time(monkeypatch):
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "OPENAI_BASE_URL",
        "WORKBENCH_JUDGE_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    assert available_providers() == {
        "offline": None,
        "openai": "set OPENAI_API_KEY",
        "anthropic": "set ANTHROPIC_API_KEY",
        "openai-compatible": "set OPENAI_BASE_URL to the server's URL",
    }
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("WORKBENCH_JUDGE_BASE_URL", "http://127.0.0.1:9/v1")
    now = available_providers()
    assert now["openai"] is None
    assert now["openai-compatible"] is None
    assert now["anthropic"] == "set ANTHROPIC_API_KEY"
    assert SECRET not in repr(now)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    assert all(reason is None for reason in available_providers().values())
