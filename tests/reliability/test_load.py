"""Issue 7's load test (scripts/bench_load.py) at small scale, on the test database:
60 participants in 3 groups join over HTTP, vote, propose and poll the results pages
for 5 s against a real gunicorn and a real Celery worker, Redis as broker and cache.
Every vote and proposal the server acknowledged must be stored exactly once, and the
stored analysis must catch up with the last vote."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.worker import _database_url, _prepare_broker
from workbench.deliberation.models import Vote, WorkshopAnalysis

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import bench_load  # the script directory is on the path (above)

CONFIG = bench_load.Config(
    participants=60,
    groups=3,
    principles=12,
    duration=5.0,
    think=2.0,  # ~30 votes/s offered
    join_rate=60.0,
    proposers=0.1,
    pollers=0.2,
    map_every=2.0,
    status_every=2.0,
    facilitator_every=0.5,
)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_no_vote_is_lost_or_duplicated_and_the_analysis_catches_up(monkeypatch):
    started = time.monotonic()
    broker = _prepare_broker()
    database_url = _database_url()
    # The servers' environment: the test database, Redis as broker and as the cache
    # (shared by gunicorn and the worker, as in production). DEBUG=1 only so that
    # gunicorn serves the static files without a minute of collectstatic.
    for name, value in {
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "CACHE_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
        "PASSWORD_HASHERS": ",".join(settings.PASSWORD_HASHERS),
    }.items():
        monkeypatch.setenv(name, value)
    plan = bench_load.build_workshop(CONFIG)

    run = bench_load.load_in_stack(
        plan, CONFIG, database_url=database_url, workers=1, threads=4, concurrency=1
    )
    check = bench_load.check_stored(plan, run.ledger)

    assert run.joined == CONFIG.participants
    assert not run.join_stats.errors
    assert not run.stats.errors, run.stats.errors
    # The load really ran: votes on the participants' cards, proposals, and the
    # results pages answered while it did.
    assert check.votes_acknowledged >= 75
    assert check.proposals_acknowledged >= 3
    for kind in (
        "analysis poll (facilitator)",
        "live results poll (facilitator)",
        "opinion map (results)",
        "round status poll",
    ):
        assert run.stats.latencies[kind], kind
    # Stored == sent: every acknowledged vote is one VoteRecord, nothing else is,
    # each pair's Vote row holds the last acknowledged choice; the same for the
    # proposals.
    assert check.ok, check
    assert check.vote_records_stored == check.votes_acknowledged
    assert check.missing == check.extra == check.duplicated == 0
    assert check.wrong_current_vote == 0
    assert check.proposals_stored == check.proposals_acknowledged
    # The worker analysed the votes during the load and caught up after the last.
    assert run.lag, "no lag sample was taken"
    assert run.catch_up_seconds is not None, "the analysis never caught up"
    assert run.catch_up_seconds < 15
    latest = WorkshopAnalysis.objects.filter(
        workshop_id=plan.workshop_id, error=""
    ).first()
    assert latest is not None
    assert latest.n_votes == Vote.objects.filter(round_id=plan.vote_round).count()
    assert time.monotonic() - started < 40
