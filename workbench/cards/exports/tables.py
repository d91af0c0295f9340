"""Every table of a workshop as a pandas DataFrame, for researchers (docs/exports.md).

Each table is one `.values_list()` query turned into a DataFrame, so an export costs
the same number of queries however large the workshop is. Columns and dtypes are
declared once, in `TABLES`, so an empty table has the same columns and dtypes as a
full one and a researcher's script does not break on a workshop without verdicts.

What is left out on purpose: the participant's `public_id` (the signed participant
cookie carries it in plain text, so it is a session identifier rather than a
pseudonym), group invite tokens, the vote form's client tokens, the facilitators'
accounts, and demographics a participant did not consent to share. Participants are
known by the workbench's id and, when imported, by their id in the source data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd
from django.db import connection, transaction
from django.db.models import OuterRef, QuerySet, Subquery

from workbench.cards.models import CardReview
from workbench.deliberation.models import (
    Constitution,
    ModerationEvent,
    Participant,
    ParticipantGroup,
    Principle,
    PrincipleTranslation,
    PrincipleVersion,
    RankingBallot,
    Round,
    Vote,
    VoteRecord,
    Workshop,
    WorkshopAnalysis,
)
from workbench.deliberation.selectors.analysis import analysis_latest
from workbench.judging.models import (
    ComparisonItem,
    ComparisonSet,
    HumanJudgment,
    JudgeConfig,
    JudgeRun,
    Prompt,
    Response,
    Verdict,
)

# Column kinds -> pandas dtypes. Nullable extension dtypes, so a missing number
# stays missing instead of turning the column into floats.
DTYPES: dict[str, str] = {
    "int": "Int64",
    "float": "Float64",
    "bool": "boolean",
    "str": "string",
    "json": "string",  # JSON text, so every writer keeps it exactly
    "datetime": "datetime64[us, UTC]",
}

Column = tuple[str, str, str]  # (column name, ORM lookup, kind)
Rows = list[tuple[Any, ...]]


class ExportContext:
    """One export's workshop, with what several tables read loaded once."""

    def __init__(self, workshop: Workshop) -> None:
        self.workshop = workshop

    @cached_property
    def latest_analysis(self) -> tuple[int | None, dict[str, Any]]:
        analysis = analysis_latest(workshop=self.workshop)
        if analysis is None:
            return None, {}
        return analysis.pk, analysis.result or {}


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: list[tuple[str, str]]  # (column name, kind)
    rows: Callable[[ExportContext], Rows]


def _frame(
    columns: list[tuple[str, str]], rows: Iterable[tuple[Any, ...]]
) -> pd.DataFrame:
    names = [name for name, _ in columns]
    frame = pd.DataFrame.from_records(list(rows), columns=names)
    for name, kind in columns:
        values = frame[name]
        if kind == "json":
            values = values.map(_json_text, na_action="ignore")
        elif kind == "datetime":
            values = pd.to_datetime(values, utc=True)
        elif kind == "float":
            values = values.map(float, na_action="ignore")
        frame[name] = values.astype(DTYPES[kind])  # type: ignore[call-overload]
    return frame


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _values(queryset: QuerySet[Any], columns: list[Column]) -> Rows:
    lookups = [lookup for _, lookup, _ in columns]
    return list(queryset.order_by("pk").values_list(*lookups))


def _spec(
    name: str,
    description: str,
    columns: list[Column],
    queryset: Callable[[Workshop], QuerySet[Any]],
) -> TableSpec:
    return TableSpec(
        name=name,
        description=description,
        columns=[(column, kind) for column, _, kind in columns],
        rows=lambda ctx: _values(queryset(ctx.workshop), columns),
    )


# Derived tables: rows computed in Python from one query ------------------------


def _participant_rows(ctx: ExportContext) -> Rows:
    workshop = ctx.workshop
    people = Participant.objects.filter(workshop=workshop).order_by("pk")
    return [
        # The CheckConstraint already keeps demographics empty without consent;
        # the export does not rely on it.
        (pk, ext, group, name, lang, consent, demographics if consent else None, at)
        for pk, ext, group, name, lang, consent, demographics, at in people.values_list(
            "pk",
            "external_id",
            "group_id",
            "group__name",
            "language",
            "demographics_consent",
            "demographics",
            "created_at",
        )
    ]


def _demographics_rows(ctx: ExportContext) -> Rows:
    workshop = ctx.workshop
    people = Participant.objects.filter(
        workshop=workshop, demographics_consent=True
    ).order_by("pk")
    return [
        (pk, str(key), value if isinstance(value, str) else _json_text(value))
        for pk, demographics in people.values_list("pk", "demographics")
        for key, value in sorted((demographics or {}).items())
    ]


def _ballot_entry_rows(ctx: ExportContext) -> Rows:
    workshop = ctx.workshop
    ballots = RankingBallot.objects.filter(participant__workshop=workshop).order_by(
        "pk"
    )
    return [
        (ballot, participant, round_, rank, principle)
        for ballot, participant, round_, ranking in ballots.values_list(
            "pk", "participant_id", "round_id", "ranking"
        )
        for rank, principle in enumerate(ranking or [], start=1)
    ]


def _constitution_principle_rows(ctx: ExportContext) -> Rows:
    workshop = ctx.workshop
    constitutions = Constitution.objects.filter(workshop=workshop).order_by("pk")
    return [
        (
            constitution,
            position,
            entry.get("id"),
            entry.get("external_id", ""),
            entry.get("version"),
            entry.get("text", ""),
        )
        for constitution, principles in constitutions.values_list("pk", "principles")
        for position, entry in enumerate(principles or [], start=1)
    ]


def _translation_rows(ctx: ExportContext) -> Rows:
    translations = PrincipleTranslation.objects.filter(
        version__principle__workshop=ctx.workshop
    ).annotate(
        latest=Subquery(
            PrincipleVersion.objects.filter(principle_id=OuterRef("version__principle"))
            .order_by("-number")
            .values("number")[:1]
        )
    )
    return [
        (pk, principle, version, number, language, text, number == latest, at, up)
        for pk, principle, version, number, language, text, latest, at, up in (
            translations.order_by("pk").values_list(
                "pk",
                "version__principle_id",
                "version_id",
                "version__number",
                "language",
                "text",
                "latest",
                "created_at",
                "updated_at",
            )
        )
    ]


def _participant_pks(workshop: Workshop) -> dict[str, int]:
    """The analysis names participants by external id, else str(pk)."""
    return {
        external or str(pk): pk
        for pk, external in workshop.participants.values_list("pk", "external_id")
    }


def _analysis_participant_rows(ctx: ExportContext) -> Rows:
    workshop = ctx.workshop
    analysis_id, result = ctx.latest_analysis
    pks = _participant_pks(workshop)
    return [
        (analysis_id, pks.get(external), external, group)
        for external, group in (result.get("participants") or {}).items()
    ]


_PRINCIPLE_FIGURES = (
    "agree",
    "disagree",
    "pass",
    "group_aware_consensus",
    "group_aware_consensus_participant_groups",
    "extremity",
    "x",
    "y",
    "priority",
    "mod_out",
    "is_meta",
    "status",
)


def _analysis_principle_rows(ctx: ExportContext) -> Rows:
    analysis_id, result = ctx.latest_analysis
    consensus = result.get("consensus") or {}
    side = dict.fromkeys(consensus.get("agree", []), "agree")
    side |= dict.fromkeys(consensus.get("disagree", []), "disagree")
    return [
        (
            analysis_id,
            entry.get("id"),
            entry.get("external_id", ""),
            *(entry.get(key) for key in _PRINCIPLE_FIGURES),
            side.get(entry.get("external_id")),
        )
        for entry in result.get("principles") or []
    ]


def _analysis_group_rows(ctx: ExportContext) -> Rows:
    analysis_id, result = ctx.latest_analysis
    rows: Rows = []
    for entry in result.get("principles") or []:
        for kind, key in (
            ("opinion", "per_group"),
            ("participant", "per_participant_group"),
        ):
            for group, counts in (entry.get(key) or {}).items():
                rows.append(
                    (
                        analysis_id,
                        entry.get("id"),
                        entry.get("external_id", ""),
                        kind,
                        str(group),
                        counts.get("agree"),
                        counts.get("disagree"),
                        counts.get("pass"),
                    )
                )
    return rows


def _analysis_rule_rows(ctx: ExportContext) -> Rows:
    analysis_id, result = ctx.latest_analysis
    ids = {
        entry.get("external_id"): entry.get("id")
        for entry in result.get("principles") or []
    }
    return [
        (analysis_id, rule, rank, ids.get(external), external)
        for rule, adopted in (result.get("rules") or {}).items()
        for rank, external in enumerate(adopted or [], start=1)
    ]


def _analysis_rows(ctx: ExportContext) -> Rows:
    workshop = ctx.workshop
    latest, _ = ctx.latest_analysis
    runs = WorkshopAnalysis.objects.filter(workshop=workshop).order_by("pk")
    return [
        (
            pk,
            computed_at,
            n_votes,
            n_participants,
            duration_ms,
            (result or {}).get("status", ""),
            error,
            pk == latest,
        )
        for pk, computed_at, n_votes, n_participants, duration_ms, result, error in (
            runs.values_list(
                "pk",
                "computed_at",
                "n_votes",
                "n_participants",
                "duration_ms",
                "result",
                "error",
            )
        )
    ]


# The tables ---------------------------------------------------------------------

_TIMESTAMPS: list[Column] = [
    ("created_at", "created_at", "datetime"),
    ("updated_at", "updated_at", "datetime"),
]


def _judge_configs(workshop: Workshop) -> QuerySet[JudgeConfig]:
    return JudgeConfig.objects.filter(
        pk__in=JudgeRun.objects.filter(comparison_set__workshop=workshop).values(
            "config_id"
        )
    )


TABLES: list[TableSpec] = [
    _spec(
        "workshops",
        "The workshop itself (one row).",
        [
            ("id", "pk", "int"),
            ("slug", "slug", "str"),
            ("title", "title", "str"),
            ("question", "question", "str"),
            ("description", "description", "str"),
            ("source", "source", "str"),
            ("strict_moderation", "strict_moderation", "bool"),
            ("show_moderation_log", "show_moderation_log", "bool"),
            ("show_opinion_map", "show_opinion_map", "bool"),
            *_TIMESTAMPS,
        ],
        lambda w: Workshop.objects.filter(pk=w.pk),
    ),
    _spec(
        "groups",
        "Predefined participant groups (invite tokens are never exported).",
        [
            ("id", "pk", "int"),
            ("workshop_id", "workshop_id", "int"),
            ("name", "name", "str"),
            ("description", "description", "str"),
            ("external_id", "external_id", "str"),
            *_TIMESTAMPS,
        ],
        lambda w: ParticipantGroup.objects.filter(workshop=w),
    ),
    _spec(
        "rounds",
        "Rounds: kind, scope, status and their times.",
        [
            ("id", "pk", "int"),
            ("title", "title", "str"),
            ("kind", "kind", "str"),
            ("scope", "scope", "str"),
            ("group_id", "group_id", "int"),
            ("status", "status", "str"),
            ("position", "position", "int"),
            ("opens_at", "opens_at", "datetime"),
            ("closes_at", "closes_at", "datetime"),
            ("opened_at", "opened_at", "datetime"),
            ("closed_at", "closed_at", "datetime"),
            *_TIMESTAMPS,
        ],
        lambda w: Round.objects.filter(workshop=w),
    ),
    TableSpec(
        name="round_shortlists",
        description="The principles on a rank round's shortlist or a vote round's "
        "agenda.",
        columns=[("round_id", "int"), ("principle_id", "int")],
        rows=lambda ctx: list(
            Round.objects.filter(workshop=ctx.workshop, shortlist__isnull=False)
            .order_by("pk", "shortlist")
            .values_list("pk", "shortlist")
        ),
    ),
    TableSpec(
        name="participants",
        description="Pseudonymous participants: the workbench id and the source's "
        "id; demographics only where the participant consented.",
        columns=[
            ("id", "int"),
            ("external_id", "str"),
            ("group_id", "int"),
            ("group_name", "str"),
            ("language", "str"),
            ("demographics_consent", "bool"),
            ("demographics", "json"),
            ("created_at", "datetime"),
        ],
        rows=_participant_rows,
    ),
    TableSpec(
        name="participant_demographics",
        description="Consented demographics, one row per participant and field.",
        columns=[("participant_id", "int"), ("key", "str"), ("value", "str")],
        rows=_demographics_rows,
    ),
    _spec(
        "principles",
        "Principles with their current wording, status, origin and merges.",
        [
            ("id", "pk", "int"),
            ("external_id", "external_id", "str"),
            ("text", "text", "str"),
            ("status", "status", "str"),
            ("group_id", "group_id", "int"),
            ("round_id", "round_id", "int"),
            ("author_id", "author_id", "int"),
            ("is_seed", "is_seed", "bool"),
            ("is_meta", "is_meta", "bool"),
            ("merged_into_id", "merged_into_id", "int"),
            *_TIMESTAMPS,
        ],
        lambda w: Principle.objects.filter(workshop=w),
    ),
    _spec(
        "principle_versions",
        "Every wording of every principle; version 1 is the original.",
        [
            ("id", "pk", "int"),
            ("principle_id", "principle_id", "int"),
            ("number", "number", "int"),
            ("text", "text", "str"),
            ("reason", "reason", "str"),
            ("created_at", "created_at", "datetime"),
        ],
        lambda w: PrincipleVersion.objects.filter(principle__workshop=w),
    ),
    TableSpec(
        name="principle_translations",
        description="The facilitators' translations of principle wordings, each "
        "tied to the version it translates; `is_current` is false once the "
        "principle was reworded (participants then see the original).",
        columns=[
            ("id", "int"),
            ("principle_id", "int"),
            ("version_id", "int"),
            ("version_number", "int"),
            ("language", "str"),
            ("text", "str"),
            ("is_current", "bool"),
            ("created_at", "datetime"),
            ("updated_at", "datetime"),
        ],
        rows=_translation_rows,
    ),
    _spec(
        "votes",
        "Current votes: one per participant and principle (1 agree, -1 disagree, "
        "0 pass).",
        [
            ("id", "pk", "int"),
            ("participant_id", "participant_id", "int"),
            ("principle_id", "principle_id", "int"),
            ("round_id", "round_id", "int"),
            ("choice", "choice", "int"),
            ("cast_at", "cast_at", "datetime"),
        ],
        lambda w: Vote.objects.filter(principle__workshop=w),
    ),
    _spec(
        "vote_history",
        "Every vote ever cast, superseded ones included.",
        [
            ("id", "pk", "int"),
            ("participant_id", "participant_id", "int"),
            ("principle_id", "principle_id", "int"),
            ("round_id", "round_id", "int"),
            ("choice", "choice", "int"),
            ("cast_at", "cast_at", "datetime"),
            ("shown_language", "shown_language", "str"),
        ],
        lambda w: VoteRecord.objects.filter(principle__workshop=w),
    ),
    _spec(
        "ranking_ballots",
        "Ranked ballots; `ranking` is a JSON list of principle ids, best first.",
        [
            ("id", "pk", "int"),
            ("participant_id", "participant_id", "int"),
            ("round_id", "round_id", "int"),
            ("ranking", "ranking", "json"),
            *_TIMESTAMPS,
        ],
        lambda w: RankingBallot.objects.filter(participant__workshop=w),
    ),
    TableSpec(
        name="ranking_ballot_entries",
        description="The ballots in long form: one row per ballot and rank.",
        columns=[
            ("ballot_id", "int"),
            ("participant_id", "int"),
            ("round_id", "int"),
            ("rank", "int"),
            ("principle_id", "int"),
        ],
        rows=_ballot_entry_rows,
    ),
    _spec(
        "moderation_events",
        "The append-only moderation and process log.",
        [
            ("id", "pk", "int"),
            ("action", "action", "str"),
            ("principle_id", "principle_id", "int"),
            ("round_id", "round_id", "int"),
            ("reason", "reason", "str"),
            ("data", "data", "json"),
            ("created_at", "created_at", "datetime"),
        ],
        lambda w: ModerationEvent.objects.filter(workshop=w),
    ),
    _spec(
        "constitutions",
        "Published constitutions: rule, parameters, adopted principles and figures "
        "(JSON) and the content hash.",
        [
            ("id", "pk", "int"),
            ("title", "title", "str"),
            ("rule", "rule", "str"),
            ("parameters", "parameters", "json"),
            ("principles", "principles", "json"),
            ("figures", "figures", "json"),
            ("content_hash", "content_hash", "str"),
            ("published_at", "published_at", "datetime"),
        ],
        lambda w: Constitution.objects.filter(workshop=w),
    ),
    TableSpec(
        name="constitution_principles",
        description="Each constitution's adopted principles in order.",
        columns=[
            ("constitution_id", "int"),
            ("position", "int"),
            ("principle_id", "int"),
            ("principle_external_id", "str"),
            ("version", "int"),
            ("text", "str"),
        ],
        rows=_constitution_principle_rows,
    ),
    _spec(
        "comparison_sets",
        "Sets of prompts and response pairs, imported or generated.",
        [
            ("id", "pk", "int"),
            ("name", "name", "str"),
            ("source", "source", "str"),
            ("format", "format", "str"),
            ("round_id", "round_id", "int"),
            ("generation", "generation", "json"),
            ("generation_status", "generation_status", "str"),
            *_TIMESTAMPS,
        ],
        lambda w: ComparisonSet.objects.filter(workshop=w),
    ),
    _spec(
        "prompts",
        "The user's message (or conversation) of each comparison.",
        [
            ("id", "pk", "int"),
            ("comparison_set_id", "comparison_set_id", "int"),
            ("external_id", "external_id", "str"),
            ("text", "text", "str"),
            ("created_at", "created_at", "datetime"),
        ],
        lambda w: Prompt.objects.filter(comparison_set__workshop=w),
    ),
    _spec(
        "responses",
        "Candidate responses, imported or generated.",
        [
            ("id", "pk", "int"),
            ("prompt_id", "prompt_id", "int"),
            ("position", "position", "int"),
            ("label", "label", "str"),
            ("text", "text", "str"),
            ("generated_by", "generated_by", "str"),
            ("principle_version_id", "principle_version_id", "int"),
            ("generation_info", "generation_info", "json"),
            ("created_at", "created_at", "datetime"),
        ],
        lambda w: Response.objects.filter(prompt__comparison_set__workshop=w),
    ),
    _spec(
        "comparison_items",
        "One principle version x prompt x response pair.",
        [
            ("id", "pk", "int"),
            ("comparison_set_id", "comparison_set_id", "int"),
            ("external_id", "external_id", "str"),
            ("principle_id", "principle_version__principle_id", "int"),
            ("principle_version_id", "principle_version_id", "int"),
            ("principle_version", "principle_version__number", "int"),
            ("prompt_id", "prompt_id", "int"),
            ("response_a_id", "response_a_id", "int"),
            ("response_b_id", "response_b_id", "int"),
            ("created_at", "created_at", "datetime"),
        ],
        lambda w: ComparisonItem.objects.filter(comparison_set__workshop=w),
    ),
    _spec(
        "human_judgments",
        "Participants' answers on items: a, b, tie or na (does not apply).",
        [
            ("id", "pk", "int"),
            ("item_id", "item_id", "int"),
            ("participant_id", "participant_id", "int"),
            ("label", "label", "str"),
            ("reason", "reason", "str"),
            ("shown_order", "shown_order", "str"),
            ("created_at", "created_at", "datetime"),
        ],
        lambda w: HumanJudgment.objects.filter(item__comparison_set__workshop=w),
    ),
    _spec(
        "judge_configs",
        "The judges used on this workshop's sets (keys are never stored).",
        [
            ("id", "pk", "int"),
            ("provider", "provider", "str"),
            ("model", "model", "str"),
            ("prompt_version", "prompt_version", "str"),
            ("temperature", "temperature", "float"),
            ("samples", "samples", "int"),
            ("both_orders", "both_orders", "bool"),
            ("control", "control", "str"),
            ("created_at", "created_at", "datetime"),
        ],
        _judge_configs,
    ),
    _spec(
        "judge_runs",
        "Judge runs: status, progress and cost.",
        [
            ("id", "pk", "int"),
            ("config_id", "config_id", "int"),
            ("comparison_set_id", "comparison_set_id", "int"),
            ("status", "status", "str"),
            ("verdicts_total", "verdicts_total", "int"),
            ("verdicts_done", "verdicts_done", "int"),
            ("verdicts_failed", "verdicts_failed", "int"),
            ("cache_hits", "cache_hits", "int"),
            ("cost_estimate", "cost_estimate", "float"),
            ("error", "error", "str"),
            ("started_at", "started_at", "datetime"),
            ("finished_at", "finished_at", "datetime"),
            ("created_at", "created_at", "datetime"),
        ],
        lambda w: JudgeRun.objects.filter(comparison_set__workshop=w),
    ),
    _spec(
        "verdicts",
        "Judge answers per item, order and sample, in the item's terms.",
        [
            ("id", "pk", "int"),
            ("run_id", "run_id", "int"),
            ("item_id", "item_id", "int"),
            ("order", "order", "str"),
            ("sample", "sample", "int"),
            ("choice", "choice", "str"),
            ("probability_a", "probability_a", "float"),
            ("rationale", "rationale", "str"),
            ("raw_output", "raw_output", "str"),
            ("input_tokens", "input_tokens", "int"),
            ("output_tokens", "output_tokens", "int"),
            ("latency_ms", "latency_ms", "int"),
            ("cost_estimate", "cost_estimate", "float"),
            ("error", "error", "str"),
            ("created_at", "created_at", "datetime"),
        ],
        lambda w: Verdict.objects.filter(run__comparison_set__workshop=w),
    ),
    _spec(
        "card_reviews",
        "Review-round endorsements of, or objections to, cards' wording.",
        [
            ("id", "pk", "int"),
            ("round_id", "round_id", "int"),
            ("participant_id", "participant_id", "int"),
            ("principle_id", "principle_id", "int"),
            ("principle_version_id", "principle_version_id", "int"),
            ("constitution_id", "constitution_id", "int"),
            ("verdict", "verdict", "str"),
            ("comment", "comment", "str"),
            ("created_at", "created_at", "datetime"),
            ("updated_at", "updated_at", "datetime"),
        ],
        lambda w: CardReview.objects.filter(round__workshop=w),
    ),
    TableSpec(
        name="analyses",
        description="Every stored analysis run; `is_latest` marks the one the "
        "analysis_* tables flatten.",
        columns=[
            ("id", "int"),
            ("computed_at", "datetime"),
            ("n_votes", "int"),
            ("n_participants", "int"),
            ("duration_ms", "int"),
            ("status", "str"),
            ("error", "str"),
            ("is_latest", "bool"),
        ],
        rows=_analysis_rows,
    ),
    TableSpec(
        name="analysis_participants",
        description="Latest analysis: each voter's opinion group (empty when "
        "outside every group).",
        columns=[
            ("analysis_id", "int"),
            ("participant_id", "int"),
            ("participant_external_id", "str"),
            ("opinion_group", "int"),
        ],
        rows=_analysis_participant_rows,
    ),
    TableSpec(
        name="analysis_principles",
        description="Latest analysis: per-principle figures (`manage.py analyze`).",
        columns=[
            ("analysis_id", "int"),
            ("principle_id", "int"),
            ("external_id", "str"),
            ("agree", "int"),
            ("disagree", "int"),
            ("pass", "int"),
            ("group_aware_consensus", "float"),
            ("group_aware_consensus_participant_groups", "float"),
            ("extremity", "float"),
            ("x", "float"),
            ("y", "float"),
            ("priority", "float"),
            ("mod_out", "bool"),
            ("is_meta", "bool"),
            ("status", "str"),
            ("consensus", "str"),
        ],
        rows=_analysis_principle_rows,
    ),
    TableSpec(
        name="analysis_principle_groups",
        description="Latest analysis: vote counts per principle and group, for "
        "opinion groups and predefined participant groups.",
        columns=[
            ("analysis_id", "int"),
            ("principle_id", "int"),
            ("external_id", "str"),
            ("group_kind", "str"),
            ("group", "str"),
            ("agree", "int"),
            ("disagree", "int"),
            ("pass", "int"),
        ],
        rows=_analysis_group_rows,
    ),
    TableSpec(
        name="analysis_rules",
        description="Latest analysis: what each aggregation rule adopts, in order.",
        columns=[
            ("analysis_id", "int"),
            ("rule", "str"),
            ("rank", "int"),
            ("principle_id", "int"),
            ("external_id", "str"),
        ],
        rows=_analysis_rule_rows,
    ),
]

TABLE_NAMES: list[str] = [spec.name for spec in TABLES]


def workshop_tables(
    *, workshop: Workshop, names: Iterable[str] | None = None
) -> dict[str, pd.DataFrame]:
    """The workshop's tables by name (all of them, or `names`), read from one
    snapshot of the database where it can give one, so counts agree across tables
    while participants keep voting."""
    wanted = TABLE_NAMES if names is None else list(names)
    unknown = sorted(set(wanted) - set(TABLE_NAMES))
    if unknown:
        raise ValueError(f"Unknown tables: {', '.join(unknown)}")
    specs = [spec for spec in TABLES if spec.name in wanted]
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # Only possible as the transaction's first statement: inside a
            # caller's transaction (a test, say) the caller's isolation applies.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
                )
        ctx = ExportContext(workshop)
        return {spec.name: _frame(spec.columns, spec.rows(ctx)) for spec in specs}
