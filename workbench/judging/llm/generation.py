"""Text generation through a provider: the value types and the protocol.

Generation writes candidate responses for a comparison set (one response written to
follow a principle, one written to ignore it). It uses the same providers, retry
policy, key scrubbing and token accounting as judging. There is no offline text
generator: the offline baseline judges by word overlap and cannot write, so
``build_generator("offline")`` is a configuration error rather than a fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from workbench.judging.llm.base import Attempt, ErrorKind

DEFAULT_MAX_TOKENS = 600


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """One completion: a system instruction and one user message, sent as is."""

    system: str
    user: str
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float | None = None  # None: the provider's default sampling


@dataclass(frozen=True, slots=True)
class Generation:
    """A provider's completion. ``text`` is empty when ``error_kind`` is set.

    ``truncated`` is True when the provider stopped at ``max_tokens``: the text is
    usable but cut off. ``cost_usd`` is an estimate (see ``pricing``) or None.
    """

    provider: str
    model: str
    text: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_s: float = 0.0
    cost_usd: float | None = None
    truncated: bool = False
    error_kind: ErrorKind | None = None
    error_message: str = ""
    attempts: tuple[Attempt, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error_kind is None


@runtime_checkable
class TextGenerator(Protocol):
    """Anything that completes a ``GenerationRequest`` (the LLM providers)."""

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> str: ...

    def generate(self, request: GenerationRequest) -> Generation: ...
