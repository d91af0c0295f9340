"""Per-provider request budgets (``JUDGE_REQUESTS_PER_MINUTE``) shared by every
thread of every worker process.

A budget of N requests per minute is enforced as one request every 60/N seconds,
not as N requests at the start of each minute: providers enforce their per-minute
limits over shorter windows too (OpenAI documents that 60,000 per minute may be
enforced as 1,000 per second), so a burst under the minute's budget can still be
refused. With calls spaced 60/N apart, every window of one minute, wherever it
starts, holds at most N of them.

Each call reserves the provider's next free slot in one atomic step (the slot is
``max(now, next_free)`` and ``next_free`` moves one interval on), then sleeps until
its slot. A reservation is one round trip and no polling, and callers are served in
the order they asked. A caller that stops waiting (its run was cancelled) leaves
its slot unused: the budget is never exceeded, only under-used for a moment.

Where the slots are kept, in order of preference:

1. the default cache's Redis (``CACHE_URL=redis://…``): the store the deployment
   already designates for state shared by all its processes;
2. else the Celery broker's Redis (``CELERY_BROKER_URL=redis://…``): every worker
   that executes judge runs consumes from it, so it is shared by exactly the
   processes that need the budget;
3. else memory in this process (the embedded default: the filesystem broker, one
   worker). Several worker processes would then each have the whole budget.

The Redis reservation is a Lua script that reads the server's clock (``TIME``), so
machines whose clocks disagree still space their calls correctly. If Redis cannot
be reached the call falls back to this process's budget, with a warning, rather
than failing the run: the provider's own 429 and the adapter's retries cover the
moment two processes may together exceed the budget.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

import redis
from django.conf import settings

logger = logging.getLogger("workbench.judging.throttle")

KEY_PREFIX: Final = "workbench:judge-rpm:"
CHECK_EVERY_S: Final = 0.25  # how often a waiting caller asks whether to stop
_WARN_EVERY_S: Final = 60.0

# KEYS[1]: the provider's next free slot, in microseconds of the Redis clock.
# ARGV[1]: the interval between calls, in microseconds.
# Returns {slot, now} as strings: Lua numbers are doubles, exact for integers up to
# 2**53 (microseconds since 1970 are about 2**50), and '%.0f' prints them whole.
_RESERVE_LUA: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local free = slot + interval
redis.call('SET', KEYS[1], string.format('%.0f', free),
           'PX', string.format('%.0f', math.ceil((free - now) / 1000) + 1000))
return {string.format('%.0f', slot), string.format('%.0f', now)}
"""


class SlotStore(Protocol):
    def reserve(self, key: str, interval_s: float) -> tuple[float, float]:
        """Reserves the next slot of ``key``; returns (slot, now) in seconds of the
        store's clock: the caller may call in ``slot - now`` seconds."""
        ...


class LocalSlots:
    """Slots kept in this process's memory (``time.monotonic`` clock)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._free: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str, interval_s: float) -> tuple[float, float]:
        with self._lock:
            now = self._clock()
            slot = max(now, self._free.get(key, now))
            self._free[key] = slot + interval_s
            return slot, now


class RedisSlots:
    """Slots kept in Redis (the server's clock, in Unix seconds)."""

    def __init__(self, client: redis.Redis, fallback: SlotStore) -> None:
        self._client = client
        self._script = client.register_script(_RESERVE_LUA)
        self._fallback = fallback
        self._warned_at = float("-inf")

    def reserve(self, key: str, interval_s: float) -> tuple[float, float]:
        try:
            slot_us, now_us = self._script(
                keys=[key], args=[max(1, round(interval_s * 1_000_000))]
            )
        except redis.RedisError as err:
            if time.monotonic() - self._warned_at >= _WARN_EVERY_S:
                self._warned_at = time.monotonic()
                logger.warning(
                    "judge rate limit: Redis unavailable (%s); this process keeps "
                    "the budget on its own until it is back",
                    err,
                )
            return self._fallback.reserve(key, interval_s)
        return int(slot_us) / 1_000_000, int(now_us) / 1_000_000


@dataclass
class Throttle:
    """Spaces one provider's calls ``interval_s`` apart across every caller that
    shares ``store``."""

    provider: str
    interval_s: float
    store: SlotStore
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    key: str = field(default="")

    def __post_init__(self) -> None:
        self.key = self.key or f"{KEY_PREFIX}{self.provider}"

    def acquire(self, *, should_stop: Callable[[], bool] | None = None) -> float | None:
        """Waits for this call's slot. Returns the slot's time on the store's clock
        (Unix seconds for Redis), or None when ``should_stop`` said stop first; it
        is asked every ``CHECK_EVERY_S`` while waiting, and once after."""
        slot, now = self.store.reserve(self.key, self.interval_s)
        wait = slot - now
        if wait <= 0:
            return slot
        # Measured on the local clock from after the reply: a late reply only
        # makes the call later than its slot, never earlier.
        until = self.clock() + wait
        while (left := until - self.clock()) > 0:
            if should_stop is not None and should_stop():
                return None
            self.sleep(min(left, CHECK_EVERY_S))
        if should_stop is not None and should_stop():
            return None
        return slot


_stores: dict[str, SlotStore] = {}
_stores_lock = threading.Lock()
_local = LocalSlots()


def judge_requests_per_minute(*, provider: str) -> int:
    """The provider's budget from ``JUDGE_REQUESTS_PER_MINUTE`` (0: no limit)."""
    budget = getattr(settings, "JUDGE_REQUESTS_PER_MINUTE", {})
    if isinstance(budget, dict):
        return max(0, int(budget.get(provider, 0) or 0))
    return max(0, int(budget or 0))


def judge_throttle(*, provider: str) -> Throttle | None:
    """The provider's throttle, or None when it has no budget."""
    rpm = judge_requests_per_minute(provider=provider)
    if rpm == 0:
        return None
    return Throttle(provider=provider, interval_s=60.0 / rpm, store=_store())


def throttle_redis_url() -> str | None:
    """The Redis that holds the slots: the default cache's, else the broker's."""
    cache = settings.CACHES.get("default", {})
    if "redis" in str(cache.get("BACKEND", "")).lower():
        location = cache.get("LOCATION") or ""
        servers = location.split(",") if isinstance(location, str) else location
        # The first server is the one that takes writes (Django's RedisCache).
        if servers and _is_redis(servers[0]):
            return str(servers[0])
    broker = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    return broker if _is_redis(broker) else None


def _is_redis(url: object) -> bool:
    return isinstance(url, str) and url.startswith(("redis://", "rediss://", "unix://"))


def _store() -> SlotStore:
    url = throttle_redis_url()
    if url is None:
        return _local
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=2.0, socket_timeout=5.0
            )
            store = _stores[url] = RedisSlots(client, fallback=_local)
        return store


__all__ = [
    "LocalSlots",
    "RedisSlots",
    "SlotStore",
    "Throttle",
    "judge_requests_per_minute",
    "judge_throttle",
    "throttle_redis_url",
]


class WaitStoppedError(Exception):
    """Raised from ``retry_wait``'s wait: the run or generation is to stop."""


def retry_wait(
    throttle: Throttle | None,
    should_stop: Callable[[], bool],
    *,
    check_every: float,
) -> Callable[[float], None]:
    """An adapter's wait between attempts, for judge runs and generation alike:
    the backoff (or the provider's Retry-After, which may be a minute), then a
    slot of the provider's budget if it has one (a retry is a request the
    provider counts). The wait is cut into ``check_every`` slices and raises
    ``WaitStoppedError`` as soon as ``should_stop`` says so, leaving the answer
    undone (a resumed run asks again)."""

    def sleep(seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if should_stop():
                raise WaitStoppedError
            time.sleep(min(left, check_every))
        if throttle is not None and throttle.acquire(should_stop=should_stop) is None:
            raise WaitStoppedError

    return sleep
