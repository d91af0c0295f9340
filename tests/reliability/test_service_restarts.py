"""PostgreSQL and Redis restarted in the middle of a voting session (issue 7).

Participants vote over HTTP against gunicorn in the production configuration,
each vote a real form post with its CSRF token and a client_token, while the
test restarts a private PostgreSQL or Redis (private_services.py: the shared
servers on 5432 and 6379 are never touched).

- PostgreSQL down: every request fails cleanly (503, Retry-After, the message
  that nothing was saved, in the page's language; for HTMX the message alone),
  never a 500 page. A participant sends a refused vote again, as the page tells
  them, until it is stored. After the restart every vote that was answered with
  success is stored exactly once, and so is every vote sent again.
- Redis down (cache and broker): votes do not fail at all, since they live in
  PostgreSQL; the analysis they would have scheduled is scheduled by the first
  vote after Redis is back.

Each test prints its figures (outage length, 503s, successes, time from the
restart to the first stored vote); docs/reliability.md records them.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import requests

from tests.reliability.private_services import (
    Gunicorn,
    PrivatePostgres,
    PrivateRedis,
    build_vote_workshop,
    gunicorn,
    manage,
    private_postgres,
    private_redis,
    production_env,
)
from workbench.deliberation.services.analysis import DEBOUNCE_SECONDS

PARTICIPANTS = 6
PRINCIPLES = 24
VOTE_GAP_S = 0.08  # a participant's pause between two votes
RETRY_GAP_S = 0.1  # and before sending a refused vote again
DOWN_S = 1.5  # how long PostgreSQL stays stopped
# Redis stays down past the analysis debounce window (3 s), so that votes during
# the outage also try to schedule a run; its voters are slower to outlast it.
REDIS_DOWN_S = DEBOUNCE_SECONDS + 1.0
REDIS_VOTE_GAP_S = 0.25
ACKNOWLEDGED_BEFORE_FAULT = 30
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MESSAGES = {
    "en": "The workbench cannot reach its database right now.",
    "es": "El workbench no puede acceder a su base de datos en este momento.",
    "de": "Die Workbench kann ihre Datenbank gerade nicht erreichen.",
}


@dataclass
class Services:
    postgres: PrivatePostgres
    redis: PrivateRedis

    def env(self, *, redis_cache: bool = True) -> dict[str, str]:
        return production_env(
            database_url=self.postgres.url(),
            cache_url=self.redis.url(0) if redis_cache else None,
            broker_url=self.redis.url(1),
        )


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    """A private PostgreSQL with the schema migrated, once for the module, and a
    private Redis."""
    with private_postgres() as postgres, private_redis() as redis:
        stack = Services(postgres, redis)
        manage(stack.env(), "migrate", "--noinput")
        yield stack


@dataclass
class Answer:
    sent_at: float
    seconds: float
    status: int
    ok: bool
    token: str
    participant: int
    principle: int


@dataclass
class Session:
    """What every participant sent and what came back."""

    answers: list[Answer] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    sent: set[str] = field(default_factory=set)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)
            self.sent.add(answer.token)
            if answer.ok:
                self.acknowledged.add(answer.token)


def participant_session(server: Gunicorn, plan: dict, cookie: str) -> requests.Session:
    http = requests.Session()
    http.cookies.set(str(plan["cookie_name"]), cookie, domain="127.0.0.1")
    return http


def vote_page(server: Gunicorn, plan: dict) -> str:
    return f"{server.base}/w/{plan['slug']}/rounds/{plan['round_pk']}/vote/"


def load_token(http: requests.Session, url: str) -> str:
    page = http.get(url, timeout=30)
    assert page.status_code == 200, page.text[:500]
    found = CSRF_FIELD.search(page.text)
    assert found is not None
    return found.group(1)


def check_outage_answer(response: requests.Response, *, fragment: bool) -> None:
    """A clean refusal: 503, Retry-After, the message; no error page, no trace."""
    assert response.status_code == 503, response.text[:500]
    assert int(response.headers["Retry-After"]) > 0
    assert MESSAGES["en"] in response.text
    assert "was not saved" in response.text
    assert "Traceback" not in response.text
    assert "Server Error" not in response.text
    assert ("<html" in response.text) is not fragment


def voter(
    server: Gunicorn,
    plan: dict,
    index: int,
    session: Session,
    *,
    deadline: float,
    vote_gap: float,
) -> None:
    """Votes on every principle once, in a participant's own order; a vote
    refused with a 503 is sent again, with the same client_token (the same form,
    as the Back button returns it), until it is stored."""
    url = vote_page(server, plan)
    http = participant_session(server, plan, plan["cookies"][index])
    csrf = load_token(http, url)
    principles = list(plan["principles"])
    principles = principles[index:] + principles[:index]
    for n, principle in enumerate(principles):
        token = str(uuid.uuid4())
        form = {
            "csrfmiddlewaretoken": csrf,
            "principle": principle,
            "choice": (1, -1, 0)[(index + n) % 3],
            "client_token": token,
        }
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                response = http.post(url, data=form, allow_redirects=False, timeout=30)
            except requests.RequestException as exc:
                session.unexpected.append(f"{type(exc).__name__}: {exc}")
                time.sleep(RETRY_GAP_S)
                continue
            # A stored vote: 303 back to the page, no `messages` cookie (a refused
            # one carries its reason in it).
            ok = response.status_code == 303 and "messages" not in response.cookies
            session.record(
                Answer(
                    started,
                    time.monotonic() - started,
                    response.status_code,
                    ok,
                    token,
                    index,
                    principle,
                )
            )
            if ok:
                break
            if response.status_code != 503:
                session.unexpected.append(
                    f"{response.status_code}: {response.text[:300]}"
                )
                break
            try:
                check_outage_answer(response, fragment=False)
            except AssertionError as exc:
                session.unexpected.append(f"not a clean 503: {exc}")
                break
            time.sleep(RETRY_GAP_S)
        time.sleep(vote_gap)


def run_session(
    server: Gunicorn,
    plan: dict,
    fault: Callable[[Session], None],
    *,
    vote_gap: float = VOTE_GAP_S,
) -> Session:
    """Every participant votes in its own thread; `fault` runs in this one once
    ACKNOWLEDGED_BEFORE_FAULT votes are stored."""
    session = Session()
    deadline = time.monotonic() + 45
    threads = [
        threading.Thread(
            target=voter,
            args=(server, plan, i, session),
            kwargs={"deadline": deadline, "vote_gap": vote_gap},
        )
        for i in range(PARTICIPANTS)
    ]
    for thread in threads:
        thread.start()
    try:
        while len(session.acknowledged) < ACKNOWLEDGED_BEFORE_FAULT:
            assert time.monotonic() < deadline, session.unexpected
            assert any(t.is_alive() for t in threads), session.unexpected
            time.sleep(0.01)
        fault(session)
    finally:
        for thread in threads:
            thread.join(timeout=60)
    return session


def stored_tokens(postgres: PrivatePostgres, round_pk: int) -> Counter[str]:
    rows = postgres.execute(
        "SELECT client_token::text, count(*) FROM deliberation_voterecord "
        "WHERE round_id = %s GROUP BY 1",
        [round_pk],
    )
    return Counter({str(token): int(count) for token, count in rows})  # type: ignore[call-overload]


def check_every_vote_stored_once(
    services: Services, plan: dict, session: Session
) -> Counter[str]:
    assert not session.unexpected, session.unexpected[:5]
    stored = stored_tokens(services.postgres, int(plan["round_pk"]))
    assert set(stored.values()) == {1}  # nothing twice
    assert session.acknowledged <= set(stored)  # nothing acknowledged lost
    # Every vote was sent until it was stored: all of them are, and no other.
    assert set(stored) == session.sent == session.acknowledged
    assert len(stored) == PARTICIPANTS * PRINCIPLES
    (current,) = services.postgres.execute(
        "SELECT count(*) FROM deliberation_vote WHERE round_id = %s",
        [plan["round_pk"]],
    )
    assert current[0] == PARTICIPANTS * PRINCIPLES
    return stored


def figures(session: Session, down_from: float, up_at: float) -> dict[str, float]:
    """Counts over the session; "while down" are the answers to requests sent
    while the server was stopped (after its stop returned, before its start)."""
    refused = [a for a in session.answers if a.status == 503]
    after = [a for a in session.answers if a.ok and a.sent_at >= up_at]
    first = min(a.sent_at + a.seconds for a in after) if after else float("nan")
    during = [a for a in session.answers if down_from <= a.sent_at < up_at]
    return {
        "answers": len(session.answers),
        "stored": len(session.acknowledged),
        "refused_503": len(refused),
        "answers_while_down": len(during),
        "ok_while_down": sum(a.ok for a in during),
        "max_answer_s_while_down": max((a.seconds for a in during), default=0.0),
        "answers_over_0.3_s_while_down": sum(a.seconds > 0.3 for a in during),
        "restart_to_first_stored_vote_s": first - up_at,
    }


def test_a_postgresql_restart_refuses_cleanly_and_loses_no_vote(services):
    env = services.env()
    plan = build_vote_workshop(
        env,
        title="PostgreSQL restart",
        participants=PARTICIPANTS,
        principles=PRINCIPLES,
    )
    timings: dict[str, float] = {}
    probes: dict[str, requests.Response] = {}

    with gunicorn(env) as server:
        url = vote_page(server, plan)
        probe = participant_session(server, plan, plan["cookies"][0])
        csrf = load_token(probe, url)

        def restart(session: Session) -> None:
            timings["stop"] = time.monotonic()
            services.postgres.stop("fast")
            timings["stopped"] = time.monotonic()
            # While it is down: a page, an HTMX vote, the page in Spanish and German.
            probes["page"] = probe.get(url, timeout=30)
            probes["htmx"] = probe.post(
                url,
                data={
                    "csrfmiddlewaretoken": csrf,
                    "principle": plan["principles"][0],
                    "choice": 1,
                    "client_token": str(uuid.uuid4()),
                },
                headers={"HX-Request": "true"},
                timeout=30,
            )
            for language in ("es", "de"):
                probes[language] = probe.get(
                    url, headers={"Accept-Language": language}, timeout=30
                )
            time.sleep(max(0.0, DOWN_S - (time.monotonic() - timings["stopped"])))
            timings["start"] = time.monotonic()
            services.postgres.start()
            timings["started"] = time.monotonic()

        session = run_session(server, plan, restart)
        # A stored vote's form sent again (a double click, a resend after a 503
        # whose commit went through): answered as stored, not stored twice.
        mine = [a for a in session.answers if a.ok and a.participant == 0]
        for answer in mine[:5]:
            again = probe.post(
                url,
                data={
                    "csrfmiddlewaretoken": csrf,
                    "principle": answer.principle,
                    "choice": 1,
                    "client_token": answer.token,
                },
                allow_redirects=False,
                timeout=30,
            )
            assert again.status_code == 303 and "messages" not in again.cookies
        log = server.output()

    check_outage_answer(probes["page"], fragment=False)
    check_outage_answer(probes["htmx"], fragment=True)
    for language in ("es", "de"):
        assert probes[language].status_code == 503
        assert MESSAGES[language] in probes[language].text
        assert f'lang="{language}"' in probes[language].text
    assert "Internal Server Error" not in log  # django.request logs every 500

    check_every_vote_stored_once(services, plan, session)
    result = figures(session, timings["stopped"], timings["start"])
    result["restart_to_first_stored_vote_s"] = figures(
        session, timings["stopped"], timings["started"]
    )["restart_to_first_stored_vote_s"]
    result["stop_s"] = timings["stopped"] - timings["stop"]
    result["start_s"] = timings["started"] - timings["start"]
    result["outage_s"] = timings["started"] - timings["stop"]
    print(f"\nPostgreSQL restart: {result}")
    assert result["refused_503"] >= PARTICIPANTS  # the outage was seen
    assert result["ok_while_down"] == 0
    assert result["restart_to_first_stored_vote_s"] < 2.0


@pytest.mark.parametrize("redis_cache", [True, False], ids=["cache+broker", "broker"])
def test_a_redis_restart_does_not_fail_a_vote(services, redis_cache):
    """Redis holds the cache (the analysis debounce flag) and the broker, never a
    vote: while it is down votes are stored and answered as usual."""
    env = services.env(redis_cache=redis_cache)
    plan = build_vote_workshop(
        env, title="Redis restart", participants=PARTICIPANTS, principles=PRINCIPLES
    )
    timings: dict[str, float] = {}
    broker = services.redis.client(1)

    with gunicorn(env) as server:

        def restart(session: Session) -> None:
            timings["stop"] = time.monotonic()
            services.redis.stop()
            timings["stopped"] = time.monotonic()
            time.sleep(REDIS_DOWN_S)
            timings["start"] = time.monotonic()
            services.redis.start()
            timings["started"] = time.monotonic()
            timings["stored_at_restart"] = len(session.acknowledged)

        session = run_session(server, plan, restart, vote_gap=REDIS_VOTE_GAP_S)
        stored = check_every_vote_stored_once(services, plan, session)
        # Redis came back empty (no persistence): the analysis run scheduled
        # before was lost with it. The first vote once no flag holds the debounce
        # window (which may have been set in the process's own cache before the
        # outage) schedules another.
        time.sleep(
            max(0.0, timings["started"] + DEBOUNCE_SECONDS + 0.5 - time.monotonic())
        )
        probe = participant_session(server, plan, plan["cookies"][0])
        url = vote_page(server, plan)
        changed = probe.post(
            url,
            data={
                "csrfmiddlewaretoken": load_token(probe, url),
                "principle": plan["principles"][0],
                "choice": -1,
                "client_token": str(uuid.uuid4()),
            },
            allow_redirects=False,
            timeout=30,
        )
        assert changed.status_code == 303 and "messages" not in changed.cookies
        queued = broker.llen("celery")

    assert all(a.ok for a in session.answers), Counter(
        a.status for a in session.answers
    )
    assert len(stored) == PARTICIPANTS * PRINCIPLES
    result = figures(session, timings["stopped"], timings["start"])
    result["outage_s"] = timings["started"] - timings["stop"]
    print(f"\nRedis restart ({'cache+broker' if redis_cache else 'broker'}): {result}")
    assert result["answers_while_down"] >= PARTICIPANTS  # votes were sent meanwhile
    assert result["refused_503"] == 0
    assert timings["stored_at_restart"] < PARTICIPANTS * PRINCIPLES
    assert queued >= 1
    broker.flushdb()
