"""CSRF: every URL the project serves refuses a POST without the token, whoever
sends it, and the refusal changes nothing. The URLs are walked from the URL conf, so a
new form cannot be left out; the browser holds the owner's session and the right
participant's cookie at once, so the refusal is not a login or a membership check."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from tests.security.conftest import Hostile, changed_tables, snapshot
from tests.security.test_permission_matrix import (
    ADMIN_ROUTES,
    PARTICIPANT_ROUND_KINDS,
    ROUTES,
    Route,
    post_data_for,
    url_for,
)
from workbench.api.services import api_token_create
from workbench.deliberation.participant_session import cookie_name


def _browser(world: Hostile) -> Client:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.owner)
    name = cookie_name(world.workshop)
    browser.cookies[name] = world.clients["right_participant"].cookies[name].value
    return browser


def _post(browser: Client, route: Route, url: str, data: dict[str, Any]) -> Any:
    if route.name.startswith("api:"):
        return browser.post(url, data, content_type="application/json")
    return browser.post(url, data)


def test_every_post_without_a_token_is_refused(hostile: Hostile) -> None:
    token, _ = api_token_create(user=hostile.owner, name="laptop")
    browser = _browser(hostile)
    refused = []
    for route in ROUTES:
        url = url_for(route, hostile, "right_participant", token.pk)
        data = post_data_for(route, hostile, "right_participant")
        before = snapshot()
        response = _post(browser, route, url, data)
        assert response.status_code == 403, (route.name, response.status_code)
        if route.name.startswith("api:") and route.name not in (
            "api:schema",
            "api:docs",
        ):
            assert "CSRF" in response.json()["error"]["message"], route.name
        assert snapshot() == before, (route.name, changed_tables(before, snapshot()))
        refused.append(route.name)
    for route in ADMIN_ROUTES:
        if route.name == "admin:login":
            assert browser.post(reverse(route.name)).status_code == 403
            refused.append(route.name)
    # Every kind of POST route is in there.
    for name in (
        "accounts:login",
        "accounts:logout",
        "accounts:signup",
        "set_language",
        "deliberation:join",
        "api_tokens:list",
        "api_tokens:revoke",
        "api:groups-list",
        "api:runs-cancel",
        "deliberation:round-open",
        "deliberation:principle-approve",
        *PARTICIPANT_ROUND_KINDS,
    ):
        assert name in refused
    # Still logged in: the refused logout did not log the owner out.
    assert browser.get(reverse("deliberation:workshop-list")).status_code == 200


def test_the_same_posts_with_the_token_go_through(hostile: Hostile) -> None:
    """The refusal above is the CSRF check: with the token, a vote, a proposal and a
    round opening are stored."""
    browser = _browser(hostile)
    browser.get(reverse("deliberation:workshop-list"))  # sets the csrftoken cookie
    csrf = browser.cookies["csrftoken"].value
    for name in (
        "deliberation:participant-vote",
        "deliberation:participant-propose",
        "deliberation:round-open",
    ):
        route = next(r for r in ROUTES if r.name == name)
        url = url_for(route, hostile, "right_participant", 0)
        data = post_data_for(route, hostile, "right_participant")
        before = snapshot()
        response = browser.post(url, {**data, "csrfmiddlewaretoken": csrf})
        assert response.status_code in (302, 303), name
        assert snapshot() != before, name
