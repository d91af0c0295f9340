"""Working through a list of units, in this thread or a few threads, until done
or told to stop. Judge runs and response generation both spend their time waiting
on a provider, so threads overlap those waits; each thread closes its own database
connections when it ends."""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

from django.db import connections

Unit = TypeVar("Unit")

PROGRESS_POLL_S = 0.5


def work_through(
    units: Sequence[Unit],
    handle: Callable[[Unit], None],
    *,
    workers: int,
    should_stop: Callable[[], bool],
    progress: Callable[[], None] | None = None,
    thread_name: str = "work",
) -> None:
    """Calls ``handle`` on each unit until all are done or ``should_stop()``.

    With one worker it runs in the calling thread and reports ``progress`` after
    each unit; with more, ``workers`` threads take units from a shared queue and
    ``progress`` is reported from the calling thread every half second. A worker's
    exception is raised here once every thread has ended."""
    if workers <= 1:
        for unit in units:
            if should_stop():
                break
            handle(unit)
            if progress is not None:
                progress()
        return
    todo: queue.SimpleQueue[Unit] = queue.SimpleQueue()
    for unit in units:
        todo.put(unit)

    def work() -> None:
        try:
            while not should_stop():
                try:
                    unit = todo.get_nowait()
                except queue.Empty:
                    return
                handle(unit)
        finally:
            connections.close_all()  # this thread's connections only

    with ThreadPoolExecutor(
        max_workers=workers, thread_name_prefix=thread_name
    ) as pool:
        futures = [pool.submit(work) for _ in range(min(workers, len(units)))]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=PROGRESS_POLL_S)
            if progress is not None:
                progress()
        for future in futures:
            future.result()  # re-raise a worker's exception
