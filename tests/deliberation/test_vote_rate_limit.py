"""VOTES_PER_MINUTE: past it a participant's vote or comparison answer is not stored
and they are told to wait (429 with Retry-After); a resent form is still answered as
saved; the limit is exact when one participant's requests race."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection  # noqa: F401 (the skipif condition reads it)
from django.urls import reverse
from django.utils import timezone

from tests.conftest import participant_client
from tests.deliberation.test_concurrency import errors, run_lanes
from tests.factories import ParticipantFactory
from tests.judging.test_compare_rounds import compare_round, make_set
from workbench.core.errors import RateLimitedError
from workbench.deliberation.models import Principle, Vote, VoteRecord
from workbench.deliberation.services.principles import principle_seed
from workbench.deliberation.services.votes import vote_cast
from workbench.judging.models import HumanJudgment

TOO_FAST = "Too many answers in a short time: this one was not saved."


@pytest.fixture
def limit(settings):
    def set_limit(per_minute: int) -> None:
        settings.WORKBENCH = {**settings.WORKBENCH, "VOTES_PER_MINUTE": per_minute}

    return set_limit


def vote_url(round_) -> str:
    return reverse(
        "deliberation:participant-vote", args=[round_.workshop.slug, round_.pk]
    )


def post_vote(client, round_, principle, token=None, **headers):
    data = {
        "principle": principle.pk,
        "choice": 1,
        "client_token": token or uuid.uuid4(),
    }
    return client.post(vote_url(round_), data, **headers)


def test_a_vote_past_the_limit_is_refused_and_not_stored(
    setup, vote_round, participant_a, limit
):
    limit(2)
    client = participant_client(participant_a)
    first, second, third = setup.seeds
    assert post_vote(client, vote_round, first).status_code == 303
    assert post_vote(client, vote_round, second).status_code == 303

    response = post_vote(client, vote_round, third)

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    html = response.content.decode()
    assert TOO_FAST in html
    # The page is there again with the principle that was not saved.
    assert f'name="principle" value="{third.pk}"' in html
    assert VoteRecord.objects.filter(participant=participant_a).count() == 2
    assert not Vote.objects.filter(participant=participant_a, principle=third).exists()


def test_the_htmx_fragment_is_a_429_with_the_message(
    setup, vote_round, participant_a, limit
):
    limit(1)
    client = participant_client(participant_a)
    post_vote(client, vote_round, setup.seeds[0], HTTP_HX_REQUEST="true")

    response = post_vote(client, vote_round, setup.seeds[1], HTTP_HX_REQUEST="true")

    assert response.status_code == 429
    assert response["Retry-After"].isdigit()
    html = response.content.decode()
    assert TOO_FAST in html
    assert "<html" not in html  # the fragment, which live.js swaps in
    assert VoteRecord.objects.filter(participant=participant_a).count() == 1


def test_a_resent_vote_is_answered_as_saved_at_the_limit(
    setup, vote_round, participant_a, limit
):
    limit(2)
    client = participant_client(participant_a)
    token = uuid.uuid4()
    post_vote(client, vote_round, setup.seeds[0])
    post_vote(client, vote_round, setup.seeds[1], token=token)

    again = post_vote(client, vote_round, setup.seeds[1], token=token)

    assert again.status_code == 303
    assert TOO_FAST not in client.get(vote_url(vote_round)).content.decode()
    assert VoteRecord.objects.filter(participant=participant_a).count() == 2


def test_votes_are_accepted_again_as_the_minute_passes(
    setup, vote_round, participant_a, limit, time_machine
):
    limit(2)
    client = participant_client(participant_a)
    first, second, third = setup.seeds
    t0 = timezone.now() + timedelta(minutes=5)
    time_machine.move_to(t0, tick=False)
    post_vote(client, vote_round, first)
    time_machine.move_to(t0 + timedelta(seconds=20), tick=False)
    post_vote(client, vote_round, second)

    assert post_vote(client, vote_round, third)["Retry-After"] == "40"
    time_machine.move_to(t0 + timedelta(seconds=50), tick=False)
    assert post_vote(client, vote_round, third)["Retry-After"] == "10"
    time_machine.move_to(t0 + timedelta(seconds=61), tick=False)
    assert post_vote(client, vote_round, third).status_code == 303
    assert VoteRecord.objects.filter(participant=participant_a).count() == 3


def test_the_limit_is_per_participant(
    setup, vote_round, participant_a, participant_b, limit
):
    limit(1)
    post_vote(participant_client(participant_a), vote_round, setup.seeds[0])
    response = post_vote(participant_client(participant_b), vote_round, setup.seeds[0])
    assert response.status_code == 303


def test_zero_turns_the_limit_off(setup, vote_round, participant_a, limit):
    limit(0)
    client = participant_client(participant_a)
    for principle in setup.seeds:
        assert post_vote(client, vote_round, principle).status_code == 303
    assert VoteRecord.objects.filter(participant=participant_a).count() == 3


def test_the_vote_list_answers_429_with_the_message(
    setup, vote_round, participant_a, limit
):
    limit(1)
    client = participant_client(participant_a)
    url = reverse(
        "deliberation:participant-vote-list",
        args=[vote_round.workshop.slug, vote_round.pk],
    )
    data = {"principle": setup.seeds[0].pk, "choice": -1, "client_token": uuid.uuid4()}
    assert client.post(url, data).status_code == 303

    response = client.post(url, data | {"client_token": uuid.uuid4(), "choice": 1})

    assert response.status_code == 429
    assert "Retry-After" in response
    assert TOO_FAST in response.content.decode()
    assert Vote.objects.get(participant=participant_a).choice == -1


def test_a_comparison_answer_past_the_limit_is_refused_with_its_reason_kept(
    setup, owner, tmp_path, limit
):
    limit(1)
    round_ = compare_round(setup, owner, make_set(setup.workshop, tmp_path, 3))
    participant = ParticipantFactory(group=setup.group_a)
    client = participant_client(participant)
    url = reverse(
        "deliberation:participant-compare",
        kwargs={"slug": setup.workshop.slug, "pk": round_.pk},
    )

    def answer(reason: str):
        html = client.get(url).content.decode()
        item = re.search(r'name="item" value="(\d+)"', html).group(1)
        order = re.search(r'name="shown_order" value="(\w+)"', html).group(1)
        post = {"item": item, "shown_order": order, "choice": "1", "reason": reason}
        return post, client.post(url, post)

    first, response = answer("clearer")
    assert response.status_code == 303
    _, response = answer("kinder, I think")

    assert response.status_code == 429
    assert "Retry-After" in response
    html = response.content.decode()
    assert TOO_FAST in html
    assert "kinder, I think</textarea>" in html
    assert HumanJudgment.objects.filter(participant=participant).count() == 1
    # The first answer's form sent again is answered as saved.
    assert client.post(url, first).status_code == 303


def test_the_proposal_limit_also_answers_429_with_retry_after(
    propose_round, participant_a, settings
):
    settings.WORKBENCH = {**settings.WORKBENCH, "PROPOSALS_PER_HOUR": 1}
    client = participant_client(participant_a)
    url = reverse(
        "deliberation:participant-propose",
        args=[propose_round.workshop.slug, propose_round.pk],
    )
    client.post(url, {"text": "Never pretend to be a human being."})

    response = client.post(
        url, {"text": "Cite sources whenever a claim can be checked."}
    )

    assert response.status_code == 429
    assert 3500 <= int(response["Retry-After"]) <= 3600


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="real concurrency needs PostgreSQL"
)
def test_racing_votes_of_one_participant_store_exactly_the_limit(
    setup, vote_round, owner, participant_a, limit
):
    """Eight tabs of one participant, three votes each, all at once: five stored."""
    limit(5)
    principles: list[Principle] = [
        *setup.seeds,
        principle_seed(workshop=setup.workshop, text="Be brief.", actor=owner),
    ]

    def cast(principle: Principle):
        return lambda: vote_cast(
            participant=participant_a,
            round_=vote_round,
            principle=principle,
            choice=1,
            client_token=uuid.uuid4(),
        )

    lanes = [[cast(principles[(lane + n) % 4]) for n in range(3)] for lane in range(8)]

    results = run_lanes(lanes)

    refused = errors(results)
    assert len(refused) == 24 - 5
    assert all(isinstance(error, RateLimitedError) for error in refused)
    assert VoteRecord.objects.filter(participant=participant_a).count() == 5
