"""`manage.py demo` builds what it promises, once, and rebuilds on --reset."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from workbench.deliberation.models import Principle, Round, Vote, Workshop


@pytest.fixture
def demo_output(db, capsys) -> str:
    call_command("demo")
    return capsys.readouterr().out


def test_demo_builds_what_it_prints(demo_output):
    """One build, checked in three parts: a build takes seconds."""
    check_login_and_invite_paths(demo_output)
    check_polis_conversation()
    check_two_group_workshop()


def check_login_and_invite_paths(demo_output: str) -> None:
    assert "demo / demo-workbench" in demo_output
    assert authenticate(username="demo", password="demo-workbench") is not None
    for workshop in Workshop.objects.filter(
        slug__in=["ubi-aotearoa", "ai-assistant-values"]
    ):
        for group in workshop.groups.all():
            assert f"/join/{group.invite_token}/" in demo_output


def check_polis_conversation() -> None:
    workshop = Workshop.objects.get(slug="ubi-aotearoa")

    assert workshop.owner.username == "demo"
    assert workshop.source == "polis:scoop-hivemind.ubi"
    assert workshop.principles.count() == 71
    assert Vote.objects.filter(participant__workshop=workshop).count() > 7000


def check_two_group_workshop() -> None:
    workshop = Workshop.objects.get(slug="ai-assistant-values")

    assert workshop.question == "What should an AI assistant always or never do?"
    assert sorted(workshop.groups.values_list("name", flat=True)) == [
        "Nurses",
        "Teachers",
    ]
    rounds = {(r.kind, r.scope, r.status): r for r in workshop.rounds.all()}
    assert set(rounds) == {
        ("propose", "all", "open"),
        ("vote", "all", "open"),
        ("vote", "group", "open"),
        ("rank", "all", "draft"),
    }
    assert rounds[("rank", "all", "draft")].shortlist.count() >= 2
    for group in workshop.groups.all():
        assert group.participants.count() == 20
        assert Vote.objects.filter(participant__group=group).count() > 50
    assert workshop.principles.filter(is_seed=True).count() >= 8
    assert workshop.principles.filter(status=Principle.Status.PENDING).exists()


def test_demo_again_changes_nothing_and_reset_rebuilds(demo_output, capsys):
    before = dict(Workshop.objects.values_list("slug", "pk"))
    votes = Vote.objects.count()

    call_command("demo")
    assert "already exist" in capsys.readouterr().out
    assert dict(Workshop.objects.values_list("slug", "pk")) == before
    assert Vote.objects.count() == votes

    call_command("demo", "--reset")
    after = dict(Workshop.objects.values_list("slug", "pk"))
    assert set(after) == set(before)
    assert not set(after.values()) & set(before.values())
    # The seeded random votes come out the same every time.
    assert Vote.objects.count() == votes
    assert Round.objects.filter(workshop__slug="ai-assistant-values").count() == 4
