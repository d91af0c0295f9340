from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import participant_client
from workbench.deliberation.models import Principle, Round
from workbench.deliberation.services.rounds import round_close, round_create, round_open

TEXT = "Choose the response that admits when it does not know the answer."


def propose_url(round_) -> str:
    return reverse(
        "deliberation:participant-propose", args=[round_.workshop.slug, round_.pk]
    )


@pytest.fixture
def client_a(participant_a):
    return participant_client(participant_a)


def proposals(participant):
    return Principle.objects.filter(author=participant)


def test_the_page_shows_the_length_limit(propose_round, client_a, settings):
    settings.WORKBENCH = {**settings.WORKBENCH, "PRINCIPLE_MAX_LENGTH": 123}
    content = client_a.get(propose_url(propose_round)).content.decode()
    assert "Up to 123 characters" in content
    assert '<label for="id_text">' in content


def test_a_proposal_waits_for_approval_under_strict_moderation(
    setup, propose_round, client_a, participant_a
):
    response = client_a.post(propose_url(propose_round), {"text": TEXT})
    assert response.status_code == 303
    principle = proposals(participant_a).get()
    assert principle.status == Principle.Status.PENDING
    assert principle.group == setup.group_a
    page = client_a.get(propose_url(propose_round)).content.decode()
    assert "waiting for a facilitator" in page
    assert "Waiting for approval" in page
    assert TEXT in page


def test_a_proposal_is_approved_at_once_without_strict_moderation(
    setup, propose_round, client_a, participant_a
):
    setup.workshop.strict_moderation = False
    setup.workshop.save(update_fields=["strict_moderation"])
    client_a.post(propose_url(propose_round), {"text": TEXT})
    assert proposals(participant_a).get().status == Principle.Status.APPROVED
    assert "Approved" in client_a.get(propose_url(propose_round)).content.decode()


def test_an_exact_duplicate_is_refused_and_the_text_kept(
    setup, propose_round, client_a, participant_a
):
    text = "  " + setup.seeds[0].text.upper() + " "
    response = client_a.post(propose_url(propose_round), {"text": text})
    assert response.status_code == 400
    content = response.content.decode()
    assert "already been proposed" in content
    assert setup.seeds[0].text.upper() in content
    assert not proposals(participant_a).exists()


def test_a_near_duplicate_needs_confirmation(
    setup, propose_round, client_a, participant_a
):
    near = "Choose the response that is the most honest about its uncertainty!"
    response = client_a.post(propose_url(propose_round), {"text": near})
    assert response.status_code == 200
    content = response.content.decode()
    assert setup.seeds[0].text in content
    assert "Submit anyway" in content
    assert near in content
    assert not proposals(participant_a).exists()
    response = client_a.post(
        propose_url(propose_round), {"text": near, "confirm_similar": "1"}
    )
    assert response.status_code == 303
    assert proposals(participant_a).get().text == near


def test_an_overlong_principle_is_refused_and_kept(
    propose_round, client_a, participant_a, settings
):
    limit = settings.WORKBENCH["PRINCIPLE_MAX_LENGTH"]
    text = "a" * (limit + 1)
    response = client_a.post(propose_url(propose_round), {"text": text})
    assert response.status_code == 400
    content = response.content.decode()
    assert f"under {limit} characters" in content
    assert text in content
    assert not proposals(participant_a).exists()


def test_an_empty_proposal_is_refused(propose_round, client_a, participant_a):
    response = client_a.post(propose_url(propose_round), {"text": "   "})
    assert response.status_code == 400
    assert not proposals(participant_a).exists()


def test_proposals_are_rate_limited(propose_round, client_a, participant_a, settings):
    settings.WORKBENCH = {**settings.WORKBENCH, "PROPOSALS_PER_HOUR": 2}
    texts = [
        "Respect the user's time with short answers.",
        "Never pretend to be a human being.",
        "Cite sources whenever a claim can be checked.",
    ]
    for text in texts[:2]:
        assert (
            client_a.post(propose_url(propose_round), {"text": text}).status_code == 303
        )
    response = client_a.post(propose_url(propose_round), {"text": texts[2]})
    assert response.status_code == 429
    content = response.content.decode()
    assert "please wait" in content
    assert texts[2] in content
    assert proposals(participant_a).count() == 2


def test_a_closed_round_refuses_proposals(
    owner, propose_round, client_a, participant_a
):
    round_close(round_=propose_round, actor=owner)
    page = client_a.get(propose_url(propose_round)).content.decode()
    assert "This activity is closed" in page
    assert "<textarea" not in page
    response = client_a.post(propose_url(propose_round), {"text": TEXT})
    assert response.status_code == 400
    assert "closed" in response.content.decode()
    assert not proposals(participant_a).exists()


def test_a_group_round_refuses_the_other_group(setup, owner, participant_b):
    round_ = round_open(
        round_=round_create(
            workshop=setup.workshop,
            kind=Round.Kind.PROPOSE,
            scope=Round.Scope.GROUP,
            group=setup.group_a,
        ),
        actor=owner,
    )
    client_b = participant_client(participant_b)
    assert client_b.get(propose_url(round_)).status_code == 404
    assert client_b.post(propose_url(round_), {"text": TEXT}).status_code == 404
    assert not proposals(participant_b).exists()


def test_proposing_in_a_vote_round_is_a_404(vote_round, client_a, participant_a):
    assert client_a.post(propose_url(vote_round), {"text": TEXT}).status_code == 404
    assert not proposals(participant_a).exists()


def test_only_your_own_proposals_are_listed(
    propose_round, participant_a, participant_b
):
    participant_client(participant_b).post(propose_url(propose_round), {"text": TEXT})
    content = participant_client(participant_a).get(propose_url(propose_round))
    assert TEXT not in content.content.decode()
