"""Review rounds: a group's representatives endorse or object to each card's wording,
once per card, only in their own group's open round; the summary each card shows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import participant_client
from tests.factories import ParticipantFactory
from workbench.cards.models import CardReview
from workbench.cards.services.review import card_review_submit, card_review_summary
from workbench.core.errors import ApplicationError, NotAvailableError
from workbench.deliberation.models import Round, VoteChoice
from workbench.deliberation.services.analysis import analysis_refresh
from workbench.deliberation.services.constitutions import constitution_publish
from workbench.deliberation.services.principles import principle_edit, principle_seed
from workbench.deliberation.services.rounds import (
    round_close,
    round_create,
    round_open,
    round_set_shortlist,
)
from workbench.deliberation.services.votes import vote_cast

ENDORSE, OBJECT = CardReview.Verdict.ENDORSE, CardReview.Verdict.OBJECT


def review_round_for(setup, owner, principles, **kwargs) -> Round:
    round_ = round_create(
        workshop=setup.workshop, kind=Round.Kind.REVIEW, title="Review", **kwargs
    )
    round_set_shortlist(round_=round_, principles=principles)
    return round_open(round_=round_, actor=owner)


@pytest.fixture
def review_round(setup, owner) -> Round:
    return review_round_for(setup, owner, setup.seeds[:2])


def review_url(round_: Round) -> str:
    return reverse(
        "deliberation:participant-review", args=[round_.workshop.slug, round_.pk]
    )


def test_a_participant_endorses_a_principle_once_under_a_double_submit(
    setup, participant_a, review_round
):
    client = participant_client(participant_a)
    data = {"principle": setup.seeds[0].pk, "verdict": "endorse", "comment": "Yes"}
    first = client.post(review_url(review_round), data)
    second = client.post(review_url(review_round), data)
    assert first.status_code == second.status_code == 303
    assert first["Location"].endswith(f"#principle-{setup.seeds[0].pk}")
    review = CardReview.objects.get()
    assert (review.participant, review.principle, review.verdict, review.comment) == (
        participant_a,
        setup.seeds[0],
        ENDORSE,
        "Yes",
    )
    page = client.get(review_url(review_round)).content.decode()
    assert "Your review is saved." in page
    assert "Your review:" in page


def test_changing_ones_mind_updates_the_review_and_records_the_wording_read(
    setup, owner, participant_a, review_round
):
    client = participant_client(participant_a)
    principle = setup.seeds[0]
    client.post(
        review_url(review_round), {"principle": principle.pk, "verdict": "endorse"}
    )
    principle_edit(
        principle=principle, actor=owner, text="Say plainly when you are unsure."
    )
    client.post(
        review_url(review_round),
        {"principle": principle.pk, "verdict": "object", "comment": "Too vague"},
    )
    review = CardReview.objects.get()
    assert review.verdict == OBJECT
    assert review.comment == "Too vague"
    assert review.principle_version.number == 2
    assert review.principle_version.text == "Say plainly when you are unsure."


def test_the_constitution_card_is_reviewed_too(
    setup, owner, participant_a, participant_b, vote_round
):
    for voter in (participant_a, participant_b):
        for seed in setup.seeds[:2]:
            vote_cast(
                participant=voter,
                round_=vote_round,
                principle=seed,
                choice=VoteChoice.AGREE,
            )
    constitution = constitution_publish(
        workshop=setup.workshop, actor=owner, title="Ours", rule="ccai", threshold=0.5
    )
    # An empty shortlist reviews the constitution's own principles.
    round_ = round_open(
        round_=round_create(workshop=setup.workshop, kind=Round.Kind.REVIEW),
        actor=owner,
    )
    client = participant_client(participant_a)
    page = client.get(review_url(round_)).content.decode()
    assert "The constitution: Ours" in page
    assert page.count('name="principle"') == 2
    response = client.post(
        review_url(round_), {"constitution": constitution.pk, "verdict": "endorse"}
    )
    assert response.status_code == 303
    assert CardReview.objects.get().constitution == constitution
    summary = card_review_summary(constitution=constitution)
    assert summary["status"] == "endorsed"
    assert summary["per_group"] == {
        "Nurses": {"endorse": 1, "object": 0},
        "Teachers": {"endorse": 0, "object": 0},
    }


def test_a_participant_of_another_group_is_refused_and_nothing_is_stored(
    setup, owner, participant_a
):
    teachers_only = review_round_for(
        setup, owner, setup.seeds[:1], scope=Round.Scope.GROUP, group=setup.group_b
    )
    client = participant_client(participant_a)
    assert client.get(review_url(teachers_only)).status_code == 404
    response = client.post(
        review_url(teachers_only),
        {"principle": setup.seeds[0].pk, "verdict": "endorse"},
    )
    assert response.status_code == 404
    with pytest.raises(NotAvailableError):
        card_review_submit(
            participant=participant_a,
            round_=teachers_only,
            principle=setup.seeds[0],
            verdict=ENDORSE,
        )
    assert not CardReview.objects.exists()


def test_a_closed_round_refuses_and_stores_nothing(
    setup, owner, participant_a, review_round
):
    round_close(round_=review_round, actor=owner)
    client = participant_client(participant_a)
    response = client.post(
        review_url(review_round),
        {"principle": setup.seeds[0].pk, "verdict": "endorse"},
        follow=True,
    )
    page = response.content.decode()
    assert "This activity is not open, so nothing was saved." in page
    assert "This activity is closed" in page
    assert 'name="verdict"' not in page
    assert not CardReview.objects.exists()


def test_a_principle_not_on_the_round_is_refused(
    setup, owner, participant_a, review_round
):
    client = participant_client(participant_a)
    response = client.post(
        review_url(review_round),
        {"principle": setup.seeds[2].pk, "verdict": "endorse"},
    )
    assert response.status_code == 404
    assert not CardReview.objects.exists()


def test_a_comment_too_long_is_refused(setup, participant_a, review_round):
    with pytest.raises(ApplicationError, match="under 1000 characters"):
        card_review_submit(
            participant=participant_a,
            round_=review_round,
            principle=setup.seeds[0],
            verdict=OBJECT,
            comment="x" * 1001,
        )
    assert not CardReview.objects.exists()


def test_htmx_swaps_just_the_reviewed_card(setup, participant_a, review_round):
    client = participant_client(participant_a)
    response = client.post(
        review_url(review_round),
        {"principle": setup.seeds[1].pk, "verdict": "object", "comment": "No"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.strip().startswith(
        f'<li class="card review-item" id="principle-{setup.seeds[1].pk}"'
    )
    assert "Your review is saved." in fragment
    assert setup.seeds[0].text not in fragment
    assert CardReview.objects.get().verdict == OBJECT


def test_the_home_page_links_to_the_open_review_round(participant_a, review_round):
    client = participant_client(participant_a)
    page = client.get(
        reverse("deliberation:participant-home", args=["ai-values"])
    ).content.decode()
    assert "Review the cards" in page
    assert review_url(review_round) in page


def test_the_page_shows_each_groups_support_from_the_stored_analysis(
    setup, owner, vote_round, participant_a, participant_b, review_round
):
    # The analysis needs two voters and two voted principles to report figures.
    for voter, choice in (
        (participant_a, VoteChoice.AGREE),
        (participant_b, VoteChoice.DISAGREE),
    ):
        for seed in setup.seeds[:2]:
            vote_cast(
                participant=voter, round_=vote_round, principle=seed, choice=choice
            )
    analysis_refresh(workshop=setup.workshop)
    page = participant_client(participant_a).get(review_url(review_round))
    text = page.content.decode()
    assert "Nurses</span>: 1 agree, 0 disagree, 0 pass" in text
    assert "Teachers</span>: 0 agree, 1 disagree, 0 pass" in text


def test_participant_text_is_escaped_on_both_pages(
    setup, owner, owner_client, participant_a
):
    evil = principle_seed(
        workshop=setup.workshop,
        text='<script>alert("p")</script> Choose <b>bold</b> answers.',
        actor=owner,
    )
    round_ = review_round_for(setup, owner, [evil])
    client = participant_client(participant_a)
    client.post(
        review_url(round_),
        {"principle": evil.pk, "verdict": "object", "comment": "<img src=x onerror=1>"},
    )
    participant_page = client.get(review_url(round_)).content.decode()
    facilitator_page = owner_client.get(
        reverse("deliberation:cards", args=["ai-values"])
    ).content.decode()
    for page in (participant_page, facilitator_page):
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&quot;p&quot;)&lt;/script&gt;" in page
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=1&gt;" in page


# The summary, worked by hand.


def reviews(round_, principle, verdicts_by_group):
    """Stores reviews: {group: [verdict, ...]} with a new participant per verdict."""
    for group, verdicts in verdicts_by_group.items():
        for verdict in verdicts:
            card_review_submit(
                participant=ParticipantFactory(group=group),
                round_=round_,
                principle=principle,
                verdict=verdict,
                comment=f"{group.name} says {verdict}",
            )


def test_summary_not_reviewed_without_a_round(setup):
    assert card_review_summary(principle=setup.seeds[0]) == {
        "status": "not reviewed",
        "round": None,
        "endorse": 0,
        "object": 0,
        "per_group": {},
        "comments": [],
    }


def test_summary_of_a_round_nobody_answered_is_not_reviewed(setup, review_round):
    summary = card_review_summary(principle=setup.seeds[0])
    assert summary["status"] == "not reviewed"
    assert summary["round"] == {
        "id": review_round.pk,
        "title": "Review",
        "closed_at": None,
    }


def test_summary_endorsed_when_every_group_has_a_majority(setup, owner, review_round):
    # Nurses 2 of 3 endorse, Teachers 1 of 1: a majority in each group.
    reviews(
        review_round,
        setup.seeds[0],
        {setup.group_a: [ENDORSE, ENDORSE, OBJECT], setup.group_b: [ENDORSE]},
    )
    closed = round_close(round_=review_round, actor=owner)
    summary = card_review_summary(principle=setup.seeds[0])
    assert summary["status"] == "endorsed"
    assert (summary["endorse"], summary["object"]) == (3, 1)
    assert summary["per_group"] == {
        "Nurses": {"endorse": 2, "object": 1},
        "Teachers": {"endorse": 1, "object": 0},
    }
    assert summary["round"]["closed_at"] == closed.closed_at.isoformat()
    assert summary["comments"][-1] == {
        "group": "Teachers",
        "verdict": "endorse",
        "comment": "Teachers says endorse",
    }


def test_summary_mixed_when_a_group_ties(setup, review_round):
    # Nurses 2 of 2 endorse, Teachers 1-1: 3 of 4 endorse overall, but not every
    # group has a majority.
    reviews(
        review_round,
        setup.seeds[0],
        {setup.group_a: [ENDORSE, ENDORSE], setup.group_b: [ENDORSE, OBJECT]},
    )
    assert card_review_summary(principle=setup.seeds[0])["status"] == "mixed"


def test_summary_objected_when_most_reviewers_object(setup, review_round):
    # Nurses 3 object, Teachers 2 endorse: 3 of 5 object.
    reviews(
        review_round,
        setup.seeds[0],
        {setup.group_a: [OBJECT, OBJECT, OBJECT], setup.group_b: [ENDORSE, ENDORSE]},
    )
    summary = card_review_summary(principle=setup.seeds[0])
    assert summary["status"] == "objected"
    assert (summary["endorse"], summary["object"]) == (2, 3)


def test_summary_half_objecting_is_mixed_not_objected(setup, review_round):
    reviews(review_round, setup.seeds[0], {setup.group_a: [OBJECT, ENDORSE]})
    assert card_review_summary(principle=setup.seeds[0])["status"] == "mixed"


def test_summary_reads_the_latest_round_that_covered_the_card(
    setup, owner, review_round
):
    reviews(review_round, setup.seeds[0], {setup.group_a: [OBJECT]})
    round_close(round_=review_round, actor=owner)
    later = review_round_for(setup, owner, setup.seeds[:1])
    reviews(later, setup.seeds[0], {setup.group_a: [ENDORSE]})
    # A round about another principle does not count for this one.
    review_round_for(setup, owner, setup.seeds[1:2])
    summary = card_review_summary(principle=setup.seeds[0])
    assert summary["round"]["id"] == later.pk
    assert summary["status"] == "endorsed"
    assert card_review_summary(principle=setup.seeds[2])["status"] == "not reviewed"
