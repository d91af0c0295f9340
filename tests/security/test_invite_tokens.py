"""Invite tokens: unguessable, a wrong one is a plain 404 whatever it resembles, a
token joins only its own group (so it cannot be replayed into another workshop), a
regenerated link retires the old one, and guessing is rate-limited per client."""

from __future__ import annotations

import math
import re
import secrets
from collections import Counter

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.factories import GroupFactory, ParticipantFactory, WorkshopFactory
from workbench.deliberation.models import Participant, new_invite_token
from workbench.deliberation.participant_session import cookie_name
from workbench.deliberation.services.invite_guard import WINDOW_SECONDS, _key

URLSAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
CLIENT_IP = "127.0.0.1"  # the test client's REMOTE_ADDR


@pytest.fixture(autouse=True)
def _fresh_guess_counts():
    cache.delete(_key(CLIENT_IP))
    yield
    cache.delete(_key(CLIENT_IP))


def _join(token: str) -> str:
    return reverse("deliberation:join", args=[token])


def test_tokens_are_long_and_random():
    tokens = [new_invite_token() for _ in range(2000)]
    assert len(set(tokens)) == len(tokens)
    assert all(len(t) == 43 and set(t) <= URLSAFE for t in tokens)  # 32 bytes
    # The characters are spread evenly over the 64 symbols: about 6 bits each, so
    # about 256 bits a token (the generator is secrets.token_urlsafe(32)).
    counts = Counter("".join(t[:-1] for t in tokens))  # the last carries 4 bits
    total = sum(counts.values())
    bits_per_char = -sum(n / total * math.log2(n / total) for n in counts.values())
    assert len(counts) == 64
    assert bits_per_char > 5.99
    assert bits_per_char * 42 + 4 > 255


def test_new_groups_get_a_token_of_their_own(setup):
    assert setup.group_a.invite_token != setup.group_b.invite_token
    assert len(setup.group_a.invite_token) == 43


@pytest.mark.parametrize(
    "wrong",
    [
        "x",
        "0" * 43,
        secrets.token_urlsafe(32),
        "a" * 500,
        "%27%20OR%201=1--",
        "t\u00f6ken-\u202e",
    ],
)
def test_a_wrong_token_is_a_plain_404(setup, wrong):
    before = Participant.objects.count()
    client = Client()
    for method in (client.get, client.post):
        response = method(
            reverse("deliberation:join", args=["placeholder"]).replace(
                "placeholder", wrong
            )
        )
        assert response.status_code == 404
        assert "This invite link is not valid" in response.content.decode()
        assert not any(name.startswith("wb_participant_") for name in response.cookies)
    assert Participant.objects.count() == before


def test_a_near_miss_is_answered_like_any_wrong_token(setup):
    """A token one character off, a prefix or a different case of a real one gets
    the very same answer as random garbage: nothing says "close"."""
    real = setup.group_a.invite_token
    flipped = real[:-1] + ("A" if real[-1] != "A" else "B")
    answers = set()
    for candidate in (flipped, real[:20], real.swapcase(), "garbage-token"):
        response = Client().get(_join(candidate))
        assert response.status_code == 404
        page = response.content.decode().replace(_join(candidate), "PATH")
        answers.add(re.sub(r"[A-Za-z0-9]{64}", "CSRF", page))  # the per-request token
    assert len(answers) == 1


def test_a_token_joins_only_its_own_group(setup, outsider):
    """Replay across workshops: the token names one group, so a browser can only
    ever land in that group's workshop, and its cookie opens nothing elsewhere."""
    other = WorkshopFactory(owner=outsider, slug="b-side")
    other_group = GroupFactory(workshop=other)
    browser = Client()
    response = browser.post(_join(setup.group_a.invite_token), {})
    assert response.status_code == 303
    joined = Participant.objects.get()
    assert (joined.workshop, joined.group) == (setup.workshop, setup.group_a)
    assert response["Location"] == reverse(
        "deliberation:participant-home", args=[setup.workshop.slug]
    )
    other_home = reverse("deliberation:participant-home", args=[other.slug])
    assert browser.get(other_home).status_code == 403
    # The A cookie under B's name is not B's (signed with the name in the salt).
    browser.cookies[cookie_name(other)] = browser.cookies[
        cookie_name(setup.workshop)
    ].value
    assert browser.get(other_home).status_code == 403
    # Joining B needs B's own token, and gives a separate participant.
    assert browser.post(_join(other_group.invite_token), {}).status_code == 303
    assert Participant.objects.filter(workshop=other).count() == 1
    # Joining A again with A's token while joined keeps the one participant.
    assert browser.post(_join(setup.group_a.invite_token), {}).status_code == 303
    assert Participant.objects.filter(workshop=setup.workshop).count() == 1


def test_a_regenerated_link_retires_the_old_one(setup, owner_client):
    group = setup.group_a
    member = ParticipantFactory(group=group)
    old = group.invite_token
    url = reverse(
        "deliberation:group-regenerate-token", args=[setup.workshop.slug, group.pk]
    )
    assert owner_client.post(url).status_code == 302
    group.refresh_from_db()
    assert group.invite_token != old
    assert len(group.invite_token) == 43
    assert Client().get(_join(old)).status_code == 404
    assert Client().post(_join(old), {}).status_code == 404
    assert Client().get(_join(group.invite_token)).status_code == 200
    # Those who joined already stay in.
    from tests.conftest import participant_client

    home = reverse("deliberation:participant-home", args=[setup.workshop.slug])
    assert participant_client(member).get(home).status_code == 200


def test_guessing_is_rate_limited(setup, settings):
    settings.WORKBENCH = {**settings.WORKBENCH, "JOIN_FAILURES_PER_HOUR": 5}
    client = Client()
    statuses = [
        client.get(_join(secrets.token_urlsafe(32))).status_code for _ in range(5)
    ]
    assert statuses == [404] * 5
    # The sixth try is refused before any lookup, even with the right token.
    refused = client.get(_join(secrets.token_urlsafe(32)))
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(WINDOW_SECONDS)
    before = Participant.objects.count()
    assert client.post(_join(setup.group_a.invite_token), {}).status_code == 429
    assert Participant.objects.count() == before
    # Right tokens do not count: another client joins as usual after the reset.
    cache.delete(_key(CLIENT_IP))
    for _ in range(10):
        assert Client().get(_join(setup.group_a.invite_token)).status_code == 200


def test_the_limit_can_be_turned_off(setup, settings):
    settings.WORKBENCH = {**settings.WORKBENCH, "JOIN_FAILURES_PER_HOUR": 0}
    client = Client()
    for _ in range(60):
        assert client.get(_join("nope")).status_code == 404


def test_behind_the_proxy_each_client_is_counted_alone(setup, settings):
    """Behind the reverse proxy every request comes from its address: the limit
    counts the address the proxy appended to X-Forwarded-For, so one guesser does
    not lock out the room, and a forged header entry does not reset the count."""
    settings.WORKBENCH = {**settings.WORKBENCH, "JOIN_FAILURES_PER_HOUR": 3}
    guesser, other = "203.0.113.7", "198.51.100.2"
    try:
        for n in range(5):
            # The guesser writes a new address of their own each time, leftmost.
            forged = f"10.0.0.{n}, {guesser}"
            response = Client().get(_join("wrong"), HTTP_X_FORWARDED_FOR=forged)
            assert response.status_code == (404 if n < 3 else 429)
        # Someone else in the room, through the same proxy, joins as usual.
        response = Client().post(
            _join(setup.group_a.invite_token), {}, HTTP_X_FORWARDED_FOR=other
        )
        assert response.status_code == 303
    finally:
        cache.delete(_key(guesser))
        cache.delete(_key(other))
