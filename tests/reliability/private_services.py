"""Private PostgreSQL and Redis servers a test may stop and start, and the app
served against them by gunicorn.

The machine's shared PostgreSQL (5432) and Redis (6379) serve everyone's tests,
so a test that restarts a server starts its own: a throwaway PostgreSQL cluster
(initdb into a temporary folder, about a second) and a `redis-server` with no
persistence, each on a free port. Tests run as root and PostgreSQL refuses to,
so the cluster belongs to the `postgres` user.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"
READY_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", PG_USER, "--", *command],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


@dataclass
class PrivatePostgres:
    folder: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "workbench") -> str:
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        _as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            # A restart of the process is what is tested, not a power cut.
            "-c fsync=off"
        )
        _as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast`: what a service manager's restart does; sessions are cut and
        their open transactions rolled back."""
        _as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def execute(self, sql: str, params: object = None) -> list[tuple[object, ...]]:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            cursor = conn.execute(sql, params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip("needs PostgreSQL 15's initdb and runuser")
    folder = Path(tempfile.mkdtemp(prefix="wb-pg-"))
    shutil.chown(folder, user=PG_USER)
    server = PrivatePostgres(folder)
    try:
        server.init()
        server.start()
        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE workbench")
        yield server
    finally:
        if server.running():
            server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class PrivateRedis:
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            # redis.ConnectionError until it listens.
            with contextlib.suppress(Exception):
                if self.client().ping():
                    return
            time.sleep(0.05)
        raise AssertionError("the private redis-server did not start")

    def stop(self) -> None:
        """As a restart does: the process ends (with nothing saved)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def client(self, db: int = 0):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=2)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def production_env(
    *, database_url: str, cache_url: str | None, broker_url: str
) -> dict[str, str]:
    """The environment of a production web process (without TLS) on the given
    services; the settings module keeps DEBUG off."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CACHE_", "CELERY_", "DATABASE_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.reliability.server_settings",
            "DEBUG": "0",
            "SECURE": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if cache_url:
        env["CACHE_URL"] = cache_url
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )


BUILD = """
import json, sys
import django
django.setup()
sys.path.insert(0, "scripts")
from dataclasses import asdict
from bench_voting import build_workshop
plan = build_workshop(sys.argv[1], groups=2, participants=int(sys.argv[2]),
                      principles=int(sys.argv[3]))
print(json.dumps(asdict(plan)))
"""


def build_vote_workshop(
    env: dict[str, str], *, title: str, participants: int, principles: int
) -> dict[str, object]:
    """A workshop with groups, participants, approved principles and an open
    vote round, built through the services (scripts/bench_voting.py) on the
    database `env` names; returns the plan (slug, round_pk, cookie_name,
    cookies, principles)."""
    done = subprocess.run(
        [sys.executable, "-c", BUILD, title, str(participants), str(principles)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    plan: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return plan


@dataclass
class Gunicorn:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def gunicorn(env: dict[str, str], *, threads: int = 8) -> Iterator[Gunicorn]:
    """One gthread worker with `threads` threads, like a production web process."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="wb-gunicorn-", suffix=".log")[1])
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "workbench.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-k",
                "gthread",
                "--workers",
                "1",
                "--threads",
                str(threads),
                "--log-level",
                "warning",
                # The app is imported once, before the worker starts serving.
                "--preload",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Gunicorn(process, port, log)
    try:
        # Ready once the app answers (the first request of a cold process
        # imports the views: seconds on a busy machine).
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if process.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{server.output()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{server.base}/healthz", timeout=30).ok:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"gunicorn did not answer:\n{server.output()}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.unlink(missing_ok=True)
