"""A workshop with something on every page, and the list of those pages.

`world_build` starts from the demo (`manage.py demo`: a Polis conversation and a
two-group workshop with votes, an analysis, a comparison set with human labels and
an offline-baseline judge run) and adds what the demo leaves out: an open rank
round, a review round, a closed round, a published constitution and the value-card
narrative. `facilitator_pages` and `participant_pages` are built from the URL
conf, so a page added later is audited without anyone listing it here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, get_resolver, reverse

from workbench.accounts.models import User
from workbench.cards.services.narrative import card_narrative_update
from workbench.deliberation.demo import DEMO_PASSWORD, STELA_SLUG, demo_build
from workbench.deliberation.models import (
    Constitution,
    ParticipantGroup,
    Principle,
    Round,
    Workshop,
)
from workbench.deliberation.services.analysis import analysis_refresh
from workbench.deliberation.services.constitutions import constitution_publish
from workbench.deliberation.services.rounds import (
    round_close,
    round_create,
    round_open,
    round_set_shortlist,
)
from workbench.deliberation.services.workshops import workshop_update
from workbench.deliberation.urls_facilitator import urlpatterns as facilitator_urls
from workbench.deliberation.urls_participant import urlpatterns as participant_urls
from workbench.judging.models import ComparisonSet, JudgeRun

# GET endpoints that answer an HTMX fragment, not a page: their content is
# audited inside the page that polls them.
FRAGMENTS = {
    "results-analysis",
    "workshop-live",
    "participant-status",
    "participant-round-status",
}
# URL namespaces of a facilitator's pages beside the deliberation app's.
ACCOUNT_NAMESPACES = ("api_tokens",)
# The round each participant page is opened on.
PARTICIPANT_ROUND_KINDS = {
    "participant-propose": Round.Kind.PROPOSE,
    "participant-vote": Round.Kind.VOTE,
    "participant-vote-list": Round.Kind.VOTE,
    "participant-rank": Round.Kind.RANK,
    "participant-compare": Round.Kind.COMPARE,
    "participant-review": Round.Kind.REVIEW,
}


@dataclass(frozen=True)
class World:
    user: User
    password: str
    workshop: Workshop
    nurses: ParticipantGroup
    teachers: ParticipantGroup
    rounds: dict[str, Round]
    constitution: Constitution
    run: JudgeRun
    comparison_set: ComparisonSet
    pending: Principle

    def join_path(self, group: ParticipantGroup | None = None) -> str:
        token = (group or self.nurses).invite_token
        return reverse("deliberation:join", args=[token])


def world_build() -> World:
    demo_build()
    workshop = workshop_update(
        workshop=Workshop.objects.get(slug=STELA_SLUG),
        show_moderation_log=True,
        show_opinion_map=True,
    )
    user = workshop.owner
    rounds: dict[str, Round] = {}
    for round_ in workshop.rounds.order_by("pk"):
        rounds.setdefault(round_.kind, round_)  # the first vote round is for all
    approved = list(
        workshop.principles.filter(status=Principle.Status.APPROVED, group=None)
    )
    rank = round_open(round_=rounds[Round.Kind.RANK], actor=user)
    review = round_create(
        workshop=workshop, kind=Round.Kind.REVIEW, title="Review the wording"
    )
    round_set_shortlist(round_=review, principles=approved[:3])
    round_open(round_=review, actor=user)
    closed = round_create(workshop=workshop, kind=Round.Kind.VOTE, title="Warm-up")
    round_open(round_=closed, actor=user)
    round_close(round_=closed, actor=user)
    constitution = constitution_publish(
        workshop=workshop, actor=user, title="Our assistant", rule="ccai", threshold=0.6
    )
    card_narrative_update(
        workshop=workshop,
        actor=user,
        recruitment="Nurses and teachers from two towns, invited through unions.",
        limitations="Synthetic votes: a demonstration, not a finding.",
    )
    comparison_set = ComparisonSet.objects.get(workshop=workshop)
    analysis_refresh(workshop=workshop)  # the results are not "updating" then
    return World(
        user=user,
        password=DEMO_PASSWORD,
        workshop=workshop,
        nurses=workshop.groups.get(name="Nurses"),
        teachers=workshop.groups.get(name="Teachers"),
        rounds={**rounds, Round.Kind.RANK: rank, Round.Kind.REVIEW: review},
        constitution=constitution,
        run=JudgeRun.objects.get(comparison_set=comparison_set),
        comparison_set=comparison_set,
        pending=workshop.principles.filter(status=Principle.Status.PENDING).first(),
    )


def _pk(name: str, world: World) -> int:
    by_prefix: dict[str, Any] = {
        "group": world.nurses,
        "round": world.rounds[Round.Kind.VOTE],
        "principle": world.pending,
        "encoding": world.pending,
        "judge": world.run,
        "judging": world.comparison_set,
        "constitution": world.constitution,
    }
    return int(by_prefix[name.split("-", maxsplit=1)[0]].pk)


def _path(pattern: URLPattern, world: World, **kwargs: Any) -> str:
    converters = pattern.pattern.converters
    if "slug" in converters:
        kwargs["slug"] = world.workshop.slug
    return reverse(f"deliberation:{pattern.name}", kwargs=kwargs)


def facilitator_pages(world: World) -> list[tuple[str, str]]:
    """(name, path) of every facilitator URL but the fragments, plus the value-card
    PDF page (it shows the render's progress). The actions among them answer a GET
    with 405."""
    pages = []
    for pattern in facilitator_urls:
        name = str(pattern.name)
        if name in FRAGMENTS:
            continue
        kwargs = {}
        if "pk" in pattern.pattern.converters:
            kwargs["pk"] = _pk(name, world)
        pages.append((name, _path(pattern, world, **kwargs)))
    pages.append(("cards-pdf", reverse("cards:cards-pdf", args=[world.workshop.slug])))
    # The account's own pages outside any workshop (API tokens).
    for namespace in ACCOUNT_NAMESPACES:
        if namespace not in get_resolver().namespace_dict:
            continue
        _, resolver = get_resolver().namespace_dict[namespace]
        for pattern in resolver.url_patterns:
            if not pattern.pattern.converters:
                name = f"{namespace}:{pattern.name}"
                pages.append((name, reverse(name)))
    return pages


def participant_pages(world: World) -> list[tuple[str, str]]:
    """(name, path) of every participant page but the join page (which the
    participant opens first, from the invite link)."""
    pages = []
    for pattern in participant_urls:
        name = str(pattern.name)
        if name == "join" or name in FRAGMENTS:
            continue
        kwargs = {}
        if "pk" in pattern.pattern.converters:
            assert name in PARTICIPANT_ROUND_KINDS, (
                f"a new participant page, {name}: add the kind of its round to "
                "PARTICIPANT_ROUND_KINDS in tests/browser/world.py"
            )
            kwargs["pk"] = world.rounds[PARTICIPANT_ROUND_KINDS[name]].pk
        pages.append((name, _path(pattern, world, **kwargs)))
    return pages
