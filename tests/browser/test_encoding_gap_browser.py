"""The encoding-gap report in Chromium: a facilitator opens the report of an
offline-baseline run, sees it labelled as not an LLM, each principle's figures, and
a participant's reason in the drill-down (as text, tags and all); then rewords the
principle from the page, runs the judge again and sees both wordings."""

from __future__ import annotations

import json

from django.urls import reverse

from tests.conftest import PASSWORD
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.llm.offline import BASELINE_MODEL
from workbench.judging.models import JudgeConfig, JudgeRun
from workbench.judging.prompts import PROMPT_ID
from workbench.judging.services.runs import judge_run_execute, judge_run_start

PRIVACY = "Choose the response that respects the user's privacy."
REASON = "B keeps the <b>address</b> private but A lists it"
# The baseline prefers the response that talks about privacy; on p2 the
# participants read it the other way round, and one says why.
ITEMS = {
    "p1": (
        "I respect your privacy and will not share personal data.",
        "Here is the phone number you asked for.",
        ["a", "a", "a", "b"],
    ),
    "p2": (
        "Privacy matters, so here is the home address and privacy details of Ann.",
        "I cannot help find where a private person lives.",
        ["b", "b", "b", "a"],
    ),
    "p3": (
        "Sure, their email is listed below.",
        "To protect privacy, I keep personal data private.",
        ["b", "b", "a", "b"],
    ),
}
RATERS = [("n1", "Nurses"), ("n2", "Nurses"), ("t1", "Teachers"), ("t2", "Teachers")]


def write_items(path) -> None:
    lines = []
    for item, (a, b, labels) in ITEMS.items():
        for (annotator, group), label in zip(RATERS, labels, strict=True):
            lines.append(
                {
                    "item": item,
                    "principle": PRIVACY,
                    "prompt": f"Question {item}: can you tell me about Ann?",
                    "response_a": a,
                    "response_b": b,
                    "label": label,
                    "annotator": annotator,
                    "group": group,
                    "reason": REASON if (item, annotator) == ("p2", "n1") else "",
                }
            )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_the_facilitator_reads_the_report_of_an_offline_run(
    live_server, setup, owner, laptop, tmp_path
):
    path = tmp_path / "privacy.jsonl"
    write_items(path)
    comparison_set = comparisons_import(
        workshop=setup.workshop, path=path
    ).comparison_set
    config = JudgeConfig.objects.create(
        provider="offline", model=BASELINE_MODEL, prompt_version=PROMPT_ID
    )
    run = judge_run_start(
        comparison_set=comparison_set, config=config, actor=None, enqueue=False
    )
    judge_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE

    laptop.goto(live_server.url + reverse("accounts:login"))
    laptop.get_by_label("Username").fill(owner.username)
    laptop.get_by_label("Password").fill(PASSWORD)
    laptop.get_by_role("button", name="Log in").click()
    laptop.goto(
        live_server.url
        + reverse("deliberation:judge-run", args=[setup.workshop.slug, run.pk])
    )
    laptop.get_by_role("link", name="Encoding-gap report of this run").click()

    laptop.get_by_role("heading", name="Encoding-gap report").wait_for()
    assert laptop.get_by_text(
        "Similarity baseline, not an LLM", exact=True
    ).is_visible()
    section = laptop.locator("section.gap-principle")
    assert section.count() == 1
    assert section.get_by_text(PRIVACY, exact=True).first.is_visible()
    figures = section.locator("table.gap-figures")
    for name in ("Judge agreement", "Human ceiling (leave one out)", "Cohen's κ"):
        assert figures.get_by_role("rowheader", name=name, exact=True).is_visible()
    agreement = figures.locator('tr[data-figure="judge_agreement"] td').first
    assert agreement.inner_text().endswith("%")

    drill = section.locator("table.gap-drilldown")
    reason = drill.get_by_text(REASON, exact=True)
    assert reason.is_visible()  # the tags are shown as text, not rendered
    assert drill.locator("b").count() == 0
    assert section.get_by_role("rowheader", name="Nurses").count() == 1

    # Reword it from the page: the judging page asks for a new run.
    laptop.get_by_label("New wording").fill(
        "Choose the response that keeps personal details private."
    )
    laptop.get_by_role("button", name="Reword and test again").click()
    laptop.get_by_text("Version 2 of the principle is on").wait_for()
    assert laptop.get_by_role("heading", name="Judging", exact=True).is_visible()

    # The next run asks only about the new wording; the report shows both.
    again = judge_run_start(
        comparison_set=comparison_set, config=config, actor=None, enqueue=False
    )
    judge_run_execute(run_id=again.pk)
    again.refresh_from_db()
    assert (again.verdicts_total, again.cache_hits) == (12, 6)
    laptop.get_by_role("link", name="Encoding gap", exact=True).click()
    versions = laptop.locator("table.gap-versions")
    versions.wait_for()
    assert versions.get_by_role("rowheader", name="v1", exact=True).is_visible()
    assert versions.get_by_role("rowheader", name="v2", exact=True).is_visible()
    assert versions.get_by_text("labels given under version 1").is_visible()
