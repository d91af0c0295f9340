"""A request that fails because PostgreSQL, Redis or the broker cannot be
reached is a 503 with Retry-After and a message saying so (core/middleware.py),
never a 500. tests/reliability/test_service_restarts.py restarts real servers;
these tests raise the errors those restarts raise."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory
from django.urls import reverse
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.conftest import participant_client
from workbench.core.views import server_error
from workbench.deliberation.models import Vote

pytestmark = pytest.mark.django_db

VOTE_CAST = "workbench.deliberation.views.participant.voting.vote_cast"
DATABASE = "The workbench cannot reach its database right now."
SERVICE = "The workbench cannot reach one of its services right now."


def vote(client, round_, principle, **headers):
    return client.post(
        reverse(
            "deliberation:participant-vote", args=[round_.workshop.slug, round_.pk]
        ),
        {
            "principle": principle.pk,
            "choice": 1,
            "client_token": "0b6a4f0e-3c55-4b8f-a1a1-6d0d1f1f0e01",
        },
        headers=headers,
    )


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
    ],
)
def test_a_vote_while_the_database_is_down_is_a_503_page_saying_so(
    setup, vote_round, participant_a, error
):
    with mock.patch(VOTE_CAST, side_effect=error):
        response = vote(participant_client(participant_a), vote_round, setup.seeds[0])
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert DATABASE in page and "was not saved" in page
    assert "<html" in page and "Traceback" not in page


def test_an_htmx_vote_gets_the_message_alone(setup, vote_round, participant_a):
    with mock.patch(VOTE_CAST, side_effect=OperationalError("the database is down")):
        response = vote(
            participant_client(participant_a),
            vote_round,
            setup.seeds[0],
            HX_Request="true",
        )
    assert response.status_code == 503 and response["Retry-After"] == "5"
    fragment = response.content.decode()
    assert 'class="message message-error service-unavailable"' in fragment
    assert DATABASE in fragment and "<html" not in fragment


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("es", "El workbench no puede acceder a su base de datos en este momento."),
        ("de", "Die Workbench kann ihre Datenbank gerade nicht erreichen."),
    ],
)
def test_the_message_is_in_the_participants_language(
    setup, vote_round, participant_a, language, message
):
    with mock.patch(VOTE_CAST, side_effect=OperationalError("the database is down")):
        response = vote(
            participant_client(participant_a),
            vote_round,
            setup.seeds[0],
            Accept_Language=language,
        )
    assert response.status_code == 503
    assert message in response.content.decode()


@pytest.mark.parametrize(
    "error", [RedisConnectionError("Connection refused"), BrokerError("no broker")]
)
def test_an_unreachable_redis_or_broker_is_a_503_too(
    setup, vote_round, participant_a, error
):
    with mock.patch(VOTE_CAST, side_effect=error):
        response = vote(participant_client(participant_a), vote_round, setup.seeds[0])
    assert response.status_code == 503
    assert SERVICE in response.content.decode()


def test_the_api_answers_its_own_error_body(owner_client, setup):
    with mock.patch(
        "workbench.api.views.WorkshopViewSet.get_queryset",
        side_effect=OperationalError("the database is down"),
    ):
        response = owner_client.get(reverse("api:workshops"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == {
        "error": {"code": "unavailable", "message": mock.ANY},
    }
    assert DATABASE in response.json()["error"]["message"]


def test_a_bug_is_still_a_bug(setup, vote_round, participant_a):
    """Only an unreachable service is a 503: anything else is not hidden."""
    with (
        mock.patch(VOTE_CAST, side_effect=ValueError("a bug")),
        pytest.raises(ValueError, match="a bug"),
    ):
        vote(participant_client(participant_a), vote_round, setup.seeds[0])


def test_outside_a_view_the_500_handler_answers_503_for_an_outage():
    """A middleware's database access (the session) fails before any view."""
    request = RequestFactory().get("/")
    try:
        raise OperationalError("the database is down")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503 and DATABASE in response.content.decode()
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500


@pytest.mark.django_db(transaction=True)  # the flag is set after a real commit
def test_a_vote_while_the_cache_is_down_is_stored_and_answered_as_usual(
    setup, vote_round, participant_a
):
    """Redis holds only the analysis's debounce flag (and the broker): a vote,
    already committed when the flag is set, must not fail with it."""
    with (
        mock.patch(
            "workbench.deliberation.services.analysis.cache.add",
            side_effect=RedisConnectionError("Connection refused"),
        ) as flag,
        mock.patch(
            "workbench.deliberation.tasks.analysis_refresh_task.apply_async"
        ) as enqueue,
    ):
        response = vote(participant_client(participant_a), vote_round, setup.seeds[0])
    assert response.status_code == 303
    assert "messages" not in response.cookies
    assert Vote.objects.filter(participant=participant_a).count() == 1
    flag.assert_called_once()
    enqueue.assert_not_called()  # no flag, no debounce: the next vote schedules
