"""Concurrent voting over HTTP against gunicorn + PostgreSQL (run by `make bench`).

Builds, through the services, one workshop per phase (10 groups, 200 participants, 20
approved principles, an open vote round), starts gunicorn in the production
configuration (DEBUG=0, manifest static files; only TLS is off), and has every
participant load its vote page (for the CSRF token) and then cast one vote on each
principle over its own keep-alive connection, with a unique client_token per vote.

Two phases, because a closed loop of 200 clients measures capacity, not latency (by
Little's law its latency is 200 / throughput):
- capacity: every participant votes again as soon as its last vote is answered;
- paced: votes arrive as one Poisson stream of --rate votes/s (open loop), dealt to the
  participants in turn; this measures latency at that load.

Prints votes sent, votes/s, latency p50/p95/p99, errors and the check "stored == sent"
(Vote and VoteRecord rows equal the successful submissions), writes the figures to
benchmark-voting.json and exits 1 when the check fails.

The client is a minimal asyncio HTTP/1.1 client (no dependency, little CPU: it shares
the machine's cores with gunicorn and PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/workbench_bench"
OUTPUT = BASE_DIR / "benchmark-voting.json"
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- setup -------------------------------------------------------------------------


def configure_environment(static_root: str) -> None:
    """The production configuration, minus TLS, for this process and gunicorn's."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "workbench.settings",
            "DEBUG": "0",
            "SECURE": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_ROOT": static_root,
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def manage(*args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, check=True, env=os.environ
    )


@dataclass
class Plan:
    slug: str
    round_pk: int
    cookie_name: str
    cookies: list[str]  # one signed participant cookie per participant
    principles: list[int]


def build_workshop(title: str, groups: int, participants: int, principles: int) -> Plan:
    """One workshop, built the way the application builds it: through the services."""
    from django.core.signing import get_cookie_signer

    from workbench.accounts.models import User
    from workbench.deliberation.models import Round
    from workbench.deliberation.participant_session import SALT, cookie_name
    from workbench.deliberation.services.participants import participant_join
    from workbench.deliberation.services.principles import principle_seed
    from workbench.deliberation.services.rounds import round_create, round_open
    from workbench.deliberation.services.workshops import (
        group_create,
        workshop_create,
    )

    owner, _ = User.objects.get_or_create(username="bench")
    workshop = workshop_create(
        owner=owner, title=title, question="What should an AI assistant always do?"
    )
    group_list = [
        group_create(workshop=workshop, name=f"Group {i + 1}") for i in range(groups)
    ]
    members = [
        participant_join(group=group_list[i % groups]) for i in range(participants)
    ]
    seeds = [
        principle_seed(
            workshop=workshop,
            text=f"Principle {i + 1}: choose the response that does thing {i + 1}.",
            actor=owner,
        )
        for i in range(principles)
    ]
    round_ = round_open(
        round_=round_create(workshop=workshop, kind=Round.Kind.VOTE), actor=owner
    )
    name = cookie_name(workshop)
    signer = get_cookie_signer(salt=name + SALT)
    return Plan(
        slug=workshop.slug,
        round_pk=round_.pk,
        cookie_name=name,
        cookies=[signer.sign(str(p.public_id)) for p in members],
        principles=[p.pk for p in seeds],
    )


def stored_counts(round_pk: int) -> tuple[int, int]:
    from workbench.deliberation.models import Vote, VoteRecord

    return (
        Vote.objects.filter(round_id=round_pk).count(),
        VoteRecord.objects.filter(round_id=round_pk).count(),
    )


# --- gunicorn ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "workbench.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-k",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--keep-alive",
        "10",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=BASE_DIR, env=os.environ)
    return wait_for_healthz(process, port)


def wait_for_healthz(
    process: subprocess.Popen[bytes], port: int
) -> subprocess.Popen[bytes]:
    """``process`` once gunicorn answers /healthz on ``port`` (30 s at most)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return process
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()]


def backend_pids() -> list[int]:
    """PostgreSQL backends connected to the bench database (same machine). Plain
    psycopg: this runs inside the client's event loop, where Django refuses to."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return [row[0] for row in rows]


class CpuMeter:
    """CPU seconds spent by the gunicorn workers, the PostgreSQL backends serving
    them and this client between start() and stop(); read from /proc, so it is
    independent of whatever else the machine is doing."""

    def __init__(self, master: int) -> None:
        self.master = master

    def start(self) -> None:
        self.workers = {pid: cpu_seconds(pid) for pid in worker_pids(self.master)}
        self.backends = {pid: cpu_seconds(pid) for pid in backend_pids()}
        self.client = time.process_time()

    def stop(self) -> dict[str, float]:
        backends = backend_pids()
        return {
            "gunicorn": sum(cpu_seconds(p) - t for p, t in self.workers.items()),
            "postgresql": sum(
                cpu_seconds(p) - self.backends.get(p, 0.0) for p in backends
            ),
            "client": time.process_time() - self.client,
        }


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- the client --------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects and resends once when the server
    closed it (safe for the votes: a resent form has the same client_token)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reconnects = 0

    async def request(self, raw: bytes) -> tuple[int, bytes, bytes]:
        for attempt in (1, 2):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection(
                        "127.0.0.1", self.port
                    )
                assert self.reader is not None
                self.writer.write(raw)
                head = await self.reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                body = await self.reader.readexactly(
                    int(length.group(1)) if length else 0
                )
                if re.search(rb"(?i)\r\nconnection: *close", head):
                    self.close()
                return int(head[9:12]), head, body
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                self.reconnects += 1
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, successful votes
    attempts: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def participant(
    port: int,
    plan: Plan,
    cookie: str,
    *,
    gaps: list[float],
    outcome: Outcome,
    loaded: asyncio.Barrier,
) -> None:
    """Loads the vote page, waits until every participant has, then votes on every
    principle in random order, waiting gaps[i] seconds (after the previous vote's
    start) before vote i."""
    conn = Connection(port)
    path = f"/w/{plan.slug}/rounds/{plan.round_pk}/vote/"
    host = "Host: 127.0.0.1\r\n"
    cookies = f"{plan.cookie_name}={cookie}"
    try:
        status, head, body = await conn.request(
            f"GET {path} HTTP/1.1\r\n{host}Cookie: {cookies}\r\n\r\n".encode()
        )
        csrf_cookie = re.search(rb"(?i)set-cookie: *csrftoken=([^;]+)", head)
        csrf_field = CSRF_FIELD.search(body)
        await loaded.wait()
        if status != 200 or not csrf_cookie or not csrf_field:
            outcome.error(f"vote page {status}")
            return
        cookies += f"; csrftoken={csrf_cookie.group(1).decode()}"
        token = csrf_field.group(1).decode()
        order = random.sample(plan.principles, len(plan.principles))
        next_at = time.perf_counter()
        for i, principle in enumerate(order):
            next_at += gaps[i]
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            form = urllib.parse.urlencode(
                {
                    "csrfmiddlewaretoken": token,
                    "principle": principle,
                    "choice": random.choice((1, -1, 0)),
                    "client_token": str(uuid.uuid4()),
                }
            ).encode()
            raw = (
                f"POST {path} HTTP/1.1\r\n{host}Cookie: {cookies}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(form)}\r\n\r\n"
            ).encode() + form
            outcome.attempts += 1
            started = time.perf_counter()
            try:
                status, head, _ = await conn.request(raw)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                outcome.error(type(exc).__name__)
                continue
            elapsed = time.perf_counter() - started
            # The view answers a plain POST with 303 either way; a refused vote also
            # sets a `messages` cookie with the reason.
            if status == 303 and b"messages=" not in head:
                outcome.ok += 1
                outcome.latencies.append(elapsed)
            else:
                outcome.error(f"HTTP {status}")
    finally:
        outcome.reconnects += conn.reconnects
        conn.close()


@dataclass
class PhaseResult:
    phase: str
    participants: int
    votes_sent: int
    votes_ok: int
    errors: dict[str, int]
    reconnects: int
    seconds: float
    votes_per_second: float
    offered_rate: float | None
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    stored_votes: int
    stored_vote_records: int
    stored_equals_sent: bool
    cpu_ms_per_vote: dict[str, float]
    load_average: float  # 1-minute, at the end: other work on the machine


async def run_phase(
    port: int, plan: Plan, rate: float | None, meter: CpuMeter
) -> tuple[Outcome, float, dict[str, float]]:
    """Every participant loads its page; then all vote at once and are measured. With
    `rate`, votes follow one Poisson stream of `rate` votes/s dealt to them in turn."""
    rng = random.Random(7)
    n, k = len(plan.cookies), len(plan.principles)
    outcome = Outcome()
    if rate is None:
        schedules = [[0.0] * k for _ in range(n)]
    else:
        # One open-loop Poisson stream at `rate` votes/s for the whole phase, dealt to
        # the participants in turn: the offered load stays at `rate` until the end
        # (per-participant clocks would thin out into a long tail).
        arrivals = list(
            itertools.accumulate(rng.expovariate(rate) for _ in range(n * k))
        )
        schedules = []
        for i in range(n):
            mine = arrivals[i::n]
            schedules.append([mine[0]] + [b - a for a, b in itertools.pairwise(mine)])
    loaded = asyncio.Barrier(n + 1)
    voters = asyncio.gather(
        *(
            participant(port, plan, cookie, gaps=gaps, outcome=outcome, loaded=loaded)
            for cookie, gaps in zip(plan.cookies, schedules, strict=True)
        )
    )
    await loaded.wait()
    meter.start()
    started = time.perf_counter()
    await voters
    seconds = time.perf_counter() - started
    return outcome, seconds, meter.stop()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


def summarise(
    name: str,
    plan: Plan,
    *,
    outcome: Outcome,
    seconds: float,
    rate: float | None,
    cpu: dict[str, float],
) -> PhaseResult:
    votes, records = stored_counts(plan.round_pk)
    return PhaseResult(
        phase=name,
        participants=len(plan.cookies),
        votes_sent=outcome.attempts,
        votes_ok=outcome.ok,
        errors=outcome.errors,
        reconnects=outcome.reconnects,
        seconds=round(seconds, 3),
        votes_per_second=round(outcome.ok / seconds, 1),
        offered_rate=rate,
        p50_ms=round(percentile(outcome.latencies, 50), 1),
        p95_ms=round(percentile(outcome.latencies, 95), 1),
        p99_ms=round(percentile(outcome.latencies, 99), 1),
        max_ms=round(max(outcome.latencies, default=float("nan")) * 1000, 1),
        stored_votes=votes,
        stored_vote_records=records,
        stored_equals_sent=votes == records == outcome.ok,
        cpu_ms_per_vote={
            k: round(1000 * v / max(outcome.ok, 1), 2) for k, v in cpu.items()
        },
        load_average=os.getloadavg()[0],
    )


def print_result(r: PhaseResult) -> None:
    rate = f" (offered {r.offered_rate:.0f} votes/s)" if r.offered_rate else ""
    print(f"\n[{r.phase}]{rate}")
    print(f"  participants     {r.participants}")
    print(f"  votes sent       {r.votes_sent} ({r.votes_ok} stored as answered)")
    print(f"  duration         {r.seconds:.2f} s")
    print(f"  votes/s          {r.votes_per_second:.1f}")
    print(
        f"  latency ms       p50 {r.p50_ms:.1f}  p95 {r.p95_ms:.1f}  "
        f"p99 {r.p99_ms:.1f}  max {r.max_ms:.1f}"
    )
    print(f"  errors           {sum(r.errors.values())} {r.errors or ''}")
    print(f"  reconnects       {r.reconnects}")
    cpu = r.cpu_ms_per_vote
    print(
        f"  CPU ms per vote  gunicorn {cpu['gunicorn']:.2f}  PostgreSQL "
        f"{cpu['postgresql']:.2f}  client {cpu['client']:.2f}"
    )
    print(f"  load average     {r.load_average:.2f} (1 min, at the end)")
    verdict = "OK" if r.stored_equals_sent else "FAILED"
    print(
        f"  stored == sent   {verdict} (Vote {r.stored_votes}, VoteRecord "
        f"{r.stored_vote_records}, answered {r.votes_ok})"
    )


def machine() -> dict[str, object]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg_version,) = cursor.fetchone()
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory_kb / 2**20, 1),
        "postgresql": pg_version,
        "python": platform.python_version(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--principles", type=int, default=20)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per process")
    parser.add_argument(
        "--rate", type=float, default=500, help="offered votes/s in the paced phase"
    )
    parser.add_argument(
        "--phases", default="capacity,paced", help="comma-separated: capacity,paced"
    )
    args = parser.parse_args()
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]

    with tempfile.TemporaryDirectory(prefix="wb-bench-static-") as static_root:
        configure_environment(static_root)
        # Each participant casts one vote per principle as fast as it is answered:
        # VOTES_PER_MINUTE stays on (its check is part of what is measured) but is
        # never below that count, so no bench vote is refused by it.
        os.environ.setdefault("VOTES_PER_MINUTE", str(max(120, args.principles)))
        ensure_database(os.environ["DATABASE_URL"])
        manage("migrate", "--noinput", "-v0")
        manage("flush", "--noinput", "-v0")
        manage("collectstatic", "--noinput", "-v0")

        import django

        django.setup()
        plans = {
            phase: build_workshop(
                f"Bench {phase}", args.groups, args.participants, args.principles
            )
            for phase in phases
        }
        from django.db import connection

        connection.close()  # not held open while gunicorn works

        port = free_port()
        server = start_gunicorn(port, args.workers, args.threads)
        meter = CpuMeter(server.pid)
        results = []
        try:
            for phase in phases:
                rate = args.rate if phase == "paced" else None
                outcome, seconds, cpu = asyncio.run(
                    run_phase(port, plans[phase], rate, meter)
                )
                results.append(
                    summarise(
                        phase,
                        plans[phase],
                        outcome=outcome,
                        seconds=seconds,
                        rate=rate,
                        cpu=cpu,
                    )
                )
                connection.close()
        finally:
            stop(server)

    report = {
        "machine": machine(),
        "server": {
            "command": f"gunicorn workbench.wsgi -k gthread --workers {args.workers} "
            f"--threads {args.threads} --keep-alive 10",
            "participants": args.participants,
            "principles": args.principles,
            "groups": args.groups,
        },
        "phases": [asdict(r) for r in results],
    }
    print(f"\nmachine: {report['machine']}")
    print(f"server:  {report['server']['command']}")
    for r in results:
        print_result(r)
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {OUTPUT.relative_to(BASE_DIR)}")
    return 0 if all(r.stored_equals_sent for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
