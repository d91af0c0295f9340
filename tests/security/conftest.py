"""A hostile world: alice's workshop with an open and a closed round of every kind
scoped to the Nurses, the people who must be refused, and a snapshot of every table
the project owns, to prove a refused request changed nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from tests.conftest import participant_client
from tests.factories import GroupFactory, ParticipantFactory, WorkshopFactory
from tests.judging.judging_fixtures import make_offline_run, make_set
from workbench.accounts.models import User
from workbench.cards.services.narrative import card_narrative_update
from workbench.deliberation.models import (
    Constitution,
    Participant,
    Principle,
    Round,
    VoteChoice,
    Workshop,
)
from workbench.deliberation.services.constitutions import constitution_publish
from workbench.deliberation.services.principles import principle_propose
from workbench.deliberation.services.rounds import (
    round_close,
    round_create,
    round_open,
    round_set_shortlist,
)
from workbench.deliberation.services.translations import translation_save
from workbench.deliberation.services.votes import vote_cast
from workbench.deliberation.services.workshops import workshop_update
from workbench.judging.models import ComparisonSet, GenerationStatus, JudgeRun
from workbench.judging.services.compare import comparison_set_link_round

# Columns that change on a read by design: an API token's last use.
VOLATILE = {("api", "apitoken"): {"last_used_at"}}
PROJECT_APPS = ("accounts", "api", "cards", "deliberation", "judging")


def _digest_sql() -> str:
    parts = []
    for config in apps.get_app_configs():
        if config.label not in PROJECT_APPS:
            continue
        for model in config.get_models(include_auto_created=True):
            meta = model._meta
            skip = VOLATILE.get((config.label, meta.model_name), set())
            columns = ", ".join(
                connection.ops.quote_name(f.column)
                for f in meta.concrete_fields
                if f.attname not in skip
            )
            table = connection.ops.quote_name(meta.db_table)
            pk = connection.ops.quote_name(meta.pk.column)
            # Names from the models, quoted: no input reaches this SQL.
            select = (
                f"SELECT '{meta.label}', md5(coalesce(string_agg("  # noqa: S608
                f"row({columns})::text, '|' ORDER BY {pk}), '')) FROM {table}"
            )
            parts.append(select)
    return " UNION ALL ".join(parts)


def snapshot() -> dict[str, str]:
    """A digest of every row of every table of the project's apps, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_digest_sql())
        return dict(cursor.fetchall())


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in after if before.get(name) != after[name])


@dataclass
class Hostile:
    """The workshop, its open and closed group rounds by kind, and everyone."""

    owner: User
    outsider: User
    workshop: Workshop
    other_workshop: Workshop
    right: Participant  # a Nurse: the open Nurses' rounds are theirs
    other_group: Participant  # a Teacher of the same workshop
    stranger: Participant  # a participant of charlie's workshop
    open_rounds: dict[str, Round]
    closed_rounds: dict[str, Round]
    seeds: list[Principle]
    pending: Principle
    constitution: Constitution
    run: JudgeRun
    generated: ComparisonSet
    translation_id: int
    compare_round: Round  # an unlinked compare draft, for judging-set-round
    draft: Round
    clients: dict[str, Client] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.workshop.slug


def _group_round(
    workshop: Workshop, group: Any, kind: str, shortlist: list[Principle]
) -> Round:
    round_ = round_create(
        workshop=workshop, kind=kind, scope=Round.Scope.GROUP, group=group
    )
    if kind in (Round.Kind.RANK, Round.Kind.REVIEW):
        round_set_shortlist(round_=round_, principles=shortlist)
    if kind == Round.Kind.COMPARE:
        pairs = make_set_for(workshop, name=f"pairs for round {round_.pk}")
        comparison_set_link_round(comparison_set=pairs, round_=round_)
    return round_


def make_set_for(workshop: Workshop, name: str) -> ComparisonSet:
    holder = type("Setup", (), {})()
    holder.workshop = workshop
    holder.seeds = list(
        workshop.principles.filter(status=Principle.Status.APPROVED).order_by("pk")
    )
    return make_set(holder, name=name, items=2)


ACTORS = (
    "anonymous",
    "other_group",
    "closed_round",
    "other_workshop",
    "other_facilitator",
    "owner",
    "right_participant",
)


@pytest.fixture
def hostile(setup, owner, outsider) -> Hostile:
    workshop = workshop_update(
        workshop=setup.workshop, show_moderation_log=True, show_opinion_map=True
    )
    right = ParticipantFactory(group=setup.group_a)
    other_group = ParticipantFactory(group=setup.group_b)
    other_workshop = WorkshopFactory(owner=outsider, title="Charlie's", slug="charlie")
    stranger = ParticipantFactory(group=GroupFactory(workshop=other_workshop))

    everyone = round_create(workshop=workshop, kind=Round.Kind.PROPOSE)
    round_open(round_=everyone, actor=owner)
    pending = principle_propose(
        participant=other_group,
        round_=everyone,
        text="Choose the response that admits when it does not know.",
    )
    translation = translation_save(
        principle=pending, language="es", text="Elige la que admite.", actor=owner
    )
    open_rounds: dict[str, Round] = {}
    closed_rounds: dict[str, Round] = {}
    for kind in Round.Kind.values:
        for target in (open_rounds, closed_rounds):
            target[kind] = _group_round(workshop, setup.group_a, kind, setup.seeds[:2])
            round_open(round_=target[kind], actor=owner)
    for_all = everyone_vote(workshop)
    for voter in (other_group, ParticipantFactory(group=setup.group_a)):
        vote_cast(
            participant=voter,
            round_=for_all,
            principle=setup.seeds[0],
            choice=VoteChoice.AGREE,
        )
    for round_ in closed_rounds.values():
        round_close(round_=round_, actor=owner)
    constitution = constitution_publish(
        workshop=workshop, actor=owner, title="", rule="ccai", threshold=0.5
    )
    card_narrative_update(
        workshop=workshop, actor=owner, recruitment="Two unions.", limitations="Few."
    )
    run = make_offline_run(setup)
    generated = ComparisonSet.objects.create(
        workshop=workshop,
        name="generated",
        source="generated",
        generation={"provider": "openai", "model": "m", "principle_versions": []},
        generation_status=GenerationStatus.FAILED,
    )
    world = Hostile(
        owner=owner,
        outsider=outsider,
        workshop=workshop,
        other_workshop=other_workshop,
        right=right,
        other_group=other_group,
        stranger=stranger,
        open_rounds=open_rounds,
        closed_rounds=closed_rounds,
        seeds=setup.seeds,
        pending=pending,
        constitution=constitution,
        run=run,
        generated=generated,
        translation_id=translation.pk,
        compare_round=round_create(workshop=workshop, kind=Round.Kind.COMPARE),
        draft=round_create(workshop=workshop, kind=Round.Kind.VOTE),
    )
    owner_client, outsider_client = Client(), Client()
    owner_client.force_login(owner)
    outsider_client.force_login(outsider)
    world.clients = {
        "anonymous": Client(),
        "other_group": participant_client(other_group),
        "closed_round": participant_client(right),
        "other_workshop": participant_client(stranger),
        "other_facilitator": outsider_client,
        "owner": owner_client,
        "right_participant": participant_client(right),
    }
    return world


def everyone_vote(workshop: Workshop) -> Round:
    """An open vote round for all groups, so the results have a vote in them."""
    round_ = round_create(workshop=workshop, kind=Round.Kind.VOTE)
    return round_open(round_=round_)
