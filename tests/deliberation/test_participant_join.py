from __future__ import annotations

import pytest
from django.core.signing import get_cookie_signer
from django.test import Client
from django.urls import reverse

from tests.conftest import participant_client
from tests.factories import GroupFactory, ParticipantFactory, WorkshopFactory
from workbench.deliberation.models import Participant, Round
from workbench.deliberation.participant_session import SALT, cookie_name
from workbench.deliberation.services.rounds import round_close, round_create, round_open
from workbench.deliberation.services.workshops import group_regenerate_token


def join_url(group) -> str:
    return reverse("deliberation:join", kwargs={"token": group.invite_token})


def home_url(workshop) -> str:
    return reverse("deliberation:participant-home", kwargs={"slug": workshop.slug})


DETAILS = {
    "age_range": "25-34",
    "gender": "woman",
    "self_description": "night-shift nurse",
    "location": "Lyon",
}


def test_join_page_shows_the_workshop_question_and_the_consent_box(setup):
    response = Client().get(join_url(setup.group_a))
    assert response.status_code == 200
    content = response.content.decode()
    assert setup.workshop.question in content
    assert "Nurses" in content
    assert 'name="consent"' in content


def test_joining_with_consent_stores_the_demographics_and_sets_the_cookie(setup):
    client = Client()
    response = client.post(join_url(setup.group_a), {**DETAILS, "consent": "on"})
    assert response.status_code == 303
    assert response["Location"] == home_url(setup.workshop)
    participant = Participant.objects.get()
    assert participant.group == setup.group_a
    assert participant.workshop == setup.workshop
    assert participant.demographics_consent is True
    assert participant.demographics == DETAILS
    assert cookie_name(setup.workshop) in response.cookies
    assert client.get(home_url(setup.workshop)).status_code == 200


def test_joining_without_consent_keeps_no_demographics(setup):
    client = Client()
    response = client.post(join_url(setup.group_b), DETAILS, follow=True)
    participant = Participant.objects.get()
    assert participant.group == setup.group_b
    assert participant.demographics == {}
    assert participant.demographics_consent is False
    assert "were not kept" in response.content.decode()


def test_joining_with_nothing_filled_in_works(setup):
    response = Client().post(join_url(setup.group_a), {})
    assert response.status_code == 303
    assert Participant.objects.get().demographics == {}


def test_overlong_demographics_are_refused_and_nobody_joins(setup):
    response = Client().post(
        join_url(setup.group_a), {"consent": "on", "location": "x" * 201}
    )
    assert response.status_code == 400
    assert not Participant.objects.exists()


def test_a_browser_that_joined_goes_straight_home(setup, participant_a):
    client = participant_client(participant_a)
    for response in (
        client.get(join_url(setup.group_a)),
        client.post(join_url(setup.group_a), {}),
        # Another group's link does not move the participant to that group.
        client.get(join_url(setup.group_b)),
    ):
        assert response.status_code in (302, 303)
        assert response["Location"] == home_url(setup.workshop)
    assert Participant.objects.count() == 1
    participant_a.refresh_from_db()
    assert participant_a.group == setup.group_a


def test_a_random_token_is_a_clear_404(db):
    response = Client().get(reverse("deliberation:join", kwargs={"token": "nope"}))
    assert response.status_code == 404
    assert "invite link is not valid" in response.content.decode()


@pytest.mark.django_db
def test_a_random_token_cannot_be_posted_to():
    response = Client().post(reverse("deliberation:join", kwargs={"token": "x" * 43}))
    assert response.status_code == 404
    assert not Participant.objects.exists()


def test_a_regenerated_token_stops_working(setup):
    old = setup.group_a.invite_token
    group_regenerate_token(group=setup.group_a)
    response = Client().post(reverse("deliberation:join", kwargs={"token": old}), {})
    assert response.status_code == 404
    assert not Participant.objects.exists()
    assert Client().get(join_url(setup.group_a)).status_code == 200


def test_a_token_joins_only_its_own_workshop(setup, owner):
    other = WorkshopFactory(owner=owner, slug="other")
    other_group = GroupFactory(workshop=other, name="Elsewhere")
    client = Client()
    client.post(join_url(other_group), {})
    participant = Participant.objects.get()
    assert participant.workshop == other
    # That browser has not joined ai-values, whatever it tries.
    response = client.get(home_url(setup.workshop))
    assert response.status_code == 403
    assert "invite link" in response.content.decode()


def test_home_without_a_cookie_asks_for_the_invite_link(setup):
    response = Client().get(home_url(setup.workshop))
    assert response.status_code == 403
    assert "invite link" in response.content.decode()


def test_home_of_an_unknown_workshop_does_not_crash(db):
    response = Client().get(reverse("deliberation:participant-home", args=["nope"]))
    assert response.status_code == 403


def test_a_forged_cookie_is_rejected(setup, participant_a):
    client = Client()
    client.cookies[cookie_name(setup.workshop)] = f"{participant_a.public_id}:fake:sig"
    assert client.get(home_url(setup.workshop)).status_code == 403


def test_a_tampered_cookie_is_rejected(setup, participant_a, participant_b):
    client = participant_client(participant_a)
    name = cookie_name(setup.workshop)
    value = client.cookies[name].value
    client.cookies[name] = value.replace(
        str(participant_a.public_id), str(participant_b.public_id)
    )
    assert client.get(home_url(setup.workshop)).status_code == 403


def test_a_cookie_cannot_be_moved_to_another_workshop(setup, owner, participant_a):
    other = WorkshopFactory(owner=owner, slug="other")
    GroupFactory(workshop=other)
    client = participant_client(participant_a)
    # Same signed value under the other workshop's cookie name: the salt differs.
    client.cookies[cookie_name(other)] = client.cookies[
        cookie_name(setup.workshop)
    ].value
    del client.cookies[cookie_name(setup.workshop)]
    assert client.get(home_url(other)).status_code == 403


def test_a_cookie_signed_for_another_workshops_participant_is_rejected(setup, owner):
    other = WorkshopFactory(owner=owner, slug="other")
    stranger = ParticipantFactory(group=GroupFactory(workshop=other))
    client = Client()
    # Correctly signed under ai-values' cookie name, but for a participant of `other`.
    signer = get_cookie_signer(salt=cookie_name(setup.workshop) + SALT)
    client.cookies[cookie_name(setup.workshop)] = signer.sign(str(stranger.public_id))
    assert client.get(home_url(setup.workshop)).status_code == 403


def test_home_lists_visible_rounds_with_their_state(setup, owner, participant_a):
    open_round = round_open(
        round_=round_create(
            workshop=setup.workshop, kind=Round.Kind.VOTE, title="Vote now"
        ),
        actor=owner,
    )
    closed = round_open(
        round_=round_create(
            workshop=setup.workshop, kind=Round.Kind.PROPOSE, title="Old"
        ),
        actor=owner,
    )
    round_close(round_=closed, actor=owner)
    round_create(workshop=setup.workshop, kind=Round.Kind.RANK, title="Draft round")
    round_open(
        round_=round_create(
            workshop=setup.workshop,
            kind=Round.Kind.VOTE,
            title="Teachers only",
            scope=Round.Scope.GROUP,
            group=setup.group_b,
        ),
        actor=owner,
    )
    content = participant_client(participant_a).get(home_url(setup.workshop)).content
    text = content.decode()
    assert "Vote now" in text
    assert (
        reverse(
            "deliberation:participant-vote", args=[setup.workshop.slug, open_round.pk]
        )
        in text
    )
    assert "Old" in text
    assert "Closed" in text
    assert "Draft round" not in text
    assert "Teachers only" not in text
    assert "Nothing is open right now" not in text


def test_home_has_an_empty_state(setup, participant_a):
    response = participant_client(participant_a).get(home_url(setup.workshop))
    assert "Nothing is open right now" in response.content.decode()
