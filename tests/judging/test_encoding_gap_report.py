"""The encoding-gap report over imported comparisons and stored verdicts: its figures
are principle_report's on frames built here independently, per group, with
Benjamini-Hochberg q-values, controls, the command's JSON and degenerate cases."""

from __future__ import annotations

import hashlib
import json
import random
from io import StringIO

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from tests.factories import WorkshopFactory
from workbench.deliberation.models import Participant
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.metrics import principle_report
from workbench.judging.models import (
    ComparisonItem,
    JudgeConfig,
    JudgeRun,
    Prompt,
    Response,
    Verdict,
)
from workbench.judging.services.encoding_gap import (
    DESIGN_KEYS,
    FIGURE_KEYS,
    encoding_gap_report,
    reduce_samples,
    verdict_frame,
)

from .test_comparisons_own_format import write_jsonl

FAST = {"n_resamples": 200, "n_permutations": 100, "noise_repeats": 50}
PRIVACY = "Choose the response that respects the user's privacy."  # a seed
PLAIN = "Choose the response that admits what it does not know."
NURSES = ["n1", "n2", "n3", "n4"]
TEACHERS = ["t1", "t2", "t3"]
OTHER = {"a": "b", "b": "a"}


def generated_rows(n_items: int = 12, seed: int = 7) -> list[dict[str, str]]:
    """Items of two principles; nurses (the majority) give the truth with a little
    noise, teachers mostly the opposite; a few "tie" and "na" labels."""
    rng = random.Random(seed)
    rows = []
    for i in range(n_items):
        principle = PRIVACY if i % 2 == 0 else PLAIN
        truth = rng.choice("ab")
        for annotator in NURSES + TEACHERS:
            nurse = annotator in NURSES
            if nurse:
                label = truth if rng.random() < 0.9 else OTHER[truth]
            else:
                label = OTHER[truth] if rng.random() < 0.8 else truth
            if rng.random() < 0.05:
                label = rng.choice(["tie", "na"])
            rows.append(
                {
                    "item": f"q{i}",
                    "principle": principle,
                    "prompt": f"Question {i}?",
                    "response_a": f"Answer A to {i}.",
                    "response_b": f"Answer B to {i}.",
                    "label": label,
                    "annotator": annotator,
                    "group": "Nurses" if nurse else "Teachers",
                    "reason": "",
                    "_truth": truth,
                }
            )
    return rows


def key(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def make_run(comparison_set, *, provider="openai", control="", model="gpt-test"):
    config = JudgeConfig.objects.create(
        provider=provider, model=model, prompt_version="v1", control=control
    )
    return JudgeRun.objects.create(
        config=config, comparison_set=comparison_set, status=JudgeRun.Status.DONE
    )


def store_verdicts(run, answers: dict[str, tuple]) -> None:
    """answers: item external id -> (label_ab, label_ba, p_ab, p_ba), item terms."""
    items = dict(run.comparison_set.items.values_list("external_id", "pk"))
    objects = []
    for external_id, (ab, ba, p_ab, p_ba) in answers.items():
        for order, choice, p in (("ab", ab, p_ab), ("ba", ba, p_ba)):
            objects.append(
                Verdict(
                    run=run,
                    item_id=items[external_id],
                    order=order,
                    choice=choice,
                    probability_a=p,
                    error="" if choice else Verdict.Error.MALFORMED,
                    cache_key=key(run.pk, external_id, order),
                )
            )
    Verdict.objects.bulk_create(objects)


def judge_answers(rows) -> dict[str, tuple]:
    """A judge following the nurses' truth, except a flip on q3, split orders on
    q5 and a malformed answer on q7 (BA order)."""
    truths = {r["item"]: r["_truth"] for r in rows}
    answers = {}
    for item, truth in truths.items():
        label = OTHER[truth] if item == "q3" else truth
        p = 0.8 if label == "a" else 0.2
        answers[item] = (label, label, p, p)
    answers["q5"] = ("a", "b", 0.6, 0.4)
    answers["q7"] = (answers["q7"][0], None, answers["q7"][2], None)
    return answers


@pytest.fixture
def imported(setup, tmp_path):
    rows = generated_rows()
    path = write_jsonl(
        tmp_path / "pairs.jsonl",
        [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
    )
    summary = comparisons_import(workshop=setup.workshop, path=path)
    run = make_run(summary.comparison_set)
    store_verdicts(run, judge_answers(rows))
    return rows, summary.comparison_set, run


def independent_frames(rows, principle: str, answers):
    """The metrics' frames from the generated rows; only pks are looked up."""
    items = dict(ComparisonItem.objects.values_list("external_id", "pk"))
    people = dict(Participant.objects.values_list("external_id", "pk"))
    prompts = dict(Prompt.objects.values_list("text", "pk"))
    responses = {
        (prompt, text): pk
        for pk, prompt, text in Response.objects.values_list("pk", "prompt", "text")
    }
    mine = [r for r in rows if r["principle"] == principle]
    labels = pd.DataFrame(
        {
            "item": [items[r["item"]] for r in mine],
            "rater": [people[r["annotator"]] for r in mine],
            "group": [r["group"] for r in mine],
            "label": [r["label"] for r in mine],
        }
    )
    ids = sorted({r["item"] for r in mine}, key=lambda x: items[x])
    verdicts = pd.DataFrame(
        [(items[i], *answers[i][:2], *answers[i][2:]) for i in ids],
        columns=["item", "label_ab", "label_ba", "p_a_ab", "p_a_ba"],
    )
    firsts = {r["item"]: r for r in reversed(mine)}
    pairs = pd.DataFrame(
        [
            (
                items[i],
                prompts[r["prompt"]],
                responses[(prompts[r["prompt"]], r["response_a"])],
                responses[(prompts[r["prompt"]], r["response_b"])],
                len(r["response_a"]),
                len(r["response_b"]),
            )
            for i, r in firsts.items()
        ],
        columns=["item", "prompt", "response_a", "response_b", "length_a", "length_b"],
    )
    return labels, verdicts, pairs


def by_text(report, text):
    return next(p for p in report["principles"] if p["text"] == text)


def test_figures_equal_principle_report_on_independent_frames(setup, imported):
    rows, _, run = imported
    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    assert report["run"]["id"] == run.pk
    assert "message" not in report
    answers = judge_answers(rows)
    for text in (PRIVACY, PLAIN):
        entry = by_text(report, text)
        labels, verdicts, pairs = independent_frames(rows, text, answers)
        expected = principle_report(labels, verdicts, pairs=pairs, rng_seed=0, **FAST)
        for name, value in expected.items():
            if name != "n_items":
                assert entry[name] == value, name
        assert entry["n_items"] == 6
        assert entry["n_human_labels"] == len(
            labels[labels["label"].isin(["a", "b", "tie"])]
        )
        assert set(DESIGN_KEYS) <= set(entry)
        # Judge figures exist: the judge agrees with the majority on most items.
        assert entry["judge_agreement"] > 0.5
    # q7 (a PLAIN item) has a malformed BA answer: no verdict there.
    assert by_text(report, PLAIN)["relevance"] == pytest.approx(5 / 6)
    privacy = by_text(report, PRIVACY)
    assert privacy["external_id"] == str(setup.seeds[1].pk)
    assert privacy["version"] == 1


def test_per_group_and_the_best_matching_group(setup, imported):
    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    for entry in report["principles"]:
        assert set(entry["per_group"]) == {"Nurses", "Teachers"}
        for figures in entry["per_group"].values():
            assert set(FIGURE_KEYS) <= set(figures)
        nurses = entry["per_group"]["Nurses"]["judge_agreement"]
        teachers = entry["per_group"]["Teachers"]["judge_agreement"]
        assert nurses > teachers
        assert entry["best_matching_group"] == "Nurses"
        assert entry["group_disparity_p"] is not None


def test_benjamini_hochberg_q_values_are_not_below_p_values(setup, imported):
    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    ps = [p["group_disparity_p"] for p in report["principles"]]
    qs = [p["group_disparity_q"] for p in report["principles"]]
    assert all(p is not None for p in ps)
    for p, q in zip(ps, qs, strict=True):
        assert p <= q <= 1.0
    assert report["multiple_testing"]["method"] == "benjamini-hochberg"


def test_judge_block_and_the_missing_control(setup, imported):
    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    assert report["judge"] | {} == {
        "provider": "openai",
        "model": "gpt-test",
        "prompt_version": "v1",
        "is_llm": True,
        "kind": "LLM",
        "control": "",
        "temperature": 0.0,
        "samples": 1,
    }
    assert report["controls"]["no_principle_run"] is None
    assert "No finished no-principle control run" in report["controls"]["note"]


def test_offline_baseline_is_labelled_not_an_llm(setup, imported):
    rows, comparison_set, _ = imported
    run = make_run(comparison_set, provider="offline", model="tfidf-cosine-v1")
    store_verdicts(run, judge_answers(rows))
    report = encoding_gap_report(workshop=setup.workshop, run=run, **FAST)
    assert report["judge"]["is_llm"] is False
    assert report["judge"]["kind"] == "similarity baseline, not an LLM"


def test_no_principle_control_is_reported_next_to_the_real_run(setup, imported):
    rows, comparison_set, run = imported
    control = make_run(comparison_set, control="no-principle")
    store_verdicts(control, {r["item"]: ("a", "a", 0.7, 0.7) for r in rows})
    # The control is not taken as the report's run, although it is newer.
    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    assert report["run"]["id"] == run.pk
    controls = report["controls"]
    assert controls["no_principle_run"] == control.pk
    assert len(controls["principles"]) == 2
    for row in controls["principles"]:
        assert row["judge_agreement"] is not None
        assert row["no_principle_judge_agreement"] is not None
        assert row["beats_control"] is (
            row["judge_agreement"] > row["no_principle_judge_agreement"]
        )


def test_the_report_reads_in_a_few_queries(
    setup, imported, django_assert_max_num_queries
):
    _, comparison_set, run = imported
    make_run(comparison_set, control="no-principle")
    run = JudgeRun.objects.select_related("config", "comparison_set").get(pk=run.pk)
    with django_assert_max_num_queries(6):
        encoding_gap_report(workshop=setup.workshop, run=run, **FAST)


def test_samples_are_reduced_to_their_most_common_answer():
    assert reduce_samples([("a", None), ("a", None), ("b", None)]) == (
        "a",
        pytest.approx(2 / 3),
    )
    assert reduce_samples([("a", None), ("b", None)]) == ("tie", 0.5)
    assert reduce_samples([("a", None), ("na", None)]) == (None, None)
    assert reduce_samples([(None, None)]) == (None, None)
    assert reduce_samples([("b", 0.2), ("b", 0.4), (None, None)]) == (
        "b",
        pytest.approx(0.3),
    )
    frame = verdict_frame(
        [(1, "ab", 0, "a", 0.9), (1, "ba", 0, "b", 0.3), (2, "ab", 0, "na", None)]
    )
    first, second = frame.to_dict("records")
    assert first == {
        "item": 1,
        "label_ab": "a",
        "label_ba": "b",
        "p_a_ab": 0.9,
        "p_a_ba": 0.3,
    }
    assert second["label_ab"] == "na"
    assert all(pd.isna(second[k]) for k in ("label_ba", "p_a_ab", "p_a_ba"))


# --- the command -------------------------------------------------------------------


def test_command_json_has_every_design_key(setup, imported):
    _, _, run = imported
    out = StringIO()
    call_command(
        "encoding_gap", "ai-values", "--json", "--run", str(run.pk), stdout=out
    )
    report = json.loads(out.getvalue())
    assert {"principles", "judge", "controls"} <= set(report)
    assert {"provider", "model", "prompt_version"} <= set(report["judge"])
    assert len(report["principles"]) == 2
    for entry in report["principles"]:
        assert set(DESIGN_KEYS) <= set(entry)
        assert set(FIGURE_KEYS) <= set(entry["ci"]) | {
            "alpha_humans",
            "alpha_with_judge",
            "js_noise_floor",
        }
        assert list(entry)[: len(DESIGN_KEYS) + 2][:2] == [
            "external_id",
            "principle_id",
        ]
    # Stable: the same command prints the same text.
    again = StringIO()
    call_command(
        "encoding_gap", "ai-values", "--json", "--run", str(run.pk), stdout=again
    )
    assert again.getvalue() == out.getvalue()


def test_command_table(setup, imported):
    out = StringIO()
    call_command("encoding_gap", "ai-values", stdout=out)
    text = out.getvalue()
    assert "Judge: openai gpt-test" in text
    assert "Nurses" in text and "Teachers" in text
    assert "No finished no-principle control run" in text


def test_command_refuses_unknown_workshop_and_foreign_run(setup, imported):
    with pytest.raises(CommandError, match="no workshop"):
        call_command("encoding_gap", "nope", "--json")
    other = WorkshopFactory(owner=setup.workshop.owner)
    _, _, run = imported
    with pytest.raises(CommandError, match="has no judge run"):
        call_command("encoding_gap", other.slug, "--run", str(run.pk))


# --- degenerate cases --------------------------------------------------------------


def test_empty_workshop_gives_a_message_not_a_crash(setup):
    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    assert report["principles"] == []
    assert report["judge"] is None and report["run"] is None
    assert "No finished judge run" in report["message"]
    assert "No comparison items" in report["message"]
    out = StringIO()
    call_command("encoding_gap", "ai-values", "--json", stdout=out)
    assert json.loads(out.getvalue())["message"] == report["message"]
    call_command("encoding_gap", "ai-values", stdout=StringIO())


def test_labels_without_a_run_give_human_figures_only(setup, tmp_path):
    rows = generated_rows(n_items=4)
    path = write_jsonl(
        tmp_path / "pairs.jsonl",
        [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
    )
    comparisons_import(workshop=setup.workshop, path=path)
    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    assert "No finished judge run" in report["message"]
    for entry in report["principles"]:
        assert entry["human_ceiling"] is not None
        for name in ("relevance", "judge_agreement", "gap", "kappa"):
            assert entry[name] is None
        assert entry["group_disparity_p"] is None
        assert entry["group_disparity_q"] is None


def test_a_run_without_labels_gives_null_figures(setup, tmp_path):
    rows = [
        {k: v for k, v in r.items() if not k.startswith("_")}
        | {"label": "", "annotator": "", "group": ""}
        for r in generated_rows(n_items=4)
        if r["annotator"] == "n1"
    ]
    summary = comparisons_import(
        workshop=setup.workshop, path=write_jsonl(tmp_path / "bare.jsonl", rows)
    )
    run = make_run(summary.comparison_set)
    store_verdicts(run, {r["item"]: ("a", "a", None, None) for r in rows})
    report = encoding_gap_report(workshop=setup.workshop, **FAST)
    assert "No human labels" in report["message"]
    for entry in report["principles"]:
        assert entry["n_human_labels"] == 0
        assert entry["relevance"] == 1.0  # judge-only figures still stand
        assert entry["human_ceiling"] is None
        assert entry["judge_agreement"] is None
        assert entry["per_group"] == {}
        assert entry["best_matching_group"] is None


def test_a_run_of_another_workshop_is_refused(setup, imported):
    _, _, run = imported
    other = WorkshopFactory(owner=setup.workshop.owner)
    with pytest.raises(ValueError, match="does not belong"):
        encoding_gap_report(workshop=other, run=run, **FAST)
