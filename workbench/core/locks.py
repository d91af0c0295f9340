"""A PostgreSQL advisory lock for work that one process at a time may do.

Judge runs and response generation are claimed with it: the lock is held by the
database session, so it is released when the block ends or when the worker holding
it dies (its connection closes), and a killed worker never leaves work locked."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection


@contextlib.contextmanager
def advisory_lock(namespace: int, key: int) -> Iterator[bool]:
    """Tries the session-level lock (namespace, key) without waiting and yields
    whether this session holds it. Other databases have no such locks: always held
    (the embedded default runs one worker)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
        locked = bool(cursor.fetchone()[0])
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])
