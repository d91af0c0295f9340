from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.conftest import participant_client
from workbench.deliberation.services.principles import (
    principle_propose,
    principle_reject,
)

LOG_URL = reverse("deliberation:participant-log", args=["ai-values"])
HOME_URL = reverse("deliberation:participant-home", args=["ai-values"])


def show_log(workshop) -> None:
    workshop.show_moderation_log = True
    workshop.save(update_fields=["show_moderation_log"])


def test_the_log_is_a_404_unless_the_workshop_publishes_it(setup, participant_a):
    client = participant_client(participant_a)
    assert client.get(LOG_URL).status_code == 404
    assert LOG_URL not in client.get(HOME_URL).content.decode()


def test_the_log_lists_moderation_with_reasons_but_no_usernames(
    setup, owner, propose_round, participant_a
):
    show_log(setup.workshop)
    proposal = principle_propose(
        participant=participant_a, round_=propose_round, text="Always flatter the user."
    )
    principle_reject(principle=proposal, actor=owner, reason="Against the brief.")
    client = participant_client(participant_a)
    assert LOG_URL in client.get(HOME_URL).content.decode()
    content = client.get(LOG_URL).content.decode()
    assert "Rejected" in content
    assert "Always flatter the user." in content
    assert "Against the brief." in content
    assert "Added by the facilitators" in content
    assert owner.username not in content


def test_pending_proposals_are_not_in_the_log(setup, propose_round, participant_a):
    show_log(setup.workshop)
    principle_propose(
        participant=participant_a, round_=propose_round, text="A secret idea"
    )
    content = participant_client(participant_a).get(LOG_URL).content.decode()
    assert "A secret idea" not in content


def test_the_log_needs_the_cookie(setup):
    show_log(setup.workshop)
    assert Client().get(LOG_URL).status_code == 403
