"""Shared fixtures. Every permission test has an owner, another facilitator who must be
refused, and participants in two groups of the owner's workshop."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import translation

from tests.factories import (
    GroupFactory,
    ParticipantFactory,
    UserFactory,
    WorkshopFactory,
)
from workbench.deliberation.models import (
    Participant,
    ParticipantGroup,
    Principle,
    Round,
    Workshop,
)
from workbench.deliberation.participant_session import SALT, cookie_name
from workbench.deliberation.services.principles import principle_seed
from workbench.deliberation.services.rounds import round_create, round_open

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a request in Spanish or German
    leaves that language active in the thread (LocaleMiddleware activates it and
    nothing resets it), and the next test's messages would be translated."""
    with translation.override(None):
        translation.activate("en")
        yield


@pytest.fixture
def owner(db):
    return UserFactory(username="alice")


@pytest.fixture
def outsider(db):
    """Another facilitator: must never see alice's workshops."""
    return UserFactory(username="charlie")


@dataclass
class WorkshopSetup:
    workshop: Workshop
    group_a: ParticipantGroup
    group_b: ParticipantGroup
    seeds: list[Principle]


@pytest.fixture
def setup(owner) -> WorkshopSetup:
    workshop = WorkshopFactory(owner=owner, title="AI values", slug="ai-values")
    group_a = GroupFactory(workshop=workshop, name="Nurses")
    group_b = GroupFactory(workshop=workshop, name="Teachers")
    seeds = [
        principle_seed(workshop=workshop, text=text, actor=owner)
        for text in (
            "Choose the response that is most honest about its uncertainty.",
            "Choose the response that respects the user's privacy.",
            "Choose the response that explains its reasoning in plain language.",
        )
    ]
    return WorkshopSetup(workshop, group_a, group_b, seeds)


@pytest.fixture
def participant_a(setup) -> Participant:
    return ParticipantFactory(group=setup.group_a)


@pytest.fixture
def participant_b(setup) -> Participant:
    return ParticipantFactory(group=setup.group_b)


@pytest.fixture
def vote_round(setup, owner) -> Round:
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.VOTE)
    return round_open(round_=round_, actor=owner)


@pytest.fixture
def propose_round(setup, owner) -> Round:
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.PROPOSE)
    return round_open(round_=round_, actor=owner)


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def outsider_client(outsider) -> Client:
    client = Client()
    client.force_login(outsider)
    return client


def participant_client(participant: Participant) -> Client:
    """A browser that joined as `participant` (holds their signed cookie)."""
    client = Client()
    from django.core.signing import get_cookie_signer

    signer = get_cookie_signer(salt=cookie_name(participant.workshop) + SALT)
    client.cookies[cookie_name(participant.workshop)] = signer.sign(
        str(participant.public_id)
    )
    return client
