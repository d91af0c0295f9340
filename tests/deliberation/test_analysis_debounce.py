"""Votes and moderation schedule the analysis after commit, debounced: one
enqueue per workshop per window, at the task boundary (STYLE.md 27)."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from tests.factories import ParticipantFactory
from workbench.deliberation.models import Round, VoteChoice, WorkshopAnalysis
from workbench.deliberation.selectors.analysis import analysis_latest
from workbench.deliberation.services.analysis import (
    DEBOUNCE_SECONDS,
    analysis_request,
)
from workbench.deliberation.services.principles import principle_propose
from workbench.deliberation.services.votes import vote_cast
from workbench.deliberation.tasks import analysis_refresh_task


@pytest.fixture(autouse=True)
def _no_pending_flags():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def enqueue():
    with mock.patch.object(analysis_refresh_task, "apply_async") as patched:
        yield patched


def _vote_many(setup, round_, n):
    for _ in range(n):
        participant = ParticipantFactory(group=setup.group_a)
        for principle in setup.seeds:
            vote_cast(
                participant=participant,
                round_=round_,
                principle=principle,
                choice=VoteChoice.AGREE,
            )


def test_many_votes_enqueue_one_run_after_commit(
    setup, vote_round, enqueue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _vote_many(setup, vote_round, 10)
    assert enqueue.call_count == 0  # nothing before commit
    for callback in callbacks:
        callback()
    enqueue.assert_called_once_with(
        args=(setup.workshop.pk,),
        kwargs={"pending": cache.get(f"analysis-pending:{setup.workshop.pk}")},
        countdown=DEBOUNCE_SECONDS,
    )


def test_a_vote_after_the_run_started_schedules_another(
    setup, vote_round, enqueue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _vote_many(setup, vote_round, 2)
    assert enqueue.call_count == 1
    with mock.patch(
        "workbench.deliberation.tasks.analysis_refresh"
    ) as refresh:  # the run itself is the service's business
        analysis_refresh_task(
            *enqueue.call_args.kwargs["args"], **enqueue.call_args.kwargs["kwargs"]
        )
    refresh.assert_called_once()
    with django_capture_on_commit_callbacks(execute=True):
        _vote_many(setup, vote_round, 1)
    assert enqueue.call_count == 2


def test_the_flag_expires_with_the_window(setup, vote_round, enqueue, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    assert analysis_request(workshop_id=setup.workshop.pk)
    assert not analysis_request(workshop_id=setup.workshop.pk)
    time_machine.shift(DEBOUNCE_SECONDS + 1)
    assert analysis_request(workshop_id=setup.workshop.pk)
    assert enqueue.call_count == 2


def test_each_workshop_has_its_own_window(enqueue):
    assert analysis_request(workshop_id=1)
    assert analysis_request(workshop_id=2)
    assert not analysis_request(workshop_id=1)
    assert enqueue.call_count == 2


def test_an_unreachable_broker_loses_the_request_not_the_vote(
    setup, vote_round, participant_a, django_capture_on_commit_callbacks
):
    with mock.patch.object(
        analysis_refresh_task, "apply_async", side_effect=OSError("broker down")
    ) as failing:
        for principle in setup.seeds[:2]:
            with django_capture_on_commit_callbacks(execute=True):
                vote_cast(
                    participant=participant_a,
                    round_=vote_round,
                    principle=principle,
                    choice=VoteChoice.AGREE,
                )
    # Each failure cleared the flag, so the second vote tried again.
    assert failing.call_count == 2
    assert participant_a.votes.count() == 2


def test_a_resubmitted_form_enqueues_nothing(
    setup, vote_round, participant_a, enqueue, django_capture_on_commit_callbacks
):
    token = "6f1c3c52-2f0a-4f7e-9d7a-0b1b9b0e7c11"
    vote_cast(
        participant=participant_a,
        round_=vote_round,
        principle=setup.seeds[0],
        choice=VoteChoice.AGREE,
        client_token=token,
    )
    with django_capture_on_commit_callbacks() as callbacks:
        vote_cast(
            participant=participant_a,
            round_=vote_round,
            principle=setup.seeds[0],
            choice=VoteChoice.AGREE,
            client_token=token,
        )
    assert callbacks == []


def test_proposals_and_moderation_schedule_a_run(
    setup, owner, participant_a, enqueue, django_capture_on_commit_callbacks
):
    from workbench.deliberation.services.rounds import round_create, round_open

    propose = round_open(
        round_=round_create(workshop=setup.workshop, kind=Round.Kind.PROPOSE),
        actor=owner,
    )
    with django_capture_on_commit_callbacks(execute=True):
        principle_propose(
            participant=participant_a, round_=propose, text="Admit your mistakes."
        )
    assert enqueue.call_count == 1


def test_the_task_runs_the_service_once_and_is_idempotent(setup, vote_round):
    _vote_many(setup, vote_round, 3)
    analysis_refresh_task(setup.workshop.pk)
    analysis_refresh_task(setup.workshop.pk)  # a duplicate or redelivery
    runs = WorkshopAnalysis.objects.filter(workshop=setup.workshop)
    assert runs.count() == 1
    assert runs.get().n_votes == 9


def test_the_task_ignores_a_deleted_workshop(db):
    analysis_refresh_task(123456)
    assert not WorkshopAnalysis.objects.exists()


# The race the load test saw (docs/reliability.md "Load"): two runs 0.1-0.4 s apart
# on the same votes. A small event loop plays the broker and the worker on a frozen
# clock, so the order of flag expiry, votes and task starts is exact.

WORKER_LATENCY = 0.02  # a due task starts this long after its countdown ends


@pytest.fixture
def broker():
    """The scheduled runs as (due time, apply_async's arguments)."""
    queue: list[tuple[float, dict]] = []

    def apply_async(**call):
        queue.append((time.time() + call["countdown"], call))

    with mock.patch.object(analysis_refresh_task, "apply_async", apply_async):
        yield queue


def _start_due(queue, time_machine, *, until: float) -> list[float]:
    """Starts, in due order, every run due by `until`, each WORKER_LATENCY after it
    is due, as the worker would; returns when they started."""
    started = []
    while queue and min(due for due, _ in queue) <= until:
        item = min(queue, key=lambda queued: queued[0])
        queue.remove(item)
        due, call = item
        time_machine.move_to(due + WORKER_LATENCY, tick=False)
        started.append(time.time())
        analysis_refresh_task(*call["args"], **call.get("kwargs", {}))
    return started


def test_a_vote_just_before_a_run_starts_does_not_start_two_runs_later(
    setup,
    vote_round,
    participant_a,
    participant_b,
    broker,
    time_machine,
    django_capture_on_commit_callbacks,
):
    start = timezone.now().timestamp()
    votes = [
        (0.0, participant_a, 0),
        (1.0, participant_a, 1),
        # The flag has expired (at 3.0) but the run due at 3.0 has not started yet
        # (it starts at 3.02): this vote schedules the next window's run, which the
        # first run must leave scheduled, flag and all.
        (DEBOUNCE_SECONDS + 0.01, participant_a, 2),
        # After the first run started: covered by the next window's run.
        (DEBOUNCE_SECONDS + 0.1, participant_b, 0),
        (DEBOUNCE_SECONDS + 0.2, participant_b, 1),
    ]
    started: list[float] = []
    last_vote = 0.0
    for at, participant, seed in votes:
        started += _start_due(broker, time_machine, until=start + at - WORKER_LATENCY)
        time_machine.move_to(start + at, tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            vote_cast(
                participant=participant,
                round_=vote_round,
                principle=setup.seeds[seed],
                choice=VoteChoice.AGREE,
            )
        last_vote = time.time()
    started += _start_due(broker, time_machine, until=float("inf"))

    # One run per window, at 3.02 and 6.03; before the fix a third started at
    # 6.12, on the same votes as the second.
    assert [at - start for at in started] == pytest.approx(
        [
            DEBOUNCE_SECONDS + WORKER_LATENCY,
            DEBOUNCE_SECONDS * 2 + 0.01 + WORKER_LATENCY,
        ],
        abs=0.001,
    )
    # No vote left out: the last run started after the last vote and saw them all.
    assert started[-1] > last_vote
    assert analysis_latest(workshop=setup.workshop).n_votes == len(votes)


def test_a_run_clears_only_the_flag_that_scheduled_it(setup, broker, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    assert analysis_request(workshop_id=setup.workshop.pk)
    ((_, first),) = broker
    time_machine.shift(DEBOUNCE_SECONDS + 0.01)  # expired, the run not yet started
    assert analysis_request(workshop_id=setup.workshop.pk)
    analysis_refresh_task(*first["args"], **first["kwargs"])
    assert not analysis_request(workshop_id=setup.workshop.pk)  # still pending
    (_, second) = broker[1]
    analysis_refresh_task(*second["args"], **second["kwargs"])
    assert analysis_request(workshop_id=setup.workshop.pk)  # its own: cleared
    assert len(broker) == 3
