"""Principle text is participant input: every participant page must show it escaped."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import participant_client
from workbench.deliberation.models import Principle, Round
from workbench.deliberation.services.principles import (
    principle_propose,
    principle_reject,
    principle_seed,
)
from workbench.deliberation.services.rounds import (
    round_create,
    round_open,
    round_set_shortlist,
)

EVIL = "<script>alert(1)</script> Choose the response that is <b>bold</b>."
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def evil(setup, owner) -> Principle:
    return principle_seed(workshop=setup.workshop, text=EVIL, actor=owner)


def assert_escaped(response) -> None:
    content = response.content.decode()
    assert response.status_code == 200
    assert ESCAPED in content
    assert "<script>alert" not in content
    assert "<b>bold" not in content


def test_the_vote_page_and_its_fragment_escape_principle_text(
    setup, owner, evil, participant_a
):
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.VOTE)
    round_set_shortlist(round_=round_, principles=[evil, setup.seeds[0]])
    round_open(round_=round_, actor=owner)
    client = participant_client(participant_a)
    url = reverse("deliberation:participant-vote", args=["ai-values", round_.pk])
    # After the first vote, the only principle left to show is the evil one.
    fragment = client.post(
        url,
        {"principle": setup.seeds[0].pk, "choice": 1},
        headers={"HX-Request": "true"},
    )
    assert_escaped(fragment)
    page = client.get(url)
    assert_escaped(page)
    assert f'dir="auto" id="principle-{evil.pk}"' in page.content.decode()


def test_the_vote_list_escapes_principle_text(evil, vote_round, participant_a):
    url = reverse(
        "deliberation:participant-vote-list", args=["ai-values", vote_round.pk]
    )
    assert_escaped(participant_client(participant_a).get(url))


def test_the_rank_page_escapes_principle_text(setup, owner, evil, participant_a):
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.RANK)
    round_set_shortlist(round_=round_, principles=[evil, setup.seeds[0]])
    round_open(round_=round_, actor=owner)
    url = reverse("deliberation:participant-rank", args=["ai-values", round_.pk])
    client = participant_client(participant_a)
    assert_escaped(client.get(url))
    invalid = client.post(url, {f"position_{evil.pk}": 1})
    assert invalid.status_code == 400
    assert ESCAPED in invalid.content.decode()
    assert "<script>alert" not in invalid.content.decode()


def test_the_propose_page_escapes_own_proposals_and_typed_text(
    setup, propose_round, participant_a
):
    client = participant_client(participant_a)
    url = reverse(
        "deliberation:participant-propose", args=["ai-values", propose_round.pk]
    )
    assert client.post(url, {"text": EVIL}).status_code == 303
    assert_escaped(client.get(url))
    # A near duplicate shows both the similar principle and the kept text escaped.
    near = client.post(url, {"text": EVIL + "!"})
    assert "Submit anyway" in near.content.decode()
    assert_escaped(near)


def test_the_moderation_log_escapes_text_and_hides_the_actor(
    setup, owner, propose_round, participant_a
):
    setup.workshop.show_moderation_log = True
    setup.workshop.save(update_fields=["show_moderation_log"])
    proposal = principle_propose(
        participant=participant_a, round_=propose_round, text=EVIL
    )
    principle_reject(principle=proposal, actor=owner, reason="<i>off topic</i>")
    url = reverse("deliberation:participant-log", args=["ai-values"])
    response = participant_client(participant_a).get(url)
    assert_escaped(response)
    content = response.content.decode()
    assert "Rejected" in content
    assert "&lt;i&gt;off topic&lt;/i&gt;" in content
    assert "alice" not in content
