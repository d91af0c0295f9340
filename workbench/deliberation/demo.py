"""The demo workshops a newcomer sees after `make demo`.

One is a real Polis conversation (Scoop HiveMind on a Universal Basic Income); the other
is a small STELA-style workshop with two groups, every kind of round a facilitator
starts with, and synthetic votes, built through the same services the pages use. It
also holds a comparison set of real HH-RLHF pairs with synthetic raters and an
offline-baseline judge run, so the encoding-gap report has something to show
(`workbench.judging.demo`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from workbench.accounts.models import User
from workbench.deliberation.models import (
    Constitution,
    ModerationEvent,
    Participant,
    ParticipantGroup,
    Principle,
    Round,
    RuleCommitment,
    Vote,
    VoteChoice,
    VoteRecord,
    Workshop,
)
from workbench.deliberation.polis_io.importer import polis_import
from workbench.deliberation.services.analysis import analysis_refresh
from workbench.deliberation.services.participants import participant_join
from workbench.deliberation.services.principles import principle_propose, principle_seed
from workbench.deliberation.services.rounds import (
    round_create,
    round_open,
    round_set_shortlist,
)
from workbench.deliberation.services.votes import vote_cast
from workbench.deliberation.services.workshops import group_create, workshop_create
from workbench.judging.demo import judging_demo_build
from workbench.judging.models import ComparisonSet

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-workbench"  # noqa: S105 - printed for the newcomer on purpose
POLIS_FOLDER = "scoop-hivemind.ubi"
POLIS_SLUG = "ubi-aotearoa"
STELA_SLUG = "ai-assistant-values"
DEMO_SLUGS = (POLIS_SLUG, STELA_SLUG)
PARTICIPANTS_PER_GROUP = 20
SEED = 20240917

# Workshop-wide seeds, each with the share of nurses and of teachers who agree, so
# the live results show the groups differing on some principles and not on others.
SEEDS: list[tuple[str, float, float]] = [
    ("The assistant should always say when it is unsure of an answer.", 0.9, 0.85),
    ("The assistant should never pretend to be a human.", 0.85, 0.8),
    (
        "The assistant should respect the privacy of anyone mentioned in a "
        "conversation.",
        0.9,
        0.7,
    ),
    ("The assistant should explain its reasoning in plain language.", 0.6, 0.9),
    (
        "The assistant should point people to a qualified professional for medical, "
        "legal or money decisions.",
        0.95,
        0.5,
    ),
    ("The assistant should never make up sources or quotations.", 0.8, 0.95),
    (
        "The assistant should treat every user with the same respect, whoever they "
        "are.",
        0.75,
        0.8,
    ),
    ("The assistant should keep its answers short unless asked for more.", 0.4, 0.3),
]
GROUP_SEEDS: dict[str, list[tuple[str, float]]] = {
    "Nurses": [
        (
            "The assistant should never give a medicine dose without telling the user "
            "to check it with a pharmacist or doctor.",
            0.9,
        ),
        (
            "The assistant should recognise a medical emergency and tell the user to "
            "call emergency services.",
            0.95,
        ),
    ],
    "Teachers": [
        (
            "The assistant should help students learn rather than do their homework "
            "for them.",
            0.85,
        ),
        (
            "The assistant should adjust its language to the age of the person it is "
            "talking to.",
            0.7,
        ),
    ],
}
GROUP_DESCRIPTIONS = {
    "Nurses": "Registered and enrolled nurses.",
    "Teachers": "Primary and secondary school teachers.",
}
PROPOSALS = [
    ("Nurses", "The assistant should say so when an answer comes from an advertiser."),
    (
        "Teachers",
        "The assistant should show where a fact comes from so students can check it.",
    ),
]


@dataclass(frozen=True)
class DemoLink:
    workshop: str
    group: str
    path: str


@dataclass(frozen=True)
class DemoResult:
    created: bool
    username: str
    password: str
    links: list[DemoLink]


def polis_data_dir() -> Path:
    # django-environ gives its own Path type; pathlib's is what the importer expects.
    return Path(str(settings.WORKBENCH["POLIS_DATA_DIR"]))


def demo_links() -> list[DemoLink]:
    """The invite paths of every group in the demo workshops."""
    groups = ParticipantGroup.objects.filter(workshop__slug__in=DEMO_SLUGS).order_by(
        "workshop__slug", "name"
    )
    return [
        DemoLink(
            workshop=g.workshop.slug,
            group=g.name,
            path=reverse("deliberation:join", kwargs={"token": g.invite_token}),
        )
        for g in groups.select_related("workshop")
    ]


def demo_build(*, reset: bool = False) -> DemoResult:
    """Creates the demo user and workshops; with `reset`, rebuilds existing ones."""
    with transaction.atomic():
        user = _demo_user()
        existing = Workshop.objects.filter(slug__in=DEMO_SLUGS)
        created = reset or not existing.exists()
        if created:
            for workshop in existing:
                _workshop_delete(workshop)
            polis_import(
                folder=polis_data_dir() / POLIS_FOLDER,
                slug=POLIS_SLUG,
                owner=user,
            )
            rng = random.Random(SEED)  # noqa: S311 - reproducible votes
            stela = _build_stela_workshop(user, rng)
            judging_demo_build(workshop=stela, user=user, rng=rng)
    if created:
        # The worker would compute these a few seconds after it starts; doing it here
        # means the first page a newcomer opens already shows the opinion map.
        for workshop in Workshop.objects.filter(slug__in=DEMO_SLUGS):
            analysis_refresh(workshop=workshop)
    return DemoResult(
        created=created,
        username=DEMO_USERNAME,
        password=DEMO_PASSWORD,
        links=demo_links(),
    )


def _demo_user() -> User:
    user, _ = User.objects.get_or_create(
        username=DEMO_USERNAME, defaults={"email": "demo@example.org"}
    )
    # Reset every time, so the printed password always works.
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    return user


def _workshop_delete(workshop: Workshop) -> None:
    # Groups, authors and merges are PROTECTed so that nothing deletes them by
    # accident; a deliberate demo reset removes the rows in dependency order.
    Constitution.objects.filter(workshop=workshop).delete()
    RuleCommitment.objects.filter(workshop=workshop).delete()
    # Comparison items PROTECT the principle versions they were judged under.
    ComparisonSet.objects.filter(workshop=workshop).delete()
    ModerationEvent.objects.filter(workshop=workshop).delete()
    Vote.objects.filter(participant__workshop=workshop).delete()
    VoteRecord.objects.filter(participant__workshop=workshop).delete()
    workshop.principles.update(merged_into=None)
    workshop.principles.all().delete()
    Participant.objects.filter(workshop=workshop).delete()
    workshop.rounds.all().delete()
    workshop.groups.all().delete()
    workshop.delete()


@dataclass(frozen=True)
class _Rounds:
    propose: Round
    vote_all: Round
    vote_group: Round
    rank: Round


def _build_stela_workshop(user: User, rng: random.Random) -> Workshop:
    workshop = workshop_create(
        owner=user,
        title="AI assistant values",
        question="What should an AI assistant always or never do?",
        description="Nurses and teachers first agree on principles inside their own "
        "group, then look for the ones both groups share.",
        slug=STELA_SLUG,
        source="demo: synthetic votes",
    )
    groups = {
        name: group_create(workshop=workshop, name=name, description=description)
        for name, description in GROUP_DESCRIPTIONS.items()
    }
    seeds = [
        principle_seed(workshop=workshop, text=text, actor=user) for text, _, _ in SEEDS
    ]
    group_seeds = {
        name: [
            principle_seed(workshop=workshop, text=text, actor=user, group=groups[name])
            for text, _ in GROUP_SEEDS[name]
        ]
        for name in groups
    }
    rounds = _create_rounds(workshop, user, groups["Nurses"], seeds[:4])
    members = {
        name: [participant_join(group=group) for _ in range(PARTICIPANTS_PER_GROUP)]
        for name, group in groups.items()
    }
    _cast_votes(rng, rounds, seeds, group_seeds["Nurses"], members)
    for name, text in PROPOSALS:
        principle_propose(
            participant=members[name][0],
            round_=rounds.propose,
            text=text,
            confirm_similar=True,
        )
    return workshop


def _create_rounds(
    workshop: Workshop,
    user: User,
    nurses: ParticipantGroup,
    shortlist: list[Principle],
) -> _Rounds:
    propose = round_create(
        workshop=workshop, kind=Round.Kind.PROPOSE, title="Propose principles"
    )
    vote_all = round_create(
        workshop=workshop, kind=Round.Kind.VOTE, title="Vote: all groups"
    )
    vote_group = round_create(
        workshop=workshop,
        kind=Round.Kind.VOTE,
        scope=Round.Scope.GROUP,
        group=nurses,
        title="Vote: nurses only",
    )
    rank = round_create(
        workshop=workshop, kind=Round.Kind.RANK, title="Rank the shortlist"
    )
    round_set_shortlist(round_=rank, principles=shortlist)
    for round_ in (propose, vote_all, vote_group):
        round_open(round_=round_, actor=user)
    return _Rounds(propose, vote_all, vote_group, rank)


def _choice(rng: random.Random, agree_share: float) -> int:
    # One in ten passes; the rest agree with the given probability.
    if rng.random() < 0.1:
        return VoteChoice.PASS
    return VoteChoice.AGREE if rng.random() < agree_share else VoteChoice.DISAGREE


def _cast_votes(
    rng: random.Random,
    rounds: _Rounds,
    seeds: list[Principle],
    nurse_seeds: list[Principle],
    members: dict[str, list[Participant]],
) -> None:
    column = {"Nurses": 1, "Teachers": 2}
    for name, participants in members.items():
        for participant in participants:
            # Most people vote on most principles, and some stop early.
            for principle, row in zip(seeds, SEEDS, strict=True):
                if rng.random() < 0.85:
                    vote_cast(
                        participant=participant,
                        round_=rounds.vote_all,
                        principle=principle,
                        choice=_choice(rng, float(row[column[name]])),
                    )
    for participant in members["Nurses"]:
        for principle, (_, share) in zip(
            nurse_seeds, GROUP_SEEDS["Nurses"], strict=True
        ):
            vote_cast(
                participant=participant,
                round_=rounds.vote_group,
                principle=principle,
                choice=_choice(rng, share),
            )
