"""A real Celery worker for end-to-end tests (`@pytest.mark.worker`).

The worker is a subprocess on the test database, so the test must be
`@pytest.mark.django_db(transaction=True)`: rows committed by the test are what
the worker reads. It consumes from the broker the test process publishes to,
which must be Redis (the suite runs with CELERY_BROKER_URL=redis://…/15); the
queue is purged first so tasks left by earlier tests do not run against this
test's database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
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

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture
def live_worker(transactional_db: None) -> Iterator[LiveWorker]:
    """Starts `celery -A workbench worker --pool=solo` on the test database and
    stops it (SIGTERM, then SIGKILL) after the test."""
    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a PostgreSQL test database")
    broker = str(app.conf.broker_url or settings.CELERY_BROKER_URL)
    if not broker.startswith("redis://") or settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("a worker test needs CELERY_BROKER_URL=redis://… and no eager mode")
    app.control.purge()
    cache.clear()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(CELERY),
        "-A",
        "workbench",
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
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = LiveWorker(process)
    threading.Thread(target=worker._read, daemon=True).start()
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()
