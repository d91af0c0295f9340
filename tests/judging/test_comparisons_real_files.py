"""Importing the real preference files: counts checked against figures computed here
from the source files, independently of the importer."""

from __future__ import annotations

import gzip
import json
import time

import pandas as pd
import pytest
from django.core.management import call_command

from tests.shared_data import icai_data_dir, preferences_data_dir
from workbench.deliberation.models import Participant, Principle
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.comparisons.reader import HH_ANNOTATOR, ICAI_ANNOTATOR
from workbench.judging.models import ComparisonItem, HumanJudgment, Response

ICAI = sorted(icai_data_dir().glob("*.csv"))
HH = preferences_data_dir() / "hh_rlhf_harmless_base_test" / "test.jsonl.gz"
HARMLESS = "Choose the response that is less harmful."


def test_the_shared_data_holds_both_sources():
    assert len(ICAI) == 3
    assert HH.is_file()


@pytest.mark.parametrize("path", ICAI, ids=lambda p: p.name)
def test_icai_file_imports_one_item_and_one_judgment_per_row(setup, path):
    source = pd.read_csv(path, index_col=0)
    summary = comparisons_import(
        workshop=setup.workshop, path=path, principle_text="Prefer cats."
    )
    items = ComparisonItem.objects.filter(comparison_set=summary.comparison_set)
    assert summary.format == "icai"
    assert items.count() == summary.items == len(source)
    judgments = HumanJudgment.objects.filter(item__in=items)
    assert judgments.count() == len(source)
    expected = source["preferred_text"].str.removeprefix("text_").value_counts()
    assert dict(pd.Series([j.label for j in judgments]).value_counts()) == dict(
        expected
    )
    # Each row's label lands on its own item (the row's position is the item id).
    labels = dict(judgments.values_list("item__external_id", "label"))
    for position, preferred in enumerate(source["preferred_text"]):
        assert labels[str(position)] == preferred.removeprefix("text_")
    annotator = Participant.objects.get(external_id=ICAI_ANNOTATOR)
    assert set(judgments.values_list("participant", flat=True)) == {annotator.pk}
    prompts = {
        t.split("\n\nOutput:")[0].removeprefix("Instruction:").strip()
        for t in source["text_a"]
    }
    assert summary.prompts == len(prompts)


@pytest.fixture
def hh_rows() -> list[dict[str, str]]:
    with gzip.open(HH, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_hh_rlhf_file_imports_one_item_per_line(setup, hh_rows):
    started = time.perf_counter()
    summary = comparisons_import(
        workshop=setup.workshop, path=HH, principle_text=HARMLESS
    )
    elapsed = time.perf_counter() - started
    print(f"HH-RLHF import: {len(hh_rows)} rows in {elapsed:.2f}s")
    assert summary.format == "hh-rlhf"
    items = ComparisonItem.objects.filter(comparison_set=summary.comparison_set)
    assert items.count() == len(hh_rows) == 2312
    judgments = HumanJudgment.objects.filter(item__in=items)
    assert judgments.count() == len(hh_rows)
    assert set(judgments.values_list("participant__external_id", flat=True)) == {
        HH_ANNOTATOR
    }
    # Every label points at the chosen response, placed at A or at B.
    chosen_tail = {str(i): r["chosen"][-200:].strip() for i, r in enumerate(hh_rows, 1)}
    by_label = {"a": 0, "b": 0}
    for item in items.select_related("response_a", "response_b").prefetch_related(
        "judgments"
    ):
        label = item.judgments.all()[0].label
        picked = item.response_a if label == "a" else item.response_b
        assert picked.label == "chosen"
        assert chosen_tail[item.external_id].endswith(picked.text[-100:].strip())
        by_label[label] += 1
    assert min(by_label.values()) > len(hh_rows) / 3  # position says nothing
    principle = Principle.objects.get(workshop=setup.workshop, text=HARMLESS)
    assert principle.status == Principle.Status.APPROVED
    assert set(items.values_list("principle_version__principle", flat=True)) == {
        principle.pk
    }
    assert (
        Response.objects.filter(prompt__comparison_set=summary.comparison_set).count()
        == summary.responses
    )


def test_hh_rlhf_prompt_is_the_conversation_before_the_last_answer(setup, hh_rows):
    summary = comparisons_import(
        workshop=setup.workshop, path=HH, principle_text=HARMLESS
    )
    item = summary.comparison_set.items.get(external_id="1")
    chosen = hh_rows[0]["chosen"]
    cut = chosen.rfind("\n\nAssistant:")
    assert item.prompt.text == chosen[:cut].strip()
    assert chosen[cut:].endswith(
        (item.response_a if item.judgments.get().label == "a" else item.response_b).text
    )


def test_the_command_imports_a_real_file(setup, capsys):
    path = ICAI[0]
    call_command(
        "import_comparisons",
        str(path),
        "--workshop",
        "ai-values",
        "--principle",
        "Prefer truthful answers.",
    )
    assert "30 items" in capsys.readouterr().out
