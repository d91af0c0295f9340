"""Votes and moderation schedule the analysis after commit, debounced: one
enqueue per workshop per window, at the task boundary (STYLE.md 27)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from tests.factories import ParticipantFactory
from workbench.deliberation.models import Round, VoteChoice, WorkshopAnalysis
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
        args=(setup.workshop.pk,), countdown=DEBOUNCE_SECONDS
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
        analysis_refresh_task(setup.workshop.pk)
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
