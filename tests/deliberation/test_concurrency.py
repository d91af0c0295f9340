"""Concurrent use loses nothing: real threads, each on its own PostgreSQL connection,
against the real services. Every vote is stored exactly once, the current vote is the
last one cast, a double submission counts once, two people sending the same words
store one principle, and nothing lands in a round after its close commits."""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from django.db import connection

from tests.factories import ParticipantFactory
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import (
    Participant,
    Principle,
    Round,
    Vote,
    VoteRecord,
)
from workbench.deliberation.selectors.principles import normalize_text
from workbench.deliberation.services.principles import (
    principle_propose,
    principle_seed,
)
from workbench.deliberation.services.rounds import round_close
from workbench.deliberation.services.votes import vote_cast

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'",
        reason="row locks and real concurrency need PostgreSQL",
    ),
]

EXTRA_SEEDS = (
    "Choose the response that admits when it does not know.",
    "Choose the response that treats every group of people fairly.",
    "Choose the response that a child could safely read.",
    "Choose the response that cites where its facts come from.",
    "Choose the response that refuses to help with violence.",
)
THREAD_TIMEOUT = 120


def run_lanes(lanes: Sequence[Sequence[Callable[[], object]]]) -> list[list[object]]:
    """Runs each lane in its own thread, its calls in order, all lanes released at once.

    Returns each call's result, or the exception it raised, lane by lane. Every thread
    closes its database connection, so the test database can be flushed afterwards.
    """
    barrier = threading.Barrier(len(lanes), timeout=THREAD_TIMEOUT)
    results: list[list[object]] = [[] for _ in lanes]

    def run(index: int) -> None:
        try:
            barrier.wait()
            for call in lanes[index]:
                try:
                    results[index].append(call())
                except Exception as exc:
                    results[index].append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(lanes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def errors(results: list[list[object]]) -> list[Exception]:
    return [r for lane in results for r in lane if isinstance(r, Exception)]


@dataclass(frozen=True)
class Submission:
    participant: Participant
    principle: Principle
    choice: int
    token: uuid.UUID

    def cast(self, round_: Round) -> Vote:
        return vote_cast(
            participant=self.participant,
            round_=round_,
            principle=self.principle,
            choice=self.choice,
            client_token=self.token,
        )


def assert_current_vote_is_last_record() -> None:
    """One Vote per (participant, principle) pair that has records, equal to the last
    record of that pair (the history is in commit order: ids come after the lock)."""
    last: dict[tuple[int, int], VoteRecord] = {}
    for record in VoteRecord.objects.order_by("id"):
        last[(record.participant_id, record.principle_id)] = record
    votes = {(v.participant_id, v.principle_id): v for v in Vote.objects.all()}
    assert votes.keys() == last.keys()
    for pair, record in last.items():
        assert (votes[pair].choice, votes[pair].cast_at) == (
            record.choice,
            record.cast_at,
        ), pair


@pytest.fixture
def principles(setup, owner) -> list[Principle]:
    extra = [
        principle_seed(workshop=setup.workshop, text=text, actor=owner)
        for text in EXTRA_SEEDS
    ]
    return [*setup.seeds, *extra]


def make_participants(setup, count: int) -> list[Participant]:
    groups = itertools.cycle([setup.group_a, setup.group_b])
    return [ParticipantFactory(group=next(groups)) for _ in range(count)]


def test_many_participants_voting_at_once_store_every_vote_once(
    setup, vote_round, principles
):
    """40 participants x 8 principles on 16 connections, with resubmitted forms
    (same token) and changed minds (new token) mixed in at random."""
    rng = random.Random(1)
    submissions = []
    for participant in make_participants(setup, 40):
        for principle in principles:
            first = Submission(
                participant, principle, rng.choice([1, -1, 0]), uuid.uuid4()
            )
            submissions.append(first)
            if rng.random() < 0.25:
                submissions.append(first)  # the same form posted again
            if rng.random() < 0.25:
                submissions.append(
                    Submission(participant, principle, -first.choice or 1, uuid.uuid4())
                )
    rng.shuffle(submissions)
    lanes = [
        [lambda s=s: s.cast(vote_round) for s in submissions[i::16]] for i in range(16)
    ]

    results = run_lanes(lanes)

    assert errors(results) == []
    assert VoteRecord.objects.count() == len({s.token for s in submissions})
    assert set(VoteRecord.objects.values_list("client_token", flat=True)) == {
        s.token for s in submissions
    }
    assert Vote.objects.count() == 40 * len(principles)
    assert_current_vote_is_last_record()


def test_double_submissions_at_once_are_stored_once(setup, vote_round, principles):
    """Four forms, each posted by four threads at the same moment, six times over with
    a new token and choice each time: the history is exactly the six submissions."""
    participants = make_participants(setup, 4)
    steps = 6
    plans = [
        [
            Submission(p, principles[k], choice, uuid.uuid4())
            for choice in ([1, -1, 0] * 3)[k % 3 : k % 3 + steps]
        ]
        for k, p in enumerate(participants)
    ]
    step_barrier = threading.Barrier(16, timeout=THREAD_TIMEOUT)

    def in_step(submission: Submission) -> Callable[[], object]:
        def call() -> object:
            step_barrier.wait()  # the previous step has finished in every thread
            return submission.cast(vote_round)

        return call

    lanes = [[in_step(s) for s in plan] for plan in plans for _ in range(4)]

    results = run_lanes(lanes)

    assert errors(results) == []
    for lane, plan in zip(results, [p for p in plans for _ in range(4)], strict=True):
        assert [vote.choice for vote in lane] == [s.choice for s in plan]
    assert VoteRecord.objects.count() == 4 * steps
    for plan in plans:
        history = VoteRecord.objects.filter(
            participant=plan[0].participant, principle=plan[0].principle
        ).order_by("id")
        assert [(r.client_token, r.choice) for r in history] == [
            (s.token, s.choice) for s in plan
        ]
    assert Vote.objects.count() == 4
    assert_current_vote_is_last_record()


def test_conflicting_revotes_by_one_participant_keep_the_last(
    setup, vote_round, principles, participant_a
):
    """One participant changing their mind on two principles from eight tabs at once:
    every submission is in the history and the current vote is the last one."""
    step_barrier = threading.Barrier(8, timeout=THREAD_TIMEOUT)

    def submit(principle: Principle, choice: int) -> Callable[[], object]:
        def call() -> object:
            step_barrier.wait()
            return Submission(participant_a, principle, choice, uuid.uuid4()).cast(
                vote_round
            )

        return call

    lanes = [
        [
            submit(principles[lane % 2], [1, -1, 0][(lane + step) % 3])
            for step in range(5)
        ]
        for lane in range(8)
    ]

    results = run_lanes(lanes)

    assert errors(results) == []
    assert VoteRecord.objects.count() == 40
    assert Vote.objects.count() == 2
    assert_current_vote_is_last_record()
    cast_times = list(
        VoteRecord.objects.order_by("id").values_list("cast_at", flat=True)
    )
    assert cast_times == sorted(cast_times)


def test_same_proposal_from_many_participants_at_once_is_stored_once(
    setup, propose_round
):
    """Eight participants send the same three principles at the same moments (spacing
    and case differ): one of each is stored, the others are told it is a duplicate."""
    participants = make_participants(setup, 8)
    texts = [
        "Choose the response that protects whistleblowers.",
        "Choose the response that keeps medical records confidential.",
        "Choose the response that avoids flattering the user.",
    ]
    step_barrier = threading.Barrier(8, timeout=THREAD_TIMEOUT)

    def propose(participant: Participant, text: str) -> Callable[[], object]:
        def call() -> object:
            step_barrier.wait()
            return principle_propose(
                participant=participant, round_=propose_round, text=text
            )

        return call

    lanes = [
        [propose(p, text.upper() if i % 2 else f"  {text} ") for text in texts]
        for i, p in enumerate(participants)
    ]

    results = run_lanes(lanes)

    stored = [r for lane in results for r in lane if isinstance(r, Principle)]
    refused = errors(results)
    assert len(stored) == len(texts)
    assert len(refused) == len(texts) * (len(participants) - 1)
    assert all(
        type(e) is ApplicationError and "already been proposed" in str(e)
        for e in refused
    )
    for text in texts:
        matching = [
            p
            for p in Principle.objects.filter(workshop=setup.workshop)
            if normalize_text(p.text) == normalize_text(text)
        ]
        assert len(matching) == 1


def test_no_vote_is_stored_after_the_round_close_commits(
    setup, owner, vote_round, principles
):
    """Twelve threads keep voting, through Round objects read before the close, while
    the facilitator closes the round: votes either commit before the close or are
    refused, and the count taken right after the close is final."""
    participants = make_participants(setup, 24)
    pairs = list(itertools.product(participants, principles)) * 3  # with re-votes
    random.Random(2).shuffle(pairs)
    closed: dict[str, object] = {}

    def close_when_voting_is_under_way() -> object:
        deadline = time.monotonic() + 30
        while VoteRecord.objects.count() < 50 and time.monotonic() < deadline:
            time.sleep(0.005)
        round_close(round_=vote_round, actor=owner)
        closed["count"] = VoteRecord.objects.count()
        return None

    vote_lanes = [
        [
            lambda p=p, q=q, c=c: Submission(p, q, c, uuid.uuid4()).cast(vote_round)
            for (p, q), c in zip(pairs[i::12], itertools.cycle([1, -1, 0]))
        ]
        for i in range(12)
    ]

    results = run_lanes([*vote_lanes, [close_when_voting_is_under_way]])

    refused = errors(results)
    stored = VoteRecord.objects.count()
    assert stored == closed["count"]
    assert 0 < stored < len(pairs)
    assert refused, "no vote raced the close"
    assert all(
        isinstance(e, ApplicationError) and "closed" in str(e) for e in refused
    ), refused[:3]
    assert stored + len(refused) == len(pairs)
    vote_round.refresh_from_db()
    assert vote_round.closed_at is not None
    assert not VoteRecord.objects.filter(cast_at__gt=vote_round.closed_at).exists()
    assert_current_vote_is_last_record()


def test_a_vote_form_posted_from_four_threads_at_once_is_stored_once(
    setup, vote_round, principles
):
    """Through the whole stack (middleware, CSRF, the view): six participants each
    post the same form, with the same client_token, from four browsers at once."""
    from django.urls import reverse

    from tests.conftest import participant_client

    url = reverse(
        "deliberation:participant-vote", args=[setup.workshop.slug, vote_round.pk]
    )
    forms = []
    for k, participant in enumerate(make_participants(setup, 6)):
        page = participant_client(participant)
        page.handler.enforce_csrf_checks = True
        csrf = page.get(url).context["csrf_token"]
        data = {
            "csrfmiddlewaretoken": str(csrf),
            "principle": principles[k].pk,
            "choice": [1, -1, 0][k % 3],
            "client_token": str(uuid.uuid4()),
        }
        forms.append((participant, page.cookies, data))

    def post(participant: Participant, cookies, data) -> Callable[[], object]:
        browser = participant_client(participant)
        browser.handler.enforce_csrf_checks = True
        browser.cookies = cookies.copy()
        return lambda: browser.post(url, data).status_code

    lanes = [[post(*form)] for form in forms for _ in range(4)]

    results = run_lanes(lanes)

    assert [lane[0] for lane in results] == [303] * len(lanes)
    assert VoteRecord.objects.count() == len(forms)
    for participant, _, data in forms:
        record = VoteRecord.objects.get(participant=participant)
        assert str(record.client_token) == data["client_token"]
        vote = Vote.objects.get(participant=participant)
        assert (vote.principle_id, vote.choice) == (data["principle"], data["choice"])
    assert_current_vote_is_last_record()
