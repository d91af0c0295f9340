"""Every facilitator URL: anonymous users are sent to log in, another facilitator gets
a 404 and changes nothing, and the owner gets the page or a redirect."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import ParticipantFactory
from tests.judging.judging_fixtures import make_offline_run
from workbench.cards.models import CardNarrative
from workbench.deliberation.models import (
    Constitution,
    ModerationEvent,
    ParticipantGroup,
    Principle,
    PrincipleTranslation,
    PrincipleVersion,
    Round,
    RuleCommitment,
    VoteChoice,
    Workshop,
)
from workbench.deliberation.services.constitutions import constitution_publish
from workbench.deliberation.services.principles import principle_propose
from workbench.deliberation.services.rounds import round_create
from workbench.deliberation.services.translations import translation_save
from workbench.deliberation.services.votes import vote_cast
from workbench.deliberation.urls_facilitator import urlpatterns
from workbench.judging.models import ComparisonSet, GenerationStatus, JudgeRun

URL_NAMES = [pattern.name for pattern in urlpatterns]
# Views that change state answer GET with 405 and must be POSTed.
POST_ONLY = {
    "group-regenerate-token",
    "round-shortlist",
    "round-open",
    "round-close",
    "principle-approve",
    "principle-reject",
    "principle-merge",
    "principle-edit",
    "judge-run-cancel",
    "judge-run-resume",
    "judging-set-resume",
    "judging-set-round",
    "encoding-gap-reword",
    "card-narrative",
    "rule-commit",
    "principle-translate",
    "principle-translation-remove",
}


@pytest.fixture
def world(setup, owner, vote_round, propose_round):
    """The owner's workshop with one of everything a facilitator URL can point at."""
    participant_a = ParticipantFactory(group=setup.group_a)
    for group in (setup.group_a, setup.group_b):
        vote_cast(
            participant=ParticipantFactory(group=group),
            round_=vote_round,
            principle=setup.seeds[0],
            choice=VoteChoice.AGREE,
        )
    pending = principle_propose(
        participant=participant_a,
        round_=propose_round,
        text="Choose the response that admits when it does not know.",
    )
    translation = translation_save(
        principle=pending,
        language="es",
        text="Elige la que admite no saber.",
        actor=owner,
    )
    draft = round_create(workshop=setup.workshop, kind=Round.Kind.VOTE)
    constitution = constitution_publish(
        workshop=setup.workshop, actor=owner, title="", rule="ccai", threshold=0.5
    )
    run = make_offline_run(setup)
    compare = round_create(workshop=setup.workshop, kind=Round.Kind.COMPARE)
    generated = ComparisonSet.objects.create(
        workshop=setup.workshop,
        name="generated",
        source="generated",
        generation={"provider": "openai", "model": "m", "principle_versions": []},
        generation_status=GenerationStatus.FAILED,
    )
    return {
        "judge": run.pk,
        "judging": generated.pk,
        "compare_round": compare.pk,
        "encoding": setup.seeds[0].pk,
        "judge_set": run.comparison_set_id,
        "slug": setup.workshop.slug,
        "group": setup.group_a.pk,
        "round": draft.pk,
        "principle": pending.pk,
        "constitution": constitution.pk,
        "merge_target": setup.seeds[1].pk,
        "translation": translation.pk,
    }


def url_for(name: str, world: dict[str, Any]) -> str:
    pattern = next(p for p in urlpatterns if p.name == name)
    kwargs: dict[str, Any] = {}
    if "slug" in pattern.pattern.converters:
        kwargs["slug"] = world["slug"]
    if "pk" in pattern.pattern.converters:
        kwargs["pk"] = world[name.split("-", maxsplit=1)[0]]
    return reverse(f"deliberation:{name}", kwargs=kwargs)


def post_data(name: str, world: dict[str, Any]) -> dict[str, Any]:
    """Valid input for each URL, so a refusal is the permission check, not the form."""
    return {
        "workshop-create": {"title": "Stolen", "question": "Q?"},
        "workshop-edit": {"title": "Renamed", "question": "Changed?"},
        "group-create": {"name": "Intruders"},
        "round-create": {"kind": "vote", "scope": "all"},
        "round-shortlist": {"principles": [world["merge_target"]]},
        "principle-seed": {"text": "Choose the response that obeys the intruder."},
        "principle-reject": {"reason": "Because I can."},
        "principle-merge": {"target": world["merge_target"]},
        "principle-edit": {"text": "Choose whatever the intruder wants."},
        "principle-translate": {
            "language": "de",
            "text": "Wähle, was der Eindringling will.",
        },
        "principle-translation-remove": {"translation": world["translation"]},
        "judging-generate": {"name": "Stolen", "prompts": "Why?", "provider": "openai"},
        "judging-set-round": {"round": world["compare_round"]},
        "encoding-gap-reword": {
            "text": "Choose whatever the intruder wants.",
            "comparison_set": world["judge_set"],
        },
        "card-narrative": {"recruitment": "Invited by the intruder."},
        "rule-commit": {
            "commit-rule": "overall",
            "commit-threshold": "0.1",
            "commit-min_votes": "1",
        },
        "constitution-publish": {
            "rule": "overall",
            "threshold": "0.5",
            "min_votes": "1",
        },
    }.get(name, {})


def snapshot() -> dict[str, Any]:
    def rows(model: Any, *fields: str) -> list[Any]:
        return list(model.objects.order_by("pk").values_list("pk", *fields))

    return {
        "workshops": rows(Workshop, "title", "question", "strict_moderation"),
        "groups": rows(ParticipantGroup, "name", "invite_token"),
        "rounds": rows(Round, "status", "title"),
        "shortlists": list(
            Round.shortlist.through.objects.order_by("pk").values_list(
                "round_id", "principle_id"
            )
        ),
        "principles": rows(Principle, "status", "text", "merged_into"),
        "versions": rows(PrincipleVersion, "text"),
        "translations": rows(PrincipleTranslation, "language", "text"),
        "events": rows(ModerationEvent, "action"),
        "constitutions": rows(Constitution, "content_hash"),
        # Resume of a pending run only touches updated_at (and enqueues it again).
        "judge_runs": rows(JudgeRun, "status", "updated_at"),
        "comparison_sets": rows(ComparisonSet, "name", "round", "generation_status"),
        "card_narratives": rows(CardNarrative, "recruitment", "limitations"),
        "rule_commitments": rows(RuleCommitment, "rule", "parameters"),
    }


def test_every_facilitator_url_is_covered():
    assert len(URL_NAMES) == len(set(URL_NAMES))
    assert set(URL_NAMES) >= POST_ONLY
    # The live panel (polled) and the presentation mode are walked like every page.
    assert set(URL_NAMES) >= {"workshop-live", "workshop-present"}


@pytest.mark.parametrize("name", URL_NAMES)
def test_anonymous_is_sent_to_log_in(client, world, name):
    url = url_for(name, world)
    before = snapshot()
    for response in (client.get(url), client.post(url, post_data(name, world))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse(settings.LOGIN_URL))
    assert snapshot() == before


# The two URLs not about one workshop: any facilitator may list and create their own.
NOT_PER_WORKSHOP = {"workshop-list", "workshop-create"}


@pytest.mark.parametrize("name", [n for n in URL_NAMES if n not in NOT_PER_WORKSHOP])
def test_outsider_gets_404_and_changes_nothing(outsider_client, world, name):
    url = url_for(name, world)
    before = snapshot()
    get = outsider_client.get(url)
    assert get.status_code == (405 if name in POST_ONLY else 404)
    assert outsider_client.post(url, post_data(name, world)).status_code == 404
    assert snapshot() == before


def test_outsider_sees_only_their_own_workshops(outsider_client, world):
    response = outsider_client.get(reverse("deliberation:workshop-list"))
    assert response.status_code == 200
    assert "AI values" not in response.content.decode()


@pytest.mark.parametrize("name", URL_NAMES)
def test_owner_gets_the_page_or_a_redirect(owner_client, world, name):
    url = url_for(name, world)
    response = owner_client.get(url)
    if name in POST_ONLY:
        assert response.status_code == 405
        response = owner_client.post(url, post_data(name, world))
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        if name in {"workshop-create", "workshop-edit", "group-create"}:
            assert owner_client.post(url, post_data(name, world)).status_code == 302


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_owner_post_actions_change_state(owner_client, world, name):
    before = snapshot()
    response = owner_client.post(url_for(name, world), post_data(name, world))
    assert response.status_code == 302
    assert snapshot() != before
