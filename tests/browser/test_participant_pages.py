"""Participant pages in Chromium at phone width: HTMX voting and rank.js."""

from __future__ import annotations

import pytest
from django.urls import reverse

from workbench.deliberation.models import Participant, RankingBallot, Round, Vote
from workbench.deliberation.services.rounds import (
    round_create,
    round_open,
    round_set_shortlist,
)


@pytest.fixture
def rank_round(setup, owner) -> Round:
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.RANK, title="Rank")
    round_set_shortlist(round_=round_, principles=setup.seeds)
    return round_open(round_=round_, actor=owner)


def join(page, live_server, group) -> Participant:
    page.goto(live_server.url + reverse("deliberation:join", args=[group.invite_token]))
    page.get_by_role("button", name="Join the workshop").click()
    page.get_by_role("heading", name="Activities").wait_for()
    return Participant.objects.get()


def test_a_phone_joins_and_votes_on_everything_without_reloading(
    live_server, setup, vote_round, phone
):
    participant = join(phone, live_server, setup.group_a)
    phone.get_by_role("link", name="Vote on principles").click()
    first_url = phone.url
    for n in range(1, 4):
        phone.get_by_role("button", name="Agree", exact=True).click()
        phone.get_by_text(f"You have voted on {n} of 3 principles").wait_for()
    phone.get_by_text("You have voted on everything").wait_for()
    assert phone.url == first_url
    assert Vote.objects.filter(participant=participant, choice=1).count() == 3


def test_the_keyboard_and_dragging_both_reorder_the_shortlist(
    live_server, setup, rank_round, phone
):
    participant = join(phone, live_server, setup.group_a)
    phone.goto(
        live_server.url
        + reverse("deliberation:participant-rank", args=["ai-values", rank_round.pk])
    )
    a, b, c = setup.seeds
    # Keyboard: move the first principle down one place.
    phone.get_by_role("button", name="Move down").first.focus()
    phone.keyboard.press("Enter")
    assert phone.evaluate("document.activeElement.textContent") == "Move down"
    assert (
        phone.locator("#rank-status").text_content().startswith("Moved to position 2")
    )
    # Pointer: drag the last principle's handle above the first.
    handle = phone.locator(".rank-list li").nth(2).locator(".rank-handle")
    target = phone.locator(".rank-list li").nth(0).bounding_box()
    box = handle.bounding_box()
    phone.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    phone.mouse.down()
    phone.mouse.move(target["x"] + 20, target["y"] + 5, steps=8)
    phone.mouse.up()
    phone.get_by_role("button", name="Save my ranking").click()
    phone.get_by_text("Your ranking is saved").wait_for()
    ballot = RankingBallot.objects.get(participant=participant)
    assert ballot.ranking == [c.pk, b.pk, a.pk]


def test_the_rank_page_works_without_javascript(
    live_server, setup, rank_round, browser
):
    context = browser.new_context(
        viewport={"width": 360, "height": 780}, java_script_enabled=False
    )
    page = context.new_page()
    join(page, live_server, setup.group_a)
    page.goto(
        live_server.url
        + reverse("deliberation:participant-rank", args=["ai-values", rank_round.pk])
    )
    a, b, c = setup.seeds
    assert page.get_by_role("button", name="Move up").count() == 0
    page.get_by_role("spinbutton").nth(0).fill("3")
    page.get_by_role("spinbutton").nth(2).fill("1")
    page.get_by_role("button", name="Save my ranking").click()
    page.get_by_text("Your ranking is saved").wait_for()
    context.close()
    assert RankingBallot.objects.get().ranking == [c.pk, b.pk, a.pk]
