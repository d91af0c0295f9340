"""fork_map: work in forked children, results and failures back in order."""

from __future__ import annotations

import functools
import os
import signal
import sys
import tempfile
import threading
import time

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


def _report_pid_and_wait(path: str, n: int) -> int:
    if n:
        with open(path, "w") as out:
            out.write(str(os.getpid()))
    time.sleep(30)
    return n


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG")
def test_children_die_with_a_parent_killed_outright(tmp_path):
    """A worker SIGKILLed mid-render (the OOM killer) leaves no child laying out
    pages nobody will read, and no result file."""
    monkey_tmp = tmp_path / "tmp"
    monkey_tmp.mkdir()
    report = tmp_path / "child.pid"
    parent = os.fork()
    if parent == 0:  # pragma: no cover (the parent that will be killed)
        try:
            tempfile.tempdir = str(monkey_tmp)
            fork_map(functools.partial(_report_pid_and_wait, str(report)), [0, 1])
        finally:
            os._exit(0)
    deadline = time.monotonic() + 10
    while not report.exists() or not report.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    child = int(report.read_text())
    assert _running(child)
    os.kill(parent, signal.SIGKILL)
    os.waitpid(parent, 0)
    deadline = time.monotonic() + 2
    while _running(child):
        assert time.monotonic() < deadline, "the child outlived its parent"
        time.sleep(0.02)
    assert list(monkey_tmp.iterdir()) == []
