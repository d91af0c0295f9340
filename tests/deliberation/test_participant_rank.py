from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from tests.conftest import participant_client
from workbench.deliberation.models import RankingBallot, Round
from workbench.deliberation.services.principles import principle_seed
from workbench.deliberation.services.rounds import (
    round_close,
    round_create,
    round_open,
    round_set_shortlist,
)


def rank_url(round_) -> str:
    return reverse(
        "deliberation:participant-rank", args=[round_.workshop.slug, round_.pk]
    )


@pytest.fixture
def rank_round(setup, owner) -> Round:
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.RANK)
    round_set_shortlist(round_=round_, principles=setup.seeds)
    return round_open(round_=round_, actor=owner)


@pytest.fixture
def client_a(participant_a):
    return participant_client(participant_a)


def positions(seeds, order) -> dict[str, int]:
    """Form data placing seeds[i] at position order[i]."""
    return {
        f"position_{seed.pk}": place for seed, place in zip(seeds, order, strict=True)
    }


def test_the_page_lists_the_shortlist_with_a_position_input_each(
    setup, rank_round, client_a
):
    content = client_a.get(rank_url(rank_round)).content.decode()
    for index, seed in enumerate(setup.seeds, start=1):
        assert escape(seed.text) in content
        assert (
            f'name="position_{seed.pk}" id="id_position_{seed.pk}" value="{index}"'
            in content
        )
    assert 'for="id_position_' in content
    assert "js/rank.js" in content
    assert "<script>" not in content


def test_positions_submit_a_ballot_best_first(
    setup, rank_round, client_a, participant_a
):
    a, b, c = setup.seeds
    response = client_a.post(rank_url(rank_round), positions(setup.seeds, [3, 1, 2]))
    assert response.status_code == 303
    ballot = RankingBallot.objects.get(participant=participant_a, round=rank_round)
    assert ballot.ranking == [b.pk, c.pk, a.pk]


def test_the_saved_ballot_is_shown_in_its_order(setup, rank_round, client_a):
    a, b, c = setup.seeds
    client_a.post(rank_url(rank_round), positions(setup.seeds, [3, 1, 2]))
    content = client_a.get(rank_url(rank_round)).content.decode()
    assert "Your ranking is saved" in content
    assert (
        content.index(escape(b.text))
        < content.index(escape(c.text))
        < content.index(escape(a.text))
    )


def test_resubmitting_replaces_the_ballot(setup, rank_round, client_a, participant_a):
    a, b, c = setup.seeds
    client_a.post(rank_url(rank_round), positions(setup.seeds, [3, 1, 2]))
    client_a.post(rank_url(rank_round), positions(setup.seeds, [1, 2, 3]))
    ballot = RankingBallot.objects.get(participant=participant_a)
    assert ballot.ranking == [a.pk, b.pk, c.pk]
    assert RankingBallot.objects.count() == 1


def test_a_list_of_ids_is_accepted_too(setup, rank_round, client_a, participant_a):
    a, b, c = setup.seeds
    response = client_a.post(rank_url(rank_round), {"ranking": [c.pk, a.pk, b.pk]})
    assert response.status_code == 303
    assert RankingBallot.objects.get().ranking == [c.pk, a.pk, b.pk]


@pytest.mark.parametrize(
    "order",
    [[1, 1, 2], [1, 2, 4], [0, 1, 2], [1, 2, ""], ["x", 1, 2]],
    ids=["duplicate", "too-high", "zero", "missing", "not-a-number"],
)
def test_invalid_positions_are_rejected(setup, rank_round, client_a, order):
    response = client_a.post(rank_url(rank_round), positions(setup.seeds, order))
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not RankingBallot.objects.exists()


def test_duplicate_positions_say_so(setup, rank_round, client_a):
    response = client_a.post(rank_url(rank_round), positions(setup.seeds, [2, 2, 1]))
    assert "different position" in response.content.decode()


@pytest.mark.parametrize("kind", ["incomplete", "repeated", "foreign", "garbage"])
def test_invalid_id_rankings_are_rejected(setup, owner, rank_round, client_a, kind):
    a, b, c = setup.seeds
    extra = principle_seed(
        workshop=setup.workshop, text="Not on the shortlist", actor=owner
    )
    ranking = {
        "incomplete": [a.pk, b.pk],
        "repeated": [a.pk, b.pk, b.pk, c.pk],
        "foreign": [a.pk, b.pk, c.pk, extra.pk],
        "garbage": ["one", "two"],
    }[kind]
    response = client_a.post(rank_url(rank_round), {"ranking": ranking})
    assert response.status_code == 400
    assert not RankingBallot.objects.exists()


def test_a_closed_round_refuses_ballots_and_shows_the_saved_one(
    setup, owner, rank_round, client_a, participant_a
):
    a, b, c = setup.seeds
    client_a.post(rank_url(rank_round), positions(setup.seeds, [2, 1, 3]))
    round_close(round_=rank_round, actor=owner)
    page = client_a.get(rank_url(rank_round)).content.decode()
    assert "This activity is closed" in page
    assert 'type="number"' not in page
    assert page.index(escape(b.text)) < page.index(escape(a.text))
    response = client_a.post(rank_url(rank_round), positions(setup.seeds, [1, 2, 3]))
    assert response.status_code == 400
    assert "closed" in response.content.decode()
    assert RankingBallot.objects.get().ranking == [b.pk, a.pk, c.pk]


def test_a_group_rank_round_is_a_404_for_the_other_group(setup, owner, participant_b):
    round_ = round_create(
        workshop=setup.workshop,
        kind=Round.Kind.RANK,
        scope=Round.Scope.GROUP,
        group=setup.group_a,
    )
    round_set_shortlist(round_=round_, principles=setup.seeds)
    round_open(round_=round_, actor=owner)
    client_b = participant_client(participant_b)
    assert client_b.get(rank_url(round_)).status_code == 404
    response = client_b.post(rank_url(round_), positions(setup.seeds, [1, 2, 3]))
    assert response.status_code == 404
    assert not RankingBallot.objects.exists()


def test_the_rank_page_of_a_vote_round_is_a_404(vote_round, client_a):
    assert client_a.get(rank_url(vote_round)).status_code == 404
