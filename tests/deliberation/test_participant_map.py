"""The participant's opinion map: shown only when the facilitator enables it, with
"You are here" on the participant's own marker."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import participant_client
from tests.deliberation.analysis_fixtures import HOSTILE, fabricated_result
from workbench.deliberation.models import Workshop, WorkshopAnalysis

SLUG = "ai-values"


def map_url() -> str:
    return reverse("deliberation:participant-map", kwargs={"slug": SLUG})


def home_url() -> str:
    return reverse("deliberation:participant-home", kwargs={"slug": SLUG})


def show_map(workshop: Workshop, on: bool = True) -> None:
    workshop.show_opinion_map = on
    workshop.save(update_fields=["show_opinion_map"])


def store(workshop, result) -> WorkshopAnalysis:
    return WorkshopAnalysis.objects.create(
        workshop=workshop, computed_at=timezone.now(), result=result
    )


def result_with(participant, others: int = 7, **kwargs):
    """`participant` is the last of the map's people, so in opinion group B."""
    people = [f"other{i}" for i in range(others)] + [str(participant.pk)]
    return fabricated_result(participants=people, **kwargs)


def test_map_is_404_when_the_facilitator_has_not_enabled_it(setup, participant_a):
    store(setup.workshop, result_with(participant_a))
    client = participant_client(participant_a)
    assert client.get(map_url()).status_code == 404
    assert "opinion map" not in client.get(home_url()).content.decode()


def test_map_shows_where_the_participant_sits(setup, participant_a):
    show_map(setup.workshop)
    store(setup.workshop, result_with(participant_a))
    client = participant_client(participant_a)
    assert map_url() in client.get(home_url()).content.decode()
    response = client.get(map_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="opinion-map"' in page
    assert "You are here" in page
    assert "You are in <strong>Opinion group B</strong>" in page
    assert "Your group" in page


def test_imported_participants_are_found_by_external_id(setup, participant_a):
    participant_a.external_id = "polis-42"
    participant_a.save(update_fields=["external_id"])
    show_map(setup.workshop)
    store(setup.workshop, fabricated_result(participants=["a", "b", "polis-42"]))
    page = participant_client(participant_a).get(map_url()).content.decode()
    assert "You are here" in page


def test_a_participant_not_yet_on_the_map_is_told_so(setup, participant_a):
    show_map(setup.workshop)
    store(setup.workshop, fabricated_result())
    page = participant_client(participant_a).get(map_url()).content.decode()
    assert "You are not on the map yet" in page
    assert "You are here" not in page


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (None, "There is no map yet"),
        ({"status": "not_enough_data", "message": "x"}, "Not enough people"),
    ],
)
def test_empty_states_are_explained(setup, participant_a, result, message):
    show_map(setup.workshop)
    if result is not None:
        store(setup.workshop, result)
    response = participant_client(participant_a).get(map_url())
    assert response.status_code == 200
    assert message in response.content.decode()


def test_map_text_is_escaped(setup, participant_a):
    show_map(setup.workshop)
    result = result_with(participant_a, participant_groups=(HOSTILE, "<i>b</i>"))
    result["repness"]["1"][0]["repful_for"] = "agree"
    store(setup.workshop, result)
    page = participant_client(participant_a).get(map_url()).content.decode()
    assert "What your group agreed with" in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page
    assert "<i>b</i>" not in page


def test_map_needs_the_workshops_cookie(setup, participant_a):
    show_map(setup.workshop)
    assert Client().get(map_url()).status_code == 403


def test_participant_of_another_workshop_cannot_see_it(setup, participant_a):
    from tests.factories import ParticipantFactory

    show_map(setup.workshop)
    stranger = ParticipantFactory()
    assert participant_client(stranger).get(map_url()).status_code == 403


def test_facilitator_can_turn_the_map_on(owner_client, setup):
    url = reverse("deliberation:workshop-edit", kwargs={"slug": SLUG})
    assert "Show participants the opinion map" in owner_client.get(url).content.decode()
    response = owner_client.post(
        url,
        {"title": "AI values", "question": "Q?", "show_opinion_map": "on"},
    )
    assert response.status_code == 302
    setup.workshop.refresh_from_db()
    assert setup.workshop.show_opinion_map


def test_query_count_does_not_grow_with_the_map(setup, participant_a):
    show_map(setup.workshop)
    client = participant_client(participant_a)
    store(setup.workshop, result_with(participant_a))
    with CaptureQueriesContext(connection) as small:
        client.get(map_url())
    store(setup.workshop, result_with(participant_a, others=400))
    with CaptureQueriesContext(connection) as large:
        assert client.get(map_url()).status_code == 200
    assert len(large) == len(small)
