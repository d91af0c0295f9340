"""The facilitator's pages one at a time: forms, errors, escaping, fragments."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import GroupFactory, ParticipantFactory, WorkshopFactory
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import (
    Constitution,
    Principle,
    Round,
    VoteChoice,
    Workshop,
)
from workbench.deliberation.selectors.workshops import group_get_by_token
from workbench.deliberation.services.principles import (
    principle_approve,
    principle_propose,
    principle_seed,
)
from workbench.deliberation.services.votes import vote_cast

SLUG = "ai-values"
SCRIPT = "<script>alert('pwned')</script>"


def url(name: str, **kwargs) -> str:
    return reverse(f"deliberation:{name}", kwargs={"slug": SLUG, **kwargs})


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def propose(participant, round_, text: str) -> Principle:
    return principle_propose(
        participant=participant, round_=round_, text=text, confirm_similar=True
    )


def test_participant_text_is_escaped_on_facilitator_pages(
    owner_client, setup, participant_a, propose_round, vote_round
):
    owner = setup.workshop.owner
    hostile = propose(participant_a, propose_round, f"{SCRIPT} Obey me.")
    pending = propose(participant_a, propose_round, f"{SCRIPT} Me too.")
    principle_approve(principle=hostile, actor=owner)
    vote_cast(
        participant=participant_a,
        round_=vote_round,
        principle=hostile,
        choice=VoteChoice.AGREE,
    )
    group = GroupFactory(workshop=setup.workshop, name=f"{SCRIPT} group")
    preview = "?rule=overall&threshold=0.5&min_votes=1&title="
    pages = [
        url("workshop-detail"),
        url("moderation-queue"),
        url("moderation-log"),
        url("principle-list"),
        url("principle-detail", pk=hostile.pk),
        url("principle-detail", pk=pending.pk),
        url("results"),
        url("constitution-publish") + preview,
        url("group-invite", pk=group.pk),
        url("group-room", pk=group.pk),
    ]
    for page in pages:
        html = owner_client.get(page).content.decode()
        assert "<script>alert" not in html, page
        assert "&lt;script&gt;alert(" in html, page
    fragment = owner_client.get(url("results"), HTTP_HX_REQUEST="true")
    assert "<script>alert" not in fragment.content.decode()
    owner_client.post(
        url("constitution-publish"),
        {"rule": "overall", "threshold": 0.5, "min_votes": 1},
    )
    constitution = Constitution.objects.get()
    html = owner_client.get(url("constitution-detail", pk=constitution.pk)).content
    assert b"<script>alert" not in html
    assert b"&lt;script&gt;alert(" in html


def test_principle_text_is_marked_for_its_own_direction(owner_client, setup):
    html = owner_client.get(url("principle-detail", pk=setup.seeds[0].pk)).content
    assert f'dir="auto">{setup.seeds[0].text}'.encode() in html


def test_dashboard_shows_groups_invite_links_rounds_and_queue(
    owner_client, setup, participant_a, propose_round
):
    propose(participant_a, propose_round, "Choose the response that is kind.")
    response = owner_client.get(url("workshop-detail"))
    html = response.content.decode()
    for group in (setup.group_a, setup.group_b):
        join = reverse("deliberation:join", kwargs={"token": group.invite_token})
        assert f'value="http://testserver{join}"' in html
    assert 'data-copy-target="invite-' in html
    assert "js/facilitator.js" in html
    assert propose_round.title in html
    assert "principle waiting for review" in html


def test_invite_page_shows_an_svg_qr_code(owner_client, setup):
    html = owner_client.get(url("group-invite", pk=setup.group_a.pk)).content.decode()
    assert '<svg viewBox="' in html
    assert "QR code of the invite link" in html


def test_regenerating_the_token_disables_the_old_link(owner_client, setup):
    old = setup.group_a.invite_token
    response = owner_client.post(url("group-regenerate-token", pk=setup.group_a.pk))
    assert response.status_code == 302
    setup.group_a.refresh_from_db()
    assert setup.group_a.invite_token != old
    with pytest.raises(Http404):
        group_get_by_token(token=old)
    old_link = reverse("deliberation:join", kwargs={"token": old})
    assert Client().get(old_link).status_code == 404
    assert group_get_by_token(token=setup.group_a.invite_token) == setup.group_a
    html = owner_client.get(url("group-invite", pk=setup.group_a.pk)).content.decode()
    assert setup.group_a.invite_token in html
    assert old not in html


def test_regenerating_the_token_needs_post(owner_client, setup):
    response = owner_client.get(url("group-regenerate-token", pk=setup.group_a.pk))
    assert response.status_code == 405


def test_group_with_a_taken_name_shows_the_error(owner_client, setup):
    response = owner_client.post(url("group-create"), {"name": "Nurses"})
    assert response.status_code == 200
    assert "already has a group called" in response.content.decode()
    assert setup.workshop.groups.count() == 2


def test_workshop_edit_saves_the_changes(owner_client, setup):
    response = owner_client.post(
        url("workshop-edit"),
        {
            "title": "AI values, take two",
            "question": "What must an assistant never do?",
            "description": "Second session.",
            "show_moderation_log": "on",
        },
    )
    assert response.status_code == 302
    workshop = Workshop.objects.get(pk=setup.workshop.pk)
    assert workshop.title == "AI values, take two"
    assert workshop.question == "What must an assistant never do?"
    assert not workshop.strict_moderation
    assert workshop.show_moderation_log
    assert workshop.slug == SLUG


def test_workshop_edit_form_starts_with_the_current_values(owner_client, setup):
    html = owner_client.get(url("workshop-edit")).content.decode()
    assert 'value="AI values"' in html
    assert "checked" in html  # strict moderation


def test_workshop_form_requires_a_question(owner_client, owner):
    response = owner_client.post(
        reverse("deliberation:workshop-create"), {"title": "No question"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["question"]
    assert not Workshop.objects.filter(title="No question").exists()


def test_workshop_titled_new_gets_a_reachable_address(owner_client, owner):
    response = owner_client.post(
        reverse("deliberation:workshop-create"), {"title": "New", "question": "Q?"}
    )
    workshop = Workshop.objects.get(title="New")
    assert workshop.slug != "new"
    assert response["Location"] == workshop.get_absolute_url()
    assert owner_client.get(workshop.get_absolute_url()).status_code == 200


def test_workshop_list_shows_only_the_users_workshops(owner_client, setup, outsider):
    WorkshopFactory(owner=outsider, title="Charlie's secret workshop")
    html = owner_client.get(reverse("deliberation:workshop-list")).content.decode()
    assert "AI values" in html
    assert "Charlie" not in html


def test_seed_for_one_group(owner_client, setup):
    response = owner_client.post(
        url("principle-seed"),
        {
            "text": "Choose the response a nurse could act on.",
            "group": setup.group_a.pk,
        },
    )
    assert response.status_code == 302
    seed = Principle.objects.get(text="Choose the response a nurse could act on.")
    assert seed.group == setup.group_a
    assert seed.is_seed and seed.status == Principle.Status.APPROVED


def test_seed_refuses_another_workshops_group(owner_client, setup, outsider):
    foreign = GroupFactory(workshop=WorkshopFactory(owner=outsider))
    response = owner_client.post(
        url("principle-seed"), {"text": "Choose anything.", "group": foreign.pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["group"]
    assert not Principle.objects.filter(text="Choose anything.").exists()


def test_seed_duplicate_shows_the_service_error(owner_client, setup):
    response = owner_client.post(url("principle-seed"), {"text": setup.seeds[0].text})
    assert response.status_code == 200
    assert "already in the workshop" in response.content.decode()


def test_round_form_checks_scope_and_window(owner_client, setup):
    response = owner_client.post(
        url("round-create"), {"kind": "vote", "scope": "group"}
    )
    assert response.context["form"].errors["group"]
    response = owner_client.post(
        url("round-create"),
        {
            "kind": "vote",
            "scope": "all",
            "opens_at": "2030-05-01T10:00",
            "closes_at": "2030-05-01T09:00",
        },
    )
    assert response.context["form"].errors["closes_at"]
    assert not setup.workshop.rounds.exists()


def test_round_for_one_group_with_a_window(owner_client, setup):
    response = owner_client.post(
        url("round-create"),
        {
            "kind": "propose",
            "scope": "group",
            "group": setup.group_b.pk,
            "opens_at": "2030-05-01T09:00",
            "closes_at": "2030-05-01T10:00",
        },
    )
    round_ = setup.workshop.rounds.get()
    assert response["Location"] == url("round-detail", pk=round_.pk)
    assert round_.group == setup.group_b
    assert round_.opens_at is not None and round_.opens_at.tzinfo is not None
    assert round_.status == Round.Status.DRAFT
    html = owner_client.get(url("round-detail", pk=round_.pk)).content.decode()
    assert "Teachers" in html
    assert 'datetime="2030-05-01T09:00:00+00:00"' in html


def test_rank_round_needs_a_shortlist_before_opening(
    owner_client, setup, participant_a, propose_round
):
    pending = propose(participant_a, propose_round, "Choose the gentlest response.")
    owner_client.post(url("round-create"), {"kind": "rank", "scope": "all"})
    rank = setup.workshop.rounds.get(kind=Round.Kind.RANK)
    detail = url("round-detail", pk=rank.pk)

    response = owner_client.post(url("round-open", pk=rank.pk), follow=True)
    assert any("Choose the shortlist" in m for m in messages_of(response))
    rank.refresh_from_db()
    assert rank.status == Round.Status.DRAFT

    form = owner_client.get(detail).context["shortlist_form"]
    candidates = set(form.fields["principles"].queryset)
    assert candidates == set(setup.seeds)
    assert pending not in candidates

    response = owner_client.post(
        url("round-shortlist", pk=rank.pk),
        {"principles": [setup.seeds[0].pk]},
        follow=True,
    )
    assert any("at least two" in m for m in messages_of(response))
    response = owner_client.post(
        url("round-shortlist", pk=rank.pk), {"principles": [pending.pk]}, follow=True
    )
    assert messages_of(response)
    assert not rank.shortlist.exists()

    chosen = [setup.seeds[0].pk, setup.seeds[2].pk]
    response = owner_client.post(
        url("round-shortlist", pk=rank.pk), {"principles": chosen}
    )
    assert response["Location"] == detail
    assert set(rank.shortlist.values_list("pk", flat=True)) == set(chosen)

    owner_client.post(url("round-open", pk=rank.pk), {"next": detail})
    rank.refresh_from_db()
    assert rank.status == Round.Status.OPEN
    page = owner_client.get(detail)
    assert page.context["shortlist_form"] is None
    assert setup.seeds[2].text in page.content.decode()
    response = owner_client.post(
        url("round-shortlist", pk=rank.pk),
        {"principles": [setup.seeds[1].pk, setup.seeds[2].pk]},
        follow=True,
    )
    assert any("only before the round opens" in m for m in messages_of(response))
    assert set(rank.shortlist.values_list("pk", flat=True)) == set(chosen)


def test_closed_round_stays_closed_and_accepts_nothing(
    owner_client, setup, participant_a, vote_round
):
    owner_client.post(url("round-close", pk=vote_round.pk))
    vote_round.refresh_from_db()
    assert vote_round.status == Round.Status.CLOSED
    with pytest.raises(ApplicationError):
        vote_cast(
            participant=participant_a,
            round_=vote_round,
            principle=setup.seeds[0],
            choice=VoteChoice.AGREE,
        )
    response = owner_client.post(url("round-open", pk=vote_round.pk), follow=True)
    assert any("stays closed" in m for m in messages_of(response))
    vote_round.refresh_from_db()
    assert vote_round.status == Round.Status.CLOSED
    assert (
        "accepts nothing more"
        in owner_client.get(url("workshop-detail")).content.decode()
    )


def test_reject_needs_a_reason(owner_client, setup, participant_a, propose_round):
    principle = propose(participant_a, propose_round, "Choose the loudest response.")
    response = owner_client.post(
        url("principle-reject", pk=principle.pk), {"reason": "  "}, follow=True
    )
    assert messages_of(response)
    principle.refresh_from_db()
    assert principle.status == Principle.Status.PENDING


def test_merge_into_another_workshops_principle_is_refused(
    owner_client, setup, outsider, participant_a, propose_round
):
    principle = propose(participant_a, propose_round, "Choose the calmest response.")
    foreign_workshop = WorkshopFactory(owner=outsider)
    foreign = principle_seed(workshop=foreign_workshop, text="Foreign.", actor=outsider)
    response = owner_client.post(
        url("principle-merge", pk=principle.pk), {"target": foreign.pk}, follow=True
    )
    assert messages_of(response)
    principle.refresh_from_db()
    assert principle.merged_into is None


def test_merge_into_itself_is_refused(owner_client, setup):
    seed = setup.seeds[0]
    response = owner_client.post(
        url("principle-merge", pk=seed.pk), {"target": seed.pk}, follow=True
    )
    assert any("into itself" in m for m in messages_of(response))


def test_editing_adds_a_version_and_same_wording_is_refused(owner_client, owner, setup):
    seed = setup.seeds[1]
    owner_client.post(
        url("principle-edit", pk=seed.pk),
        {
            "text": "Choose the response that guards the user's privacy.",
            "reason": "Clearer.",
        },
    )
    assert list(seed.versions.values_list("number", "reason")) == [
        (1, ""),
        (2, "Clearer."),
    ]
    response = owner_client.post(
        url("principle-edit", pk=seed.pk),
        {"text": "Choose the response that guards the user's privacy."},
        follow=True,
    )
    assert any("same as the current one" in m for m in messages_of(response))
    assert seed.versions.count() == 2
    html = owner_client.get(url("principle-detail", pk=seed.pk)).content.decode()
    assert "Clearer." in html
    assert "respects the user&#x27;s privacy" in html  # version 1 stays in the history


def test_moderation_actions_go_back_only_to_this_site(
    owner_client, setup, participant_a, propose_round
):
    principle = propose(participant_a, propose_round, "Choose the fairest response.")
    response = owner_client.post(
        url("principle-approve", pk=principle.pk), {"next": "https://evil.example/"}
    )
    assert response["Location"] == url("principle-detail", pk=principle.pk)


def test_results_page_polls_and_htmx_gets_only_the_fragment(owner_client, setup):
    page = owner_client.get(url("results"))
    html = page.content.decode()
    assert "<html" in html
    assert 'hx-trigger="every 5s"' in html
    fragment = owner_client.get(url("results"), HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert body.lstrip().startswith('<div id="live-results"')
    assert "workshop-nav" not in body
    assert 'hx-trigger="every 5s"' in body


def test_results_queries_do_not_grow_with_the_data(
    owner_client, owner, setup, vote_round
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert (
                owner_client.get(url("results"), HTTP_HX_REQUEST="true").status_code
                == 200
            )
        return len(queries)

    before = count()
    group = GroupFactory(workshop=setup.workshop, name="Parents")
    for n in range(3):
        principle_seed(
            workshop=setup.workshop, text=f"Extra principle {n}.", actor=owner
        )
        participant = ParticipantFactory(group=group)
        vote_cast(
            participant=participant,
            round_=vote_round,
            principle=setup.seeds[0],
            choice=VoteChoice.PASS,
        )
    assert count() == before


@pytest.mark.parametrize(
    "name", ["moderation-queue", "principle-list", "moderation-log"]
)
def test_list_pages_queries_do_not_grow_with_the_data(
    owner_client, setup, participant_a, propose_round, name
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(url(name)).status_code == 200
        return len(queries)

    propose(participant_a, propose_round, "Choose the first response.")
    before = count()
    other = ParticipantFactory(group=setup.group_b)
    for text in ("Choose the second response.", "Choose the third response."):
        propose(other, propose_round, text)
    assert count() == before


def test_publishing_with_nothing_adopted_shows_the_error(owner_client, setup):
    response = owner_client.post(
        url("constitution-publish"),
        {"rule": "ccai", "threshold": "0.7", "min_votes": "1"},
    )
    assert response.status_code == 200
    assert "No principle passes this rule yet" in response.content.decode()
    assert not Constitution.objects.exists()


def test_preview_checks_its_parameters(owner_client, setup):
    response = owner_client.get(
        url("constitution-publish"),
        {"rule": "ccai", "threshold": "1.5", "min_votes": "0"},
    )
    form = response.context["form"]
    assert form.errors["threshold"] and form.errors["min_votes"]
    assert response.context["preview"] is None


def test_publish_page_without_parameters_shows_only_the_form(owner_client, setup):
    response = owner_client.get(url("constitution-publish"))
    assert response.status_code == 200
    assert response.context["preview"] is None
    assert not response.context["form"].is_bound
