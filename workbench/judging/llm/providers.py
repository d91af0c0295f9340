"""LLM judges: OpenAI, Anthropic and any OpenAI-compatible server (vLLM, Ollama,
llama.cpp). The SDKs' own retries are off (``max_retries=0``); ``retry.py`` retries.
Each provider also writes text (``generate``) for generated comparison sets, through
the same client, retry policy, scrubbing and token accounting.

Keys come from explicit arguments or the environment (``OPENAI_API_KEY``,
``ANTHROPIC_API_KEY``; base URLs from ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL``),
read when a judge is built, never at import time. Keys never appear in ``repr``,
logs or error messages: every message passes through ``scrub``.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from workbench.judging.llm.base import (
    ErrorKind,
    JudgeAnswer,
    JudgeConfigurationError,
    JudgeRequest,
    safe_url,
    scrub,
)
from workbench.judging.llm.generation import Generation, GenerationRequest
from workbench.judging.llm.pricing import estimate_cost
from workbench.judging.llm.retry import (
    ProviderCallError,
    RetryPolicy,
    call_with_retries,
    parse_retry_after,
)
from workbench.judging.prompts import (
    RenderedPrompt,
    letter_of_token,
    parse_choice,
    render_prompt,
)

DEFAULT_MODELS: Final[dict[str, str]] = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
}
TOP_LOGPROBS: Final = 5


@dataclass(frozen=True, slots=True)
class _Reply:
    text: str
    letter_probs: Mapping[str, float]
    input_tokens: int | None
    output_tokens: int | None
    truncated: bool = False


class _Secret:
    """Holds a key; its repr and str never show it."""

    __slots__ = ("value",)

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__


def _status_kind(status: int) -> ErrorKind:
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    if status in {401, 403}:
        return "auth"
    return "client_error"


class _ProviderJudge:
    """Shared judge loop: render, call with retries, parse, cost."""

    provider: str = ""
    is_llm: bool = True

    def __init__(
        self,
        *,
        model: str,
        secret: str | None,
        base_url: str | None,
        temperature: float | None,
        max_tokens: int,
        retry: RetryPolicy | None,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        rng: random.Random | None,
    ) -> None:
        self._model = model
        self._secret = _Secret(secret)
        self._base_url = base_url
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng

    @property
    def name(self) -> str:
        return self.provider

    @property
    def model(self) -> str:
        return self._model

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} provider={self.provider!r} model={self._model!r} "
            f"base_url={safe_url(self._base_url)!r}>"
        )

    __str__ = __repr__

    def fingerprint(self) -> Mapping[str, object]:
        return {
            "provider": self.provider,
            "model": self._model,
            "base_url": safe_url(self._base_url),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "prompt_id": render_prompt(
                principle="", conversation="", response_a="", response_b=""
            ).prompt_id,
        }

    def _scrub(self, text: str, *, patterns: bool = True) -> str:
        return scrub(text, [self._secret.value], patterns=patterns)

    def _call(self, rendered: RenderedPrompt, timeout: float) -> _Reply:
        raise NotImplementedError

    def judge(self, request: JudgeRequest) -> JudgeAnswer:
        rendered = render_prompt(
            principle=request.principle,
            conversation=request.conversation,
            response_a=request.response_a,
            response_b=request.response_b,
            allow_tie=request.allow_tie,
        )
        outcome = call_with_retries(
            lambda timeout: self._call(rendered, timeout),
            policy=self.retry,
            label=f"judge {self.provider}:{self._model}",
            sleep=self._sleep,
            clock=self._clock,
            rng=self._rng,
        )
        common: dict[str, Any] = {
            "provider": self.provider,
            "model": self._model,
            "is_llm": True,
            "prompt_id": rendered.prompt_id,
            "latency_s": outcome.elapsed_s,
            "attempts": tuple(outcome.attempts),
        }
        reply = outcome.value
        if reply is None:
            return JudgeAnswer(
                choice=None,
                error_kind=outcome.error_kind,
                error_message=self._scrub(outcome.error_message),
                **common,
            )
        choice = parse_choice(reply.text, rendered.allowed_letters)
        p_a, p_b = reply.letter_probs.get("A", 0.0), reply.letter_probs.get("B", 0.0)
        return JudgeAnswer(
            choice=choice,
            prob_a=p_a / (p_a + p_b) if p_a + p_b > 0 else None,
            letter_probs=dict(reply.letter_probs),
            # Stored and shown: a provider (or a proxy) that echoes the key it was
            # sent must not put it in the database.
            raw_text=self._scrub(reply.text),
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            cost_usd=estimate_cost(
                self.provider, self._model, reply.input_tokens, reply.output_tokens
            ),
            error_kind=None if choice is not None else "unparseable",
            error_message=""
            if choice is not None
            else f"no allowed option {rendered.allowed_letters} in the answer",
            **common,
        )

    def _complete(self, request: GenerationRequest, timeout: float) -> _Reply:
        raise NotImplementedError

    def generate(self, request: GenerationRequest) -> Generation:
        """Writes a completion of ``request`` (retried like a judgment). An empty
        completion is an error (``unparseable``): there is nothing to store."""
        outcome = call_with_retries(
            lambda timeout: self._complete(request, timeout),
            policy=self.retry,
            label=f"generate {self.provider}:{self._model}",
            sleep=self._sleep,
            clock=self._clock,
            rng=self._rng,
        )
        common: dict[str, Any] = {
            "provider": self.provider,
            "model": self._model,
            "latency_s": outcome.elapsed_s,
            "attempts": tuple(outcome.attempts),
        }
        reply = outcome.value
        if reply is None:
            return Generation(
                error_kind=outcome.error_kind,
                error_message=self._scrub(outcome.error_message),
                **common,
            )
        # Only the key itself is removed: the text is a response people will read.
        text = self._scrub(reply.text, patterns=False).strip()
        return Generation(
            text=text,
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            cost_usd=estimate_cost(
                self.provider, self._model, reply.input_tokens, reply.output_tokens
            ),
            truncated=reply.truncated,
            error_kind=None if text else "unparseable",
            error_message="" if text else "the model returned no text",
            **common,
        )

    def _classify(self, err: Exception, sdk: Any) -> ProviderCallError:
        """Map an SDK exception (openai or anthropic, same shapes) to a failure kind."""
        message = self._scrub(str(err))
        if isinstance(err, sdk.APITimeoutError):
            return ProviderCallError("timeout", message)
        if isinstance(err, sdk.APIConnectionError):
            return ProviderCallError("connection", message)
        if isinstance(err, sdk.APIStatusError):
            status = int(err.status_code)
            retry_after = parse_retry_after(err.response.headers.get("retry-after"))
            return ProviderCallError(
                _status_kind(status), message, status=status, retry_after=retry_after
            )
        return ProviderCallError("client_error", message)


def _load_json(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError as err:
        raise ProviderCallError(
            "malformed_body", f"response body is not JSON ({len(text)} characters)"
        ) from err
    if not isinstance(body, dict):
        raise ProviderCallError("malformed_body", "response body is not a JSON object")
    return body


class OpenAIJudge(_ProviderJudge):
    """OpenAI chat completions; P(A) from the first token's top log-probabilities."""

    provider = "openai"

    def __init__(
        self,
        *,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        temperature: float = 0.0,
        max_tokens: int = 1,
        logprobs: bool = True,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        secret = api_key or os.environ.get("OPENAI_API_KEY")
        key = secret or self._default_key()
        if not key:
            raise JudgeConfigurationError(
                "OPENAI_API_KEY is not set; set it or pass api_key"
            )
        url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self._check_base_url(url)
        super().__init__(
            model=model or self._default_model(),
            secret=secret,  # a placeholder for keyless servers is no secret
            base_url=url,
            temperature=temperature,
            max_tokens=max_tokens,
            retry=retry,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )
        self.logprobs = logprobs
        import openai  # noqa: PLC0415 - the SDK takes seconds to import; only a real judge needs it

        self._client = openai.OpenAI(
            api_key=key,
            base_url=url,
            max_retries=0,
            timeout=self.retry.request_timeout,
        )

    def _default_key(self) -> str | None:
        return None

    def _default_model(self) -> str:
        return DEFAULT_MODELS["openai"]

    def _check_base_url(self, url: str | None) -> None:
        del url

    def fingerprint(self) -> Mapping[str, object]:
        return {**super().fingerprint(), "logprobs": self.logprobs}

    def _call(self, rendered: RenderedPrompt, timeout: float) -> _Reply:
        extra: dict[str, Any] = {}
        if self.logprobs:
            extra = {"logprobs": True, "top_logprobs": TOP_LOGPROBS}
        return self._chat(
            system=rendered.system,
            user=rendered.user,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            timeout=timeout,
            extra=extra,
        )

    def _complete(self, request: GenerationRequest, timeout: float) -> _Reply:
        return self._chat(
            system=request.system,
            user=request.user,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            timeout=timeout,
            extra={},
        )

    def _chat(
        self,
        *,
        system: str,
        user: str,
        temperature: float | None,
        max_tokens: int,
        timeout: float,
        extra: dict[str, Any],
    ) -> _Reply:
        import openai  # noqa: PLC0415 - loaded by __init__ already

        if temperature is not None:
            extra = {**extra, "temperature": temperature}
        try:
            raw = self._client.chat.completions.with_raw_response.create(
                model=self._model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                max_tokens=max_tokens,
                timeout=timeout,
                **extra,
            )
            text = raw.text
        except openai.OpenAIError as err:
            raise self._classify(err, openai) from None
        body = _load_json(text)
        try:
            choice = body["choices"][0]
            content = choice["message"]["content"] or ""
            usage = body.get("usage") or {}
            probs = _openai_letter_probs(choice.get("logprobs"))
        except (KeyError, IndexError, TypeError, AttributeError) as err:
            raise ProviderCallError(
                "malformed_body", f"unexpected response shape: {type(err).__name__}"
            ) from None
        return _Reply(
            text=str(content),
            letter_probs=probs,
            input_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"),
            truncated=choice.get("finish_reason") == "length",
        )


def _openai_letter_probs(logprobs: Any) -> dict[str, float]:
    """Probabilities of the answer letters among the first token's top log-probs."""
    if not logprobs or not logprobs.get("content"):
        return {}
    first = logprobs["content"][0]
    probs: dict[str, float] = {}
    for entry in first.get("top_logprobs") or [first]:
        letter = letter_of_token(str(entry["token"]))
        if letter is not None:
            probs[letter] = probs.get(letter, 0.0) + math.exp(float(entry["logprob"]))
    return probs


class OpenAICompatibleJudge(OpenAIJudge):
    """Any server speaking OpenAI chat completions (vLLM, Ollama, llama.cpp server).

    The base URL is required (argument or ``OPENAI_BASE_URL``) and so is the model;
    the key is optional (many local servers take none). Set ``logprobs=False`` for
    servers that do not return log-probabilities.
    """

    provider = "openai-compatible"

    def _default_key(self) -> str | None:
        return "not-needed"

    def _default_model(self) -> str:
        raise JudgeConfigurationError("the openai-compatible provider needs a model")

    def _check_base_url(self, url: str | None) -> None:
        if not url:
            raise JudgeConfigurationError(
                "the openai-compatible provider needs a base URL "
                "(OPENAI_BASE_URL or base_url)"
            )


class AnthropicJudge(_ProviderJudge):
    """Anthropic messages. No log-probabilities: ``prob_a`` is None; take repeated
    samples for a probability. ``temperature=None`` (the default) leaves the model's
    default sampling; a number is sent in the request body."""

    provider = "anthropic"

    def __init__(
        self,
        *,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        temperature: float | None = None,
        max_tokens: int = 1,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise JudgeConfigurationError(
                "ANTHROPIC_API_KEY is not set; set it or pass api_key"
            )
        url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        super().__init__(
            model=model or DEFAULT_MODELS["anthropic"],
            secret=key,
            base_url=url,
            temperature=temperature,
            max_tokens=max_tokens,
            retry=retry,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )
        import anthropic  # noqa: PLC0415 - the SDK takes seconds to import; only a real judge needs it

        self._client = anthropic.Anthropic(
            api_key=key,
            base_url=url,
            max_retries=0,
            timeout=self.retry.request_timeout,
        )

    def _call(self, rendered: RenderedPrompt, timeout: float) -> _Reply:
        return self._messages(
            system=rendered.system,
            user=rendered.user,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            timeout=timeout,
        )

    def _complete(self, request: GenerationRequest, timeout: float) -> _Reply:
        return self._messages(
            system=request.system,
            user=request.user,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            timeout=timeout,
        )

    def _messages(
        self,
        *,
        system: str,
        user: str,
        temperature: float | None,
        max_tokens: int,
        timeout: float,
    ) -> _Reply:
        import anthropic  # noqa: PLC0415 - loaded by __init__ already

        # SDK 2.x has no typed temperature argument; send it only when asked for.
        extra: dict[str, Any] = {}
        if temperature is not None:
            extra["extra_body"] = {"temperature": temperature}
        try:
            raw = self._client.messages.with_raw_response.create(
                model=self._model,
                max_tokens=max_tokens,
                system=system,
                messages=[{"role": "user", "content": user}],
                timeout=timeout,
                **extra,
            )
            text = raw.text()
        except anthropic.AnthropicError as err:
            raise self._classify(err, anthropic) from None
        body = _load_json(text)
        try:
            parts = [
                str(block["text"])
                for block in body["content"]
                if block.get("type") == "text"
            ]
            usage = body.get("usage") or {}
        except (KeyError, TypeError, AttributeError) as err:
            raise ProviderCallError(
                "malformed_body", f"unexpected response shape: {type(err).__name__}"
            ) from None
        return _Reply(
            text="".join(parts),
            letter_probs={},
            input_tokens=usage.get("input_tokens"),
            output_tokens=usage.get("output_tokens"),
            truncated=body.get("stop_reason") == "max_tokens",
        )
