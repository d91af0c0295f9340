"""The report's controls from stored data: P(prefer longer) from the responses'
lengths in characters, with Wilson intervals, and the flipped-label check next to
the real agreement; plus the report's query budget and strict JSON."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from statsmodels.stats.proportion import proportion_confint

from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.services.encoding_gap import encoding_gap_report

from .test_comparisons_own_format import write_jsonl
from .test_encoding_gap_report import make_run, store_verdicts

FAST = {"n_resamples": 200, "n_permutations": 100, "noise_repeats": 20}
PLAIN = "Choose the response that explains its reasoning in plain language."
RATERS = {"n1": "Nurses", "n2": "Nurses", "t1": "Teachers", "t2": "Teachers"}
# Eight items. On q0-q5 one response is longer; q6 and q7 are equally long. q0's
# A has more bytes than its B (accented letters) but fewer characters.
RESPONSES = {
    "q0": ("éééé", "abcdef"),
    "q1": ("Short.", "A much longer answer."),
    "q2": ("A much longer answer.", "Short."),
    "q3": ("Brief.", "Considerably longer."),
    "q4": ("Longer than the other.", "Tiny."),
    "q5": ("No.", "Yes, and here is why."),
    "q6": ("Same.", "Size."),
    "q7": ("Equal", "Same!"),
}


def rows():
    """The raters always pick the longer response (A on equal lengths, except t2
    who picks B there); n2 says "does not apply" on q5."""
    out = []
    for item, (a, b) in RESPONSES.items():
        longer = "a" if len(a) > len(b) else "b" if len(b) > len(a) else None
        for rater, group in RATERS.items():
            label = longer or ("b" if rater == "t2" else "a")
            if (item, rater) == ("q5", "n2"):
                label = "na"
            out.append(
                {
                    "item": item,
                    "principle": PLAIN,
                    "prompt": f"Question {item}?",
                    "response_a": a,
                    "response_b": b,
                    "label": label,
                    "annotator": rater,
                    "group": group,
                }
            )
    return out


@pytest.fixture
def run(setup, tmp_path):
    summary = comparisons_import(
        workshop=setup.workshop, path=write_jsonl(tmp_path / "lengths.jsonl", rows())
    )
    run = make_run(summary.comparison_set)
    # The judge picks the shorter response on q0-q4 and the longer on q5; on q6
    # its two orders disagree (a tie); q7 it says A.
    answers = {}
    for item, (a, b) in RESPONSES.items():
        shorter = "a" if len(a) < len(b) else "b"
        answers[item] = (shorter, shorter, None, None)
    answers["q5"] = ("b", "b", None, None)
    answers["q6"] = ("a", "b", None, None)
    answers["q7"] = ("a", "a", None, None)
    store_verdicts(run, answers)
    return run


def test_prefer_longer_counts_characters_and_has_wilson_intervals(setup, run):
    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    (entry,) = report["principles"]
    # Raters: 6 items with a longer response x 4 raters - 1 "na" = 23 decisive
    # labels, all for the longer one (q0's longer is B by characters).
    assert entry["prefer_longer_humans"] == 1.0
    assert entry["ci"]["prefer_longer_humans"] == pytest.approx(
        list(proportion_confint(23, 23, method="wilson"))
    )
    # Judge: shorter on q0-q4, longer on q5 -> 1 of 6 (q6 is a tie, q7 equal).
    assert entry["prefer_longer_judge"] == pytest.approx(1 / 6)
    assert entry["ci"]["prefer_longer_judge"] == pytest.approx(
        list(proportion_confint(1, 6, method="wilson"))
    )
    (row,) = report["controls"]["prefer_longer"]["principles"]
    assert row["prefer_longer_judge"] == entry["prefer_longer_judge"]
    assert row["prefer_longer_humans_ci"] == entry["ci"]["prefer_longer_humans"]
    assert "longer response" in report["controls"]["prefer_longer"]["note"]
    # Per group, the group's own labels; the judge's figure is the principle's.
    for figures in entry["per_group"].values():
        assert figures["prefer_longer_humans"] == 1.0
        assert figures["prefer_longer_judge"] == pytest.approx(1 / 6)


def test_flipped_labels_control_sits_next_to_the_real_agreement(setup, run):
    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    (entry,) = report["principles"]
    (row,) = report["controls"]["flipped_labels"]["principles"]
    assert row["judge_agreement"] == entry["judge_agreement"]
    assert row["judge_agreement_flipped"] == entry["judge_agreement_flipped"]
    # This judge mostly contradicts the raters (it prefers the shorter response
    # they reject), so reversing their labels makes it look better, not worse.
    assert entry["judge_agreement"] < 0.4
    assert entry["judge_agreement_flipped"] > 0.6
    assert (
        "not tracking their distinctions"
        in (report["controls"]["flipped_labels"]["note"])
    )


def test_the_report_reads_in_seven_queries_at_most(
    setup, run, django_assert_max_num_queries
):
    make_run(run.comparison_set, control="no-principle")
    with django_assert_max_num_queries(7):
        encoding_gap_report(workshop=setup.workshop, **FAST)


def test_command_json_is_strict_and_has_the_new_figures(setup, run):
    out = StringIO()
    call_command("encoding_gap", setup.workshop.slug, "--json", stdout=out)
    # json.loads accepts NaN; parse_constant rejects it (and Infinity).
    report = json.loads(out.getvalue(), parse_constant=pytest.fail)
    (entry,) = report["principles"]
    for key in (
        "ac1",
        "ac1_humans",
        "judge_agreement_flipped",
        "prefer_longer_judge",
        "prefer_longer_humans",
        "kendall_tau",
        "kendall_tau_ceiling",
        "spearman_rho",
        "n_ranked_prompts",
        "per_opinion_group",
        "best_matching_opinion_group",
        "opinion_group_disparity_p",
        "opinion_group_disparity_q",
    ):
        assert key in entry, key
    # No prompt has three responses here: tau is null, with the reason.
    assert entry["kendall_tau"] is None
    assert "three or more responses" in entry["reasons"]["kendall_tau"]
    assert {"flipped_labels", "prefer_longer"} <= set(report["controls"])
    assert report["opinion_groups"]["analysis"] is None


def test_command_table_shows_the_controls(setup, run):
    out = StringIO()
    call_command("encoding_gap", setup.workshop.slug, stdout=out)
    text = out.getvalue()
    assert "AC1" in text.splitlines()[2]  # the header, after judge and analysis
    assert "No successful opinion analysis" in text
    assert "Flipped labels (judge agreement) and P(prefer longer):" in text
    # The judge prefers the longer response on 1 of 6 items, the raters always.
    assert "longer preferred by the judge 0.17, participants 1.00" in text
