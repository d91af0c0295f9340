"""Retries for provider calls: bounded attempts, exponential backoff with jitter,
Retry-After honoured, and a hard deadline over the whole judgment."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from workbench.judging.llm.base import RETRYABLE_KINDS, Attempt, ErrorKind

logger = logging.getLogger("workbench.judging.llm")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. Delays are seconds.

    Attempt n waits ``min(max_delay, base_delay * 2**(n-1))`` scaled by a random factor
    in [0.5, 1] (jitter), or the server's Retry-After if that is longer. A wait that
    would cross ``deadline`` (measured from the first attempt) is not taken: the
    judgment ends with error kind ``"deadline"``. Each request's own timeout is capped
    by the time left before the deadline.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    request_timeout: float = 30.0
    deadline: float = 120.0
    malformed_retries: int = 1  # extra attempts after a body that is not valid JSON

    def backoff(self, attempt: int, rng: random.Random) -> float:
        raw = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return raw * (0.5 + rng.random() / 2)


class ProviderCallError(Exception):
    """A classified failure of one provider call (message already scrubbed)."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass(slots=True)
class RetryOutcome(Generic[T]):
    value: T | None
    attempts: list[Attempt] = field(default_factory=list)
    error_kind: ErrorKind | None = None
    error_message: str = ""
    elapsed_s: float = 0.0


def call_with_retries(
    call: Callable[[float], T],
    *,
    policy: RetryPolicy,
    label: str,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> RetryOutcome[T]:
    """Run ``call(timeout)`` until it returns, a failure is final, attempts run out or
    the deadline would pass. Every failed attempt is logged in the outcome."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not security
    start = clock()
    outcome: RetryOutcome[T] = RetryOutcome(value=None)
    malformed_seen = 0
    for number in range(1, policy.max_attempts + 1):
        remaining = policy.deadline - (clock() - start)
        if remaining <= 0:
            return _give_up_deadline(outcome, policy, start, clock)
        began = clock()
        try:
            outcome.value = call(min(policy.request_timeout, remaining))
        except ProviderCallError as err:
            duration = clock() - began
            retryable = err.kind in RETRYABLE_KINDS or (
                err.kind == "malformed_body"
                and malformed_seen < policy.malformed_retries
            )
            if err.kind == "malformed_body":
                malformed_seen += 1
            wait = 0.0
            if retryable and number < policy.max_attempts:
                wait = policy.backoff(number, rng)
                if err.retry_after is not None:
                    wait = max(wait, err.retry_after)
            attempt = Attempt(
                number=number,
                outcome=err.kind,
                duration_s=duration,
                status=err.status,
                retry_after_s=err.retry_after,
                waited_s=wait,
                message=err.message,
            )
            outcome.attempts.append(attempt)
            outcome.error_kind = err.kind
            outcome.error_message = err.message
            if not retryable or number == policy.max_attempts:
                if retryable:
                    outcome.error_message = (
                        f"gave up after {number} attempts; last: {err.kind}: "
                        f"{err.message}"
                    )
                outcome.elapsed_s = clock() - start
                return outcome
            if clock() - start + wait >= policy.deadline:
                outcome.attempts[-1] = _with_wait(attempt, 0.0)
                return _give_up_deadline(outcome, policy, start, clock)
            logger.info(
                "%s: attempt %d failed (%s); retrying in %.2f s",
                label,
                number,
                err.kind,
                wait,
            )
            sleep(wait)
            continue
        outcome.attempts.append(
            Attempt(number=number, outcome="ok", duration_s=clock() - began)
        )
        outcome.error_kind = None
        outcome.error_message = ""
        outcome.elapsed_s = clock() - start
        return outcome
    outcome.elapsed_s = clock() - start  # pragma: no cover - loop always returns
    return outcome


def _with_wait(attempt: Attempt, wait: float) -> Attempt:
    return Attempt(
        number=attempt.number,
        outcome=attempt.outcome,
        duration_s=attempt.duration_s,
        status=attempt.status,
        retry_after_s=attempt.retry_after_s,
        waited_s=wait,
        message=attempt.message,
    )


def _give_up_deadline(
    outcome: RetryOutcome[T],
    policy: RetryPolicy,
    start: float,
    clock: Callable[[], float],
) -> RetryOutcome[T]:
    last = outcome.attempts[-1].outcome if outcome.attempts else "none"
    outcome.value = None
    outcome.error_kind = "deadline"
    outcome.error_message = (
        f"no answer within the {policy.deadline:g} s deadline after "
        f"{len(outcome.attempts)} attempts; last failure: {last}"
    )
    outcome.elapsed_s = clock() - start
    return outcome
