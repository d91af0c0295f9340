"""The judge adapter: every provider the workbench can ask, behind one module.

Tests patch only this package (STYLE 4). Nothing here reads settings or the
environment at import time (STYLE 32); ``build_judge`` reads the environment when
called.

- ``OpenAIJudge``: OpenAI chat completions, P(A) from first-token log-probabilities.
- ``AnthropicJudge``: Anthropic messages (no log-probabilities).
- ``OpenAICompatibleJudge``: vLLM, Ollama, llama.cpp server via a base URL.
- ``SimilarityBaseline``: offline TF-IDF baseline, ``is_llm = False``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final

from workbench.judging.llm.base import (
    Attempt,
    CombinedVerdict,
    ErrorKind,
    Judge,
    JudgeAnswer,
    JudgeConfigurationError,
    JudgeRequest,
    combine_orders,
    judge_both_orders,
    request_cache_key,
    scrub,
)
from workbench.judging.llm.offline import BASELINE_NAME, SimilarityBaseline
from workbench.judging.llm.pricing import PRICES_PER_MILLION, estimate_cost
from workbench.judging.llm.providers import (
    DEFAULT_MODELS,
    AnthropicJudge,
    OpenAICompatibleJudge,
    OpenAIJudge,
)
from workbench.judging.llm.retry import RetryPolicy

PROVIDERS: Final = ("openai", "anthropic", "openai-compatible", "offline")

__all__ = [
    "BASELINE_NAME",
    "DEFAULT_MODELS",
    "PRICES_PER_MILLION",
    "PROVIDERS",
    "AnthropicJudge",
    "Attempt",
    "CombinedVerdict",
    "ErrorKind",
    "Judge",
    "JudgeAnswer",
    "JudgeConfigurationError",
    "JudgeRequest",
    "OpenAICompatibleJudge",
    "OpenAIJudge",
    "RetryPolicy",
    "SimilarityBaseline",
    "build_judge",
    "combine_orders",
    "estimate_cost",
    "judge_both_orders",
    "request_cache_key",
    "scrub",
]


def build_judge(
    provider: str,
    *,
    model: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    temperature: float | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    rng: random.Random | None = None,
) -> Judge:
    """The judge for ``manage.py judge --provider NAME [--model M]``.

    ``temperature=None`` means 0 for OpenAI-style providers and the model default
    for Anthropic. Keys and base URLs not passed come from the environment at call time.
    Raises ``JudgeConfigurationError`` for an unknown provider or a missing key.
    """
    if provider == "offline":
        return SimilarityBaseline()
    kwargs: dict[str, object] = {}
    if sleep is not None:
        kwargs["sleep"] = sleep
    if provider in {"openai", "openai-compatible"}:
        cls = OpenAIJudge if provider == "openai" else OpenAICompatibleJudge
        return cls(
            model=model,
            api_key=api_key,
            base_url=base_url,
            temperature=0.0 if temperature is None else temperature,
            retry=retry,
            rng=rng,
            **kwargs,  # type: ignore[arg-type]
        )
    if provider == "anthropic":
        return AnthropicJudge(
            model=model,
            api_key=api_key,
            base_url=base_url,
            temperature=temperature,
            retry=retry,
            rng=rng,
            **kwargs,  # type: ignore[arg-type]
        )
    raise JudgeConfigurationError(
        f"unknown judge provider {provider!r}; choose one of {', '.join(PROVIDERS)}"
    )
