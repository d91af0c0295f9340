"""The facilitator's narrative: written by the owner only, shown on the cards page,
kept within its limits."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from workbench.cards.models import CardNarrative
from workbench.cards.selectors import card_narrative_for_card
from workbench.cards.services.narrative import card_narrative_update
from workbench.core.errors import ApplicationError, PermissionDeniedError

CARDS = reverse("deliberation:cards", args=["ai-values"])
SAVE = reverse("deliberation:card-narrative", args=["ai-values"])
TEXT = {
    "recruitment": "Invited through two unions.",
    "representativeness": "Urban members only.",
    "deliberation_design": "Propose, vote, rank, review.",
    "limitations": "Forty people cannot speak for a country.",
}


def test_the_owner_saves_the_narrative_and_sees_it_again(setup, owner_client, owner):
    response = owner_client.post(SAVE, TEXT)
    assert response.status_code == 302
    assert response["Location"] == CARDS
    narrative = CardNarrative.objects.get(workshop=setup.workshop)
    assert narrative.recruitment == TEXT["recruitment"]
    assert narrative.updated_by == owner
    page = owner_client.get(CARDS).content.decode()
    for value in TEXT.values():
        assert value in page
    assert "marked as written by the facilitator" in page
    assert card_narrative_for_card(workshop=setup.workshop) == {
        **TEXT,
        "written_by": "facilitator",
    }


def test_a_second_save_updates_the_same_narrative(setup, owner_client):
    owner_client.post(SAVE, TEXT)
    owner_client.post(SAVE, {**TEXT, "limitations": "Only two groups."})
    assert CardNarrative.objects.get().limitations == "Only two groups."


def test_another_facilitator_gets_404_and_changes_nothing(setup, outsider_client):
    assert outsider_client.get(CARDS).status_code == 404
    assert outsider_client.post(SAVE, TEXT).status_code == 404
    assert not CardNarrative.objects.exists()


def test_anonymous_is_sent_to_log_in(setup, client):
    for response in (client.get(CARDS), client.post(SAVE, TEXT)):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse(settings.LOGIN_URL))
    assert not CardNarrative.objects.exists()


def test_text_over_the_limit_is_refused_and_kept_in_the_form(setup, owner_client):
    response = owner_client.post(SAVE, {**TEXT, "limitations": "x" * 4001})
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 4000 characters" in page
    assert TEXT["recruitment"] in page
    assert not CardNarrative.objects.exists()


def test_the_service_refuses_anyone_but_the_owner(setup, outsider):
    with pytest.raises(PermissionDeniedError):
        card_narrative_update(workshop=setup.workshop, actor=outsider, **TEXT)
    assert not CardNarrative.objects.exists()


def test_the_service_refuses_unknown_fields_and_long_text(setup, owner):
    with pytest.raises(ApplicationError, match="Unknown narrative fields: author"):
        card_narrative_update(workshop=setup.workshop, actor=owner, author="me")
    with pytest.raises(ApplicationError, match="Recruitment: please keep it under"):
        card_narrative_update(
            workshop=setup.workshop, actor=owner, recruitment="x" * 4001
        )
    assert not CardNarrative.objects.exists()


def test_the_narrative_is_escaped_on_the_page(setup, owner_client):
    owner_client.post(SAVE, {**TEXT, "recruitment": "<script>alert(1)</script>"})
    page = owner_client.get(CARDS).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
