"""Invite-link guessing. Tokens carry 256 random bits, so a guess cannot succeed;
this keeps a guesser from costing a database lookup per try: a client that has
presented JOIN_FAILURES_PER_HOUR wrong tokens is refused every join for the rest of
the hour. A client is an IP address (see client_address for proxies). The counts
live in the cache (shared by all processes when CACHE_URL is
Redis, per process otherwise)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60 * 60


def client_address(*, remote_addr: str, forwarded_for: str) -> str:
    """The client's IP address. Behind TRUSTED_PROXY_HOPS reverse proxies that each
    append to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for), it is the entry
    the outermost proxy appended; entries further left are the client's own claims.
    Without the header (a direct connection, the tests) it is the peer's address."""
    hops: int = settings.WORKBENCH["TRUSTED_PROXY_HOPS"]
    entries = [e.strip() for e in forwarded_for.split(",") if e.strip()]
    if hops > 0 and len(entries) >= hops:
        return entries[-hops]
    return remote_addr


def _key(client: str) -> str:
    return f"wb:join-failures:{client}"


def invite_guesses_exhausted(*, client: str) -> bool:
    """Whether `client` (an IP address) has used up its wrong tries; a limit of 0
    turns the check off."""
    limit: int = settings.WORKBENCH["JOIN_FAILURES_PER_HOUR"]
    return limit > 0 and int(cache.get(_key(client), 0)) >= limit


def invite_guess_record(*, client: str) -> None:
    """Counts one wrong token; the window starts at the first one."""
    key = _key(client)
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS)
