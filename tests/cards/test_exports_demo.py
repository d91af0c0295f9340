"""The demo's two workshops (a real Polis conversation; groups with comparisons, human
raters and a judge run) exported through `manage.py export_data` read back into
pandas with the database's rows and `analyze --json`'s figures."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command

from workbench.cards.exports import TABLE_NAMES
from workbench.deliberation.models import (
    Participant,
    Principle,
    Vote,
    VoteRecord,
    Workshop,
)
from workbench.judging.models import ComparisonItem, HumanJudgment, Verdict


@pytest.fixture
def demo(db):
    call_command("demo", stdout=io.StringIO())
    return {w.slug: w for w in Workshop.objects.all()}


def _export(slug: str, fmt: str, out: Path) -> dict[str, pd.DataFrame]:
    call_command(
        "export_data", slug, "--format", fmt, "--out", str(out), stdout=io.StringIO()
    )
    if fmt == "parquet":
        return {n: pd.read_parquet(out / f"{n}.parquet") for n in TABLE_NAMES}
    return {
        n: pd.read_csv(out / f"{n}.csv", dtype=str, keep_default_na=False)
        for n in TABLE_NAMES
    }


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_polis_workshop_round_trips(demo, tmp_path, fmt):
    workshop = demo["ubi-aotearoa"]
    tables = _export(workshop.slug, fmt, tmp_path / "out")

    participants = Participant.objects.filter(workshop=workshop)
    assert len(tables["participants"]) == participants.count() > 100
    assert set(tables["participants"]["external_id"]) == set(
        participants.values_list("external_id", flat=True)
    )
    votes = Vote.objects.filter(principle__workshop=workshop)
    assert len(tables["votes"]) == votes.count() > 1000
    assert (
        len(tables["vote_history"])
        == VoteRecord.objects.filter(principle__workshop=workshop).count()
    )
    choices = tables["votes"]["choice"].astype(int)
    for choice in (-1, 0, 1):
        assert (choices == choice).sum() == votes.filter(choice=choice).count()
    principles = Principle.objects.filter(workshop=workshop)
    assert len(tables["principles"]) == principles.count()
    assert sorted(tables["principles"]["external_id"]) == sorted(
        principles.values_list("external_id", flat=True)
    )
    # Every vote's principle and participant is in the exported tables: the
    # tables join the way the database does.
    assert set(tables["votes"]["principle_id"]) <= set(tables["principles"]["id"])
    assert set(tables["votes"]["participant_id"]) <= set(tables["participants"]["id"])
    # The Polis files come along, from the Polis exporter.
    polis = pd.read_csv(tmp_path / "out" / "polis" / "votes.csv")
    assert len(polis) == len(tables["vote_history"])


def test_polis_workshop_analysis_equals_analyze_json(demo, tmp_path, capsys):
    call_command("analyze", "ubi-aotearoa", "--json")
    printed = json.loads(capsys.readouterr().out)
    tables = _export("ubi-aotearoa", "parquet", tmp_path / "out")

    groups = tables["analysis_participants"]
    exported = {
        ext: None if pd.isna(g) else int(g)
        for ext, g in zip(
            groups["participant_external_id"], groups["opinion_group"], strict=True
        )
    }
    assert exported == printed["participants"]
    figures = tables["analysis_principles"].set_index("external_id")
    assert len(figures) == len(printed["principles"])
    for entry in printed["principles"]:
        row = figures.loc[entry["external_id"]]
        assert (row["agree"], row["disagree"], row["pass"]) == (
            entry["agree"],
            entry["disagree"],
            entry["pass"],
        )
        if entry["group_aware_consensus"] is not None:
            assert row["group_aware_consensus"] == pytest.approx(
                entry["group_aware_consensus"]
            )
    rules = tables["analysis_rules"]
    for rule, adopted in printed["rules"].items():
        assert list(rules[rules["rule"] == rule]["external_id"]) == adopted


def test_comparison_workshop_round_trips(demo, tmp_path):
    workshop = demo["ai-assistant-values"]
    tables = _export(workshop.slug, "parquet", tmp_path / "out")

    items = ComparisonItem.objects.filter(comparison_set__workshop=workshop)
    assert len(tables["comparison_items"]) == items.count() > 0
    judgments = HumanJudgment.objects.filter(item__comparison_set__workshop=workshop)
    assert len(tables["human_judgments"]) == judgments.count() > 0
    labels = tables["human_judgments"]["label"].value_counts().to_dict()
    for label, n in labels.items():
        assert judgments.filter(label=label).count() == n
    verdicts = Verdict.objects.filter(run__comparison_set__workshop=workshop)
    assert len(tables["verdicts"]) == verdicts.count() > 0
    assert len(tables["judge_runs"]) >= 1
    assert set(tables["judge_configs"]["provider"]) == {"offline"}
    assert set(tables["groups"]["name"]) >= {"Nurses", "Teachers"}
    # Items name the principle they test, as its id and version.
    assert set(tables["comparison_items"]["principle_id"]) <= set(
        tables["principles"]["id"]
    )
    probability = tables["verdicts"]["probability_a"].dropna()
    assert probability.between(0, 1).all()
