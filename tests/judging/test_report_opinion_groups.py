"""The encoding-gap report per opinion group: the participants who compared responses
also voted on principles, the workshop's opinion analysis split them into two
opinion groups that cut across the workshop's groups, and their comparison labels
follow the opinion group. The judge reads the principle as one opinion group does;
the report must say so, and name the analysis it used."""

from __future__ import annotations

import random

import pytest
from django.core.cache import cache
from django.utils import timezone

from workbench.deliberation.models import VoteChoice, WorkshopAnalysis
from workbench.deliberation.services.analysis import analysis_refresh
from workbench.deliberation.services.votes import vote_cast
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.services.encoding_gap import encoding_gap_report

from .test_comparisons_own_format import write_jsonl
from .test_encoding_gap_report import make_run, store_verdicts

A, D = VoteChoice.AGREE, VoteChoice.DISAGREE
FAST = {"n_resamples": 200, "n_permutations": 200, "noise_repeats": 20}
PRIVACY = "Choose the response that respects the user's privacy."  # a seed
OTHER = {"a": "b", "b": "a"}
# Two camps, each spread over both workshop groups; "z1" compares but never votes.
CAMP_X = ["x1", "x2", "x3", "x4", "x5", "x6"]
CAMP_Y = ["y1", "y2", "y3", "y4", "y5", "y6"]
GROUP = {p: "Nurses" if int(p[1]) <= 3 else "Teachers" for p in CAMP_X + CAMP_Y}
GROUP["z1"] = "Nurses"


@pytest.fixture(autouse=True)
def _no_pending_flags():
    cache.clear()


def comparison_rows(n_items: int = 12, seed: int = 11):
    """Camp X labels the truth (a little noise), camp Y the opposite; z1 at random."""
    rng = random.Random(seed)
    rows, truths = [], {}
    for i in range(n_items):
        truth = rng.choice("ab")
        truths[f"q{i}"] = truth
        for annotator in [*CAMP_X, *CAMP_Y, "z1"]:
            if annotator in CAMP_X:
                label = truth if rng.random() < 0.9 else OTHER[truth]
            elif annotator in CAMP_Y:
                label = OTHER[truth] if rng.random() < 0.9 else truth
            else:
                label = rng.choice("ab")
            rows.append(
                {
                    "item": f"q{i}",
                    "principle": PRIVACY,
                    "prompt": f"Question {i}?",
                    "response_a": f"Answer A to {i}.",
                    "response_b": f"Answer B to {i}.",
                    "label": label,
                    "annotator": annotator,
                    "group": GROUP[annotator],
                }
            )
    return rows, truths


@pytest.fixture
def compared(setup, tmp_path):
    rows, truths = comparison_rows()
    summary = comparisons_import(
        workshop=setup.workshop, path=write_jsonl(tmp_path / "camps.jsonl", rows)
    )
    run = make_run(summary.comparison_set)
    # The judge reads the principle as camp X does.
    store_verdicts(run, {item: (t, t, None, None) for item, t in truths.items()})
    return summary


@pytest.fixture
def analysed(setup, vote_round, compared):
    """The camps vote in opposite ways on the seeds; z1 does not vote."""
    people = {p.external_id: p for p in setup.workshop.participants.all()}
    patterns = {"x": (A, A, D), "y": (D, D, A)}
    for external_id, person in people.items():
        if external_id == "z1":
            continue
        for principle, choice in zip(
            setup.seeds, patterns[external_id[0]], strict=True
        ):
            vote_cast(
                participant=person,
                round_=vote_round,
                principle=principle,
                choice=choice,
            )
    analysis = analysis_refresh(workshop=setup.workshop)
    assert analysis.error == ""
    return analysis


def test_the_best_matching_opinion_group_is_the_judges(setup, analysed):
    placed = analysed.result["participants"]
    x_groups = {placed[p] for p in CAMP_X}
    y_groups = {placed[p] for p in CAMP_Y}
    # The analysis found the two camps (and never saw z1).
    assert len(x_groups) == len(y_groups) == 1
    assert x_groups != y_groups
    assert "z1" not in placed
    camp_x, camp_y = str(x_groups.pop()), str(y_groups.pop())

    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    assert report["opinion_groups"]["analysis"] == analysed.pk
    assert report["opinion_groups"]["computed_at"] == analysed.computed_at.isoformat()
    assert report["opinion_groups"]["groups"] == {camp_x: 6, camp_y: 6}
    (entry,) = report["principles"]
    per = entry["per_opinion_group"]
    assert set(per) == {camp_x, camp_y}
    assert per[camp_x]["judge_agreement"] >= 0.8
    assert per[camp_y]["judge_agreement"] <= 0.2
    assert entry["best_matching_opinion_group"] == camp_x
    # z1 is in no opinion group: twelve raters, twelve labels per item.
    assert per[camp_x]["n_raters"] + per[camp_y]["n_raters"] == 12
    assert per[camp_x]["n_human_labels"] + per[camp_y]["n_human_labels"] == 12 * 12
    assert entry["n_raters"] == 13
    # A glaring disparity: the permutation test finds it.
    assert entry["opinion_group_disparity_p"] < 0.05
    assert entry["opinion_group_disparity_p"] <= entry["opinion_group_disparity_q"]
    # The workshop's groups mix both camps: neither matches the judge as well.
    for figures in entry["per_group"].values():
        assert figures["judge_agreement"] < per[camp_x]["judge_agreement"]


def test_without_an_analysis_the_report_says_why(setup, compared):
    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    assert report["opinion_groups"]["analysis"] is None
    assert "No successful opinion analysis" in report["opinion_groups"]["note"]
    (entry,) = report["principles"]
    assert entry["per_opinion_group"] == {}
    assert entry["best_matching_opinion_group"] is None
    assert entry["opinion_group_disparity_p"] is None
    assert entry["opinion_group_disparity_q"] is None
    # The workshop groups are still reported.
    assert set(entry["per_group"]) == {"Nurses", "Teachers"}


def test_an_analysis_that_groups_none_of_the_raters(setup, compared):
    stored = WorkshopAnalysis.objects.create(
        workshop=setup.workshop,
        computed_at=timezone.now(),
        result={"status": "not_enough_data", "participants": {"x1": None}},
    )
    # A newer failed run is not the one used.
    WorkshopAnalysis.objects.create(
        workshop=setup.workshop, computed_at=timezone.now(), error="Boom"
    )
    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    assert report["opinion_groups"]["analysis"] == stored.pk
    assert report["opinion_groups"]["n_raters_grouped"] == 0
    assert "places none of these raters" in report["opinion_groups"]["note"]
    assert report["principles"][0]["per_opinion_group"] == {}
