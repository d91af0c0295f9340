"""A real Celery worker for end-to-end tests (`@pytest.mark.worker`).

The worker is a subprocess on the test database, so the test must be
`@pytest.mark.django_db(transaction=True)`: rows committed by the test are what
the worker reads. It consumes from the broker the test process publishes to,
which must be Redis (the suite runs with CELERY_BROKER_URL=redis://…/15); the
queue is purged first so tasks left by earlier tests do not run against this
test's database.

`worker_factory` starts as many workers as a test needs, one after another or
together (`start(visibility_timeout=…)` for a worker that redelivers a dead
worker's unacknowledged task sooner than Redis's default hour), and
`LiveWorker.kill()` SIGKILLs one with its whole process group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from workbench.celery import app

ROOT = Path(__file__).resolve().parents[1]
CELERY = ROOT / ".venv" / "bin" / "celery"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
# kombu's Redis transport keeps delivered, unacknowledged messages under these keys
# until they are acknowledged or restored after the visibility timeout.
UNACKED_KEYS = ("unacked", "unacked_index", "unacked_mutex")
# Starts the worker with broker transport options from the environment (settings
# give none for Redis): `celery worker` has no command-line option for them.
LAUNCHER = (
    "import json, os, sys\n"
    "from workbench.celery import app\n"
    "app.conf.broker_transport_options = json.loads("
    "os.environ['TEST_WORKER_TRANSPORT_OPTIONS'])\n"
    "app.worker_main(sys.argv[1:])\n"
)


def _database_url() -> str:
    """The test database (pytest-django renamed it) as a DATABASE_URL."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{db['NAME']}"


@dataclass
class LiveWorker:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.output:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"the Celery worker did not start:\n{self.output}")

    def kill(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a lost machine would: no warm
        shutdown, nothing acknowledged or restored, connections cut."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)


def _prepare_broker() -> str:
    """Purges the test broker's queue and the unacknowledged messages of earlier
    tests' workers (a killed worker's would be redelivered into this test)."""
    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a PostgreSQL test database")
    broker = str(app.conf.broker_url or settings.CELERY_BROKER_URL)
    if not broker.startswith("redis://") or settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("a worker test needs CELERY_BROKER_URL=redis://… and no eager mode")
    app.control.purge()
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete(*UNACKED_KEYS)
    cache.clear()
    return broker


def start_worker(broker: str, *, visibility_timeout: float | None = None) -> LiveWorker:
    """Starts `celery -A workbench worker --pool=solo` on the test database, in its
    own process group, and waits until it is ready."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
    }
    arguments = [
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        "celery",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"test-{uuid.uuid4().hex[:8]}@%h",
    ]
    if visibility_timeout is None:
        command = [str(CELERY), "-A", "workbench", *arguments]
    else:
        # Restore sweeps every second (kombu's default: every 100 s), so the
        # redelivery is due within about a second of the timeout.
        env["TEST_WORKER_TRANSPORT_OPTIONS"] = json.dumps(
            {
                "visibility_timeout": visibility_timeout,
                "unacked_restore_interval": 1,
                "unacked_restore_throttle": 1,
            }
        )
        command = [sys.executable, "-c", LAUNCHER, *arguments]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, for kill()
    )
    worker = LiveWorker(process)
    threading.Thread(target=worker._read, daemon=True).start()
    try:
        worker.wait_ready()
    except BaseException:
        worker.stop()
        raise
    return worker


@pytest.fixture
def live_worker(transactional_db: None) -> Iterator[LiveWorker]:
    """Starts `celery -A workbench worker --pool=solo` on the test database and
    stops it (SIGTERM, then SIGKILL) after the test."""
    worker = start_worker(_prepare_broker())
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def worker_factory(
    transactional_db: None,
) -> Iterator[Callable[..., LiveWorker]]:
    """`start(visibility_timeout=None)` starts a worker; all are stopped after the
    test. The broker is purged once, before the first."""
    broker = _prepare_broker()
    workers: list[LiveWorker] = []

    def start(*, visibility_timeout: float | None = None) -> LiveWorker:
        worker = start_worker(broker, visibility_timeout=visibility_timeout)
        workers.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()
