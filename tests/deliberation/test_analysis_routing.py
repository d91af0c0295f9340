"""The voting page picks the next principle by the stored routing priorities
(Polis's selectProbabilistically); uniformly without an analysis."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from django.utils import timezone

from workbench.deliberation.models import VoteChoice, WorkshopAnalysis
from workbench.deliberation.selectors.principles import principle_next_for_participant
from workbench.deliberation.services.analysis import analysis_refresh
from workbench.deliberation.services.votes import vote_cast

DRAWS = 300


def _store(workshop, priorities, error=""):
    return WorkshopAnalysis.objects.create(
        workshop=workshop,
        computed_at=timezone.now(),
        priorities={str(pk): value for pk, value in priorities.items()},
        error=error,
    )


def _draws(participant, round_, seed=7) -> Counter:
    rng = random.Random(seed)
    return Counter(
        principle_next_for_participant(
            participant=participant, round_=round_, rng=rng
        ).pk
        for _ in range(DRAWS)
    )


def test_high_priority_principles_come_up_more(setup, vote_round, participant_a):
    high, low1, low2 = setup.seeds
    _store(setup.workshop, {high.pk: 8.0, low1.pk: 1.0, low2.pk: 1.0})
    counts = _draws(participant_a, vote_round)
    # Expected shares 0.8 / 0.1 / 0.1; the bounds are about four standard deviations.
    assert counts[high.pk] / DRAWS == pytest.approx(0.8, abs=0.07)
    assert counts[low1.pk] / DRAWS == pytest.approx(0.1, abs=0.05)
    assert counts[low2.pk] / DRAWS == pytest.approx(0.1, abs=0.05)


def test_without_an_analysis_the_choice_is_uniform(setup, vote_round, participant_a):
    counts = _draws(participant_a, vote_round)
    for seed in setup.seeds:
        assert counts[seed.pk] / DRAWS == pytest.approx(1 / 3, abs=0.08)


def test_a_failed_run_does_not_steer(setup, vote_round, participant_a):
    high = setup.seeds[0]
    _store(setup.workshop, {high.pk: 1000.0}, error="ValueError: boom")
    counts = _draws(participant_a, vote_round)
    assert counts[high.pk] / DRAWS == pytest.approx(1 / 3, abs=0.08)


def test_a_principle_newer_than_the_analysis_weighs_as_unvoted(
    setup, vote_round, participant_a
):
    old1, old2, new = setup.seeds
    _store(setup.workshop, {old1.pk: 0.05, old2.pk: 0.05})
    counts = _draws(participant_a, vote_round)
    # (0.5 · 0.5 · 9)² ≈ 5.06 against 0.05 twice: about 98 % of the draws.
    assert counts[new.pk] / DRAWS > 0.95


def test_voted_principles_are_never_shown_again(setup, vote_round, participant_a):
    first, second, third = setup.seeds
    _store(setup.workshop, {first.pk: 100.0, second.pk: 1.0, third.pk: 1.0})
    vote_cast(
        participant=participant_a,
        round_=vote_round,
        principle=first,
        choice=VoteChoice.AGREE,
    )
    counts = _draws(participant_a, vote_round)
    assert first.pk not in counts
    assert set(counts) == {second.pk, third.pk}


def test_zero_weights_fall_back_to_uniform(setup, vote_round, participant_a):
    _store(setup.workshop, {s.pk: 0.0 for s in setup.seeds})
    counts = _draws(participant_a, vote_round)
    assert set(counts) == {s.pk for s in setup.seeds}


def test_it_stays_three_queries(
    setup, vote_round, participant_a, django_assert_num_queries
):
    analysis_refresh(workshop=setup.workshop)
    with django_assert_num_queries(3):
        principle_next_for_participant(participant=participant_a, round_=vote_round)
