"""One thread for the numerical libraries during an analysis.

The analysis is made of many small numerical steps (a Gram matrix of at most a few
hundred columns, k-means over a few thousand points in the plane). Thread pools
cost more than they save there, and on a busy machine their spinning workers make
a step up to ten times slower (measured on the benchmark machine: scikit-learn's
k-means for 100 base clusters of vtaiwan took 9 ms on one thread and 150 ms on two
under load). One thread also keeps the floating-point reduction order, and so the
groups, independent of the number of cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]


@cache
def _controller() -> ThreadpoolController:
    """The BLAS and OpenMP pools loaded in this process, found once."""
    return ThreadpoolController()


@contextmanager
def single_threaded() -> Iterator[None]:
    """Limit BLAS and OpenMP to one thread inside the block."""
    with _controller().limit(limits=1):
        yield
