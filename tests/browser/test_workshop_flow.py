"""The whole workshop in Chromium: participants join from their group links, propose,
vote and rank on phones; the facilitator approves and publishes on a laptop. The
hostile principle text travels through every page as inert text."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import PASSWORD
from workbench.deliberation.models import (
    Constitution,
    Principle,
    RankingBallot,
    Round,
    Vote,
)
from workbench.deliberation.services.rounds import (
    round_create,
    round_open,
    round_set_shortlist,
)

HOSTILE = 'Choose the response that cites sources <script>alert("owned")</script><b>'


def _join(page, live_server, group):
    page.goto(live_server.url + reverse("deliberation:join", args=[group.invite_token]))
    page.get_by_role("button", name="Join the workshop").click()
    page.get_by_role("heading", name="Activities").wait_for()


def _vote_agree_on_everything(page, n_principles):
    page.get_by_role("link", name="Vote on principles").first.click()
    for n in range(1, n_principles + 1):
        page.get_by_role("button", name="Agree", exact=True).click()
        page.get_by_text(f"You have voted on {n} of {n_principles}").wait_for()
    page.get_by_text("You have voted on everything").wait_for()


def _no_dialogs(page, seen):
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))


def test_participants_propose_vote_and_rank_then_the_facilitator_publishes(
    live_server, setup, owner, propose_round, phone, laptop, browser
):
    dialogs: list[str] = []
    _no_dialogs(phone, dialogs)
    _no_dialogs(laptop, dialogs)

    # A nurse joins from the group link on a phone and proposes a principle.
    _join(phone, live_server, setup.group_a)
    phone.get_by_role("link", name="Propose principles").click()
    phone.get_by_label("Your principle").fill(HOSTILE)
    phone.get_by_role("button", name="Submit my principle").click()
    phone.get_by_text("Waiting for approval").wait_for()
    proposed = Principle.objects.get(text=HOSTILE)
    assert proposed.status == Principle.Status.PENDING

    # The facilitator logs in on a laptop and approves it from the queue.
    laptop.goto(live_server.url + reverse("accounts:login"))
    laptop.get_by_label("Username").fill(owner.username)
    laptop.get_by_label("Password").fill(PASSWORD)
    laptop.get_by_role("button", name="Log in").click()
    laptop.goto(
        live_server.url
        + reverse("deliberation:moderation-queue", args=[setup.workshop.slug])
    )
    laptop.get_by_text(HOSTILE).wait_for()  # shown as text, tags and all
    laptop.get_by_role("button", name="Approve").first.click()
    laptop.get_by_text("Nothing to review.").wait_for()
    proposed.refresh_from_db()
    assert proposed.status == Principle.Status.APPROVED

    # Voting opens for everyone; a nurse and a teacher agree with everything.
    vote_round = round_open(
        round_=round_create(workshop=setup.workshop, kind=Round.Kind.VOTE),
        actor=owner,
    )
    phone.goto(
        live_server.url + reverse("deliberation:participant-home", args=["ai-values"])
    )
    _vote_agree_on_everything(phone, 4)
    teacher_context = browser.new_context(viewport={"width": 360, "height": 780})
    teacher = teacher_context.new_page()
    _no_dialogs(teacher, dialogs)
    _join(teacher, live_server, setup.group_b)
    _vote_agree_on_everything(teacher, 4)
    assert Vote.objects.filter(round=vote_round, choice=1).count() == 2 * 4

    # The nurse ranks the shortlist, putting the proposal first by keyboard.
    rank_round = round_create(workshop=setup.workshop, kind=Round.Kind.RANK)
    round_set_shortlist(round_=rank_round, principles=[*setup.seeds[:2], proposed])
    round_open(round_=rank_round, actor=owner)
    phone.goto(
        live_server.url
        + reverse("deliberation:participant-rank", args=["ai-values", rank_round.pk])
    )
    # The proposal is listed last; focus stays on its button as it moves up.
    phone.get_by_role("button", name="Move up").last.focus()
    phone.keyboard.press("Enter")
    phone.keyboard.press("Enter")
    phone.get_by_role("button", name="Save my ranking").click()
    phone.get_by_text("Your ranking is saved").wait_for()
    ballot = RankingBallot.objects.get(round=rank_round)
    assert ballot.ranking[0] == proposed.pk

    # The facilitator previews the CCAI rule and publishes the constitution.
    laptop.goto(
        live_server.url
        + reverse("deliberation:constitution-publish", args=[setup.workshop.slug])
    )
    laptop.get_by_label("Threshold (agree share, 0 to 1)").fill("0.8")
    laptop.get_by_role("button", name="Preview").click()
    laptop.get_by_role("button", name="Publish this constitution").click()
    laptop.get_by_text(HOSTILE).first.wait_for()
    constitution = Constitution.objects.get(workshop=setup.workshop)
    assert {p["id"] for p in constitution.principles} == {
        proposed.pk,
        *(s.pk for s in setup.seeds),
    }
    assert constitution.rule == "ccai"
    assert constitution.parameters["threshold"] == 0.8

    # No page ever ran the participant's script.
    teacher_context.close()
    assert dialogs == []
