"""Run CPU-bound work in forked child processes.

``multiprocessing`` refuses to start children from a daemonic process, and a
Celery prefork worker's processes are daemonic; ``spawn`` would re-import
Django and WeasyPrint (seconds) in every child. A bare ``os.fork`` has neither
problem: the child starts with the parent's warm imports and caches, does its
share, writes the pickled result to a temporary file (a pipe would fill up and
block on a large result while the parent is busy with its own share) and leaves
with ``os._exit``, so it runs no ``atexit`` handler and never touches the
parent's database connection or broker sockets.

A parent killed outright (SIGKILL: the OOM killer, a lost worker) takes its
children with it: on Linux each child asks the kernel for SIGKILL when its
parent dies (``PR_SET_PDEATHSIG``), so no orphan lays out pages for a render
that is already lost. The result files are unlinked at once (the parent keeps
them open), so such a kill leaves no file behind either.

Forking a process that runs other threads can deadlock the child on a lock one
of those threads held at the fork, so :func:`can_fork` says no unless the
calling process has a single thread (web servers with threads render serially).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import IO, TypeVar

T = TypeVar("T")
R = TypeVar("R")

PR_SET_PDEATHSIG = 1  # linux/prctl.h


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
    parent = os.getpid()
    children: list[tuple[int, IO[bytes]]] = []
    with contextlib.ExitStack() as files:
        try:
            for item in items[1:]:
                # Already unlinked: parent and child share the open file.
                result = files.enter_context(
                    tempfile.TemporaryFile(prefix="workbench-fork-")
                )
                pid = os.fork()
                if pid == 0:  # pragma: no cover (runs in the child)
                    _child(function, item, result, parent)
                children.append((pid, result))
            first = function(items[0])
            return [first, *(_collect(pid, result) for pid, result in children)]
        finally:
            for pid, _result in children:
                _reap(pid)


def _die_with_parent(parent: int) -> None:  # pragma: no cover (runs in the child)
    """Has the kernel SIGKILL this process when its parent dies. (The signal
    follows the thread that forked; can_fork allows only a single-threaded
    parent, so that thread is the process.)"""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)


def _child(  # pragma: no cover
    function: Callable[[T], R], item: T, result: IO[bytes], parent: int
) -> None:
    code = 1
    try:
        _die_with_parent(parent)
        try:
            payload: tuple[bool, object] = (True, function(item))
        except BaseException:  # everything goes back to the parent
            payload = (False, traceback.format_exc())
        result.write(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        result.flush()
        code = 0
    finally:
        os._exit(code)


def _collect(pid: int, result: IO[bytes]) -> R:  # type: ignore[type-var]
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or os.fstat(result.fileno()).st_size == 0:
        raise ForkedChildError(
            f"forked child {pid} ended without a result (status {status})"
        )
    # The child wrote through the shared file offset: read from the start.
    result.seek(0)
    ok, value = pickle.load(result)  # noqa: S301 (written by our own child)
    if not ok:
        raise ForkedChildError(f"forked child failed:\n{value}")
    return value  # type: ignore[no-any-return]


def _reap(pid: int) -> None:
    """Wait for a child still running (the parent's own share failed): it
    must not outlive the call as a zombie."""
    with contextlib.suppress(ChildProcessError):  # already collected
        os.waitpid(pid, 0)
