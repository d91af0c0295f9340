"""The encoding-gap report of a workshop (``manage.py encoding_gap SLUG --json``).

For one judge run - the workshop's latest finished run with the principle shown, or
the run asked for - every principle version on the run's items gets the figures of
:func:`workbench.judging.metrics.principle_report`, computed from three frames:

* labels: one row per :class:`HumanJudgment` - ``item`` (item pk), ``rater``
  (participant pk), ``group`` (the participant's workshop group name), ``label``
  (a / b / tie / na, in the item's own terms);
* verdicts: one row per judged item - ``label_ab`` / ``label_ba`` and ``p_a_ab`` /
  ``p_a_ba`` from the run's :class:`Verdict` rows of order "ab" / "ba";
* pairs (:func:`pair_frame`): one row per item - ``prompt``, ``response_a`` and
  ``response_b`` (pks) and ``length_a`` / ``length_b``, the responses' lengths in
  characters, read by the database on the items' own query.

Besides the figures DESIGN.md names, each principle has Gwet's AC1 (``ac1``: the
judge against the majority on kappa's items, ``ac1_humans``: among the
participants), ``prefer_longer_judge`` / ``prefer_longer_humans`` (Wilson
intervals in ``ci``), ``judge_agreement_flipped``, and the ranking figures
``kendall_tau``, ``kendall_tau_ceiling``, ``spearman_rho`` and
``n_ranked_prompts``: several items of one principle that share a prompt and
together compare 3+ of its responses rank them (the importer stores a prompt
text once per file and a response text once per prompt, so a file can say
this). Prompts with two responses only leave the ranking figures null, with
the reason in ``reasons``. ``per_group`` entries carry the same figures for the
group's labels.

Opinion groups: the latest successful :class:`WorkshopAnalysis` (no error) maps
participants, by external id or str(pk) as the analysis keys them, to opinion
groups; ``per_opinion_group``, ``best_matching_opinion_group`` and
``opinion_group_disparity_p`` / ``_q`` are the per-group figures for that
grouping. Participants the analysis does not list or places in no group are left
out of them (not of the principle's figures). The top-level ``opinion_groups``
names the analysis used (``analysis`` id, ``computed_at``, ``status``, group
sizes among the raters) or says why there is none.

Verdict mapping: ``Verdict.choice`` and ``Verdict.probability_a`` are stored in the
item's terms (A is ``response_a``) whatever order the judge saw, so the judge run
flips the answer of the "ba" order (shown B first) before storing it - as
``workbench.judging.llm.combine_orders`` does with ``_FLIP``. Here they are read
as they are: ``label_ba`` is the "ba" row's ``choice``, ``p_a_ba`` its
``probability_a`` (no second flip).

Samples: when a config asks for several samples per order, the order's label is
the most common answer among the samples that answered (failed samples, whose
``choice`` is null, are left out); a tie between modes is "tie" when every tied
mode is a / b / tie and None (abstained) when "na" is among them. The order's
probability is the mean ``probability_a`` of the samples that have one, else the
share of a among the decisive (a / b) samples when there are two or more of them
(a tie sample counts as half), else None. With one sample this is just sample 0.

Multiple testing: ``group_disparity_p`` (one permutation test per principle over
its groups) is adjusted by Benjamini-Hochberg over every principle of the report
(the principles x groups family: each test already spans the groups), giving
``group_disparity_q`` (None when the p-value is None); ``opinion_group_disparity_p``
is adjusted the same way in a family of its own (``opinion_group_disparity_q``),
so adding opinion groups leaves the workshop groups' q-values as they were.

Controls: ``controls`` keeps the no-principle run's rows (``principles``, when
there is such a run) and adds, for every principle, ``flipped_labels`` (the judge
agreement against the participants' labels with a and b swapped, next to the
real one) and ``prefer_longer`` (the judge's and the participants' P(prefer
longer) with their intervals), each with a ``note`` on how to read it.

Drill-down: each principle's ``disagreements`` lists its ``n_disagreements`` items
(default 5) where the judge and the participants disagree most, ranked by
|p_J - s| (p_J the judge's probability that A is better, s the participants' share
preferring A with a tie counting half; see ``metrics``), largest first, ties by
item. Only items with a combined verdict J and at least one a / b / tie label
count. Each gives the item's external id, its prompt (truncated), the judge's J
and p_J, s, the participants' label counts and their non-empty reasons - plain
participant text, which a page must escape.

Flags: each principle's ``flags`` are :func:`workbench.judging.services.flags.
principle_flags` on its verdicts (position bias, prompt injection).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
from django.db.models.functions import Length

from workbench.deliberation.models import Workshop, WorkshopAnalysis
from workbench.judging import metrics
from workbench.judging.models import (
    ComparisonItem,
    HumanJudgment,
    JudgeControl,
    JudgeProvider,
    JudgeRun,
    RunStatus,
    Verdict,
)
from workbench.judging.services.flags import principle_flags

__all__ = [
    "DESIGN_KEYS",
    "FIGURE_KEYS",
    "disagreements",
    "encoding_gap_report",
    "pair_frame",
]

BASELINE_KIND: Final = "similarity baseline, not an LLM"
LLM_KIND: Final = "LLM"

FIGURE_KEYS: Final = (
    "relevance",
    "order_consistency",
    "human_ceiling",
    "judge_agreement",
    "gap",
    "normalized_agreement",
    "kappa",
    "alpha_humans",
    "alpha_with_judge",
    "js_distance",
    "js_noise_floor",
)
"""The figures DESIGN.md names, in its order (also the keys of each ``per_group``)."""

DESIGN_KEYS: Final = (
    "external_id",
    "text",
    "n_items",
    "n_human_labels",
    *FIGURE_KEYS,
    "ci",
    "per_group",
    "best_matching_group",
    "group_disparity_p",
)
"""Every key DESIGN.md lists for a principle of ``encoding_gap --json``."""

LABEL_COLUMNS: Final = ["item", "rater", "group", "label"]
VERDICT_COLUMNS: Final = ["item", "label_ab", "label_ba", "p_a_ab", "p_a_ba"]
PAIR_COLUMNS: Final = [
    "item",
    "prompt",
    "response_a",
    "response_b",
    "length_a",
    "length_b",
]
DECISIVE: Final = frozenset({"a", "b", "tie"})
PROMPT_CHARS: Final = 300
LABEL_ORDER: Final = ("a", "b", "tie", "na")


def encoding_gap_report(
    *,
    workshop: Workshop,
    run: JudgeRun | None = None,
    rng_seed: int = 0,
    n_resamples: int = 2000,
    n_permutations: int = 1000,
    noise_repeats: int = 200,
    alpha: float = 0.05,
    n_disagreements: int = 5,
) -> dict[str, Any]:
    """The DESIGN.md ``encoding_gap --json`` object for ``workshop``.

    ``run`` defaults to the workshop's latest finished run without a control. With
    no such run the principles of all the workshop's items are reported with the
    human figures only (judge figures None) and a ``message``; with no items the
    list is empty. The random draws derive from ``rng_seed`` (see
    ``principle_report``), so a report is reproducible. Seven queries at most:
    the run (when not given), the items with their responses' lengths, the
    labels, the run's verdicts, the control run and its verdicts, and the
    opinion groups of the latest opinion analysis.
    """
    if run is None:
        run = report_default_run(workshop=workshop)
    elif run.comparison_set.workshop_id != workshop.pk:
        msg = f"run {run.pk} does not belong to workshop {workshop.slug!r}"
        raise ValueError(msg)

    items_qs = ComparisonItem.objects.filter(comparison_set__workshop=workshop)
    if run is not None:
        items_qs = ComparisonItem.objects.filter(
            comparison_set_id=run.comparison_set_id
        )
    items = list(
        items_qs.select_related("principle_version__principle", "prompt")
        .annotate(
            length_a=Length("response_a__text"), length_b=Length("response_b__text")
        )
        .order_by("id")
    )
    rows = list(
        HumanJudgment.objects.filter(item__in=[i.pk for i in items])
        .order_by("item_id", "participant_id")
        .values_list(
            "item_id",
            "participant_id",
            "participant__group__name",
            "label",
            "reason",
            "participant__external_id",
        )
    )
    rows_with_reasons = [row[:5] for row in rows]
    judgments = [row[:4] for row in rows]
    verdicts = verdict_frame(verdict_rows(run)) if run is not None else None

    control_run = _control_run(run)
    control_verdicts = (
        verdict_frame(verdict_rows(control_run)) if control_run is not None else None
    )

    labels_by_version: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    version_of_item = {i.pk: i.principle_version_id for i in items}
    for row in judgments:
        labels_by_version[version_of_item[row[0]]].append(row)
    items_by_version: dict[int, list[ComparisonItem]] = defaultdict(list)
    for item in items:
        items_by_version[item.principle_version_id].append(item)

    opinion, opinion_groups = _opinion_groups(workshop, rows)

    principles: list[dict[str, Any]] = []
    controls: list[dict[str, Any]] = []
    for version_id, version_items in items_by_version.items():
        version = version_items[0].principle_version
        item_ids = {i.pk for i in version_items}
        labels = pd.DataFrame(labels_by_version[version_id], columns=LABEL_COLUMNS)
        own = _restrict(verdicts, item_ids)
        report = metrics.principle_report(
            labels,
            own,
            pairs=pair_frame(version_items),
            opinion_groups=opinion_groups,
            rng_seed=rng_seed,
            n_resamples=n_resamples,
            n_permutations=n_permutations,
            noise_repeats=noise_repeats,
        )
        entry = _principle_entry(version, len(item_ids), report)
        entry["disagreements"] = disagreements(
            version_items,
            rows_with_reasons,
            own,
            limit=n_disagreements,
        )
        entry["flags"] = [dict(flag) for flag in principle_flags(version.text, own)]
        principles.append(entry)
        if control_verdicts is not None:
            control = metrics.judge_agreement(
                labels, _restrict(control_verdicts, item_ids), seed=rng_seed
            ).json()
            real = entry["judge_agreement"]
            controls.append(
                {
                    "external_id": entry["external_id"],
                    "version": entry["version"],
                    "judge_agreement": real,
                    "no_principle_judge_agreement": control,
                    "beats_control": None
                    if real is None or control is None
                    else real > control,
                }
            )

    for key in ("group_disparity", "opinion_group_disparity"):
        _, q_values = metrics.benjamini_hochberg(
            [p[f"{key}_p"] for p in principles], alpha=alpha
        )
        for entry, q in zip(principles, q_values, strict=True):
            entry[f"{key}_q"] = q

    out: dict[str, Any] = {
        "workshop": workshop.slug,
        "run": _run_json(run),
        "judge": _judge_json(run),
        "opinion_groups": opinion,
        "principles": principles,
        "controls": _controls_json(control_run, controls)
        | {
            "flipped_labels": _flipped_json(principles),
            "prefer_longer": _prefer_longer_json(principles),
        },
        "multiple_testing": {
            "method": "benjamini-hochberg",
            "family": "group_disparity_p of every principle (principles x groups)",
            "opinion_family": (
                "opinion_group_disparity_p of every principle (principles x "
                "opinion groups), adjusted apart from the workshop groups"
            ),
            "alpha": alpha,
        },
        "verdict_mapping": (
            "Verdict.choice and probability_a are in the item's terms (A is "
            "response_a) for both orders; several samples per order are reduced "
            "to their most common answer."
        ),
    }
    message = _message(run, items, judgments)
    if message:
        out["message"] = message
    return out


# --- frames ------------------------------------------------------------------------


def pair_frame(items: Iterable[ComparisonItem]) -> pd.DataFrame:
    """The metrics' items frame: prompt and response ids and the responses' lengths
    in characters (``length_a`` / ``length_b``, annotated on the items' query)."""
    return pd.DataFrame(
        [
            (
                item.pk,
                item.prompt_id,
                item.response_a_id,
                item.response_b_id,
                getattr(item, "length_a", None),
                getattr(item, "length_b", None),
            )
            for item in items
        ],
        columns=PAIR_COLUMNS,
    )


def _opinion_groups(
    workshop: Workshop, rows: Iterable[tuple[Any, ...]]
) -> tuple[dict[str, Any], dict[int, str]]:
    """The opinion groups of the raters in ``rows`` from the workshop's latest
    successful opinion analysis (participant pk -> opinion group id), and what
    the report says about it. Only the analysis's participants map is read.

    The analysis keys a participant by its external id, or str(pk) without one
    (services/analysis.py); a participant it does not list, or lists in no group,
    is left out of every opinion group.
    """
    latest = (
        WorkshopAnalysis.objects.filter(workshop=workshop, error="")
        .order_by("-computed_at", "-id")
        .values_list("pk", "computed_at", "result__status", "result__participants")
        .first()
    )
    if latest is None:
        return {
            "analysis": None,
            "computed_at": None,
            "note": (
                "No successful opinion analysis of this workshop yet (it runs after "
                "votes, or with manage.py analyze): there are no opinion groups."
            ),
        }, {}
    pk, computed_at, status, participants = latest
    participants = participants if isinstance(participants, dict) else {}
    mapping: dict[int, str] = {}
    for row in rows:
        participant, external = row[1], row[5]
        group = participants.get(external or str(participant))
        if group is not None:
            mapping[participant] = str(group)
    sizes = Counter(mapping.values())
    note = (
        f"Opinion groups of analysis {pk}; raters it does not place in a group "
        "are left out of every opinion group."
    )
    if not sizes:
        note = (
            f"Analysis {pk} (status {status}) places none of these raters in an "
            "opinion group."
        )
    return {
        "analysis": pk,
        "computed_at": computed_at.isoformat(),
        "status": status,
        "n_raters_grouped": len(mapping),
        "groups": {g: sizes[g] for g in sorted(sizes)},
        "note": note,
    }, mapping


def report_default_run(*, workshop: Workshop) -> JudgeRun | None:
    """The run a report shows when none is asked for: the workshop's latest
    finished run with the principle shown (a control run is never the default)."""
    return (
        JudgeRun.objects.filter(
            comparison_set__workshop=workshop,
            status=RunStatus.DONE,
            config__control=JudgeControl.NONE,
        )
        .select_related("config", "comparison_set")
        .order_by("-finished_at", "-created_at", "-id")
        .first()
    )


def verdict_rows(run: JudgeRun) -> list[tuple[Any, ...]]:
    return list(
        Verdict.objects.filter(run=run)
        .order_by("item_id", "order", "sample")
        .values_list("item_id", "order", "sample", "choice", "probability_a")
    )


def verdict_frame(rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    """The metrics' verdicts frame from (item, order, sample, choice, probability_a)
    rows already in the item's terms; several samples reduced as the module says."""
    grouped: dict[int, dict[str, list[tuple[str | None, float | None]]]] = defaultdict(
        lambda: {"ab": [], "ba": []}
    )
    for item, order, _sample, choice, probability in rows:
        grouped[item][order].append((choice, probability))
    records = []
    for item, orders in grouped.items():
        ab_label, ab_p = reduce_samples(orders["ab"])
        ba_label, ba_p = reduce_samples(orders["ba"])
        records.append((item, ab_label, ba_label, ab_p, ba_p))
    return pd.DataFrame(records, columns=VERDICT_COLUMNS)


def reduce_samples(
    samples: list[tuple[str | None, float | None]],
) -> tuple[str | None, float | None]:
    """One order's (label, P(A)) from its samples (see the module docstring)."""
    answered = [c for c, _ in samples if c is not None]
    label: str | None = None
    if answered:
        counts = Counter(answered)
        top = max(counts.values())
        modes = {c for c, n in counts.items() if n == top}
        if len(modes) == 1:
            label = modes.pop()
        elif modes <= DECISIVE:
            label = "tie"
    probabilities = [p for _, p in samples if p is not None]
    p_a: float | None = None
    if probabilities:
        p_a = sum(probabilities) / len(probabilities)
    else:
        decisive = [c for c in answered if c in DECISIVE]
        if len([c for c in decisive if c != "tie"]) >= 2:
            score = {"a": 1.0, "b": 0.0, "tie": 0.5}
            p_a = sum(score[c] for c in decisive) / len(decisive)
    return label, p_a


def _restrict(frame: pd.DataFrame | None, item_ids: set[int]) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame(columns=VERDICT_COLUMNS)
    return frame[frame["item"].isin(item_ids)].reset_index(drop=True)


# --- drill-down --------------------------------------------------------------------


def disagreements(
    items: list[ComparisonItem],
    judgments: Iterable[tuple[Any, ...]],
    verdicts: pd.DataFrame,
    *,
    limit: int = 5,
) -> list[dict[str, Any]]:
    """The ``limit`` items of ``items`` where |p_J - s| is largest (module docstring).

    ``judgments`` are (item, participant, group, label, reason) rows - any items;
    those of other items are ignored. ``verdicts`` is the metrics' frame.
    """
    if verdicts.empty or limit <= 0:
        return []
    by_pk = {item.pk: item for item in items}
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    reasons: dict[int, list[str]] = defaultdict(list)
    for item_id, _participant, _group, label, reason in judgments:
        if item_id not in by_pk:
            continue
        counts[item_id][label] += 1
        if reason and reason.strip():
            reasons[item_id].append(reason)
    combined = metrics.combine_verdicts(verdicts)
    ranked: list[tuple[float, int, dict[str, Any]]] = []
    for pk, verdict, p_value in zip(
        combined.index.tolist(), combined["J"], combined["p_J"], strict=True
    ):
        item = by_pk.get(pk)
        p_j = float(p_value)
        label_counts = counts.get(pk, Counter())
        decisive = sum(label_counts[k] for k in DECISIVE)
        if item is None or not isinstance(verdict, str) or np.isnan(p_j):
            continue
        if decisive == 0:
            continue
        share = (label_counts["a"] + 0.5 * label_counts["tie"]) / decisive
        distance = abs(p_j - share)
        ranked.append(
            (
                distance,
                pk,
                {
                    "item": item.external_id or str(pk),
                    "item_id": pk,
                    "prompt": _truncate(item.prompt.text),
                    "judge_verdict": verdict,
                    "judge_p_a": p_j,
                    "participants_share_a": share,
                    "distance": distance,
                    "label_counts": {k: label_counts[k] for k in LABEL_ORDER},
                    "reasons": reasons.get(pk, []),
                },
            )
        )
    ranked.sort(key=lambda r: (-r[0], r[1]))
    return [entry for _, _, entry in ranked[:limit]]


def _truncate(text: str, limit: int = PROMPT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


# --- assembly ----------------------------------------------------------------------


def _principle_entry(
    version: Any, n_items: int, report: dict[str, Any]
) -> dict[str, Any]:
    principle = version.principle
    entry: dict[str, Any] = {
        "external_id": principle.external_id or str(principle.pk),
        "principle_id": principle.pk,
        "version": version.number,
        "text": version.text,
        "n_items": n_items,
        "n_human_labels": report["n_human_labels"],
    }
    for key in DESIGN_KEYS[4:]:
        entry[key] = report[key]
    for key, value in report.items():
        entry.setdefault(key, value)
    return entry


def _control_run(run: JudgeRun | None) -> JudgeRun | None:
    if run is None or run.config.control == JudgeControl.NO_PRINCIPLE:
        return None
    return (
        JudgeRun.objects.filter(
            comparison_set_id=run.comparison_set_id,
            status=RunStatus.DONE,
            config__control=JudgeControl.NO_PRINCIPLE,
        )
        .select_related("config")
        .order_by("-finished_at", "-created_at", "-id")
        .first()
    )


def _run_json(run: JudgeRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.pk,
        "status": run.status,
        "comparison_set": run.comparison_set.name,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def _judge_json(run: JudgeRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    config = run.config
    is_llm = config.provider != JudgeProvider.OFFLINE
    return {
        "provider": config.provider,
        "model": config.model,
        "prompt_version": config.prompt_version,
        "is_llm": is_llm,
        "kind": LLM_KIND if is_llm else BASELINE_KIND,
        "control": config.control,
        "temperature": config.temperature,
        "samples": config.samples,
    }


def _controls_json(
    control_run: JudgeRun | None, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    if control_run is None:
        return {
            "no_principle_run": None,
            "principles": [],
            "note": (
                "No finished no-principle control run over these items: the report "
                "cannot tell a principle's effect from the judge's own taste."
            ),
        }
    return {
        "no_principle_run": control_run.pk,
        "principles": rows,
        "note": (
            "judge_agreement with the principle shown next to the same judge's "
            "agreement with no principle (its own taste); a principle that does not "
            "beat the control adds nothing."
        ),
    }


def _flipped_json(principles: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "principles": [
            {
                "external_id": p["external_id"],
                "version": p["version"],
                "judge_agreement": p["judge_agreement"],
                "judge_agreement_flipped": p["judge_agreement_flipped"],
            }
            for p in principles
        ],
        "note": (
            "judge_agreement against the participants' labels with a and b swapped "
            "(ties and 'does not apply' unchanged), next to the real one. A judge "
            "that follows the participants' reading of the principle falls to near "
            "zero; one whose agreement barely moves is not tracking their "
            "distinctions."
        ),
    }


def _prefer_longer_json(principles: list[dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for p in principles:
        row = {"external_id": p["external_id"], "version": p["version"]}
        for who in ("judge", "humans"):
            key = f"prefer_longer_{who}"
            row[key] = p[key]
            row[f"{key}_ci"] = p["ci"].get(key)
        rows.append(row)
    return {
        "principles": rows,
        "note": (
            "Share of decisive (a or b) choices that pick the longer response, by "
            "characters, over items whose responses differ in length; Wilson 95% "
            "intervals. 0.5 is no length preference; a judge far above the "
            "participants rewards length, not the principle."
        ),
    }


def _message(
    run: JudgeRun | None, items: Sequence[ComparisonItem], judgments: list[Any]
) -> str:
    parts = []
    if run is None:
        parts.append(
            "No finished judge run (with the principle shown) in this workshop: "
            "judge figures are null."
        )
    if not items:
        parts.append("No comparison items: there is nothing to report.")
    elif not judgments:
        parts.append("No human labels on these items: agreement figures are null.")
    return " ".join(parts)
