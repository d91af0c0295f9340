"""The facilitator's encoding-gap report page, through HTTP: the run's figures with
intervals, groups, the drill-down with participants' reasons (escaped), the
leaderboard and versions, rewording a principle, permissions and the cache."""

from __future__ import annotations

import importlib
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.factories import WorkshopFactory
from workbench.deliberation.models import ModerationEvent, PrincipleVersion
from workbench.deliberation.services.principles import principle_seed
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.llm.offline import BASELINE_MODEL
from workbench.judging.models import (
    ComparisonItem,
    HumanJudgment,
    JudgeRun,
)
from workbench.judging.services.encoding_gap import encoding_gap_report

from .test_comparisons_own_format import write_jsonl
from .test_encoding_gap_report import (
    PRIVACY,
    generated_rows,
    judge_answers,
    make_run,
    store_verdicts,
)

# The package exports the view under the module's name: fetch the module itself.
page = importlib.import_module(
    "workbench.deliberation.views.facilitator.encoding_gap_display"
)
cache_service = importlib.import_module("workbench.judging.services.report_cache")

HOSTILE_REASON = 'B dodges <script>alert("owned")</script> the question'
REWORDED = "Choose the response that keeps what the user said about others private."


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def report_url(setup, run=None) -> str:
    url = reverse("deliberation:encoding-gap", kwargs={"slug": setup.workshop.slug})
    return f"{url}?run={run.pk}" if run is not None else url


def reword_url(setup, principle) -> str:
    return reverse(
        "deliberation:encoding-gap-reword",
        kwargs={"slug": setup.workshop.slug, "pk": principle.pk},
    )


def page_rows():
    rows = generated_rows()
    for row in rows:
        if row["item"] == "q1" and row["annotator"] == "n1":
            row["reason"] = HOSTILE_REASON
    return rows


@pytest.fixture
def judged(setup, tmp_path):
    """Two principles x 6 items, 7 raters in two groups, and an LLM run."""
    rows = page_rows()
    path = write_jsonl(
        tmp_path / "pairs.jsonl",
        [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
    )
    comparison_set = comparisons_import(
        workshop=setup.workshop, path=path
    ).comparison_set
    run = make_run(comparison_set)
    answers = judge_answers(rows)
    # q1 read against the participants, so the reason shows in the drill-down.
    answers["q1"] = ("b", "b", 0.05, 0.05)
    store_verdicts(run, answers)
    return rows, comparison_set, run


def figure_cell(html: str, section_text: str, key: str) -> tuple[str, str]:
    """The value and interval of ``key`` in the figures table of the principle
    whose section contains ``section_text``."""
    sections = re.split(r'<section id="principle-', html)
    section = next(s for s in sections[1:] if section_text in s)
    match = re.search(
        rf'data-figure="{key}">\s*<th scope="row">.*?</th>\s*'
        r'<td class="num">(.*?)</td>\s*<td class="num">(.*?)</td>',
        section,
        re.S,
    )
    assert match, key
    return match.group(1), match.group(2)


def test_owner_sees_each_principles_figures_with_intervals(owner_client, setup, judged):
    run = judged[2]
    response = owner_client.get(report_url(setup))
    assert response.status_code == 200
    html = response.content.decode()

    expected = encoding_gap_report(workshop=setup.workshop, run=run)
    for entry in expected["principles"]:
        text = entry["text"].replace("'", "&#x27;")
        assert text in html
        value, interval = figure_cell(html, text, "judge_agreement")
        assert value == page.fmt(entry["judge_agreement"], "percent")
        assert interval == page.fmt_interval(entry["ci"]["judge_agreement"], "percent")
        assert value.endswith("%") and "\u2013" in interval
        gap, _ = figure_cell(html, text, "gap")
        assert gap == page.fmt(entry["gap"], "points")
        ceiling, _ = figure_cell(html, text, "human_ceiling")
        assert ceiling == page.fmt(entry["human_ceiling"], "percent")
    # The judge and run are named; an LLM is not labelled as a baseline.
    assert f"Run {run.pk}" in html
    assert "gpt-test" in html
    assert "Similarity baseline, not an LLM" not in html
    # Per group, with the best match and the disparity test.
    assert "Per participant group" in html
    assert re.search(r"Nurses\s*<span class=\"badge badge-open\">best match", html)
    assert 'reads this principle most like <strong dir="auto">Nurses</strong>' in html
    assert re.search(r"Disparity between groups: p = [\d.]+, q = [\d.]+", html)
    # Accessible tables.
    assert html.count("<caption") >= 6
    assert 'scope="col"' in html and 'scope="row"' in html
    # The leaderboard lists this judge, ranked first; no control run yet.
    assert "Judges on the same items" in html
    assert "No finished no-principle control run" in html
    # No principle has a second wording yet.
    assert "No principle has two wordings" in html
    assert "Reword and test again" in html
    # One form per principle, each textarea with its own id for its label.
    assert len(set(re.findall(r'id="(reword-\d+-text)"', html))) == 2


def test_the_drill_down_shows_counts_and_escaped_reasons(owner_client, setup, judged):
    html = owner_client.get(report_url(setup)).content.decode()
    assert "Where the judge and the participants disagree most" in html
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert re.search(r'<li dir="auto">B dodges &lt;script&gt;', html)
    # q1: nurses and teachers' label counts, the judge's confident B.
    row = re.search(r'<th scope="row" dir="auto">q1</th>(.*?)</tr>', html, re.S)
    assert row
    assert ">B<" in row.group(1)
    assert "5.0%" in row.group(1)


def test_the_offline_baseline_is_labelled_not_an_llm(owner_client, setup, judged):
    _, comparison_set, _ = judged
    baseline = make_run(comparison_set, provider="offline", model=BASELINE_MODEL)
    store_verdicts(baseline, judge_answers(page_rows()))
    html = owner_client.get(report_url(setup, baseline)).content.decode()
    assert "Similarity baseline, not an LLM" in html
    assert "similarity baseline, not an LLM" in html  # on its leaderboard row
    assert BASELINE_MODEL in html


def test_other_facilitators_and_other_workshops_runs_get_404(
    client, outsider_client, owner_client, owner, setup, judged
):
    _, _, run = judged
    assert outsider_client.get(report_url(setup)).status_code == 404
    assert outsider_client.get(report_url(setup, run)).status_code == 404
    assert client.get(report_url(setup)).status_code == 302  # to the login page

    other = WorkshopFactory(owner=owner)
    seed = principle_seed(workshop=other, text="Choose the calmer one.", actor=owner)
    other_set = other.comparison_sets.create(name="elsewhere", source="generated")
    other_run = JudgeRun.objects.create(
        config=run.config, comparison_set=other_set, status=JudgeRun.Status.DONE
    )
    assert owner_client.get(report_url(setup, other_run)).status_code == 404
    assert owner_client.get(report_url(setup) + "?run=abc").status_code == 404
    assert owner_client.get(report_url(setup) + "?run=999999").status_code == 404
    # Rewording another workshop's principle from here is not found either.
    response = owner_client.post(
        reword_url(setup, seed),
        {"text": "Choose the calmest one.", "run": run.pk},
    )
    assert response.status_code == 404
    assert seed.versions.count() == 1


def test_a_workshop_without_runs_shows_the_participants_figures(owner_client, setup):
    html = owner_client.get(report_url(setup)).content.decode()
    assert "No finished judge run in this workshop yet" in html
    assert "Reword and test again" not in html


# --- rewording -----------------------------------------------------------------------


def test_rewording_makes_a_version_on_the_same_pairs_and_asks_for_a_run(
    owner_client, setup, judged
):
    _, comparison_set, run = judged
    principle = setup.seeds[1]  # PRIVACY
    page_html = owner_client.get(report_url(setup, run)).content.decode()
    assert f'action="{reword_url(setup, principle)}"' in page_html
    assert "csrfmiddlewaretoken" in page_html

    response = owner_client.post(
        reword_url(setup, principle),
        {
            "text": REWORDED,
            "comparison_set": comparison_set.pk,
            "run": run.pk,
        },
    )
    judging = reverse("deliberation:judging", kwargs={"slug": setup.workshop.slug})
    assert response.status_code == 302
    assert response["Location"] == judging
    followed = owner_client.get(judging).content.decode()
    assert "Version 2 of the principle is on" in followed
    assert "Start a judge run" in followed

    version = principle.versions.get(number=2)
    assert version.text == REWORDED
    assert ModerationEvent.objects.filter(
        principle=principle, action=ModerationEvent.Action.EDIT
    ).exists()
    assert (
        ComparisonItem.objects.filter(
            comparison_set=comparison_set, principle_version=version
        ).count()
        == 6
    )

    # The report now shows both wordings side by side; v2 is not judged yet.
    html = owner_client.get(report_url(setup, run)).content.decode()
    assert "Wordings of principle" in html
    assert "labels given under version 1" in html
    assert re.search(r'<td class="num">0 / 6</td>', html)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write the principle before submitting it."),
        ("y" * 400, "Please keep a principle under 280 characters"),
        (PRIVACY, "The new wording is the same as the current one."),
    ],
    ids=["empty", "too-long", "unchanged"],
)
def test_bad_rewording_changes_nothing_and_says_why(
    owner_client, setup, judged, text, message
):
    _, comparison_set, run = judged
    principle = setup.seeds[1]
    before = (PrincipleVersion.objects.count(), ComparisonItem.objects.count())
    response = owner_client.post(
        reword_url(setup, principle),
        {
            "text": text,
            "comparison_set": comparison_set.pk,
            "run": run.pk,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == report_url(setup, run)
    assert message in response.content.decode()
    assert (PrincipleVersion.objects.count(), ComparisonItem.objects.count()) == before


def test_rewording_needs_a_csrf_token_and_a_post(owner, setup, judged):
    comparison_set = judged[1]
    principle = setup.seeds[1]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    data = {
        "text": REWORDED,
        "comparison_set": comparison_set.pk,
    }
    assert strict.post(reword_url(setup, principle), data).status_code == 403
    assert strict.get(reword_url(setup, principle)).status_code == 405
    assert principle.versions.count() == 1


def test_a_comparison_set_of_another_workshop_is_refused(
    owner_client, owner, setup, judged
):
    principle = setup.seeds[1]
    other_set = WorkshopFactory(owner=owner).comparison_sets.create(
        name="elsewhere", source="generated"
    )
    owner_client.post(
        reword_url(setup, principle),
        {
            "text": REWORDED,
            "comparison_set": other_set.pk,
        },
    )
    assert principle.versions.count() == 1


# --- newer report keys, read defensively -------------------------------------------

NEWER = (
    "ac1",
    "ac1_humans",
    "prefer_longer_judge",
    "prefer_longer_humans",
    "kendall_tau",
    "kendall_tau_ceiling",
    "judge_agreement_flipped",
    "per_opinion_group",
    "best_matching_opinion_group",
    "opinion_group_disparity_p",
    "opinion_group_disparity_q",
)


def test_figures_a_newer_report_adds_are_shown(
    owner_client, setup, judged, monkeypatch
):
    def richer(**kwargs):
        report = encoding_gap_report(**kwargs)
        for entry in report["principles"]:
            entry |= {
                "ac1": 0.4321,
                "prefer_longer_judge": 0.75,
                "prefer_longer_humans": 0.5,
                "kendall_tau": None,
                "per_opinion_group": {
                    "0": {"judge_agreement": 0.9, "n_raters": 3, "n_human_labels": 18},
                    "1": {"judge_agreement": 0.2, "n_raters": 4, "n_human_labels": 24},
                },
                "best_matching_opinion_group": "0",
                "opinion_group_disparity_p": 0.0004,
            }
        report["controls"]["flipped_labels"] = {
            "principles": [
                {
                    "external_id": "q-7",
                    "version": 1,
                    "judge_agreement": 0.8,
                    "judge_agreement_flipped": 0.125,
                }
            ],
            "note": "Swapped labels <i>should</i> drive agreement down.",
        }
        return report

    monkeypatch.setattr(cache_service, "encoding_gap_report", richer)
    html = owner_client.get(report_url(setup)).content.decode()
    assert "Gwet&#x27;s AC1" in html
    assert figure_cell(html, "privacy", "ac1")[0] == "0.43"
    assert figure_cell(html, "privacy", "prefer_longer_judge")[0] == "75.0%"
    assert figure_cell(html, "privacy", "kendall_tau")[0] == "\u2014"
    assert "Per opinion group (from the votes)" in html
    assert "p = &lt;\u00a00.001" in html
    assert "Flipped-label check" in html
    flipped = re.search(r'<th scope="row" dir="auto">q-7 v1</th>(.*?)</tr>', html, re.S)
    assert flipped
    assert re.findall(r">([^<]*%)<", flipped.group(1)) == ["80.0%", "12.5%"]
    assert "&lt;i&gt;should&lt;/i&gt;" in html


def test_a_report_without_the_newer_figures_still_renders(
    owner_client, setup, judged, monkeypatch
):
    def older(**kwargs):
        report = encoding_gap_report(**kwargs)
        for entry in report["principles"]:
            for key in NEWER:
                entry.pop(key, None)
        for key in ("flipped_labels", "prefer_longer"):
            report["controls"].pop(key, None)
        report.pop("opinion_groups", None)
        return report

    monkeypatch.setattr(cache_service, "encoding_gap_report", older)
    response = owner_client.get(report_url(setup))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="judge_agreement"' in html
    assert 'data-figure="ac1"' not in html
    assert "Per opinion group" not in html
    assert "Flipped-label check" not in html


# --- the cache -----------------------------------------------------------------------


def test_the_report_is_computed_once_per_state_of_the_data(
    owner_client, setup, judged, monkeypatch
):
    calls = []

    def counting(**kwargs):
        calls.append(kwargs)
        return encoding_gap_report(**kwargs)

    monkeypatch.setattr(cache_service, "encoding_gap_report", counting)
    first = owner_client.get(report_url(setup)).content.decode()
    second = owner_client.get(report_url(setup)).content.decode()
    assert len(calls) == 1
    strip = re.compile(r"[A-Za-z0-9]{64}")  # the CSRF tokens, masked per response
    assert strip.sub("", first) == strip.sub("", second)

    # A new label changes the figures: computed again.
    comparison_set = judged[1]
    item = ComparisonItem.objects.filter(comparison_set=comparison_set).first()
    newcomer = setup.group_a.participants.create(workshop=setup.workshop)
    HumanJudgment.objects.create(item=item, participant=newcomer, label="a")
    owner_client.get(report_url(setup))
    assert len(calls) == 2


def test_a_no_principle_control_is_compared_and_never_ranked(
    owner_client, setup, judged
):
    rows, comparison_set, run = judged
    control = make_run(comparison_set, control="no-principle")
    # The judge's own taste: always A.
    store_verdicts(control, {r["item"]: ("a", "a", 0.9, 0.9) for r in rows})
    html = owner_client.get(report_url(setup, run)).content.decode()
    assert f"No-principle control: run {control.pk}" in html
    assert html.count("Judge agreement with no principle shown (control)") == 2
    assert "the principle beats it" in html
    board = html[html.index('class="gap-leaderboard"') :]
    # The judge first, ranked 1; the control after it, marked and unranked.
    assert board.index(f'href="?run={run.pk}"') < board.index(
        f'href="?run={control.pk}"'
    )
    assert re.search(
        r'<td class="num">1</td>\s*<th scope="row"><a href="\?run=' + str(run.pk), board
    )
    assert board.count("control, not ranked") == 1
