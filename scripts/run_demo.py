"""The last step of `make demo`: the web server and a Celery worker, stopped together.

Runs `manage.py runserver 127.0.0.1:$PORT` (PORT defaults to 8000) and
`celery -A workbench worker` on the embedded defaults (SQLite, a broker in files under
var/), prints where to go and how to log in, and on Ctrl-C or SIGTERM stops both.
Each child runs in its own process group, so stopping it also stops anything it
started (the worker's pool process), and nothing is left holding the port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 15.0


class _StopRequestedError(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _StopRequestedError


def _prepare() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    import django
    from django.conf import settings

    django.setup()
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    # The filesystem broker needs its folders before the worker polls them.
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        if key in options:
            Path(str(options[key])).mkdir(parents=True, exist_ok=True)


def _banner(port: str) -> str:
    from workbench.deliberation.demo import DEMO_PASSWORD, DEMO_USERNAME, demo_links

    base = f"http://127.0.0.1:{port}"
    lines = [
        "",
        f"Workbench demo: {base}/",
        f"  facilitator login: {base}/accounts/login/",
        f"    username {DEMO_USERNAME}, password {DEMO_PASSWORD}",
        "  participant invite links (open one in a private window to join):",
        *(
            f"    {link.workshop} / {link.group}: {base}{link.path}"
            for link in demo_links()
        ),
        "Press Ctrl-C to stop the web server and the worker.",
        "",
    ]
    return "\n".join(lines)


def _start(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, cwd=BASE_DIR, process_group=0)


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            # SIGTERM to the leader: the worker finishes its task and stops its pool.
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        # Anything the child left behind in its group goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)


def main() -> int:
    port = os.environ.get("PORT", "8000")
    _prepare()
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    python = sys.executable
    children = [
        _start([python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]),
        _start(
            [
                python,
                "-m",
                "celery",
                "-A",
                "workbench",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
            ]
        ),
    ]
    try:
        print(_banner(port), flush=True)
        # Runs until a signal, or until either child exits (a port already in use).
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("A demo process stopped; stopping the other.", file=sys.stderr)
        status = 1
    except _StopRequestedError:
        print("\nStopping the web server and the worker...", flush=True)
        status = 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop(children)
    return status


if __name__ == "__main__":
    sys.exit(main())
