"""The no-principle control run (the judge's own taste): `manage.py judge
--control no-principle` sends the pair without the principle (seen at the fake
provider), and `encoding_gap --json` then sets it beside the run with the
principle."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command

from tests.factories import ParticipantFactory
from tests.judging.fake_providers import FakeProviderServer, Recorded, Success
from tests.judging.judging_fixtures import make_set
from workbench.judging.models import HumanJudgment, JudgeControl, JudgeRun

ITEMS = 4
RESPONSE_A = re.compile(r"<response_a>\nAnswer \d+ (A|B)\n</response_a>")


def taste_or_principle(request: Recorded) -> Success:
    """With the principle shown the judge picks the item's response A (as the
    participants do); asked for its own taste it picks response B."""
    user = request.body["messages"][-1]["content"]
    shown_first = RESPONSE_A.search(user)
    assert shown_first is not None
    wanted = "A" if "<principle>" in user else "B"
    letter = "A" if shown_first.group(1) == wanted else "B"
    return Success(
        text=letter, top=((letter, 0.9), ("A" if letter == "B" else "B", 0.1))
    )


@pytest.fixture
def server(monkeypatch, settings):
    settings.JUDGE_CONCURRENCY = {"openai": 1}  # one thread: this test's transaction
    settings.JUDGE_RETRY = {"max_attempts": 2, "base_delay": 0.01, "max_delay": 0.02}
    with FakeProviderServer() as fake:
        fake.answer_with(taste_or_principle)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-control-not-real")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_url)
        yield fake


@pytest.fixture
def labelled_set(setup):
    comparison_set = make_set(setup, items=ITEMS)
    people = [ParticipantFactory(group=g) for g in (setup.group_a, setup.group_b)] * 2
    for item in comparison_set.items.all():
        for person in people[:3]:
            HumanJudgment.objects.get_or_create(
                item=item, participant=person, defaults={"label": "a"}
            )
    return comparison_set


def judge(setup, *extra: str) -> str:
    out = io.StringIO()
    call_command(
        "judge",
        setup.workshop.slug,
        "--provider",
        "openai",
        "--eager",
        *extra,
        stdout=out,
    )
    return out.getvalue()


def test_a_control_run_sends_no_principle_and_fills_the_report(
    setup, server, labelled_set
):
    principle = setup.seeds[0].text
    judge(setup)
    main = JudgeRun.objects.get()
    assert main.status == JudgeRun.Status.DONE
    with_principle = server.requests
    assert len(with_principle) == ITEMS * 2
    assert all(principle in r.body["messages"][-1]["content"] for r in with_principle)

    out = judge(setup, "--control", "no-principle")
    control = JudgeRun.objects.exclude(pk=main.pk).get()
    assert control.config.control == JudgeControl.NO_PRINCIPLE
    assert control.status == JudgeRun.Status.DONE
    assert control.cache_hits == 0  # a different question: nothing is copied
    assert "(control: no principle)" in out
    sent = [r.body["messages"][-1]["content"] for r in server.requests[ITEMS * 2 :]]
    assert len(sent) == ITEMS * 2
    for text in sent:
        assert principle not in text
        assert "<principle>" not in text
        assert "Which response is better?" in text
        assert "Answer" in text  # the pair itself is still shown

    report_out = io.StringIO()
    call_command("encoding_gap", setup.workshop.slug, "--json", stdout=report_out)
    report = json.loads(report_out.getvalue())
    assert report["run"]["id"] == main.pk  # the control is never the main run
    controls = report["controls"]
    assert controls["no_principle_run"] == control.pk
    (row,) = controls["principles"]
    assert row["judge_agreement"] == pytest.approx(1.0)
    assert row["no_principle_judge_agreement"] == pytest.approx(0.0)
    assert row["beats_control"] is True


def test_a_second_control_run_is_all_from_the_cache(setup, server, labelled_set):
    judge(setup, "--control", "no-principle")
    calls = server.request_count
    out = judge(setup, "--control", "no-principle")
    assert server.request_count == calls
    assert f"{ITEMS * 2} from the cache" in out


def test_without_a_control_run_the_report_says_so(setup, server, labelled_set):
    judge(setup)
    report_out = io.StringIO()
    call_command("encoding_gap", setup.workshop.slug, "--json", stdout=report_out)
    controls = json.loads(report_out.getvalue())["controls"]
    assert controls["no_principle_run"] is None
    assert controls["principles"] == []


def test_an_unknown_control_is_refused(setup, labelled_set):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command(
            "judge", setup.workshop.slug, "--provider", "offline", "--control", "flip"
        )
