"""Kendall tau for rankings of 3+ responses end to end: one JSON Lines file in the
workbench's own format compares every pair of four responses to one prompt and of
three to another, under one principle; the importer stores each prompt and each
response once, and ``encoding_gap --json`` reports tau_b, Spearman rho and the
ceiling as scipy computes them here from the raw labels."""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from scipy.stats import kendalltau, spearmanr

from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.models import ComparisonItem, Prompt, Response

from .test_comparisons_own_format import write_jsonl
from .test_encoding_gap_report import make_run, store_verdicts

PRINCIPLE = "Choose the response that explains its reasoning in plain language."
PROMPTS = {
    "How do vaccines work?": [
        "Short.",
        "A medium answer.",
        "A longer answer here.",
        "X",
    ],
    "Why is the sky blue?": ["Light scatters.", "Because.", "Rayleigh scattering."],
}
RATERS = ["r1", "r2", "r3", "r4", "r5"]


def comparisons(seed: int = 3):
    """Every pair of each prompt's responses, labelled by every rater from a shared
    latent quality plus personal noise; the judge's p from its own noisy reading."""
    rng = random.Random(seed)
    rows, judge = [], {}
    for p_index, (prompt, responses) in enumerate(PROMPTS.items()):
        quality = {text: rng.random() for text in responses}
        for a, b in itertools.combinations(responses, 2):
            item = f"p{p_index}-{responses.index(a)}{responses.index(b)}"
            for rater in RATERS:
                qa = quality[a] + rng.gauss(0, 0.3)
                qb = quality[b] + rng.gauss(0, 0.3)
                label = "tie" if abs(qa - qb) < 0.05 else ("a" if qa > qb else "b")
                rows.append(
                    {
                        "item": item,
                        "principle": PRINCIPLE,
                        "prompt": prompt,
                        "response_a": a,
                        "response_b": b,
                        "label": label,
                        "annotator": rater,
                        "group": "Nurses"
                        if rater in {"r1", "r2", "r3"}
                        else "Teachers",
                    }
                )
            p_a = min(max(0.5 + (quality[a] - quality[b]) + rng.gauss(0, 0.2), 0), 1)
            label = "a" if p_a >= 0.5 else "b"
            judge[item] = (label, label, p_a, p_a)
    return rows, judge


def win_rates(scores: list[tuple[str, str, float]]) -> dict[tuple[str, str], float]:
    """(prompt, response) -> mean score over the comparisons it took part in."""
    total: dict[tuple[str, str], list[float]] = defaultdict(list)
    for prompt, response, score in scores:
        total[(prompt, response)].append(score)
    return {key: float(np.mean(values)) for key, values in total.items()}


def label_scores(rows) -> list[tuple[str, str, float]]:
    points = {"a": 1.0, "b": 0.0, "tie": 0.5}
    scores = []
    for r in rows:
        p = points[r["label"]]
        scores += [
            (r["prompt"], r["response_a"], p),
            (r["prompt"], r["response_b"], 1 - p),
        ]
    return scores


def correlations(judge_rates, human_rates, function) -> list[float]:
    values = []
    for prompt, responses in PROMPTS.items():
        x = [judge_rates[(prompt, r)] for r in responses]
        y = [human_rates[(prompt, r)] for r in responses]
        values.append(function(x, y))
    return values


@pytest.fixture
def imported(setup, tmp_path):
    rows, judge = comparisons()
    summary = comparisons_import(
        workshop=setup.workshop, path=write_jsonl(tmp_path / "ranks.jsonl", rows)
    )
    run = make_run(summary.comparison_set)
    store_verdicts(run, judge)
    return rows, judge, summary


def test_the_importer_stores_each_prompt_and_response_once(imported):
    _, _, summary = imported
    assert summary.items == 6 + 3
    assert summary.prompts == 2
    assert summary.responses == 4 + 3
    assert Prompt.objects.count() == 2
    assert Response.objects.count() == 7
    # The six items of the first prompt share its row and its four responses.
    first = ComparisonItem.objects.filter(external_id__startswith="p0-")
    assert first.values("prompt").distinct().count() == 1
    used = set(first.values_list("response_a", flat=True))
    used |= set(first.values_list("response_b", flat=True))
    assert len(used) == 4


def test_command_json_reports_kendall_tau_as_scipy_computes_it(setup, imported):
    rows, judge, _ = imported
    out = StringIO()
    call_command("encoding_gap", setup.workshop.slug, "--json", stdout=out)
    (entry,) = json.loads(out.getvalue())["principles"]
    assert entry["n_ranked_prompts"] == 2

    item_of = {r["item"]: r for r in rows}
    judge_scores = []
    for item, (_, _, p_a, _) in judge.items():
        r = item_of[item]
        judge_scores += [
            (r["prompt"], r["response_a"], p_a),
            (r["prompt"], r["response_b"], 1 - p_a),
        ]
    judge_rates = win_rates(judge_scores)
    human_rates = win_rates(label_scores(rows))

    def tau(x, y):
        return kendalltau(x, y, variant="b").statistic

    def rho(x, y):
        return spearmanr(x, y).statistic

    taus = correlations(judge_rates, human_rates, tau)
    assert entry["kendall_tau"] == pytest.approx(np.nanmean(taus))
    assert entry["spearman_rho"] == pytest.approx(
        np.nanmean(correlations(judge_rates, human_rates, rho))
    )
    # Ceiling: each rater (all labelled every pair) against the others; a rater
    # whose win rates are all equal on a prompt (a cycle) has no tau there.
    ceiling = []
    for rater in RATERS:
        own = win_rates(label_scores([r for r in rows if r["annotator"] == rater]))
        others = win_rates(label_scores([r for r in rows if r["annotator"] != rater]))
        ceiling += correlations(own, others, tau)
    assert entry["kendall_tau_ceiling"] == pytest.approx(np.nanmean(ceiling))
    # The judge reads the same latent quality: its rankings agree, not perfectly.
    assert 0 < entry["kendall_tau"] <= 1
    # Per group, the group's own raters.
    assert set(entry["per_group"]) == {"Nurses", "Teachers"}
    nurses = win_rates(
        label_scores([r for r in rows if r["annotator"] in {"r1", "r2", "r3"}])
    )
    assert entry["per_group"]["Nurses"]["kendall_tau"] == pytest.approx(
        np.nanmean(correlations(judge_rates, nurses, tau))
    )
