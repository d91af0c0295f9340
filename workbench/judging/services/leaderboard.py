"""Which judge reads this constitution best: every finished run on a comparison set.

One row per judge configuration (its latest finished run on the set), with the
figures of :func:`workbench.judging.metrics.principle_report` computed on ALL the
set's items pooled, not a mean of per-principle figures: the pooled figure weighs
each principle by its labelled items, so a principle tested on three pairs cannot
move the board as much as one tested on three hundred, and one bootstrap over the
pooled items gives honest intervals. Per principle version the board adds the
judge agreement alone (no interval), to show where a judge wins or loses.

Ranking is by judge agreement (the share of participants' leave-one-out majorities
the judge matches), then normalised agreement, best first; a judge without a
defined agreement comes last, unranked. A no-principle control run (the judge's
own taste, ICAI's "default annotator") is listed after the ranked judges, marked,
and never ranked: it is the yardstick a principle must beat, not a reader of it.
Each judge with a control of the same provider and model says whether it beats it.

Intervals use :data:`BOOTSTRAP_RESAMPLES` cluster-bootstrap resamples (items
resampled) instead of the report's 2,000: a board compares judges that differ by
points, and it computes one report per judge.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Final

import pandas as pd

from workbench.judging import metrics
from workbench.judging.models import (
    ComparisonItem,
    ComparisonSet,
    HumanJudgment,
    JudgeControl,
    JudgeProvider,
    JudgeRun,
    RunStatus,
)
from workbench.judging.services.encoding_gap import (
    BASELINE_KIND,
    LLM_KIND,
    verdict_frame,
    verdict_rows,
)

__all__ = ["BOARD_FIGURES", "BOOTSTRAP_RESAMPLES", "judge_leaderboard"]

BOOTSTRAP_RESAMPLES: Final = 500
NOISE_REPEATS: Final = 20

BOARD_FIGURES: Final = (
    "judge_agreement",
    "normalized_agreement",
    "gap",
    "kappa",
    "relevance",
    "order_consistency",
    "human_ceiling",
)


def judge_leaderboard(
    *,
    comparison_set: ComparisonSet,
    rng_seed: int = 0,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
) -> dict[str, Any]:
    """The leaderboard of judges on ``comparison_set`` (module docstring)."""
    runs = _latest_run_per_judge(comparison_set)
    items = list(
        ComparisonItem.objects.filter(comparison_set=comparison_set)
        .select_related("principle_version__principle")
        .order_by("id")
    )
    labels = pd.DataFrame(
        list(
            HumanJudgment.objects.filter(item__comparison_set=comparison_set)
            .order_by("item_id", "participant_id")
            .values_list("item_id", "participant_id", "label")
        ),
        columns=["item", "rater", "label"],
    )
    versions = _versions(items)
    item_version = {i.pk: i.principle_version_id for i in items}
    labels_by_version: dict[Any, pd.DataFrame] = dict(
        iter(labels.groupby(labels["item"].map(item_version), sort=False))
    )

    rows = []
    for run in runs:
        verdicts = verdict_frame(verdict_rows(run))
        report = metrics.principle_report(
            labels,
            verdicts,
            rng_seed=rng_seed,
            n_resamples=n_resamples,
            noise_repeats=NOISE_REPEATS,
        )
        row = _row(run, report)
        by_version = verdicts.groupby(verdicts["item"].map(item_version), sort=False)
        verdicts_by_version = dict(iter(by_version))
        row["per_principle"] = {
            key: _agreement(
                labels_by_version.get(version["version_id"]),
                verdicts_by_version.get(version["version_id"]),
                seed=rng_seed,
            )
            for key, version in versions.items()
        }
        rows.append(row)
    ranked = _rank(rows)
    return {
        "comparison_set": comparison_set.name,
        "comparison_set_id": comparison_set.pk,
        "n_items": len(items),
        "n_human_labels": int(labels["label"].isin(["a", "b", "tie"]).sum()),
        "n_resamples": n_resamples,
        "pooling": "principle_report on every item of the set pooled",
        "ranked_by": ["judge_agreement", "normalized_agreement"],
        "principles": list(versions.values()),
        "rows": ranked,
        "best_run_id": next((r["run_id"] for r in ranked if r["rank"] == 1), None),
    }


def _latest_run_per_judge(comparison_set: ComparisonSet) -> list[JudgeRun]:
    runs = (
        JudgeRun.objects.filter(comparison_set=comparison_set, status=RunStatus.DONE)
        .select_related("config")
        .order_by("-finished_at", "-created_at", "-id")
    )
    latest: dict[int, JudgeRun] = {}
    for run in runs:
        latest.setdefault(run.config_id, run)
    return list(latest.values())


def _versions(items: list[ComparisonItem]) -> dict[str, dict[str, Any]]:
    """The board's principle columns, one per principle version on the set, keyed
    by ``<principle id>-v<number>`` in order of first item."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        version = item.principle_version
        principle = version.principle
        key = f"{principle.pk}-v{version.number}"
        if key not in out:
            out[key] = {
                "key": key,
                "version_id": version.pk,
                "principle_id": principle.pk,
                "external_id": principle.external_id or str(principle.pk),
                "version": version.number,
                "text": version.text,
            }
    return out


def _agreement(
    labels: pd.DataFrame | None, verdicts: pd.DataFrame | None, *, seed: int
) -> float | None:
    if labels is None or verdicts is None or labels.empty or verdicts.empty:
        return None
    return metrics.judge_agreement(
        labels.reset_index(drop=True), verdicts.reset_index(drop=True), seed=seed
    ).json()


def _row(run: JudgeRun, report: dict[str, Any]) -> dict[str, Any]:
    config = run.config
    is_llm = config.provider != JudgeProvider.OFFLINE
    row: dict[str, Any] = {
        "run_id": run.pk,
        "config_id": config.pk,
        "provider": config.provider,
        "provider_label": config.get_provider_display(),
        "model": config.model,
        "prompt_version": config.prompt_version,
        "temperature": config.temperature,
        "samples": config.samples,
        "control": config.control,
        "is_control": config.control == JudgeControl.NO_PRINCIPLE,
        "is_llm": is_llm,
        "kind": LLM_KIND if is_llm else BASELINE_KIND,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "n_eligible_items": report["n_eligible_items"],
    }
    row |= {key: report[key] for key in BOARD_FIGURES}
    row["ci"] = {key: report["ci"].get(key) for key in BOARD_FIGURES}
    return row


def _sort_key(row: dict[str, Any]) -> tuple[float, float, int]:
    def value(key: str) -> float:
        figure = row[key]
        return -math.inf if figure is None else float(figure)

    return (-value("judge_agreement"), -value("normalized_agreement"), row["run_id"])


def _rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    judges = sorted((r for r in rows if not r["is_control"]), key=_sort_key)
    controls = sorted((r for r in rows if r["is_control"]), key=_sort_key)
    rank = 0
    for row in judges:
        if row["judge_agreement"] is None:
            row["rank"] = None
        else:
            rank += 1
            row["rank"] = rank
    control_of: dict[tuple[str, str], float | None] = defaultdict(lambda: None)
    for row in controls:
        row["rank"] = None
        key = (row["provider"], row["model"])
        if control_of[key] is None:
            control_of[key] = row["judge_agreement"]
    for row in judges:
        control = control_of[(row["provider"], row["model"])]
        mine = row["judge_agreement"]
        row["control_judge_agreement"] = control
        row["beats_control"] = (
            None if control is None or mine is None else mine > control
        )
    for row in controls:
        row["control_judge_agreement"] = None
        row["beats_control"] = None
    return judges + controls
