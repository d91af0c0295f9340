"""A live workshop under load: 1,000 participants in 10 groups (run by `make bench`).

Issue 7's load test. Builds, through the services, one workshop with 10 groups, 20
approved principles, an open vote round and an open propose round (both for every
group); starts gunicorn in the production configuration (DEBUG=0, the flags of
docs/deploy.md), a real Celery worker and Redis as broker and cache; then:

1. join (warm-up, timed apart): every participant opens its own keep-alive
   connection, loads its group's invite link, joins (POST, which sets the signed
   participant cookie) and loads its vote page, at --join-rate joins/s;
2. load (--duration seconds): every participant acts on its own open-loop schedule,
   as the pages' HTMX does: a vote on the principle its card shows (agree /
   disagree / pass, the card's client_token) at Poisson times (mean --think s); the
   round-status poll every ROUND_STATUS_POLL_SECONDS; a share (--pollers) reloads
   the opinion map (the participants' results page) every --map-every s; a share
   (--proposers) loads the propose page and proposes a principle; a facilitator
   session polls the live results and the analysis section every --facilitator-every
   s. Meanwhile the latest stored analysis is compared with the votes every second.

Prints and writes to benchmark-load.json: requests/s and votes/s, latency p50/p95/
p99/max per kind of request, errors by kind and status, the analysis lag during the
run and the time it took to catch up after the last vote, and the proof: every vote
answered with success is stored exactly once (the (participant, principle,
client_token, choice) set sent and acknowledged equals the VoteRecord rows, and each
Vote row holds the last acknowledged choice), and every acknowledged proposal is one
Principle row. Exits 1 when that check fails or the analysis did not catch up.

The client is asyncio and the standard library (plus psycopg for the lag samples):
one connection per participant, requests on it one after another, as one browser
tab would send them.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

SCRIPTS = Path(__file__).resolve().parent
if str(SCRIPTS) not in sys.path:  # imported by tests/reliability/test_load.py
    sys.path.insert(0, str(SCRIPTS))

from bench_voting import (  # noqa: E402 - after the path above
    BASE_DIR,
    CSRF_FIELD,
    configure_environment,
    cpu_seconds,
    ensure_database,
    free_port,
    machine,
    manage,
    percentile,
    stop,
    wait_for_healthz,
    worker_pids,
)

T = TypeVar("T")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/workbench_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
OUTPUT = BASE_DIR / "benchmark-load.json"
REQUEST_TIMEOUT = 30.0
CATCH_UP_TIMEOUT = 60.0
PASSWORD = "bench-load-facilitator"  # noqa: S105 - a throwaway bench account

CARD_PRINCIPLE = re.compile(rb'name="principle" value="(\d+)"')
CARD_TOKEN = re.compile(rb'name="client_token" value="([0-9a-f-]{36})"')
ANALYSIS_SHOWN = re.compile(rb"results/analysis/\?shown=(\d*)&amp;stale=(\d)")
REFUSED = b'role="alert"'


@dataclass
class Config:
    participants: int = 1000
    groups: int = 10
    principles: int = 20
    duration: float = 60.0
    # Mean seconds between one participant's votes. The four Polis openData
    # conversations of ../shared/data/polis show 7.4-10.1 s (gaps under 2 minutes);
    # 2 vCPUs cannot serve 1,000 voters at that pace through the HTMX vote path
    # (docs/reliability.md), so the default is a room below this machine's
    # capacity: ~17 votes/s. `--think 8 --status-every 10` is the busy room.
    think: float = 60.0
    join_rate: float = 25.0  # joins per second in the warm-up (3 requests each)
    proposers: float = 0.1  # share of participants who propose one principle
    pollers: float = 0.1  # share who reload the opinion map
    map_every: float = 30.0
    # How often each open round page polls its status: ROUND_STATUS_POLL_SECONDS,
    # set to this for the servers too (10 s by default in settings; 1,000 pages at
    # 10 s are 100 requests/s on their own).
    status_every: float = 30.0
    facilitator_every: float = 1.0
    seed: int = 7


# --- setup, through the services ----------------------------------------------------


@dataclass
class Plan:
    workshop_id: int
    slug: str
    vote_round: int
    propose_round: int
    cookie_name: str
    invites: list[str]  # one invite token per group
    principles: list[int]
    facilitator: str


def build_workshop(config: Config, title: str = "Load") -> Plan:
    """One workshop, built the way the application builds it."""
    from workbench.accounts.models import User
    from workbench.deliberation.models import Round
    from workbench.deliberation.participant_session import cookie_name
    from workbench.deliberation.services.principles import principle_seed
    from workbench.deliberation.services.rounds import round_create, round_open
    from workbench.deliberation.services.workshops import (
        group_create,
        workshop_create,
    )

    owner, _ = User.objects.get_or_create(username="bench-load")
    owner.set_password(PASSWORD)
    owner.save()
    workshop = workshop_create(
        owner=owner,
        title=title,
        question="What should an AI assistant always do?",
        show_opinion_map=True,
    )
    groups = [
        group_create(workshop=workshop, name=f"Group {i + 1}")
        for i in range(config.groups)
    ]
    seeds = [
        principle_seed(
            workshop=workshop,
            text=f"Principle {i + 1}: choose the response that does thing {i + 1}.",
            actor=owner,
        )
        for i in range(config.principles)
    ]
    vote_round = round_open(
        round_=round_create(workshop=workshop, kind=Round.Kind.VOTE), actor=owner
    )
    propose_round = round_open(
        round_=round_create(workshop=workshop, kind=Round.Kind.PROPOSE), actor=owner
    )
    return Plan(
        workshop_id=workshop.pk,
        slug=workshop.slug,
        vote_round=vote_round.pk,
        propose_round=propose_round.pk,
        cookie_name=cookie_name(workshop),
        invites=[g.invite_token for g in groups],
        principles=[p.pk for p in seeds],
        facilitator=owner.username,
    )


# --- the stack: gunicorn, a Celery worker -------------------------------------------


def say(line: str) -> None:
    print(line, flush=True)


def start_gunicorn(port: int, *, workers: int, threads: int) -> subprocess.Popen[bytes]:
    """gunicorn with docs/deploy.md's flags (only the bind address differs)."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "workbench.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "-k",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--keep-alive",
        "10",
        "--max-requests",
        "5000",
        "--max-requests-jitter",
        "500",
        "--graceful-timeout",
        "30",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=BASE_DIR, env=os.environ)
    return wait_for_healthz(process, port)


@dataclass
class Worker:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_worker(concurrency: int) -> Worker:
    """Starts `celery -A workbench worker` (prefork) on the environment's broker,
    after its queue is purged (wait_ready waits until it says it is ready)."""
    from workbench.celery import app

    app.control.purge()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workbench",
            "worker",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"load-{uuid.uuid4().hex[:8]}@%h",
        ],
        cwd=BASE_DIR,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    worker = Worker(process)
    threading.Thread(target=worker.read, daemon=True).start()
    return worker


def wait_ready(worker: Worker) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(" ready." in line for line in worker.lines):
            return
        if worker.process.poll() is not None:
            break
        time.sleep(0.1)
    worker.stop()
    raise SystemExit("the Celery worker did not start:\n" + "".join(worker.lines))


@contextmanager
def stack(
    *, workers: int, threads: int, concurrency: int
) -> Iterator[tuple[int, subprocess.Popen[bytes], Worker]]:
    """gunicorn and a Celery worker on this environment, stopped on the way out."""
    from django.db import connections

    connections.close_all()  # not held open while the servers work
    port = free_port()
    began = time.monotonic()
    worker = start_worker(concurrency)
    try:
        server = start_gunicorn(port, workers=workers, threads=threads)
        wait_ready(worker)  # started together: the two start-ups overlap
        say(f"gunicorn and the Celery worker ready in {time.monotonic() - began:.1f} s")
        try:
            yield port, server, worker
        finally:
            stop(server)
    finally:
        worker.stop()


# --- the client ---------------------------------------------------------------------


class ClosedError(Exception):
    """The server closed a reused connection before answering: not processed."""


@dataclass
class Response:
    status: int
    head: bytes
    body: bytes


class Browser:
    """One participant's tab: a keep-alive HTTP/1.1 connection and its cookies.
    A request on a reused connection that the server had closed (keep-alive
    timeout, --max-requests recycling) is sent again on a new one, as browsers do;
    only then, when no byte of an answer came back."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookies: dict[str, str] = {}
        self.reconnects = 0

    async def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        htmx: bool = False,
    ) -> Response:
        headers = ["Host: 127.0.0.1"]
        if self.cookies:
            headers.append(
                "Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            )
        if htmx:
            headers.append("HX-Request: true")
        body = b""
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers.append("Content-Type: application/x-www-form-urlencoded")
            headers.append(f"Content-Length: {len(body)}")
        raw = (
            (
                f"{method} {path} HTTP/1.1\r\n" + "".join(h + "\r\n" for h in headers)
            ).encode()
            + b"\r\n"
            + body
        )
        try:
            response = await self._send(raw)
        except ClosedError:
            self.reconnects += 1
            response = await self._send(raw)
        self._keep_cookies(response.head)
        return response

    async def _send(self, raw: bytes) -> Response:
        reused = self.writer is not None
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                "127.0.0.1", self.port
            )
        assert self.reader is not None
        try:
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            self.close()
            nothing = (
                not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial
            )
            if reused and nothing:
                raise ClosedError from exc
            raise
        try:
            body = await self._body(head)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.close()
            raise
        if re.search(rb"(?i)\r\nconnection: *close", head):
            self.close()
        return Response(int(head[9:12]), head, body)

    async def _body(self, head: bytes) -> bytes:
        assert self.reader is not None
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        if length:
            return await self.reader.readexactly(int(length.group(1)))
        if not re.search(rb"(?i)\r\ntransfer-encoding: *chunked", head):
            return b""
        chunks = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunks.append(await self.reader.readexactly(size + 2))
            if size == 0:
                return b"".join(chunks)[:-2]

    def _keep_cookies(self, head: bytes) -> None:
        for name, value, rest in re.findall(
            rb"(?i)\r\nset-cookie: *([^=;\s]+)=([^;\r]*)([^\r]*)", head
        ):
            if b"max-age=0" in rest.lower() or not value or value == b'""':
                self.cookies.pop(name.decode(), None)
            else:
                self.cookies[name.decode()] = value.decode()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Stats:
    """Latencies (seconds, send to last byte) and outcomes per kind of request."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    late: list[float] = field(default_factory=list)  # send time - scheduled time
    not_sent: int = 0  # still waiting on an earlier answer when the run ended
    reconnects: int = 0

    async def call(
        self,
        browser: Browser,
        kind: str,
        method: str,
        path: str,
        *,
        ok: tuple[int, ...] = (200,),
        **kwargs: object,
    ) -> Response | None:
        started = time.perf_counter()
        try:
            response = await asyncio.wait_for(
                browser.request(method, path, **kwargs),  # type: ignore[arg-type]
                REQUEST_TIMEOUT,
            )
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            browser.close()
            self.errors[f"{kind}: {type(exc).__name__}"] += 1
            return None
        self.latencies.setdefault(kind, []).append(time.perf_counter() - started)
        if response.status not in ok:
            self.errors[f"{kind}: HTTP {response.status}"] += 1
            return None
        return response


@dataclass
class Ledger:
    """What was sent and what the server acknowledged, for the stored == sent
    check. Votes: (public_id, principle, client_token, choice)."""

    votes_acked: list[tuple[str, int, str, int]] = field(default_factory=list)
    votes_unanswered: set[tuple[str, str]] = field(default_factory=set)
    votes_refused: int = 0
    last_vote_at: float = 0.0  # time.time() of the last acknowledged vote
    proposals_acked: list[tuple[str, str]] = field(default_factory=list)
    proposals_unanswered: set[tuple[str, str]] = field(default_factory=set)


WORDS = [
    a + b + c
    for a in ("ka", "lo", "mi", "ru", "se", "to", "va", "ne")
    for b in ("ran", "lit", "mos", "dek", "fup", "gir")
    for c in ("a", "o", "en", "is")
]


class Participant:
    def __init__(self, index: int, plan: Plan, port: int, rng: random.Random) -> None:
        self.index = index
        self.plan = plan
        self.browser = Browser(port)
        self.rng = rng
        self.invite = plan.invites[index % len(plan.invites)]
        self.token = ""  # the CSRF form token
        self.card: tuple[int, str] | None = None  # the principle shown, its token
        self.public_id = ""
        base = f"/w/{plan.slug}/rounds/"
        self.vote_path = f"{base}{plan.vote_round}/vote/"
        self.status_path = f"{base}{plan.vote_round}/status/?shown=open"
        self.propose_path = f"{base}{plan.propose_round}/propose/"
        self.map_path = f"/w/{plan.slug}/map/"

    def _read_token(self, body: bytes) -> None:
        token = CSRF_FIELD.search(body)
        if token:
            self.token = token.group(1).decode()

    def _read_card(self, body: bytes) -> None:
        """The principle the vote card shows and its client_token (None once the
        participant has voted on everything)."""
        self._read_token(body)
        principle, client_token = CARD_PRINCIPLE.search(body), CARD_TOKEN.search(body)
        self.card = (
            (int(principle.group(1)), client_token.group(1).decode())
            if principle and client_token
            else None
        )

    async def join(self, stats: Stats) -> bool:
        path = f"/join/{self.invite}/"
        page = await stats.call(self.browser, "join page", "GET", path)
        if page is None or not (match := CSRF_FIELD.search(page.body)):
            return False
        joined = await stats.call(
            self.browser,
            "join",
            "POST",
            path,
            ok=(303,),
            form={"csrfmiddlewaretoken": match.group(1).decode()},
        )
        cookie = self.browser.cookies.get(self.plan.cookie_name, "")
        if joined is None or not cookie:
            return False
        self.public_id = cookie.strip('"').split(":")[0]
        page = await stats.call(self.browser, "vote page", "GET", self.vote_path)
        if page is None:
            return False
        self._read_card(page.body)
        return True

    async def vote(self, stats: Stats, ledger: Ledger) -> None:
        """The card's vote through HTMX, as the page sends it; once every principle
        has a vote, a change of an earlier one through the plain form."""
        choice = self.rng.choice((1, -1, 0))
        if self.card is not None:
            principle, client_token = self.card
            htmx = True
        else:
            principle = self.rng.choice(self.plan.principles)
            client_token, htmx = str(uuid.uuid4()), False
        form = {
            "csrfmiddlewaretoken": self.token,
            "principle": str(principle),
            "choice": str(choice),
            "client_token": client_token,
        }
        kind = "vote" if htmx else "vote (plain form)"
        ok = (200,) if htmx else (303,)
        response = await stats.call(
            self.browser, kind, "POST", self.vote_path, form=form, htmx=htmx, ok=ok
        )
        if response is None:
            ledger.votes_unanswered.add((self.public_id, client_token))
            return
        refused = REFUSED in response.body if htmx else b"messages=" in response.head
        if refused:
            ledger.votes_refused += 1
            stats.errors[f"{kind}: refused"] += 1
        else:
            ledger.votes_acked.append((self.public_id, principle, client_token, choice))
            ledger.last_vote_at = time.time()
        if htmx:
            self._read_card(response.body)

    async def propose(self, stats: Stats, ledger: Ledger) -> None:
        page = await stats.call(self.browser, "propose page", "GET", self.propose_path)
        if page is None:
            return
        self._read_token(page.body)
        words = self.rng.sample(WORDS, 8)
        text = f"Choose the response that {' '.join(words)} ({self.index})."
        form = {"csrfmiddlewaretoken": self.token, "text": text}
        for _ in range(2):  # the second time with "Submit anyway"
            response = await stats.call(
                self.browser,
                "propose",
                "POST",
                self.propose_path,
                form=form,
                htmx=True,
                ok=(200, 303),
            )
            if response is None:
                ledger.proposals_unanswered.add((self.public_id, text))
                return
            if response.status == 303:
                ledger.proposals_acked.append((self.public_id, text))
                await stats.call(
                    self.browser, "propose page", "GET", self.propose_path, htmx=True
                )
                return
            form["confirm_similar"] = "1"
        stats.errors["propose: refused"] += 1

    def schedule(
        self, config: Config, proposer: bool, poller: bool
    ) -> list[tuple[float, str]]:
        """This participant's open-loop timetable over the run."""
        rng, end = self.rng, config.duration
        events: list[tuple[float, str]] = []
        t = rng.expovariate(1 / config.think)
        while t < end:
            events.append((t, "vote"))
            t += rng.expovariate(1 / config.think)
        t = rng.uniform(0, config.status_every)
        while t < end:
            events.append((t, "status"))
            t += config.status_every
        if poller:
            t = rng.uniform(0, config.map_every)
            while t < end:
                events.append((t, "map"))
                t += config.map_every
        if proposer:
            events.append((rng.uniform(0, end * 0.9), "propose"))
        return sorted(events)

    async def run(
        self,
        events: list[tuple[float, str]],
        start: float,
        stats: Stats,
        ledger: Ledger,
        end: float,
    ) -> None:
        """Sends the timetable's requests at their times, one after another on
        this participant's connection; nothing is sent after `end`: what a slow
        server left unsent is counted, so the run stays bounded."""
        for i, (at, what) in enumerate(events):
            delay = start + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.perf_counter() >= end:
                stats.not_sent += len(events) - i
                return
            stats.late.append(max(0.0, -delay))
            if what == "vote":
                await self.vote(stats, ledger)
            elif what == "status":
                await stats.call(
                    self.browser,
                    "round status poll",
                    "GET",
                    self.status_path,
                    htmx=True,
                    ok=(200, 204),
                )
            elif what == "map":
                await stats.call(
                    self.browser, "opinion map (results)", "GET", self.map_path
                )
            else:
                await self.propose(stats, ledger)


async def facilitator(
    port: int, plan: Plan, config: Config, stats: Stats, until: float
) -> None:
    """Logs in over HTTP, loads the results page, then polls its two live parts
    as the page's HTMX does (every POLL_SECONDS there; every --facilitator-every
    s here, for more samples)."""
    browser = Browser(port)
    page = await stats.call(browser, "login", "GET", "/accounts/login/")
    if page is None or not (token := CSRF_FIELD.search(page.body)):
        return
    form = {
        "csrfmiddlewaretoken": token.group(1).decode(),
        "username": plan.facilitator,
        "password": PASSWORD,
    }
    if (
        await stats.call(
            browser, "login", "POST", "/accounts/login/", form=form, ok=(302,)
        )
        is None
    ):
        return
    results = f"/workshops/{plan.slug}/results/"
    full = await stats.call(browser, "results page (facilitator)", "GET", results)
    shown = ANALYSIS_SHOWN.search(full.body) if full else None
    query = (
        f"?shown={shown.group(1).decode()}&stale={shown.group(2).decode()}"
        if shown
        else ""
    )
    tick = time.perf_counter()
    while time.perf_counter() < until:
        await stats.call(
            browser, "live results poll (facilitator)", "GET", results, htmx=True
        )
        part = await stats.call(
            browser,
            "analysis poll (facilitator)",
            "GET",
            results + "analysis/" + query,
            htmx=True,
            ok=(200, 204),
        )
        if part is not None and part.status == 200:
            found = ANALYSIS_SHOWN.search(part.body)
            if found:
                query = (
                    f"?shown={found.group(1).decode()}&stale={found.group(2).decode()}"
                )
        tick += config.facilitator_every
        await asyncio.sleep(max(0.0, tick - time.perf_counter()))
    browser.close()


# --- the analysis lag ---------------------------------------------------------------

LAG_SQL = """
WITH latest AS (
    SELECT vote_watermark, n_votes FROM deliberation_workshopanalysis
    WHERE workshop_id = %(workshop)s AND error = ''
    ORDER BY computed_at DESC, id DESC LIMIT 1
)
SELECT
    clock_timestamp(),
    (SELECT vote_watermark FROM latest),
    (SELECT n_votes FROM latest),
    (SELECT max(id) FROM deliberation_voterecord WHERE round_id = %(round)s),
    (SELECT count(*) FROM deliberation_vote WHERE round_id = %(round)s),
    (SELECT min(cast_at) FROM deliberation_voterecord
     WHERE round_id = %(round)s
       AND id > coalesce((SELECT vote_watermark FROM latest), 0))
"""


@dataclass
class LagSample:
    at: float  # seconds since the load started
    lag: float  # age of the oldest vote the latest analysis has not seen; 0 if none
    caught_up: bool  # the latest analysis saw every vote record and counts every vote


async def lag_probe(plan: Plan, database_url: str) -> tuple[float, LagSample]:
    import psycopg

    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True
    ) as conn:
        row = await (
            await conn.execute(
                LAG_SQL, {"workshop": plan.workshop_id, "round": plan.vote_round}
            )
        ).fetchone()
    assert row is not None
    now, watermark, n_votes, newest, votes, oldest_unseen = row
    lag = (now - oldest_unseen).total_seconds() if oldest_unseen else 0.0
    caught_up = newest is not None and watermark == newest and n_votes == votes
    return now.timestamp(), LagSample(0.0, lag, caught_up)


async def lag_sampler(
    plan: Plan,
    database_url: str,
    start: float,
    samples: list[LagSample],
    stop_event: asyncio.Event,
) -> None:
    while not stop_event.is_set():
        _, sample = await lag_probe(plan, database_url)
        sample.at = time.perf_counter() - start
        samples.append(sample)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), 1.0)


async def catch_up(plan: Plan, database_url: str, last_vote_at: float) -> float | None:
    """Seconds from the last acknowledged vote until a stored analysis has seen
    every vote, or None if that took longer than CATCH_UP_TIMEOUT."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while time.monotonic() < deadline:
        now, sample = await lag_probe(plan, database_url)
        if sample.caught_up:
            return max(0.0, now - last_vote_at)
        await asyncio.sleep(0.2)
    return None


# --- one run ------------------------------------------------------------------------


@dataclass
class Run:
    join_seconds: float
    joined: int
    load_seconds: float
    stats: Stats
    join_stats: Stats
    ledger: Ledger
    lag: list[LagSample]
    catch_up_seconds: float | None
    cpu: dict[str, float]


def backend_pids(database_url: str) -> list[int]:
    """PostgreSQL backends connected to the database (same machine)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return [row[0] for row in rows]


def _processes(server: int, worker: int) -> dict[str, list[int]]:
    def tree(pid: int) -> list[int]:
        try:
            return [pid, *worker_pids(pid)]
        except OSError:
            return [pid]

    return {"gunicorn": worker_pids(server), "celery": tree(worker)}


async def run_load(
    port: int,
    plan: Plan,
    config: Config,
    *,
    database_url: str,
    server_pid: int,
    worker_pid: int,
) -> Run:
    rng = random.Random(config.seed)
    people = [
        Participant(i, plan, port, random.Random(rng.random()))
        for i in range(config.participants)
    ]
    join_stats, stats, ledger = Stats(), Stats(), Ledger()

    # 1. Joining, paced at --join-rate.
    started = time.perf_counter()

    async def join(person: Participant, at: float) -> bool:
        await asyncio.sleep(max(0.0, started + at - time.perf_counter()))
        return await person.join(join_stats)

    joined = await asyncio.gather(
        *(join(p, i / config.join_rate) for i, p in enumerate(people))
    )
    join_seconds = time.perf_counter() - started
    say(
        f"{sum(joined)} participants joined in {join_seconds:.1f} s; load for "
        f"{config.duration:.0f} s"
    )
    people = [p for p, ok in zip(people, joined, strict=True) if ok]

    # 2. The load, with the facilitator and the lag sampler alongside.
    proposers = set(
        rng.sample(range(len(people)), round(config.proposers * len(people)))
    )
    pollers = set(rng.sample(range(len(people)), round(config.pollers * len(people))))
    timetables = [
        p.schedule(config, i in proposers, i in pollers) for i, p in enumerate(people)
    ]
    processes = _processes(server_pid, worker_pid)
    before = {
        name: {pid: cpu_seconds(pid) for pid in pids}
        for name, pids in processes.items()
    }
    backends = {pid: cpu_seconds(pid) for pid in backend_pids(database_url)}
    client_cpu = time.process_time()
    samples: list[LagSample] = []
    done = asyncio.Event()
    start = time.perf_counter() + 0.5
    sampler = asyncio.create_task(lag_sampler(plan, database_url, start, samples, done))
    await asyncio.gather(
        facilitator(port, plan, config, stats, start + config.duration),
        *(
            p.run(events, start, stats, ledger, start + config.duration)
            for p, events in zip(people, timetables, strict=True)
        ),
    )
    load_seconds = time.perf_counter() - start
    done.set()
    await sampler
    cpu = {
        name: sum(cpu_seconds(pid) - before[name].get(pid, 0.0) for pid in pids)
        for name, pids in _processes(server_pid, worker_pid).items()
    }
    cpu["postgresql"] = sum(
        cpu_seconds(pid) - backends.get(pid, 0.0) for pid in backend_pids(database_url)
    )
    cpu["client"] = time.process_time() - client_cpu
    say(f"load done in {load_seconds:.1f} s; waiting for the analysis")
    caught = await catch_up(plan, database_url, ledger.last_vote_at)
    for p in people:
        stats.reconnects += p.browser.reconnects
        p.browser.close()
    return Run(
        join_seconds=join_seconds,
        joined=len(people),
        load_seconds=load_seconds,
        stats=stats,
        join_stats=join_stats,
        ledger=ledger,
        lag=samples,
        catch_up_seconds=caught,
        cpu=cpu,
    )


def load_in_stack(
    plan: Plan,
    config: Config,
    *,
    database_url: str,
    workers: int,
    threads: int,
    concurrency: int,
) -> Run:
    """Starts gunicorn and a Celery worker on this environment, runs the load,
    stops them."""
    with stack(workers=workers, threads=threads, concurrency=concurrency) as (
        port,
        server,
        worker,
    ):
        return run_coroutine(
            lambda: run_load(
                port,
                plan,
                config,
                database_url=database_url,
                server_pid=server.pid,
                worker_pid=worker.process.pid,
            )
        )


def run_coroutine(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(make())``, in a thread of its own when this one already
    runs an event loop (the test suite's browser tests leave Playwright's)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


# --- stored == sent -----------------------------------------------------------------


@dataclass
class Check:
    votes_acknowledged: int
    vote_records_stored: int
    missing: int  # acknowledged, not stored
    extra: int  # stored, never sent
    duplicated: int  # one submission stored more than once
    stored_without_answer: int  # sent, no answer (error/timeout), stored once
    wrong_current_vote: int  # Vote row not the last acknowledged choice
    votes_current: int
    proposals_acknowledged: int
    proposals_stored: int
    proposals_missing: int
    proposals_extra: int

    @property
    def ok(self) -> bool:
        return not (
            self.missing
            or self.extra
            or self.duplicated
            or self.wrong_current_vote
            or self.proposals_missing
            or self.proposals_extra
        )


def check_stored(plan: Plan, ledger: Ledger) -> Check:
    """Compares what the client sent and the server acknowledged with the rows."""
    from workbench.deliberation.models import Participant as Row
    from workbench.deliberation.models import Principle, Vote, VoteRecord

    public = {
        pk: str(public_id)
        for pk, public_id in Row.objects.filter(
            workshop_id=plan.workshop_id
        ).values_list("pk", "public_id")
    }
    stored = Counter(
        (public[p], principle, str(token), choice)
        for p, principle, token, choice in VoteRecord.objects.filter(
            round_id=plan.vote_round
        ).values_list("participant_id", "principle_id", "client_token", "choice")
    )
    acked = Counter(ledger.votes_acked)
    # Sent but unanswered (timeout, cut connection) and stored all the same: the
    # participant was not told, so neither lost nor extra; its pair's current vote
    # may be either choice.
    unanswered = {k for k in stored if (k[0], k[2]) in ledger.votes_unanswered}
    unsure = {(k[0], k[1]) for k in unanswered}
    expected: dict[tuple[str, int], int] = {}
    for public_id, principle, _, choice in ledger.votes_acked:
        expected[(public_id, principle)] = choice  # one participant's in order
    votes = {
        (public[p], principle): choice
        for p, principle, choice in Vote.objects.filter(
            round_id=plan.vote_round
        ).values_list("participant_id", "principle_id", "choice")
    }
    wrong = sum(
        1
        for pair in set(expected) | set(votes)
        if pair not in unsure and votes.get(pair) != expected.get(pair)
    )
    proposals = Counter(
        (public[a], text)
        for a, text in Principle.objects.filter(
            round_id=plan.propose_round
        ).values_list("author_id", "text")
    )
    sent_proposals = Counter(ledger.proposals_acked)
    return Check(
        votes_acknowledged=sum(acked.values()),
        vote_records_stored=sum(stored.values()),
        missing=sum((acked - stored).values()),
        extra=sum((stored - acked).values()) - len(unanswered),
        duplicated=sum(n - 1 for n in stored.values() if n > 1),
        stored_without_answer=len(unanswered),
        wrong_current_vote=wrong,
        votes_current=len(votes),
        proposals_acknowledged=sum(sent_proposals.values()),
        proposals_stored=sum(proposals.values()),
        proposals_missing=sum((sent_proposals - proposals).values()),
        proposals_extra=sum(
            n
            for key, n in (proposals - sent_proposals).items()
            if key not in ledger.proposals_unanswered
        ),
    )


# --- the report ---------------------------------------------------------------------


def latency_table(stats: Stats) -> dict[str, dict[str, float]]:
    return {
        kind: {
            "count": len(values),
            "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "p99_ms": round(percentile(values, 99), 1),
            "max_ms": round(max(values) * 1000, 1),
        }
        for kind, values in sorted(stats.latencies.items())
    }


def report(
    run: Run, check: Check, config: Config, server: dict[str, object]
) -> dict[str, object]:
    requests = sum(len(v) for v in run.stats.latencies.values())
    errors = sum(run.stats.errors.values())
    votes = len(run.ledger.votes_acked)
    during = [s.lag for s in run.lag]
    offered_votes = config.participants / config.think
    return {
        "machine": machine(),
        "server": server,
        "config": asdict(config),
        "offered_rate": {
            "votes_per_second": round(offered_votes, 1),
            "round_status_polls_per_second": round(
                config.participants / config.status_every, 1
            ),
            "map_loads_per_second": round(
                config.participants * config.pollers / config.map_every, 1
            ),
            "proposals": round(config.participants * config.proposers),
        },
        "join": {
            "participants_joined": run.joined,
            "seconds": round(run.join_seconds, 2),
            "latency": latency_table(run.join_stats),
            "errors": dict(run.join_stats.errors),
        },
        "load": {
            "seconds": round(run.load_seconds, 2),
            "requests": requests,
            "requests_per_second": round(requests / run.load_seconds, 1),
            "votes_acknowledged": votes,
            "votes_per_second": round(votes / run.load_seconds, 1),
            "proposals_acknowledged": len(run.ledger.proposals_acked),
            "errors": errors,
            "error_rate": round(errors / max(requests + errors, 1), 5),
            "errors_by_kind": dict(sorted(run.stats.errors.items())),
            "reconnects": run.stats.reconnects,
            "start_delay_p99_ms": round(percentile(run.stats.late, 99), 1),
            "scheduled_not_sent": run.stats.not_sent,
            "latency": latency_table(run.stats),
            "cpu_seconds": {k: round(v, 1) for k, v in run.cpu.items()},
            "gunicorn_cpu_ms_per_request": round(
                1000 * run.cpu["gunicorn"] / max(requests, 1), 1
            ),
            "load_average_1min_at_end": os.getloadavg()[0],
        },
        "analysis_lag": {
            "samples": len(during),
            "max_s": round(max(during, default=0.0), 2),
            "p95_s": round(percentile(during, 95) / 1000, 2) if during else None,
            "p50_s": round(percentile(during, 50) / 1000, 2) if during else None,
            "catch_up_after_last_vote_s": None
            if run.catch_up_seconds is None
            else round(run.catch_up_seconds, 2),
            "series": [[round(s.at, 1), round(s.lag, 2)] for s in run.lag],
        },
        "stored_equals_sent": {**asdict(check), "ok": check.ok},
    }


def print_report(data: dict[str, object]) -> None:
    load, join, lag, check = (
        data["load"],
        data["join"],
        data["analysis_lag"],
        data["stored_equals_sent"],
    )
    assert isinstance(load, dict) and isinstance(join, dict)
    assert isinstance(lag, dict) and isinstance(check, dict)
    print(f"\nmachine: {data['machine']}")
    print(f"server:  {data['server']}")
    print(f"offered: {data['offered_rate']}")
    print(
        f"\n[join] {join['participants_joined']} joined in {join['seconds']} s; "
        f"errors {join['errors'] or 0}"
    )
    for kind, row in join["latency"].items():
        print(f"  {kind:34} {_row(row)}")
    print(
        f"\n[load] {load['seconds']} s: {load['requests']} requests "
        f"({load['requests_per_second']}/s), {load['votes_acknowledged']} votes "
        f"({load['votes_per_second']}/s), {load['proposals_acknowledged']} proposals"
    )
    for kind, row in load["latency"].items():
        print(f"  {kind:34} {_row(row)}")
    print(
        f"  errors {load['errors']} (rate {load['error_rate']}) "
        f"{load['errors_by_kind'] or ''}; reconnects {load['reconnects']}; "
        f"start delay p99 {load['start_delay_p99_ms']} ms; "
        f"scheduled but not sent {load['scheduled_not_sent']}"
    )
    print(
        f"  CPU seconds {load['cpu_seconds']} "
        f"(gunicorn {load['gunicorn_cpu_ms_per_request']} ms per request); "
        f"load average "
        f"{load['load_average_1min_at_end']:.2f}"
    )
    print(
        f"\n[analysis lag] during the load: p50 {lag['p50_s']} s, "
        f"p95 {lag['p95_s']} s, "
        f"max {lag['max_s']} s ({lag['samples']} samples); caught up "
        f"{lag['catch_up_after_last_vote_s']} s after the last vote"
    )
    verdict = "OK" if check["ok"] else "FAILED"
    print(
        f"\n[stored == sent] {verdict}: "
        + ", ".join(f"{k} {v}" for k, v in check.items() if k != "ok")
    )


def _row(row: dict[str, float]) -> str:
    return (
        f"n {row['count']:6}  p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f}  "
        f"p99 {row['p99_ms']:7.1f}  max {row['max_ms']:7.1f} ms"
    )


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = Config()
    for name, value in asdict(defaults).items():
        parser.add_argument(
            "--" + name.replace("_", "-"), type=type(value), default=value
        )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per process")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery processes")
    parser.add_argument(
        "--static-root", help="reuse collected static files (default: a temporary copy)"
    )
    args = parser.parse_args()
    config = Config(**{k: getattr(args, k) for k in asdict(defaults)})

    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.update(
        {
            "CELERY_BROKER_URL": redis_url,
            "CACHE_URL": redis_url,
            "ROUND_STATUS_POLL_SECONDS": str(round(config.status_every)),
        }
    )
    with tempfile.TemporaryDirectory(prefix="wb-load-static-") as temporary:
        static_root = args.static_root or temporary
        configure_environment(static_root)
        ensure_database(os.environ["DATABASE_URL"])
        manage("migrate", "--noinput", "-v0")
        manage("flush", "--noinput", "-v0")
        if not (Path(static_root) / "staticfiles.json").exists():
            manage("collectstatic", "--noinput", "-v0")
        flush_redis(redis_url)

        import django

        django.setup()
        plan = build_workshop(config)
        run = load_in_stack(
            plan,
            config,
            database_url=os.environ["DATABASE_URL"],
            workers=args.workers,
            threads=args.threads,
            concurrency=args.concurrency,
        )
        check = check_stored(plan, run.ledger)
    server_info = {
        "gunicorn": f"-k gthread --workers {args.workers} --threads {args.threads} "
        "--keep-alive 10 --max-requests 5000 --max-requests-jitter 500",
        "celery": f"worker --concurrency {args.concurrency} (prefork)",
        "broker_and_cache": redis_url,
    }
    data = report(run, check, config, server_info)
    print_report(data)
    OUTPUT.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nwrote {OUTPUT.relative_to(BASE_DIR)}")
    return 0 if check.ok and run.catch_up_seconds is not None else 1


if __name__ == "__main__":
    sys.exit(main())
