"""`manage.py demo` builds what it promises, once, and rebuilds on --reset."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from workbench.deliberation.models import Principle, Round, Vote, Workshop
from workbench.judging.models import ComparisonSet, HumanJudgment, JudgeRun, Verdict
from workbench.judging.services.encoding_gap import encoding_gap_report


@pytest.fixture
def demo_output(db, capsys) -> str:
    call_command("demo")
    return capsys.readouterr().out


def test_demo_builds_what_it_prints(demo_output):
    """One build, checked in three parts: a build takes seconds."""
    check_login_and_invite_paths(demo_output)
    check_polis_conversation()
    check_two_group_workshop()
    check_judging_demo()


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
        ("compare", "all", "open"),
    }
    assert rounds[("rank", "all", "draft")].shortlist.count() >= 2
    for group in workshop.groups.all():
        # The voters joined through the invite link; the comparison raters were
        # imported (they carry an external id).
        assert group.participants.filter(external_id="").count() == 20
        assert Vote.objects.filter(participant__group=group).count() > 50
    assert workshop.principles.filter(is_seed=True).count() >= 8
    assert workshop.principles.filter(status=Principle.Status.PENDING).exists()


def check_judging_demo() -> None:
    """Real HH-RLHF pairs, synthetic raters in both groups, a compare round a
    visitor can open, and a finished baseline run the report reads."""
    workshop = Workshop.objects.get(slug="ai-assistant-values")
    comparison_set = ComparisonSet.objects.get(workshop=workshop)
    assert comparison_set.round is not None
    assert comparison_set.round.kind == Round.Kind.COMPARE
    assert comparison_set.round.status == Round.Status.OPEN
    n_items = comparison_set.items.count()
    assert n_items == 24
    run = JudgeRun.objects.get(comparison_set=comparison_set)
    assert run.status == JudgeRun.Status.DONE
    assert Verdict.objects.filter(run=run).count() == 2 * n_items

    report = encoding_gap_report(workshop=workshop, n_resamples=200)
    assert report["judge"]["is_llm"] is False
    (principle,) = report["principles"]
    # 16 raters judged every pair; "does not apply" answers are not counted.
    assert HumanJudgment.objects.filter(
        item__comparison_set=comparison_set
    ).count() == (24 * 16)
    assert 300 < principle["n_human_labels"] < 24 * 16
    assert principle["human_ceiling"] is not None
    assert principle["judge_agreement"] is not None
    assert set(principle["per_group"]) == {"Nurses", "Teachers"}


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
    assert Round.objects.filter(workshop__slug="ai-assistant-values").count() == 5
    assert (
        Verdict.objects.filter(
            run__comparison_set__workshop__slug="ai-assistant-values"
        ).count()
        == 48
    )
