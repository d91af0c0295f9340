"""An API world: alice's workshop with one of everything an API URL can point at,
and token clients for alice and charlie."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import ParticipantFactory
from tests.judging.judging_fixtures import make_offline_run
from workbench.api.services import api_token_create
from workbench.deliberation.models import VoteChoice
from workbench.deliberation.services.constitutions import constitution_publish
from workbench.deliberation.services.votes import vote_cast
from workbench.judging.models import HumanJudgment


def token_client(user: Any) -> APIClient:
    _, key = api_token_create(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def alice_api(owner) -> APIClient:
    return token_client(owner)


@pytest.fixture
def charlie_api(outsider) -> APIClient:
    return token_client(outsider)


@pytest.fixture
def world(setup, owner, vote_round) -> dict[str, Any]:
    voters = [ParticipantFactory(group=g) for g in (setup.group_a, setup.group_b)]
    for voter in voters:
        vote_cast(
            participant=voter,
            round_=vote_round,
            principle=setup.seeds[0],
            choice=VoteChoice.AGREE,
        )
    constitution = constitution_publish(
        workshop=setup.workshop, actor=owner, title="v1", rule="ccai", threshold=0.5
    )
    run = make_offline_run(setup)
    item = run.comparison_set.items.first()
    HumanJudgment.objects.create(item=item, participant=voters[0], label="a")
    return {
        "slug": setup.workshop.slug,
        "group": setup.group_a.pk,
        "participant": voters[0].pk,
        "principle": setup.seeds[0].pk,
        "round": vote_round.pk,
        "constitution": constitution.pk,
        "comparison_set": run.comparison_set_id,
        "run": run.pk,
        "voters": voters,
        "setup": setup,
    }
