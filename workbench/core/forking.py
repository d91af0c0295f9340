"""Run CPU-bound work in forked child processes.

``multiprocessing`` refuses to start children from a daemonic process, and a
Celery prefork worker's processes are daemonic; ``spawn`` would re-import
Django and WeasyPrint (seconds) in every child. A bare ``os.fork`` has neither
problem: the child starts with the parent's warm imports and caches, does its
share, writes the pickled result to a temporary file (a pipe would fill up and
block on a large result while the parent is busy with its own share) and leaves
with ``os._exit``, so it runs no ``atexit`` handler and never touches the
parent's database connection or broker sockets.

Forking a process that runs other threads can deadlock the child on a lock one
of those threads held at the fork, so :func:`can_fork` says no unless the
calling process has a single thread (web servers with threads render serially).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class ForkedChildError(RuntimeError):
    """A forked child failed; the message carries its traceback."""


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def fork_map(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[function(item) for item in items]``, the first item in this process
    and each other one in a forked child, all at once; results in order.

    A child's exception is raised here as :class:`ForkedChildError` with the
    child's traceback; a child that dies without a result (killed, out of
    memory) raises too. Results must pickle."""
    if not items:
        return []
    children: list[tuple[int, str]] = []
    try:
        for item in items[1:]:
            fd, path = tempfile.mkstemp(prefix="workbench-fork-", suffix=".pickle")
            os.close(fd)
            pid = os.fork()
            if pid == 0:  # pragma: no cover (runs in the child; coverage can't see it)
                _child(function, item, path)
            children.append((pid, path))
        first = function(items[0])
        return [first, *(_collect(pid, path) for pid, path in children)]
    finally:
        for pid, path in children:
            _reap(pid)
            if os.path.exists(path):
                os.unlink(path)


def _child(function: Callable[[T], R], item: T, path: str) -> None:  # pragma: no cover
    code = 1
    try:
        try:
            payload: tuple[bool, object] = (True, function(item))
        except BaseException:  # everything goes back to the parent
            payload = (False, traceback.format_exc())
        with open(path, "wb") as out:
            pickle.dump(payload, out, protocol=pickle.HIGHEST_PROTOCOL)
        code = 0
    finally:
        os._exit(code)


def _collect(pid: int, path: str) -> R:  # type: ignore[type-var]
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or os.path.getsize(path) == 0:
        raise ForkedChildError(
            f"forked child {pid} ended without a result (status {status})"
        )
    with open(path, "rb") as result:
        ok, value = pickle.load(result)  # noqa: S301 (written by our own child)
    if not ok:
        raise ForkedChildError(f"forked child failed:\n{value}")
    return value  # type: ignore[no-any-return]


def _reap(pid: int) -> None:
    """Wait for a child still running (the parent's own share failed): it
    must not outlive the call as a zombie."""
    with contextlib.suppress(ChildProcessError):  # already collected
        os.waitpid(pid, 0)
