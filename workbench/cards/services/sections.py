"""The five sections of a principle's value card, each read from stored records.

Every figure comes from a record or an existing service: the vote figures from
the stored analysis (`analyze --json`), the encoding-gap figures from
`encoding_gap_report` (`encoding_gap --json`), the rule from the constitution's
snapshot. Participants appear only as counts or as their group's name.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from workbench.cards.services.context import CardContext
from workbench.core.text_order import text_sort_key
from workbench.deliberation.models import (
    ModerationEvent,
    Participant,
    Principle,
    RankingBallot,
    Round,
    Vote,
    VoteRecord,
)
from workbench.deliberation.selectors.translations import (
    translation_list_for_principle,
)
from workbench.judging.models import ComparisonItem, HumanJudgment, JudgeRun
from workbench.judging.services.encoding_gap import FIGURE_KEYS

MIN_DEMOGRAPHIC_CELL = 5
EXAMPLE_MIN_LABELS = 2
EXAMPLE_MIN_SHARE = 0.8
EXAMPLE_LIMIT = 5
CHOICE_KEYS = {1: "agree", -1: "disagree", 0: "pass"}
# The figures `encoding_gap --json` prints for a principle, as the card shows them.
ENCODING_GAP_KEYS = (
    "version",
    "n_items",
    "n_human_labels",
    *FIGURE_KEYS,
    "ci",
    "best_matching_group",
    "group_disparity_p",
)


def not_measured(reason: str) -> dict[str, Any]:
    return {"measured": False, "reason": reason}


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# Criteria --------------------------------------------------------------------


def criteria_section(principle: Principle) -> dict[str, Any]:
    edits = {
        e.data.get("version"): e
        for e in ModerationEvent.objects.filter(
            principle=principle, action=ModerationEvent.Action.EDIT
        )
    }
    versions = [
        {
            "number": v.number,
            "text": v.text,
            "created_at": v.created_at.isoformat(),
            "reason": v.reason,
            "event": _event_json(edits.get(v.number)),
        }
        for v in principle.versions.order_by("number")
    ]
    return {
        "text": principle.text,
        "versions": versions,
        "translations": translations_json(principle),
        "examples": agreed_examples(principle),
        "examples_rule": _(
            "Items with at least %(n)d decisive labels (A, B or equally good) "
            "where at least %(share)d%% chose the same answer."
        )
        % {"n": EXAMPLE_MIN_LABELS, "share": round(EXAMPLE_MIN_SHARE * 100)},
    }


def translations_json(principle: Principle) -> list[dict[str, Any]]:
    """The facilitator's translations, of every wording: `current` is false for
    those of an earlier wording, which participants no longer see."""
    return [
        {
            "language": row.translation.language,
            "text": row.translation.text,
            "version": row.version_number,
            "current": not row.outdated,
            "updated_at": row.translation.updated_at.isoformat(),
        }
        for row in translation_list_for_principle(principle=principle)
    ]


def _event_json(event: ModerationEvent | None) -> dict[str, Any] | None:
    if event is None:
        return None
    return {
        "action": event.action,
        "reason": event.reason,
        "at": event.created_at.isoformat(),
    }


def agreed_examples(principle: Principle) -> list[dict[str, Any]]:
    """The items where participants agreed what following the principle looks
    like: enough decisive labels and a clear majority on one answer."""
    labels: dict[int, Counter[str]] = defaultdict(Counter)
    for item_id, label in HumanJudgment.objects.filter(
        item__principle_version__principle=principle, label__in=["a", "b", "tie"]
    ).values_list("item_id", "label"):
        labels[item_id][label] += 1
    chosen = []
    for item_id, counts in labels.items():
        n = sum(counts.values())
        label, top = counts.most_common(1)[0]
        if n >= EXAMPLE_MIN_LABELS and top / n >= EXAMPLE_MIN_SHARE:
            chosen.append((top / n, n, item_id, label))
    chosen.sort(key=lambda row: (-row[0], -row[1], row[2]))
    chosen = chosen[:EXAMPLE_LIMIT]
    items = ComparisonItem.objects.select_related(
        "prompt", "response_a", "response_b"
    ).in_bulk([row[2] for row in chosen])
    examples = []
    for share, n, item_id, label in chosen:
        item = items[item_id]
        preferred = {"a": item.response_a.text, "b": item.response_b.text}
        examples.append(
            {
                "item": item.external_id or str(item.pk),
                "prompt": item.prompt.text,
                "preferred": label,
                "preferred_response": preferred.get(label, ""),
                "share": round(share, 6),
                "n_labels": n,
            }
        )
    return examples


# Origin ------------------------------------------------------------------------


def origin_section(ctx: CardContext, principle: Principle) -> dict[str, Any]:
    if principle.is_seed:
        proposed_by = {"kind": "seed", "group": None}
    elif principle.author_id is not None or principle.group_id is not None:
        proposed_by = {
            "kind": "participant",
            "group": ctx.group_names.get(principle.group_id or -1)
            or _group_of_author(principle),
        }
    else:
        proposed_by = {"kind": "import", "group": None}
    round_ = principle.round
    return {
        "proposed_by": proposed_by,
        "round": None
        if round_ is None
        else {"id": round_.pk, "title": round_.title, "kind": round_.kind},
        "merged_from": [
            {"id": p.external_id or str(p.pk), "text": p.text}
            for p in principle.merged_from.order_by("created_at", "id")
        ],
        "supporters": supporters(ctx, [principle.pk]),
        "demographics": demographics([principle.pk]),
    }


def _group_of_author(principle: Principle) -> str | None:
    author = principle.author
    return author.group.name if author is not None else None


def supporters(ctx: CardContext, principle_ids: list[int]) -> dict[str, Any]:
    """Current votes per participant group and overall, and how many people."""
    per_group: dict[str, dict[str, int]] = {
        name: {"agree": 0, "disagree": 0, "pass": 0, "participants": 0}
        for name in sorted(ctx.group_names.values(), key=text_sort_key)
    }
    overall = {"agree": 0, "disagree": 0, "pass": 0}
    votes = Vote.objects.filter(principle_id__in=principle_ids)
    for group_id, choice, n in (
        votes.values_list("participant__group_id", "choice")
        .annotate(n=Count("id"))
        .order_by()
    ):
        key = CHOICE_KEYS[choice]
        per_group[ctx.group_names[group_id]][key] += n
        overall[key] += n
    for group_id, n in (
        votes.values_list("participant__group_id")
        .annotate(n=Count("participant_id", distinct=True))
        .order_by()
    ):
        per_group[ctx.group_names[group_id]]["participants"] = n
    return {
        "overall": overall,
        "participants": votes.values("participant_id").distinct().count(),
        "per_group": per_group,
    }


def demographics(principle_ids: list[int]) -> dict[str, Any]:
    """Shares of the supporters' consented demographics. A cell (one answer to
    one question) with fewer than MIN_DEMOGRAPHIC_CELL people is left out, so no
    small group of people can be singled out; only the number left out shows."""
    rows = Participant.objects.filter(
        demographics_consent=True,
        votes__principle_id__in=principle_ids,
        votes__choice=1,
    ).distinct()
    cells: dict[str, Counter[str]] = defaultdict(Counter)
    n_people = 0
    for answers in rows.values_list("demographics", flat=True):
        n_people += 1
        for question, answer in (answers or {}).items():
            cells[str(question)][str(answer)] += 1
    fields: dict[str, list[dict[str, Any]]] = {}
    suppressed = 0
    for question in sorted(cells):
        shown = []
        for answer, n in sorted(cells[question].items()):
            if n < MIN_DEMOGRAPHIC_CELL:
                suppressed += 1
                continue
            shown.append({"value": answer, "n": n, "share": round(n / n_people, 6)})
        fields[question] = shown
    return {
        "min_cell": MIN_DEMOGRAPHIC_CELL,
        "note": _(
            "Only demographics participants consented to share; an answer given "
            "by fewer than %(n)d supporters is not shown."
        )
        % {"n": MIN_DEMOGRAPHIC_CELL},
        "fields": fields,
        "suppressed_cells": suppressed,
    }


# Measurement ---------------------------------------------------------------------


def measurement_section(ctx: CardContext, principle: Principle) -> dict[str, Any]:
    return {
        "votes": vote_figures(ctx, principle),
        "ranking": ranking_figures(principle),
        "comparisons": comparison_figures(principle),
        "judges": judges(principle),
        "encoding_gap": encoding_gap_figures(ctx, principle),
    }


def analysis_row(ctx: CardContext, principle: Principle) -> dict[str, Any] | None:
    if ctx.analysis is None:
        return None
    for row in ctx.analysis.get("principles", []):
        if row.get("id") == principle.pk:
            return dict(row)
    return None


def vote_figures(ctx: CardContext, principle: Principle) -> dict[str, Any]:
    if ctx.analysis is None:
        return not_measured(_("No analysis of the votes has been run yet."))
    row = analysis_row(ctx, principle)
    if row is None:
        return not_measured(_("The latest analysis has no votes on this principle."))
    return {
        "measured": True,
        "analysis_computed_at": ctx.analysis_computed_at,
        "agree": row["agree"],
        "disagree": row["disagree"],
        "pass": row["pass"],
        "per_group": row.get("per_participant_group", {}),
        "per_opinion_group": row.get("per_group", {}),
        "group_aware_consensus": row.get("group_aware_consensus"),
    }


def ranking_figures(principle: Principle) -> dict[str, Any]:
    rounds = Round.objects.filter(
        kind=Round.Kind.RANK, shortlist=principle
    ).prefetch_related("shortlist")
    out = []
    for round_ in rounds.order_by("position", "created_at"):
        ballots = list(
            RankingBallot.objects.filter(round=round_).values_list("ranking", flat=True)
        )
        positions = [b.index(principle.pk) + 1 for b in ballots if principle.pk in b]
        size = round_.shortlist.count()
        out.append(
            {
                "round": {"id": round_.pk, "title": round_.title},
                "shortlist_size": size,
                "ballots": len(ballots),
                "ranked_first": positions.count(1),
                "mean_position": round(sum(positions) / len(positions), 6)
                if positions
                else None,
                # Borda: size - position points per ballot, averaged and scaled
                # to [0, 1] (1 = first on every ballot).
                "borda_share": round(
                    sum(size - p for p in positions)
                    / (len(positions) * max(size - 1, 1)),
                    6,
                )
                if positions
                else None,
            }
        )
    if not out:
        return not_measured(_("No rank round shortlisted this principle."))
    return {"measured": True, "rounds": out}


def comparison_figures(principle: Principle) -> dict[str, Any]:
    judgments = HumanJudgment.objects.filter(
        item__principle_version__principle=principle
    )
    labels: Counter[str] = Counter()
    per_group: dict[str, Counter[str]] = defaultdict(Counter)
    for group, label, n in (
        judgments.values_list("participant__group__name", "label")
        .annotate(n=Count("id"))
        .order_by()
    ):
        labels[label] += n
        per_group[group][label] += n
    n_items = ComparisonItem.objects.filter(
        principle_version__principle=principle
    ).count()
    if not n_items:
        return not_measured(_("No comparison items use this principle."))
    return {
        "measured": True,
        "n_items": n_items,
        "labels": {k: labels.get(k, 0) for k in ("a", "b", "tie", "na")},
        "per_group": {
            g: {k: c.get(k, 0) for k in ("a", "b", "tie", "na")}
            for g, c in sorted(per_group.items())
        },
    }


def judges(principle: Principle) -> list[dict[str, Any]]:
    runs = (
        JudgeRun.objects.filter(
            comparison_set__items__principle_version__principle=principle
        )
        .select_related("config")
        .distinct()
        .order_by("id")
    )
    return [
        {
            "run": r.pk,
            "provider": r.config.provider,
            "model": r.config.model,
            "prompt_version": r.config.prompt_version,
            "is_llm": r.config.provider != "offline",
            "kind": _("LLM")
            if r.config.provider != "offline"
            else _("similarity baseline, not an LLM"),
            "status": r.status,
            "control": r.config.control,
        }
        for r in runs
    ]


def encoding_gap_entry(ctx: CardContext, principle: Principle) -> dict[str, Any] | None:
    """The report's entry for the principle's newest tested version."""
    entries = [
        p
        for p in ctx.encoding_gap.get("principles", [])
        if p.get("principle_id") == principle.pk
    ]
    return max(entries, key=lambda p: p.get("version") or 0) if entries else None


def encoding_gap_figures(ctx: CardContext, principle: Principle) -> dict[str, Any]:
    entry = encoding_gap_entry(ctx, principle)
    if entry is None:
        return not_measured(
            _(
                "No comparison items test this principle, so its encoding gap "
                "is unknown."
            )
        )
    figures = {key: entry.get(key) for key in ENCODING_GAP_KEYS}
    if entry.get("judge_agreement") is None:
        reason = ctx.encoding_gap.get("message") or _("No judge run has finished.")
        return {"measured": False, "reason": reason}
    return {
        "measured": True,
        **figures,
        "judge": ctx.encoding_gap.get("judge"),
        "per_group": {
            g: {k: v.get(k) for k in ("human_ceiling", "judge_agreement", "gap")}
            for g, v in (entry.get("per_group") or {}).items()
        },
    }


# Legitimacy pieces -------------------------------------------------------------


def moderation_summary(events: list[ModerationEvent]) -> dict[str, Any]:
    counts = Counter(e.action for e in events)
    return {
        "counts": dict(sorted(counts.items())),
        "rejected_with_reason": sum(
            1
            for e in events
            if e.action == ModerationEvent.Action.REJECT and e.reason.strip()
        ),
        "total": len(events),
    }


def votes_per_day(
    principle_ids: list[int] | None, workshop_id: int
) -> list[dict[str, Any]]:
    records = VoteRecord.objects.filter(participant__workshop_id=workshop_id)
    if principle_ids is not None:
        records = records.filter(principle_id__in=principle_ids)
    rows = (
        records.annotate(day=TruncDate("cast_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    return [{"date": day.isoformat(), "votes": n} for day, n in rows]
