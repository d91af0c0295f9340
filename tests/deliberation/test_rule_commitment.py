"""The pre-registered decision rule: fixed before or after the first vote, kept or
deviated from at publication, reported on the value cards, never rewritten."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from tests.factories import ParticipantFactory
from workbench.cards.render.markdown import cards_markdown, md_text
from workbench.cards.render.pdf import cards_html
from workbench.cards.services.build import cards_for_workshop
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import (
    Constitution,
    ModerationEvent,
    RuleCommitment,
    VoteChoice,
)
from workbench.deliberation.services.commitments import (
    rule_commit,
    rule_commitment_status,
)
from workbench.deliberation.services.constitutions import RULES, constitution_publish
from workbench.deliberation.services.votes import vote_cast

PARAMS = {"threshold": 0.5, "min_votes": 1}


def _vote_everyone_agrees(setup, vote_round):
    for group in (setup.group_a, setup.group_b):
        for _ in range(2):
            vote_cast(
                participant=ParticipantFactory(group=group),
                round_=vote_round,
                principle=setup.seeds[0],
                choice=VoteChoice.AGREE,
            )


def _thresholds(workshop):
    """Every card's thresholds; the renderers show them too."""
    cards = cards_for_workshop(workshop=workshop)
    key = md_text("fixed_before_voting")
    assert cards_markdown(cards).count(key) == len(cards)
    assert cards_html(cards, title="t").count("Fixed before voting") == len(cards)
    return [card["legitimacy"]["thresholds"] for card in cards]


@pytest.fixture
def clock():
    """A clock that moves only when told, so "before" and "after" are certain."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield lambda: traveller.shift(timedelta(minutes=1))


# The service ------------------------------------------------------------------


def test_rule_choices_are_the_rules_publishing_accepts():
    assert set(RuleCommitment.Rule.values) == set(RULES)


def test_a_new_commitment_supersedes_the_previous_and_keeps_it(setup, owner, clock):
    first = rule_commit(
        workshop=setup.workshop, rule="ccai", parameters=PARAMS, actor=owner
    )
    clock()
    second = rule_commit(
        workshop=setup.workshop,
        rule="overall",
        parameters={"threshold": 0.6},
        actor=owner,
    )
    status = rule_commitment_status(workshop=setup.workshop)
    assert status.latest == second
    assert status.commitments == [second, first]
    assert second.parameters == {"threshold": 0.6, "min_votes": 1}
    assert second.committed_by == owner
    assert len(first.content_hash) == 64
    assert first.content_hash != second.content_hash
    # Both stay in the moderation log, in order, with what was fixed.
    logged = list(
        ModerationEvent.objects.filter(
            workshop=setup.workshop, action=ModerationEvent.Action.RULE_COMMIT
        ).values_list("data", flat=True)
    )
    assert [(d["commitment"], d["rule"]) for d in logged] == [
        (first.pk, "ccai"),
        (second.pk, "overall"),
    ]
    assert logged[1]["threshold"] == 0.6


@pytest.mark.parametrize(
    ("rule", "parameters", "message"),
    [
        ("borda", PARAMS, "Unknown selection rule"),
        ("ccai", {"threshold": 1.5}, "between 0 and 1"),
        ("ccai", {"threshold": 0.5, "min_votes": 0}, "At least one vote"),
        ("ccai", {"min_votes": 2}, "threshold is required"),
        ("ccai", {"threshold": "high"}, "must be numbers"),
        ("ccai", {"threshold": 0.5, "quorum": 3}, "Unknown rule parameters: quorum"),
    ],
)
def test_invalid_rules_are_refused_and_nothing_is_stored(
    setup, owner, rule, parameters, message
):
    with pytest.raises(ApplicationError, match=message):
        rule_commit(
            workshop=setup.workshop, rule=rule, parameters=parameters, actor=owner
        )
    assert not RuleCommitment.objects.exists()


def test_a_commitment_cannot_be_rewritten_in_the_database(setup, owner):
    commitment = rule_commit(
        workshop=setup.workshop, rule="ccai", parameters=PARAMS, actor=owner
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        RuleCommitment.objects.filter(pk=commitment.pk).update(rule="overall")
    commitment.refresh_from_db()
    assert commitment.rule == "ccai"


# Publishing against the commitment ---------------------------------------------


def test_publishing_the_committed_rule_records_the_commitment(
    setup, owner, vote_round, clock
):
    commitment = rule_commit(
        workshop=setup.workshop, rule="ccai", parameters=PARAMS, actor=owner
    )
    clock()
    _vote_everyone_agrees(setup, vote_round)
    constitution = constitution_publish(
        workshop=setup.workshop, actor=owner, title="", rule="ccai", threshold=0.5
    )
    assert constitution.parameters == {
        **PARAMS,
        "committed": commitment.as_record(),
        "deviation": False,
    }


def test_a_different_rule_without_confirmation_is_refused_and_nothing_stored(
    setup, owner, vote_round, clock
):
    rule_commit(workshop=setup.workshop, rule="ccai", parameters=PARAMS, actor=owner)
    clock()
    _vote_everyone_agrees(setup, vote_round)
    for rule, threshold in (("overall", 0.5), ("ccai", 0.6)):
        with pytest.raises(ApplicationError, match="deviate from the committed rule"):
            constitution_publish(
                workshop=setup.workshop,
                actor=owner,
                title="",
                rule=rule,
                threshold=threshold,
            )
    assert not Constitution.objects.exists()
    assert not ModerationEvent.objects.filter(
        action=ModerationEvent.Action.PUBLISH
    ).exists()


def test_a_confirmed_deviation_is_published_and_recorded(
    setup, owner, vote_round, clock
):
    commitment = rule_commit(
        workshop=setup.workshop, rule="ccai", parameters=PARAMS, actor=owner
    )
    clock()
    _vote_everyone_agrees(setup, vote_round)
    clock()
    constitution = constitution_publish(
        workshop=setup.workshop,
        actor=owner,
        title="",
        rule="overall",
        threshold=0.6,
        deviate=True,
    )
    assert constitution.rule == "overall"
    assert constitution.parameters["threshold"] == 0.6
    assert constitution.parameters["deviation"] is True
    assert constitution.parameters["committed"]["id"] == commitment.pk
    assert constitution.parameters["committed"]["rule"] == "ccai"
    published = ModerationEvent.objects.get(
        workshop=setup.workshop, action=ModerationEvent.Action.PUBLISH
    )
    assert published.data["deviation"] is True

    for thresholds in _thresholds(setup.workshop):
        assert thresholds["rule"] == "ccai"
        assert thresholds["fixed_before_voting"] is True
        assert thresholds["matches_published"] is False
        assert thresholds["deviation"] is True
        assert thresholds["published"] == {
            "rule": "overall",
            "parameters": {"threshold": 0.6, "min_votes": 1},
        }


# The value cards ------------------------------------------------------------


def test_a_rule_fixed_before_voting_is_reported_as_fixed_and_kept(
    setup, owner, vote_round, clock
):
    commitment = rule_commit(
        workshop=setup.workshop, rule="ccai", parameters=PARAMS, actor=owner
    )
    clock()
    _vote_everyone_agrees(setup, vote_round)
    clock()
    constitution_publish(
        workshop=setup.workshop, actor=owner, title="", rule="ccai", threshold=0.5
    )
    all_thresholds = _thresholds(setup.workshop)
    assert len(all_thresholds) == 2  # the constitution's card and its principle's
    for thresholds in all_thresholds:
        assert thresholds["rule"] == "ccai"
        assert thresholds["parameters"] == PARAMS
        assert thresholds["fixed_at"] == commitment.committed_at.isoformat()
        assert thresholds["fixed_before_voting"] is True
        assert thresholds["voting_started_at"] > thresholds["fixed_at"]
        assert thresholds["matches_published"] is True
        assert thresholds["deviation"] is False
        assert thresholds["commitment"]["superseded_by"] is None
        assert thresholds["commitment"]["content_hash"] == commitment.content_hash


def test_a_rule_fixed_after_the_first_vote_is_not_fixed_before_voting(
    setup, owner, vote_round, clock
):
    _vote_everyone_agrees(setup, vote_round)
    clock()
    rule_commit(workshop=setup.workshop, rule="ccai", parameters=PARAMS, actor=owner)
    clock()
    constitution_publish(
        workshop=setup.workshop, actor=owner, title="", rule="ccai", threshold=0.5
    )
    for thresholds in _thresholds(setup.workshop):
        assert thresholds["fixed_before_voting"] is False
        assert thresholds["fixed_at"] > thresholds["voting_started_at"]
        assert thresholds["matches_published"] is True
        assert "after voting had started" in thresholds["note"]


def test_the_card_reports_the_commitment_made_before_voting_not_a_later_change(
    setup, owner, vote_round, clock
):
    before = rule_commit(
        workshop=setup.workshop, rule="ccai", parameters=PARAMS, actor=owner
    )
    clock()
    _vote_everyone_agrees(setup, vote_round)
    clock()
    rule_commit(
        workshop=setup.workshop,
        rule="overall",
        parameters={"threshold": 0.6},
        actor=owner,
    )
    clock()
    # Publishing the latest commitment needs no confirmation...
    constitution = constitution_publish(
        workshop=setup.workshop, actor=owner, title="", rule="overall", threshold=0.6
    )
    assert constitution.parameters["deviation"] is False
    # ...but the card holds it against the rule fixed before voting.
    for thresholds in _thresholds(setup.workshop):
        assert thresholds["rule"] == "ccai"
        assert thresholds["fixed_at"] == before.committed_at.isoformat()
        assert thresholds["fixed_before_voting"] is True
        assert thresholds["commitment"]["superseded_by"]["rule"] == "overall"
        assert thresholds["matches_published"] is False
        assert thresholds["deviation"] is False


def test_without_a_commitment_the_card_falls_back_to_the_publication(
    setup, owner, vote_round, clock
):
    _vote_everyone_agrees(setup, vote_round)
    clock()
    constitution = constitution_publish(
        workshop=setup.workshop, actor=owner, title="", rule="ccai", threshold=0.5
    )
    assert constitution.parameters == PARAMS
    for thresholds in _thresholds(setup.workshop):
        assert thresholds["fixed_at"] == constitution.published_at.isoformat()
        assert thresholds["fixed_before_voting"] is False
        assert "No rule was committed" in thresholds["note"]


# Through the facilitator's pages ---------------------------------------------


def _commit_url(setup):
    return reverse("deliberation:rule-commit", kwargs={"slug": setup.workshop.slug})


def _publish_url(setup):
    return reverse(
        "deliberation:constitution-publish", kwargs={"slug": setup.workshop.slug}
    )


COMMIT_FORM = {
    "commit-rule": "ccai",
    "commit-threshold": "0.5",
    "commit-min_votes": "1",
}


def test_owner_fixes_the_rule_and_the_publish_form_starts_from_it(
    owner_client, setup, owner
):
    page = owner_client.get(_publish_url(setup))
    assert "Fix the rule before voting" in page.content.decode()
    assert "No rule has been fixed yet." in page.content.decode()

    response = owner_client.post(_commit_url(setup), COMMIT_FORM)
    assert response.status_code == 302
    assert response["Location"] == _publish_url(setup)
    commitment = RuleCommitment.objects.get(workshop=setup.workshop)
    assert (commitment.rule, commitment.parameters) == ("ccai", PARAMS)
    assert commitment.committed_by == owner

    page = owner_client.get(_publish_url(setup))
    assert page.context["form"].initial == {"rule": "ccai", **PARAMS}
    html = page.content.decode()
    assert "Yes: no vote has been cast yet." in html
    assert commitment.content_hash in html

    owner_client.post(_commit_url(setup), {**COMMIT_FORM, "commit-rule": "overall"})
    html = owner_client.get(_publish_url(setup)).content.decode()
    assert "1 earlier commitment, superseded" in html
    assert RuleCommitment.objects.first().rule == "overall"


def test_the_page_says_when_votes_were_cast_before_the_rule_was_fixed(
    owner_client, setup, owner, vote_round, clock
):
    _vote_everyone_agrees(setup, vote_round)
    clock()
    owner_client.post(_commit_url(setup), COMMIT_FORM)
    html = owner_client.get(_publish_url(setup)).content.decode()
    assert "No: votes had been cast since" in html


def test_an_invalid_commitment_form_stores_nothing(owner_client, setup):
    response = owner_client.post(
        _commit_url(setup), {**COMMIT_FORM, "commit-threshold": "1.5"}, follow=True
    )
    assert response.status_code == 200
    assert not RuleCommitment.objects.exists()
    assert any("Threshold" in str(m) for m in response.context["messages"])


def test_publishing_a_deviation_through_the_page_needs_the_checkbox(
    owner_client, setup, owner, vote_round, clock
):
    rule_commit(workshop=setup.workshop, rule="ccai", parameters=PARAMS, actor=owner)
    clock()
    _vote_everyone_agrees(setup, vote_round)
    params = {"rule": "overall", "threshold": "0.5", "min_votes": "1", "title": ""}

    preview = owner_client.get(_publish_url(setup), params)
    assert preview.context["deviates"] is True
    assert 'name="deviate"' in preview.content.decode()

    refused = owner_client.post(_publish_url(setup), params)
    assert refused.status_code == 200
    assert "deviate from the committed rule" in refused.content.decode()
    assert not Constitution.objects.exists()

    published = owner_client.post(_publish_url(setup), {**params, "deviate": "on"})
    assert published.status_code == 302
    constitution = Constitution.objects.get(workshop=setup.workshop)
    assert constitution.parameters["deviation"] is True
    # The published constitution's page says so too.
    detail = owner_client.get(published["Location"]).content.decode()
    assert "Rule fixed before publishing" in detail
    assert "Published under a different rule" in detail


def test_other_facilitator_gets_404_and_commits_nothing(outsider_client, setup):
    assert outsider_client.post(_commit_url(setup), COMMIT_FORM).status_code == 404
    assert outsider_client.get(_publish_url(setup)).status_code == 404
    assert not RuleCommitment.objects.exists()


def test_anonymous_is_sent_to_log_in_and_commits_nothing(client, setup):
    response = client.post(_commit_url(setup), COMMIT_FORM)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))
    assert not RuleCommitment.objects.exists()


def test_fixing_the_rule_only_accepts_post(owner_client, setup):
    assert owner_client.get(_commit_url(setup)).status_code == 405
