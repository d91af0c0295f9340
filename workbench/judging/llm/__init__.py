"""The judge adapter: every provider the workbench can ask, behind one module.

Tests patch only this package (STYLE 4). Nothing here reads settings or the
environment at import time (STYLE 32); ``build_judge`` reads the environment when
called.

- ``OpenAIJudge``: OpenAI chat completions, P(A) from first-token log-probabilities.
- ``AnthropicJudge``: Anthropic messages (no log-probabilities).
- ``OpenAICompatibleJudge``: vLLM, Ollama, llama.cpp server via a base URL.
- ``SimilarityBaseline``: offline TF-IDF baseline, ``is_llm = False``.

``build_generator`` gives the same LLM providers as text writers (``generate``) for
generated comparison sets; ``available_providers`` says which providers this
process's environment can use, and why not the others.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
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
from workbench.judging.llm.generation import (
    Generation,
    GenerationRequest,
    TextGenerator,
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
# Providers that can write text (generation): every provider but the baseline.
LLM_PROVIDERS: Final = ("openai", "anthropic", "openai-compatible")
# Where an OpenAI-compatible server's URL may be, in order of preference.
# WORKBENCH_JUDGE_BASE_URL is what ``manage.py judge --base-url`` sets.
BASE_URL_ENV_NAMES: Final = ("OPENAI_BASE_URL", "WORKBENCH_JUDGE_BASE_URL")

__all__ = [
    "BASELINE_NAME",
    "BASE_URL_ENV_NAMES",
    "DEFAULT_MODELS",
    "LLM_PROVIDERS",
    "PRICES_PER_MILLION",
    "PROVIDERS",
    "AnthropicJudge",
    "Attempt",
    "CombinedVerdict",
    "ErrorKind",
    "Generation",
    "GenerationRequest",
    "Judge",
    "JudgeAnswer",
    "JudgeConfigurationError",
    "JudgeRequest",
    "OpenAICompatibleJudge",
    "OpenAIJudge",
    "RetryPolicy",
    "SimilarityBaseline",
    "TextGenerator",
    "available_providers",
    "base_url_env_name",
    "build_generator",
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


def build_generator(
    provider: str,
    *,
    model: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    rng: random.Random | None = None,
) -> TextGenerator:
    """A provider that writes text, configured like ``build_judge`` (keys and base
    URLs not passed come from the environment at call time). Raises
    ``JudgeConfigurationError`` for the offline baseline: it cannot write."""
    if provider == "offline":
        raise JudgeConfigurationError(
            "the offline baseline is not a language model and cannot write "
            "responses; choose openai, anthropic or openai-compatible"
        )
    judge = build_judge(
        provider,
        model=model,
        api_key=api_key,
        base_url=base_url,
        retry=retry,
        sleep=sleep,
        rng=rng,
    )
    if not isinstance(
        judge, TextGenerator
    ):  # pragma: no cover - every LLM judge writes
        raise JudgeConfigurationError(f"the {provider} provider cannot write text")
    return judge


def base_url_env_name(environ: Mapping[str, str] | None = None) -> str:
    """The first variable of ``BASE_URL_ENV_NAMES`` that is set, else ``""``."""
    env = os.environ if environ is None else environ
    return next((name for name in BASE_URL_ENV_NAMES if env.get(name)), "")


def available_providers(
    environ: Mapping[str, str] | None = None,
) -> dict[str, str | None]:
    """Provider -> None when this process can use it, else what to set.

    Read from the environment at call time, so setting a key switches a provider on
    without a restart. It says nothing about the key being valid, nor about the
    Celery worker's environment (the worker reads its own when a run starts).
    """
    env = os.environ if environ is None else environ
    return {
        "offline": None,
        "openai": None if env.get("OPENAI_API_KEY") else "set OPENAI_API_KEY",
        "anthropic": None if env.get("ANTHROPIC_API_KEY") else "set ANTHROPIC_API_KEY",
        "openai-compatible": None
        if base_url_env_name(env)
        else "set OPENAI_BASE_URL to the server's URL",
    }
