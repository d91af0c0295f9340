"""End to end with a real Celery worker: votes cast through the service are
analysed by the worker a few seconds later, outside any request."""

from __future__ import annotations

import time

import pytest

from tests.factories import ParticipantFactory
from tests.worker import live_worker  # noqa: F401 - the fixture, used by name
from workbench.deliberation.models import VoteChoice, WorkshopAnalysis
from workbench.deliberation.services.votes import vote_cast

TIMEOUT = 30.0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("live_worker")
def test_votes_are_analysed_by_a_worker_soon_after(setup, vote_round):
    voters = [
        ParticipantFactory(group=group)
        for group in (setup.group_a, setup.group_b)
        for _ in range(3)
    ]
    choices = [VoteChoice.AGREE, VoteChoice.DISAGREE, VoteChoice.PASS]
    for i, participant in enumerate(voters):
        for j, principle in enumerate(setup.seeds):
            vote_cast(
                participant=participant,
                round_=vote_round,
                principle=principle,
                choice=choices[(i + j) % 3],
            )
    expected = len(voters) * len(setup.seeds)
    deadline = time.monotonic() + TIMEOUT
    analysis = None
    while time.monotonic() < deadline:
        analysis = (
            WorkshopAnalysis.objects.filter(workshop=setup.workshop, n_votes=expected)
            .order_by("-computed_at")
            .first()
        )
        if analysis is not None:
            break
        time.sleep(0.25)
    assert analysis is not None, "no analysis of every vote within 30 s"
    assert analysis.error == ""
    assert analysis.result["n_participants"] == len(voters)
    assert sum(p["agree"] for p in analysis.result["principles"]) == expected // 3
