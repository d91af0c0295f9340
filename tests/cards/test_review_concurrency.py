"""Reviews under real concurrency: threads on their own PostgreSQL connections."""

from __future__ import annotations

import pytest
from django.db import connection  # noqa: F401  (read by the skipif condition)

from tests.deliberation.test_concurrency import run_lanes
from tests.factories import ParticipantFactory
from workbench.cards.models import CardReview
from workbench.cards.services.review import card_review_submit
from workbench.deliberation.models import Round
from workbench.deliberation.services.rounds import (
    round_close,
    round_create,
    round_open,
    round_set_shortlist,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'",
        reason="row locks and real concurrency need PostgreSQL",
    ),
]


@pytest.fixture
def review_round(setup, owner) -> Round:
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.REVIEW)
    round_set_shortlist(round_=round_, principles=setup.seeds)
    return round_open(round_=round_, actor=owner)


def test_two_submissions_at_once_store_one_review(setup, review_round):
    participant = ParticipantFactory(group=setup.group_a)

    def submit(verdict: str):
        return lambda: card_review_submit(
            participant=participant,
            round_=review_round,
            principle=setup.seeds[0],
            verdict=verdict,
        )

    results = run_lanes([[submit("endorse")] * 3, [submit("object")] * 3])
    assert not [r for lane in results for r in lane if isinstance(r, Exception)]
    review = CardReview.objects.get()
    # The one row holds whichever submission was stored last.
    assert review.verdict in {"endorse", "object"}


def test_nothing_is_stored_after_the_close_commits(setup, owner, review_round):
    participants = [ParticipantFactory(group=setup.group_b) for _ in range(4)]

    def submit(participant, principle):
        return lambda: card_review_submit(
            participant=participant,
            round_=review_round,
            principle=principle,
            verdict="endorse",
        )

    lanes = [[submit(p, seed) for seed in setup.seeds] for p in participants] + [
        [lambda: round_close(round_=review_round, actor=owner)]
    ]
    run_lanes(lanes)
    closed_at = Round.objects.get(pk=review_round.pk).closed_at
    assert closed_at is not None
    assert not CardReview.objects.filter(created_at__gt=closed_at).exists()
    assert not CardReview.objects.filter(updated_at__gt=closed_at).exists()
