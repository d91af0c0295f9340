"""Create through the API, read it back; bad input gets the one error body and
changes nothing; researcher reads are scoped, filtered and honest about consent."""

from __future__ import annotations

from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import ParticipantFactory
from workbench.api.models import ApiToken
from workbench.deliberation.models import Principle, VoteChoice
from workbench.deliberation.services.votes import vote_cast
from workbench.judging.models import JudgeRun


def test_create_workshop_group_round_principle_then_read_back(alice_api, owner):
    made = alice_api.post(
        "/api/v1/workshops/",
        {"title": "Care values", "question": "What should a care bot do?"},
        format="json",
    )
    assert made.status_code == 201
    slug = made.json()["slug"]
    base = f"/api/v1/workshops/{slug}"
    group = alice_api.post(f"{base}/groups/", {"name": "Nurses"}, format="json")
    assert group.status_code == 201
    group_id = group.json()["id"]
    round_ = alice_api.post(
        f"{base}/rounds/",
        {"kind": "vote", "scope": "group", "group": group_id},
        format="json",
    )
    assert round_.status_code == 201
    assert round_.json()["status"] == "draft"
    seed = alice_api.post(
        f"{base}/principles/",
        {"text": "Choose the <b>calmer</b> answer.", "group": group_id},
        format="json",
    )
    assert seed.status_code == 201

    assert alice_api.get(f"{base}/").json()["title"] == "Care values"
    assert [g["name"] for g in alice_api.get(f"{base}/groups/").json()["results"]] == [
        "Nurses"
    ]
    principles = alice_api.get(f"{base}/principles/").json()["results"]
    assert principles[0]["text"] == "Choose the <b>calmer</b> answer."  # JSON, as typed
    assert principles[0]["status"] == "approved"
    assert principles[0]["versions"][0]["number"] == 1
    assert alice_api.get(f"{base}/rounds/").json()["results"][0]["group"] == group_id
    events = alice_api.get(f"{base}/moderation-events/").json()["results"]
    assert [e["action"] for e in events] == ["seed"]


def test_application_error_is_a_400_with_the_error_body(alice_api, setup):
    response = alice_api.post(
        "/api/v1/workshops/ai-values/principles/",
        {"text": setup.seeds[0].text},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "application_error",
            "message": "This principle is already in the workshop.",
        }
    }
    assert Principle.objects.filter(text=setup.seeds[0].text).count() == 1


def test_invalid_fields_are_listed(alice_api, setup):
    response = alice_api.post(
        "/api/v1/workshops/ai-values/rounds/", {"kind": "poll"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "kind" in error["fields"]
    assert error["message"].startswith("The input is not valid")


def test_another_workshops_group_is_refused(alice_api, setup, owner):
    other = alice_api.post(
        "/api/v1/workshops/", {"title": "Other", "question": "?"}, format="json"
    ).json()["slug"]
    foreign = alice_api.post(
        f"/api/v1/workshops/{other}/groups/", {"name": "G"}, format="json"
    ).json()["id"]
    response = alice_api.post(
        "/api/v1/workshops/ai-values/rounds/",
        {"kind": "vote", "scope": "group", "group": foreign},
        format="json",
    )
    assert response.status_code == 400
    assert "group" in response.json()["error"]["fields"]


def test_bad_filter_is_a_400_not_a_crash(alice_api, setup):
    response = alice_api.get("/api/v1/workshops/ai-values/votes/?round=abc")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"round": ["Expected a whole number."]}


def test_votes_filter_and_history_keeps_changed_votes(
    alice_api, setup, vote_round, participant_a
):
    for choice in (VoteChoice.AGREE, VoteChoice.DISAGREE):
        vote_cast(
            participant=participant_a,
            round_=vote_round,
            principle=setup.seeds[0],
            choice=choice,
        )
    vote_cast(
        participant=participant_a,
        round_=vote_round,
        principle=setup.seeds[1],
        choice=VoteChoice.PASS,
    )
    base = "/api/v1/workshops/ai-values"
    current = alice_api.get(f"{base}/votes/?principle={setup.seeds[0].pk}").json()
    assert [v["choice_label"] for v in current["results"]] == ["disagree"]
    history = alice_api.get(f"{base}/vote-history/?principle={setup.seeds[0].pk}")
    assert [v["choice"] for v in history.json()["results"]] == [1, -1]
    assert alice_api.get(f"{base}/votes/?round={vote_round.pk}").json()["count"] == 2


def test_pagination(alice_api, setup):
    page = alice_api.get("/api/v1/workshops/ai-values/principles/?page_size=2").json()
    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["next"].endswith("page=2&page_size=2")


def test_demographics_only_with_consent(alice_api, setup):
    ParticipantFactory(group=setup.group_a)  # no consent: the database holds none
    ParticipantFactory(
        group=setup.group_b, demographics={"age": "40-49"}, demographics_consent=True
    )
    rows = alice_api.get("/api/v1/workshops/ai-values/participants/").json()["results"]
    assert sorted(str(r["demographics"]) for r in rows) == ["{'age': '40-49'}", "{}"]
    assert all("public_id" not in r for r in rows)


def test_start_read_and_cancel_a_judge_run(alice_api, world, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    base = "/api/v1/workshops/ai-values/runs"
    refused = alice_api.post(
        f"{base}/",
        {"comparison_set": world["comparison_set"], "provider": "openai"},
        format="json",
    )
    assert refused.status_code == 400
    assert "OPENAI_API_KEY" in refused.json()["error"]["fields"]["provider"][0]
    started = alice_api.post(
        f"{base}/",
        {"comparison_set": world["comparison_set"], "provider": "offline"},
        format="json",
    )
    assert started.status_code == 201
    run_id = started.json()["id"]
    assert started.json()["verdicts_total"] == 6  # 3 items, both orders
    progress = alice_api.get(f"{base}/{run_id}/progress/").json()
    assert (progress["status"], progress["total"], progress["finished"]) == (
        "pending",
        6,
        False,
    )
    cancelled = alice_api.post(f"{base}/{run_id}/cancel/")
    assert cancelled.status_code == 200
    assert JudgeRun.objects.get(pk=run_id).status == "cancelled"
    again = alice_api.post(f"{base}/{run_id}/cancel/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "run_ended"


def test_api_token_command_stores_only_a_hash(owner, capsys):
    call_command("api_token", "alice", "--name", "laptop")
    key = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(user=owner)
    assert key.startswith("wb_")
    assert key not in (token.key_hash, token.prefix)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/workshops/").status_code == 200
    call_command("api_token", "alice", "--revoke-all")
    response = client.get("/api/v1/workshops/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_token_users_are_throttled(alice_api, owner, monkeypatch):
    from django.core.cache import cache

    from workbench.api.throttling import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "2/minute"})

    cache.clear()
    codes = [alice_api.get("/api/v1/workshops/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    session = APIClient()
    session.force_login(owner)  # the browser is not throttled
    assert session.get("/api/v1/workshops/").status_code == 200
