"""Every API endpoint: the owner is answered, another facilitator gets a 404 (their
workshop's existence is not revealed) and changes nothing, anonymous callers get a
401 - all with the one error body. The table must list every route, so a new
endpoint without a permission test fails here."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from workbench.deliberation.models import ParticipantGroup, Principle, Round, Workshop
from workbench.judging.models import JudgeRun

P = "/api/v1/workshops/{slug}"

# route name -> (method, path template, body for POST, the owner's status)
ENDPOINTS: dict[str, tuple[str, str, dict[str, Any] | None, int]] = {
    "workshops": ("get", "/api/v1/workshops/", None, 200),
    "workshop-detail": ("get", P + "/", None, 200),
    "groups-list": ("get", P + "/groups/", None, 200),
    "groups-detail": ("get", P + "/groups/{group}/", None, 200),
    "participants-list": ("get", P + "/participants/", None, 200),
    "participants-detail": ("get", P + "/participants/{participant}/", None, 200),
    "principles-list": ("get", P + "/principles/", None, 200),
    "principles-detail": ("get", P + "/principles/{principle}/", None, 200),
    "rounds-list": ("get", P + "/rounds/", None, 200),
    "rounds-detail": ("get", P + "/rounds/{round}/", None, 200),
    "votes-list": ("get", P + "/votes/", None, 200),
    "vote-history-list": ("get", P + "/vote-history/", None, 200),
    "ballots-list": ("get", P + "/ballots/", None, 200),
    "moderation-events-list": ("get", P + "/moderation-events/", None, 200),
    "constitutions-list": ("get", P + "/constitutions/", None, 200),
    "constitutions-detail": ("get", P + "/constitutions/{constitution}/", None, 200),
    "analysis-list": ("get", P + "/analysis/", None, 200),
    "comparison-sets-list": ("get", P + "/comparison-sets/", None, 200),
    "comparison-sets-detail": (
        "get",
        P + "/comparison-sets/{comparison_set}/",
        None,
        200,
    ),
    "comparison-items-list": ("get", P + "/comparison-items/", None, 200),
    "human-judgments-list": ("get", P + "/human-judgments/", None, 200),
    "judge-configs-list": ("get", P + "/judge-configs/", None, 200),
    "runs-list": ("get", P + "/runs/", None, 200),
    "runs-detail": ("get", P + "/runs/{run}/", None, 200),
    "runs-progress": ("get", P + "/runs/{run}/progress/", None, 200),
    "runs-cancel": ("post", P + "/runs/{run}/cancel/", {}, 200),
    "verdicts-list": ("get", P + "/verdicts/", None, 200),
    "encoding-gap-list": ("get", P + "/encoding-gap/", None, 200),
    "cards-list": ("get", P + "/cards/", None, 200),
    "cards-markdown": ("get", P + "/cards.md", None, 200),
    "cards-pdf": ("get", P + "/cards.pdf", None, 200),
}
# The same routes answer POST (create) too.
CREATES: dict[str, tuple[str, dict[str, Any]]] = {
    "workshops": ("/api/v1/workshops/", {"title": "New", "question": "Why?"}),
    "groups-list": (P + "/groups/", {"name": "Doctors"}),
    "principles-list": (P + "/principles/", {"text": "Choose the kinder answer."}),
    "rounds-list": (P + "/rounds/", {"kind": "vote"}),
    "runs-list": (P + "/runs/", {"comparison_set": 0, "provider": "offline"}),
}
PUBLIC = {"schema", "docs"}
CARDS = {"cards-list", "cards-markdown", "cards-pdf"}


def _api_route_names() -> set[str]:
    resolver = get_resolver()
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif namespace == "api":
                names.add(pattern.name)

    walk(resolver.url_patterns, "")
    return names


def test_every_route_has_a_permission_test():
    assert _api_route_names() == set(ENDPOINTS) | PUBLIC


def _url(template: str, world: dict[str, Any]) -> str:
    return template.format(**world)


def _call(client: APIClient, method: str, url: str, body: Any) -> Any:
    if method == "post":
        return client.post(url, body, format="json")
    return client.get(url)


def _needs_cards(name: str) -> None:
    if name in CARDS and (
        importlib.util.find_spec("workbench.cards.services.build") is None
        or importlib.util.find_spec("workbench.cards.render.markdown") is None
    ):
        pytest.skip("the cards services are not there yet")


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_anonymous_gets_401(name, world):
    method, template, body, _ = ENDPOINTS[name]
    response = _call(APIClient(), method, _url(template, world), body)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_other_facilitator_gets_404(name, world, charlie_api):
    method, template, body, _ = ENDPOINTS[name]
    if name == "workshops":
        response = charlie_api.get("/api/v1/workshops/")
        assert response.status_code == 200
        assert response.json()["results"] == []  # alice's workshop is not listed
        return
    response = _call(charlie_api, method, _url(template, world), body)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    if name == "runs-cancel":
        assert JudgeRun.objects.get(pk=world["run"]).status == "pending"


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_owner_is_answered(name, world, alice_api):
    _needs_cards(name)
    method, template, body, expected = ENDPOINTS[name]
    response = _call(alice_api, method, _url(template, world), body)
    assert response.status_code == expected, response.content[:500]


@pytest.mark.parametrize("name", sorted(CREATES))
def test_create_permissions(name, world, alice_api, charlie_api):
    template, body = CREATES[name]
    body = (
        {**body, "comparison_set": world["comparison_set"]}
        if name == "runs-list"
        else body
    )
    url = _url(template, world)
    before = (
        Workshop.objects.count(),
        ParticipantGroup.objects.count(),
        Principle.objects.count(),
        Round.objects.count(),
        JudgeRun.objects.count(),
    )
    assert APIClient().post(url, body, format="json").status_code == 401
    if name != "workshops":
        assert charlie_api.post(url, body, format="json").status_code == 404
    after = (
        Workshop.objects.count(),
        ParticipantGroup.objects.count(),
        Principle.objects.count(),
        Round.objects.count(),
        JudgeRun.objects.count(),
    )
    assert after == before  # nothing was created for the refused callers
    assert alice_api.post(url, body, format="json").status_code == 201


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_schema_and_docs_are_public(name):
    response = APIClient().get(f"/api/v1/{name}/")
    assert response.status_code == 200


def test_docs_page_loads_swagger_from_this_server(client):
    html = client.get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_session_unsafe_methods_need_csrf(owner, setup):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(owner)
    assert browser.get(f"/api/v1/workshops/{setup.workshop.slug}/").status_code == 200
    response = browser.post(
        f"/api/v1/workshops/{setup.workshop.slug}/groups/", {"name": "X"}, format="json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    assert not ParticipantGroup.objects.filter(name="X").exists()
