"""ICAI's orthogonal synthetic file end to end: written in the workbench's own format
(three principles, each relevant on its own ten pairs, four raters in two groups
who give the data's label there and "does not apply" elsewhere), imported,
judged in both orders, stored as Verdicts, and reported: high agreement on each
block's own principle, and near zero against the flipped labels (ICAI's
"unaligned" setting). Two judges: the offline similarity baseline, and a judge
that follows each block's principle exactly as the data's generator did."""

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


def import_icai(setup, tmp_path):
    summary = comparisons_import(
        workshop=setup.workshop,
        path=write_jsonl(tmp_path / "icai-orthogonal.jsonl", own_format_rows()),
    )
    assert summary.items == 90
    return summary


def test_offline_baseline_agrees_on_each_blocks_own_principle(setup, tmp_path):
    summary = import_icai(setup, tmp_path)
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
        # The raters are unanimous on each relevant pair, so against the flipped
        # labels every verdict that matched now misses, every miss now matches and
        # a tie misses both ways: flipped = 1 - agreement - (tie share) <= 0.15.
        flipped = entry["judge_agreement_flipped"]
        assert flipped <= 1 - entry["judge_agreement"] + 1e-9
        assert flipped <= 0.15
    rows = report["controls"]["flipped_labels"]["principles"]
    assert [r["judge_agreement_flipped"] for r in rows] == [
        p["judge_agreement_flipped"] for p in report["principles"]
    ]


def test_a_judge_following_each_blocks_principle(setup, tmp_path):
    """The judge gives the data's label in both orders on its principle's block and
    "does not apply" on the other two (as ICAI's generator would)."""
    summary = import_icai(setup, tmp_path)
    run = JudgeRun.objects.create(
        config=JudgeConfig.objects.create(
            provider=JudgeConfig.Provider.OPENAI, model="follows", prompt_version="v1"
        ),
        comparison_set=summary.comparison_set,
        status=JudgeRun.Status.DONE,
    )
    truth = {}
    for row in own_format_rows():
        if row["label"] != "na":
            truth[row["item"]] = row["label"]
    verdicts = []
    for item in summary.comparison_set.items.all():
        choice = truth.get(item.external_id, "na")
        for order in ("ab", "ba"):
            verdicts.append(
                Verdict(
                    run=run,
                    item=item,
                    order=order,
                    choice=choice,
                    cache_key=key("follows", item.pk, order),
                )
            )
    Verdict.objects.bulk_create(verdicts)

    report = encoding_gap_report(
        workshop=setup.workshop, run=run, n_resamples=200, n_permutations=100
    )
    flipped = {
        (r["external_id"], r["version"]): r
        for r in report["controls"]["flipped_labels"]["principles"]
    }
    assert "falls to near zero" in report["controls"]["flipped_labels"]["note"]
    for entry in report["principles"]:
        # Relevant exactly on its own ten pairs, where it agrees with every rater.
        assert entry["relevance"] == pytest.approx(1 / 3)
        assert entry["judge_agreement"] == 1.0
        assert entry["normalized_agreement"] == 1.0
        assert entry["gap"] == 0.0
        # Flipped, each rater's leave-one-out mode (three unanimous others, so no
        # tie to break) is the opposite of the block's label, which the judge
        # gave: the agreement falls to exactly zero, overall and in each group.
        row = flipped[(entry["external_id"], entry["version"])]
        assert row["judge_agreement"] == 1.0
        assert row["judge_agreement_flipped"] == 0.0
        assert entry["judge_agreement_flipped"] == 0.0
        for group in entry["per_group"].values():
            assert group["judge_agreement_flipped"] == 0.0
