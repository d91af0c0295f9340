"""The judge leaderboard of a comparison set: one row per judge, pooled figures,
best reader first, the no-principle control shown but never ranked."""

from __future__ import annotations

import pandas as pd
import pytest
from django.utils import timezone

from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.metrics import judge_agreement, principle_report
from workbench.judging.models import ComparisonItem, HumanJudgment, JudgeRun
from workbench.judging.services.encoding_gap import BASELINE_KIND, LLM_KIND
from workbench.judging.services.leaderboard import judge_leaderboard

from .test_comparisons_own_format import write_jsonl
from .test_encoding_gap_report import (
    OTHER,
    PLAIN,
    PRIVACY,
    generated_rows,
    judge_answers,
    make_run,
    store_verdicts,
)

N_RESAMPLES = 100


def truth_answers(rows) -> dict[str, tuple]:
    """Every item as the nurses (the majority) read it, confidently."""
    out = {}
    for row in rows:
        label = row["_truth"]
        p = 0.9 if label == "a" else 0.1
        out[row["item"]] = (label, label, p, p)
    return out


def opposite_answers(rows) -> dict[str, tuple]:
    return {
        item: (OTHER[ab], OTHER[ab], 1 - p, 1 - p)
        for item, (ab, _, p, _) in truth_answers(rows).items()
    }


def finished(run: JudgeRun, minutes_ago: int) -> JudgeRun:
    run.finished_at = timezone.now() - timezone.timedelta(minutes=minutes_ago)
    run.save(update_fields=["finished_at"])
    return run


@pytest.fixture
def board_set(setup, tmp_path):
    rows = generated_rows()
    path = write_jsonl(
        tmp_path / "pairs.jsonl",
        [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
    )
    comparison_set = comparisons_import(
        workshop=setup.workshop, path=path
    ).comparison_set
    runs = {}
    runs["noisy"] = make_run(comparison_set, model="gpt-test")
    store_verdicts(runs["noisy"], judge_answers(rows))
    runs["wrong"] = make_run(comparison_set, provider="anthropic", model="claude-x")
    store_verdicts(runs["wrong"], opposite_answers(rows))
    runs["baseline"] = make_run(
        comparison_set, provider="offline", model="tfidf-cosine-v1"
    )
    # The noisy judge with two more items read the other way: between the two.
    store_verdicts(
        runs["baseline"],
        judge_answers(rows) | {k: opposite_answers(rows)[k] for k in ("q8", "q9")},
    )
    # The control agrees perfectly: still never the best reader.
    runs["control"] = make_run(comparison_set, control="no-principle", model="gpt-test")
    store_verdicts(runs["control"], truth_answers(rows))
    for n, run in enumerate(runs.values()):
        finished(run, minutes_ago=10 + n)
    return rows, comparison_set, runs


def test_judges_are_ranked_best_first_and_the_control_is_never_ranked(board_set):
    _, comparison_set, runs = board_set
    board = judge_leaderboard(comparison_set=comparison_set, n_resamples=N_RESAMPLES)

    order = [row["run_id"] for row in board["rows"]]
    assert order == [
        runs["noisy"].pk,
        runs["baseline"].pk,
        runs["wrong"].pk,
        runs["control"].pk,
    ]
    assert [row["rank"] for row in board["rows"]] == [1, 2, 3, None]
    assert board["best_run_id"] == runs["noisy"].pk
    control = board["rows"][-1]
    assert control["is_control"] is True
    # It matches the majority better than any judge, and is still listed last.
    assert control["judge_agreement"] > board["rows"][0]["judge_agreement"]
    assert [row["is_control"] for row in board["rows"][:3]] == [False] * 3

    by_run = {row["run_id"]: row for row in board["rows"]}
    assert by_run[runs["baseline"].pk]["is_llm"] is False
    assert by_run[runs["baseline"].pk]["kind"] == BASELINE_KIND
    assert by_run[runs["noisy"].pk]["kind"] == LLM_KIND
    # The same provider and model as the control: it does not beat its own taste.
    assert by_run[runs["noisy"].pk]["beats_control"] is False
    assert by_run[runs["wrong"].pk]["beats_control"] is None  # no control of its own
    assert board["n_resamples"] == N_RESAMPLES


def test_figures_are_pooled_over_the_set_and_split_per_principle(board_set):
    rows, comparison_set, runs = board_set
    board = judge_leaderboard(comparison_set=comparison_set, n_resamples=N_RESAMPLES)
    noisy = next(r for r in board["rows"] if r["run_id"] == runs["noisy"].pk)

    items = dict(ComparisonItem.objects.values_list("external_id", "pk"))
    labels = pd.DataFrame(
        list(
            HumanJudgment.objects.order_by("item", "participant").values_list(
                "item_id", "participant_id", "label"
            )
        ),
        columns=["item", "rater", "label"],
    )
    verdicts = pd.DataFrame(
        [(items[k], *v) for k, v in judge_answers(rows).items()],
        columns=["item", "label_ab", "label_ba", "p_a_ab", "p_a_ba"],
    )
    pooled = principle_report(
        labels, verdicts, n_resamples=N_RESAMPLES, noise_repeats=20
    )
    for key in ("judge_agreement", "normalized_agreement", "gap", "kappa"):
        assert noisy[key] == pooled[key], key
    assert noisy["relevance"] == pytest.approx(11 / 12)  # q7 is malformed
    low, high = noisy["ci"]["judge_agreement"]
    assert low <= noisy["judge_agreement"] <= high

    assert [c["text"] for c in board["principles"]] == [PRIVACY, PLAIN]
    for column in board["principles"]:
        mine = [
            items[r["item"]]
            for r in rows
            if r["principle"] == column["text"] and r["annotator"] == "n1"
        ]
        expected = judge_agreement(
            labels[labels["item"].isin(mine)].reset_index(drop=True),
            verdicts[verdicts["item"].isin(mine)].reset_index(drop=True),
        ).json()
        assert noisy["per_principle"][column["key"]] == expected


def test_one_row_per_judge_from_its_latest_finished_run(board_set):
    rows, comparison_set, runs = board_set
    again = JudgeRun.objects.create(
        config=runs["wrong"].config,
        comparison_set=comparison_set,
        status=JudgeRun.Status.DONE,
    )
    store_verdicts(again, truth_answers(rows))
    finished(again, minutes_ago=1)
    JudgeRun.objects.create(  # not finished: not on the board
        config=runs["noisy"].config,
        comparison_set=comparison_set,
        status=JudgeRun.Status.RUNNING,
    )
    board = judge_leaderboard(comparison_set=comparison_set, n_resamples=N_RESAMPLES)
    ids = [row["run_id"] for row in board["rows"]]
    assert runs["wrong"].pk not in ids
    assert ids[0] == again.pk  # the rerun reads like the majority: best
    assert len(ids) == 4


def test_a_set_without_finished_runs_has_an_empty_board(setup, tmp_path):
    rows = generated_rows(n_items=2)
    path = write_jsonl(
        tmp_path / "pairs.jsonl",
        [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
    )
    comparison_set = comparisons_import(
        workshop=setup.workshop, path=path
    ).comparison_set
    board = judge_leaderboard(comparison_set=comparison_set)
    assert board["rows"] == []
    assert board["best_run_id"] is None
    assert board["n_items"] == 2
