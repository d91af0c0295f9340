"""principle_report's per-opinion-group block: the same figures as per_group for a
second grouping of the raters, with raters outside every opinion group left out."""

from __future__ import annotations

import pandas as pd

from workbench.judging.metrics import principle_report

FAST = {"n_resamples": 100, "n_permutations": 100, "noise_repeats": 10}


def frames():
    """Six items; raters o1-o3 give the truth (= the judge), p1-p3 the opposite,
    "loner" the truth too but belongs to no opinion group. Workshop groups mix."""
    rows = []
    for item in range(6):
        truth = "ab"[item % 2]
        other = "ba"[item % 2]
        for rater in ("o1", "o2", "o3", "loner"):
            rows.append((item, rater, "g1" if rater in {"o1", "p1"} else "g2", truth))
        for rater in ("p1", "p2", "p3"):
            rows.append((item, rater, "g1" if rater == "p1" else "g2", other))
    labels = pd.DataFrame(rows, columns=["item", "rater", "group", "label"])
    truths = ["ab"[i % 2] for i in range(6)]
    verdicts = pd.DataFrame({"item": range(6), "label_ab": truths, "label_ba": truths})
    return labels, verdicts


OPINION = {"o1": 0, "o2": 0, "o3": 0, "p1": 1, "p2": 1, "p3": 1, "loner": None}


def test_per_opinion_group_mirrors_per_group():
    labels, verdicts = frames()
    report = principle_report(labels, verdicts, opinion_groups=OPINION, **FAST)
    per = report["per_opinion_group"]
    assert set(per) == {"0", "1"}
    assert set(per["0"]) == set(report["per_group"]["g1"])
    assert per["0"]["judge_agreement"] == 1.0
    assert per["1"]["judge_agreement"] == 0.0
    assert report["best_matching_opinion_group"] == "0"
    assert report["opinion_group_agreement_disparity"] == 1.0
    assert report["opinion_group_disparity_p"] is not None
    # "loner" (None) is in no opinion group, but still in the principle's figures.
    assert per["0"]["n_raters"] + per["1"]["n_raters"] == 6
    assert report["n_raters"] == 7
    # The workshop groups are untouched by the opinion grouping.
    assert set(report["per_group"]) == {"g1", "g2"}


def test_no_opinion_groups_gives_an_empty_block_with_a_reason():
    labels, verdicts = frames()
    report = principle_report(labels, verdicts, **FAST)
    assert report["per_opinion_group"] == {}
    assert report["best_matching_opinion_group"] is None
    assert report["opinion_group_disparity_p"] is None
    assert report["reasons"]["opinion_group_disparity_p"] == "no opinion groups given"
    # A grouping that leaves some raters out does not upset the workshop groups
    # either (None groups are skipped, not sorted against names).
    partial = {"o1": "x", "p1": "y"}
    report = principle_report(labels, verdicts, groups=partial, **FAST)
    assert set(report["per_group"]) == {"x", "y"}
