"""fork_map: work in forked children, results and failures back in order."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from workbench.core.forking import ForkedChildError, can_fork, fork_map

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _pid_and_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


def test_each_item_after_the_first_runs_in_its_own_child_results_in_order():
    results = fork_map(_pid_and_square, [1, 2, 3, 4])
    assert [square for _, square in results] == [1, 4, 9, 16]
    pids = [pid for pid, _ in results]
    assert pids[0] == os.getpid()
    assert len(set(pids)) == 4


def test_a_large_result_comes_back_whole():
    # More than a pipe holds (64 KiB): results travel through files.
    results = fork_map(lambda n: b"x" * n, [1, 5_000_000])
    assert [len(r) for r in results] == [1, 5_000_000]


def _fail_in_child(n: int) -> int:
    if n == 2:
        raise ValueError("bad item 2")
    return n


def test_a_childs_exception_is_raised_here_with_its_traceback():
    with pytest.raises(ForkedChildError, match="bad item 2") as error:
        fork_map(_fail_in_child, [1, 2])
    assert "ValueError" in str(error.value)


def _killed(n: int) -> int:
    if n:
        os.kill(os.getpid(), signal.SIGKILL)
    return n


def test_a_child_that_dies_without_a_result_is_an_error_not_a_hang():
    with pytest.raises(ForkedChildError, match="without a result"):
        fork_map(_killed, [0, 1])


def test_no_temporary_files_are_left(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    fork_map(_pid_and_square, [1, 2, 3])
    with pytest.raises(ForkedChildError):
        fork_map(_fail_in_child, [1, 2])
    assert list(tmp_path.iterdir()) == []


def test_a_process_with_other_threads_does_not_fork():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_fork()
    finally:
        stop.set()
        thread.join()
