"""Session fixation: a session key an attacker planted before login is worthless
after it; logging out ends the session on the server; a participant's identity is
minted by the join, never taken from what the browser brought."""

from __future__ import annotations

import uuid

from django.contrib.sessions.backends.db import SessionStore
from django.core.signing import get_cookie_signer
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, participant_client
from tests.factories import GroupFactory, ParticipantFactory, WorkshopFactory
from workbench.deliberation.models import Participant
from workbench.deliberation.participant_session import cookie_name


def _planted(client: Client) -> str:
    """A session the attacker holds the key of, planted in the victim's browser."""
    session = SessionStore()
    session["planted"] = True
    session.save()
    assert session.session_key is not None
    client.cookies["sessionid"] = session.session_key
    return session.session_key


def test_login_rotates_the_session_key(owner):
    client = Client()
    planted = _planted(client)
    response = client.post(
        reverse("accounts:login"), {"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 302
    key = client.cookies["sessionid"].value
    assert key != planted
    # The attacker's key is not logged in: it was flushed, not upgraded.
    attacker = Client()
    attacker.cookies["sessionid"] = planted
    assert attacker.get(reverse("deliberation:workshop-list")).status_code == 302
    assert client.get(reverse("deliberation:workshop-list")).status_code == 200


def test_signup_rotates_the_session_key(db):
    client = Client()
    planted = _planted(client)
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "dora",
            "email": "dora@example.org",
            "password1": "a long enough passphrase 91",
            "password2": "a long enough passphrase 91",
        },
    )
    assert response.status_code == 302, response.content[:400]
    assert client.cookies["sessionid"].value != planted
    attacker = Client()
    attacker.cookies["sessionid"] = planted
    assert attacker.get(reverse("deliberation:workshop-list")).status_code == 302


def test_logout_ends_the_session_on_the_server(owner):
    client = Client()
    client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    key = client.cookies["sessionid"].value
    assert SessionStore().exists(key)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert not SessionStore().exists(key)
    # A copy of the old cookie (another tab, a thief) is logged out too.
    thief = Client()
    thief.cookies["sessionid"] = key
    assert thief.get(reverse("deliberation:workshop-list")).status_code == 302


def test_joining_mints_a_new_participant(setup):
    """The join makes a new participant with a new public id, sets a signed,
    HttpOnly, SameSite cookie, and ignores a forged cookie the browser brought."""
    workshop = setup.workshop
    known = ParticipantFactory(group=setup.group_a)
    client = Client()
    # A forged cookie naming a real participant, unsigned and signed with a wrong salt.
    client.cookies[cookie_name(workshop)] = str(known.public_id)
    url = reverse("deliberation:join", args=[setup.group_a.invite_token])
    assert client.get(url).status_code == 200  # not taken for `known`
    wrong_salt = get_cookie_signer(salt="not the salt").sign(str(known.public_id))
    client.cookies[cookie_name(workshop)] = wrong_salt
    assert client.get(url).status_code == 200
    response = client.post(url, {})
    assert response.status_code == 303
    joined = Participant.objects.exclude(pk=known.pk).get(group=setup.group_a)
    cookie = response.cookies[cookie_name(workshop)]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie.value.startswith(f"{joined.public_id}:")
    home = reverse("deliberation:participant-home", args=[workshop.slug])
    # The app takes the signed cookie, and nothing edited from it.
    assert client.get(home).status_code == 200
    tampered = Client()
    tampered.cookies[cookie_name(workshop)] = cookie.value.replace(
        str(joined.public_id), str(known.public_id)
    )
    assert tampered.get(home).status_code == 403
    assert joined.public_id != known.public_id


def test_two_browsers_joining_get_two_identities(setup):
    url = reverse("deliberation:join", args=[setup.group_a.invite_token])
    ids = set()
    for _ in range(3):
        response = Client().post(url, {})
        assert response.status_code == 303
        ids.add(response.cookies[cookie_name(setup.workshop)].value)
    assert len(ids) == 3
    assert Participant.objects.filter(group=setup.group_a).count() == 3


def test_a_cookie_of_another_workshop_is_not_an_identity_here(setup, outsider):
    """A participant of workshop B who opens A's invite link becomes a new
    participant of A; their B cookie does not open A's pages."""
    other = WorkshopFactory(owner=outsider, slug="b-side")
    stranger = ParticipantFactory(group=GroupFactory(workshop=other))
    browser = participant_client(stranger)
    home = reverse("deliberation:participant-home", args=[setup.workshop.slug])
    assert browser.get(home).status_code == 403
    # Renaming B's cookie to A's name breaks its signature (the salt has the name).
    value = browser.cookies[cookie_name(other)].value
    browser.cookies[cookie_name(setup.workshop)] = value
    assert browser.get(home).status_code == 403
    join = reverse("deliberation:join", args=[setup.group_a.invite_token])
    response = browser.post(join, {})
    assert response.status_code == 303
    assert browser.get(home).status_code == 200
    mine = Participant.objects.get(workshop=setup.workshop, group=setup.group_a)
    assert mine.public_id != stranger.public_id
    assert uuid.UUID(str(mine.public_id))
