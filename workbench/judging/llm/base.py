"""Value types shared by every judge: the request, the answer, the attempt log, the
``Judge`` protocol, the both-orders combination and secret scrubbing."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, runtime_checkable
from urllib.parse import urlsplit

from workbench.judging.prompts import Choice

ErrorKind = Literal[
    "rate_limited",  # 429
    "server_error",  # 5xx
    "timeout",  # no response within the per-request timeout
    "connection",  # refused, reset, DNS
    "malformed_body",  # 2xx whose body is not the provider's JSON
    "unparseable",  # a well-formed body whose text names no allowed option
    "auth",  # 401 / 403
    "client_error",  # any other 4xx
    "deadline",  # gave up: the overall deadline passed or would pass while waiting
    "configuration",  # missing key or base URL
]

RETRYABLE_KINDS: frozenset[str] = frozenset(
    {"rate_limited", "server_error", "timeout", "connection"}
)


class JudgeConfigurationError(Exception):
    """A judge cannot be built: a missing key, base URL or unknown provider."""


@dataclass(frozen=True, slots=True)
class JudgeRequest:
    """One question to a judge, in the order shown (A first)."""

    principle: str | None  # None = the no-principle control (the judge's own taste)
    conversation: str
    response_a: str
    response_b: str
    allow_tie: bool = False

    def swapped(self) -> JudgeRequest:
        return replace(self, response_a=self.response_b, response_b=self.response_a)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One provider call inside a judgment; ``waited_s`` is the sleep that followed."""

    number: int
    outcome: Literal["ok"] | ErrorKind
    duration_s: float
    status: int | None = None
    retry_after_s: float | None = None
    waited_s: float = 0.0
    message: str = ""


@dataclass(frozen=True, slots=True)
class JudgeAnswer:
    """A judge's answer to one request, in the order shown.

    ``choice`` is None when no valid option came back (see ``error_kind``).
    ``prob_a`` is P(A) / (P(A) + P(B)) from first-token log-probabilities where the
    provider gives them, else None (take repeated samples instead).
    ``cost_usd`` is an estimate from a small price table (see ``pricing``), or None.
    """

    provider: str
    model: str
    is_llm: bool
    prompt_id: str
    choice: Choice | None
    prob_a: float | None = None
    letter_probs: Mapping[str, float] = field(default_factory=dict)
    raw_text: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_s: float = 0.0
    cost_usd: float | None = None
    error_kind: ErrorKind | None = None
    error_message: str = ""
    attempts: tuple[Attempt, ...] = ()

    @property
    def ok(self) -> bool:
        return self.choice is not None


@runtime_checkable
class Judge(Protocol):
    """Anything that answers a ``JudgeRequest``. ``is_llm`` is False for baselines."""

    @property
    def name(self) -> str: ...

    @property
    def is_llm(self) -> bool: ...

    @property
    def model(self) -> str: ...

    def fingerprint(self) -> Mapping[str, object]:
        """Everything about the judge that affects its answers (for cache keys)."""
        ...

    def judge(self, request: JudgeRequest) -> JudgeAnswer: ...


def request_cache_key(judge: Judge, request: JudgeRequest, *, sample: int = 0) -> str:
    """A hash of everything that affects one verdict (texts in the order shown, the
    principle, the prompt version, the model and its settings, the sample number)."""
    payload = {
        "judge": dict(judge.fingerprint()),
        "principle": request.principle,
        "conversation": request.conversation,
        "response_a": request.response_a,
        "response_b": request.response_b,
        "allow_tie": request.allow_tie,
        "sample": sample,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


# --- both orders ---------------------------------------------------------------------

_FLIP: dict[Choice, Choice] = {"a": "b", "b": "a", "tie": "tie", "na": "na"}


@dataclass(frozen=True, slots=True)
class CombinedVerdict:
    """The verdict over both orders, in the original labelling (A = ``response_a``).

    ``choice`` counts only if both orders agree; a split becomes ``"tie"``. If either
    order has no valid answer, ``choice`` is None. ``prob_a`` averages the orders
    (the swapped order's probability flipped), or None if either order has none.
    """

    choice: Choice | None
    prob_a: float | None
    order_consistent: bool | None
    first_shown_picks: int  # how many of the two orders picked the response shown first


def judge_both_orders(
    judge: Judge, request: JudgeRequest
) -> tuple[JudgeAnswer, JudgeAnswer, CombinedVerdict]:
    """Ask in the given order and swapped; ``answer_ba`` stays in its shown order."""
    answer_ab = judge.judge(request)
    answer_ba = judge.judge(request.swapped())
    return answer_ab, answer_ba, combine_orders(answer_ab, answer_ba)


def combine_orders(answer_ab: JudgeAnswer, answer_ba: JudgeAnswer) -> CombinedVerdict:
    first = sum(1 for a in (answer_ab, answer_ba) if a.choice == "a")
    if answer_ab.choice is None or answer_ba.choice is None:
        return CombinedVerdict(None, None, None, first)
    ba = _FLIP[answer_ba.choice]
    consistent = answer_ab.choice == ba
    choice: Choice = answer_ab.choice if consistent else "tie"
    prob: float | None = None
    if answer_ab.prob_a is not None and answer_ba.prob_a is not None:
        prob = (answer_ab.prob_a + (1.0 - answer_ba.prob_a)) / 2.0
    return CombinedVerdict(choice, prob, consistent, first)


# --- secrets -------------------------------------------------------------------------

_KEY_PATTERN = re.compile(r"\b(sk-[A-Za-z0-9_\-]{6,}|Bearer\s+\S+)")


def scrub(
    text: str, secrets: Iterable[str | None] = (), *, patterns: bool = True
) -> str:
    """Remove API keys from text meant for logs, errors or storage: the given
    secrets, and with ``patterns`` anything shaped like a key (``sk-…``,
    ``Bearer …``). Text a model wrote for people (a generated response) is
    scrubbed with ``patterns=False``: it may rightly speak of bearer tokens."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _KEY_PATTERN.sub("[redacted]", text) if patterns else text


def safe_url(url: str | None) -> str | None:
    """A base URL without user info, query or fragment (they can carry credentials)."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"
