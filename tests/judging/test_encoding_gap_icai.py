"""ICAI's orthogonal synthetic file end to end: written in the workbench's own format
(three principles, each relevant on its own ten pairs, four raters in two groups
who give the data's label there and "does not apply" elsewhere), imported,
judged by the offline similarity baseline in both orders, stored as Verdicts,
and reported: high agreement on each block's own principle."""

from __future__ import annotations

import csv

import pytest

from tests.shared_data import icai_orthogonal_csv
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.llm import JudgeRequest, build_judge, judge_both_orders
from workbench.judging.llm.offline import BASELINE_MODEL
from workbench.judging.models import JudgeConfig, JudgeRun, Verdict
from workbench.judging.prompts import PROMPT_ID
from workbench.judging.services.encoding_gap import encoding_gap_report

from .test_comparisons_own_format import write_jsonl
from .test_encoding_gap_report import key

ICAI = icai_orthogonal_csv()
# As in test_llm_offline: rows 10-19 prefer blue (the README says green).
PRINCIPLES = [
    "Prefer the response about cats.",
    "Prefer the response that mentions blue.",
    "Prefer the response about lemon ice cream.",
]
RATERS = {
    "r1": "Cat people",
    "r2": "Cat people",
    "r3": "Dog people",
    "r4": "Dog people",
}
FLIP = {"a": "b", "b": "a", "tie": "tie", "na": "na"}

pytestmark = pytest.mark.skipif(not ICAI.is_file(), reason="ICAI data not present")


def _split(text: str) -> tuple[str, str]:
    instruction, output = text.split("\n\nOutput:", 1)
    return instruction.removeprefix("Instruction:").strip(), output.strip()


def own_format_rows() -> list[dict[str, str]]:
    with ICAI.open(newline="") as fh:
        source = list(csv.DictReader(fh))
    rows = []
    for block, principle in enumerate(PRINCIPLES):
        for index, row in enumerate(source):
            prompt, response_a = _split(row["text_a"])
            _, response_b = _split(row["text_b"])
            truth = "a" if row["preferred_text"] == "text_a" else "b"
            for annotator, group in RATERS.items():
                rows.append(
                    {
                        "item": f"p{block}-{index}",
                        "principle": principle,
                        "prompt": prompt,
                        "response_a": response_a,
                        "response_b": response_b,
                        "label": truth if index // 10 == block else "na",
                        "annotator": annotator,
                        "group": group,
                        "reason": "",
                    }
                )
    return rows


def test_offline_baseline_agrees_on_each_blocks_own_principle(setup, tmp_path):
    summary = comparisons_import(
        workshop=setup.workshop,
        path=write_jsonl(tmp_path / "icai-orthogonal.jsonl", own_format_rows()),
    )
    assert summary.items == 90
    judge = build_judge("offline")
    config = JudgeConfig.objects.create(
        provider=JudgeConfig.Provider.OFFLINE,
        model=BASELINE_MODEL,
        prompt_version=PROMPT_ID,
    )
    run = JudgeRun.objects.create(
        config=config, comparison_set=summary.comparison_set, status="running"
    )
    verdicts = []
    items = summary.comparison_set.items.select_related(
        "principle_version", "prompt", "response_a", "response_b"
    )
    for item in items:
        request = JudgeRequest(
            item.principle_version.text,
            item.prompt.text,
            item.response_a.text,
            item.response_b.text,
        )
        answer_ab, answer_ba, _ = judge_both_orders(judge, request)
        # Verdicts are stored in the item's terms: the BA answer is flipped back.
        p_ba = None if answer_ba.prob_a is None else 1.0 - answer_ba.prob_a
        for order, choice, p in (
            ("ab", answer_ab.choice, answer_ab.prob_a),
            ("ba", answer_ba.choice and FLIP[answer_ba.choice], p_ba),
        ):
            verdicts.append(
                Verdict(
                    run=run,
                    item=item,
                    order=order,
                    choice=choice,
                    probability_a=p,
                    error="" if choice else Verdict.Error.MALFORMED,
                    cache_key=key(item.pk, order),
                )
            )
    Verdict.objects.bulk_create(verdicts)
    run.status = JudgeRun.Status.DONE
    run.save(update_fields=["status"])

    report = encoding_gap_report(
        workshop=setup.workshop, n_resamples=200, n_permutations=100
    )
    assert report["judge"]["is_llm"] is False
    assert report["judge"]["kind"] == "similarity baseline, not an LLM"
    assert [p["text"] for p in report["principles"]] == PRINCIPLES
    for entry in report["principles"]:
        assert entry["n_items"] == 30
        assert entry["n_human_labels"] == 40  # ten pairs x four raters; na dropped
        # Relevant on about its own ten pairs only, in agreement with the raters.
        assert entry["relevance"] == pytest.approx(1 / 3, abs=0.07)
        assert entry["human_ceiling"] == 1.0
        assert entry["judge_agreement"] >= 0.85
        assert entry["normalized_agreement"] >= 0.7
        assert entry["gap"] <= 0.15
        assert set(entry["per_group"]) == {"Cat people", "Dog people"}
