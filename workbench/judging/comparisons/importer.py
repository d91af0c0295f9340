"""Stores a comparison file as a comparison set: all of it in one transaction, or
nothing. The file is read and validated (reader.py) before the transaction opens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from workbench.accounts.models import User
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import (
    ModerationEvent,
    Participant,
    ParticipantGroup,
    Principle,
    PrincipleVersion,
    Workshop,
)
from workbench.deliberation.services.analysis import analysis_request_on_commit
from workbench.judging.comparisons.reader import (
    DEFAULT_GROUP,
    ComparisonFile,
    Row,
    read_comparison_file,
)
from workbench.judging.models import (
    ComparisonItem,
    ComparisonSet,
    HumanJudgment,
    Prompt,
    Response,
)

BATCH_SIZE = 2000


@dataclass(frozen=True)
class ImportSummary:
    comparison_set: ComparisonSet
    format: str
    rows: int
    items: int
    prompts: int
    responses: int
    judgments: int
    principles_created: int
    participants_created: int
    groups_created: int


def comparisons_import(
    *,
    workshop: Workshop,
    path: Path,
    fmt: str | None = None,
    principle_text: str | None = None,
    name: str | None = None,
    actor: User | None = None,
) -> ImportSummary:
    """Imports `path` into a new comparison set of `workshop` (named after the file
    unless `name` is given). Principles are matched by exact (whitespace-normalised)
    text, else created approved with version 1; annotators become imported
    participants, matched by external id. Raises ApplicationError (ComparisonFormatError
    for the file) and stores nothing on any error."""
    parsed = read_comparison_file(path, fmt=fmt, principle=principle_text)
    set_name = (name or path.name).strip()[:200]
    with transaction.atomic():
        locked = Workshop.objects.select_for_update(no_key=True).get(pk=workshop.pk)
        if ComparisonSet.objects.filter(workshop=locked, name=set_name).exists():
            raise ApplicationError(
                f"Workshop “{locked.slug}” already has a comparison set called "
                f"“{set_name}”; give the import another name."
            )
        return _store(parsed, workshop=locked, set_name=set_name, actor=actor)


def _store(
    parsed: ComparisonFile, *, workshop: Workshop, set_name: str, actor: User | None
) -> ImportSummary:
    comparison_set = ComparisonSet.objects.create(
        workshop=workshop,
        name=set_name,
        source=parsed.name[:200],
        format=parsed.format,
        created_by=actor,
    )
    versions, principles_created = _principle_versions(parsed.rows, workshop, actor)
    prompts, responses = _prompts_and_responses(parsed.rows, comparison_set)
    items = _items(parsed.rows, comparison_set, versions, prompts, responses)
    people, groups_created, participants_created = _participants(parsed, workshop)
    judgments = HumanJudgment.objects.bulk_create(
        (
            HumanJudgment(
                item_id=items[row.item],
                participant_id=people[row.annotator],
                label=row.label,
                reason=row.reason,
            )
            for row in parsed.rows
            if row.label
        ),
        batch_size=BATCH_SIZE,
    )
    summary = ImportSummary(
        comparison_set=comparison_set,
        format=parsed.format,
        rows=len(parsed.rows),
        items=len(items),
        prompts=len(prompts),
        responses=len(responses),
        judgments=len(judgments),
        principles_created=principles_created,
        participants_created=participants_created,
        groups_created=groups_created,
    )
    ModerationEvent.objects.create(
        workshop=workshop,
        actor=actor,
        action=ModerationEvent.Action.IMPORT,
        reason=f"Comparisons from {parsed.name}",
        data={
            "kind": "comparisons",
            "format": parsed.format,
            "comparison_set": comparison_set.pk,
            **{
                k: getattr(summary, k)
                for k in ("rows", "items", "judgments", "principles_created")
            },
        },
    )
    return summary


def _principle_versions(
    rows: list[Row], workshop: Workshop, actor: User | None
) -> tuple[dict[str, int], int]:
    """Principle text -> the pk of its latest version; and how many were created."""
    texts = list(dict.fromkeys(str(row.principle) for row in rows))
    existing: dict[str, Principle] = {}
    for principle in workshop.principles.filter(text__in=texts).order_by("id"):
        existing.setdefault(principle.text, principle)
    versions: dict[str, int] = {}
    created = 0
    for text in texts:
        found = existing.get(text)
        if found is None:
            created += 1
        principle = found or _create_principle(workshop, text, actor)
        latest = principle.versions.order_by("-number").first()
        if latest is None:  # a principle stored without versions (not by services)
            latest = PrincipleVersion.objects.create(
                principle=principle, number=1, text=text, created_at=timezone.now()
            )
        versions[text] = latest.pk
    if created:
        analysis_request_on_commit(workshop_id=workshop.pk)
    return versions, created


def _create_principle(workshop: Workshop, text: str, actor: User | None) -> Principle:
    principle = Principle.objects.create(
        workshop=workshop, text=text, status=Principle.Status.APPROVED
    )
    PrincipleVersion.objects.create(
        principle=principle,
        number=1,
        text=text,
        edited_by=actor,
        created_at=principle.created_at,
    )
    ModerationEvent.objects.create(
        workshop=workshop,
        principle=principle,
        actor=actor,
        action=ModerationEvent.Action.IMPORT,
        reason="Named by an imported comparison file",
    )
    return principle


def _prompts_and_responses(
    rows: list[Row], comparison_set: ComparisonSet
) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Prompts deduplicated by text, responses by (prompt, text); returns pks."""
    prompt_texts = list(dict.fromkeys(row.prompt for row in rows))
    Prompt.objects.bulk_create(
        [Prompt(comparison_set=comparison_set, text=t) for t in prompt_texts],
        batch_size=BATCH_SIZE,
    )
    # Read the pks back: not every database returns them from a bulk insert.
    prompts = dict(comparison_set.prompts.values_list("text", "pk"))
    labels: dict[tuple[str, str], str] = {}
    for row in rows:
        for text, label in zip(
            (row.response_a, row.response_b), row.labels_ab, strict=True
        ):
            labels.setdefault((row.prompt, text), label)
    positions: dict[str, int] = {}
    objects = []
    for (prompt, text), label in labels.items():
        positions[prompt] = positions.get(prompt, -1) + 1
        objects.append(
            Response(
                prompt_id=prompts[prompt],
                text=text,
                position=positions[prompt],
                label=label,
            )
        )
    Response.objects.bulk_create(objects, batch_size=BATCH_SIZE)
    by_prompt = {pk: text for text, pk in prompts.items()}
    responses = {
        (by_prompt[prompt_id], text): pk
        for pk, prompt_id, text in Response.objects.filter(
            prompt__comparison_set=comparison_set
        ).values_list("pk", "prompt_id", "text")
    }
    return prompts, responses


def _items(
    rows: list[Row],
    comparison_set: ComparisonSet,
    versions: dict[str, int],
    prompts: dict[str, int],
    responses: dict[tuple[str, str], int],
) -> dict[str, int]:
    firsts = list({row.item: row for row in reversed(rows)}.values())[::-1]
    ComparisonItem.objects.bulk_create(
        [
            ComparisonItem(
                comparison_set=comparison_set,
                principle_version_id=versions[str(row.principle)],
                prompt_id=prompts[row.prompt],
                response_a_id=responses[(row.prompt, row.response_a)],
                response_b_id=responses[(row.prompt, row.response_b)],
                external_id=row.item,
            )
            for row in firsts
        ],
        batch_size=BATCH_SIZE,
    )
    return dict(comparison_set.items.values_list("external_id", "pk"))


def _participants(
    parsed: ComparisonFile, workshop: Workshop
) -> tuple[dict[str, int], int, int]:
    """Annotator id -> participant pk, creating groups and participants as needed;
    returns also how many groups and participants were created."""
    wanted: dict[str, str] = {}
    for row in parsed.rows:
        if row.annotator and (row.annotator not in wanted or row.group):
            wanted[row.annotator] = row.group
    if not wanted:
        return {}, 0, 0
    groups = {g.name: g for g in workshop.groups.all()}
    groups_before = len(groups)
    existing = {
        p.external_id: p
        for p in workshop.participants.filter(external_id__in=list(wanted))
    }
    people: dict[str, int] = {}
    created = 0
    for annotator, group_name in wanted.items():
        person = existing.get(annotator)
        if person is None:
            group = _group(groups, workshop, group_name or DEFAULT_GROUP)
            person = Participant.objects.create(
                workshop=workshop,
                group=group,
                external_id=annotator,
                source_data={"imported_from": parsed.name},
            )
            created += 1
        elif group_name and person.group.name != group_name:
            raise ApplicationError(
                f"{parsed.name}: annotator “{annotator}” is already a participant of "
                f"group “{person.group.name}”, not “{group_name}”."
            )
        people[annotator] = person.pk
    return people, len(groups) - groups_before, created


def _group(
    groups: dict[str, ParticipantGroup], workshop: Workshop, name: str
) -> ParticipantGroup:
    if name not in groups:
        groups[name] = ParticipantGroup.objects.create(
            workshop=workshop, name=name, description="Created by a comparison import."
        )
    return groups[name]
