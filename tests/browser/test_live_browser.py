"""Live pages in Chromium: the facilitator's dashboard counts a vote cast in
another browser without a reload, a participant's page says when its round closes
and switches its form off, and a proposal survives a server error."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD
from workbench.deliberation.models import Principle
from workbench.deliberation.services.rounds import round_close


@pytest.fixture
def fast_polls(settings):
    settings.WORKBENCH = {
        **settings.WORKBENCH,
        "LIVE_POLL_SECONDS": 1,
        "ROUND_STATUS_POLL_SECONDS": 1,
    }


def _join(page, live_server, group):
    page.goto(live_server.url + reverse("deliberation:join", args=[group.invite_token]))
    page.get_by_role("button", name="Join the workshop").click()
    page.get_by_role("heading", name="Activities").wait_for()


def _log_in(page, live_server, owner):
    page.goto(live_server.url + reverse("accounts:login"))
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _mark_page(page):
    """Marks the loaded document: the mark survives HTMX swaps, not a reload."""
    page.evaluate("window.__noReload = true")


def _not_reloaded(page) -> bool:
    return bool(page.evaluate("window.__noReload === true"))


def test_the_dashboard_counts_a_vote_from_another_browser_without_a_reload(
    live_server, setup, owner, vote_round, fast_polls, laptop, phone
):
    _log_in(laptop, live_server, owner)
    laptop.goto(live_server.url + setup.workshop.get_absolute_url())
    panel = laptop.locator("#live-panel")
    answers = panel.locator(".live-answers")
    assert answers.inner_text() == "0 votes"
    _mark_page(laptop)

    _join(phone, live_server, setup.group_a)
    phone.get_by_role("link", name="Vote on principles").click()
    phone.get_by_role("button", name="Agree", exact=True).click()
    phone.get_by_text("You have voted on 1 of 3").wait_for()

    laptop.locator("#live-panel .live-answers", has_text="1 vote").wait_for()
    assert _not_reloaded(laptop)
    assert laptop.locator("#live-joined").inner_text() == "1"
    summary = laptop.locator("#live-summary")
    assert summary.get_attribute("aria-live") == "polite"
    assert "1 vote" in summary.inner_text()


def test_a_participant_sees_the_round_close_and_the_form_switch_off(
    live_server, setup, owner, vote_round, fast_polls, phone
):
    _join(phone, live_server, setup.group_a)
    phone.get_by_role("link", name="Vote on principles").click()
    agree = phone.get_by_role("button", name="Agree", exact=True)
    assert agree.is_enabled()
    _mark_page(phone)

    round_close(round_=vote_round, actor=owner)

    phone.get_by_text("This activity has just closed.").wait_for()
    assert _not_reloaded(phone)
    assert agree.is_disabled()
    phone.get_by_role(
        "link", name="Go back to the workshop to see what is open now"
    ).click()
    phone.get_by_role("heading", name="Activities").wait_for()
    phone.get_by_text("Nothing is open right now.").wait_for()


def test_a_proposal_survives_a_server_error(
    live_server, setup, propose_round, fast_polls, phone
):
    _join(phone, live_server, setup.group_a)
    phone.get_by_role("link", name="Propose principles").click()
    text = "Choose the response that says which sources it relied on."
    phone.get_by_label("Your principle").fill(text)

    def fail_posts(route):
        if route.request.method == "POST":
            route.fulfill(status=500, body="Server Error (500)")
        else:
            route.continue_()

    propose_path = re.compile(r".*/rounds/\d+/propose/$")
    phone.route(propose_path, fail_posts)
    phone.get_by_role("button", name="Submit my principle").click()
    alert = phone.locator(".request-error")
    alert.wait_for()
    assert "something went wrong" in alert.inner_text()
    assert alert.get_attribute("role") == "alert"
    assert phone.get_by_label("Your principle").input_value() == text
    assert not Principle.objects.filter(text=text).exists()

    # The server is back: the same click sends the same text.
    phone.unroute(propose_path)
    phone.get_by_role("button", name="Submit my principle").click()
    phone.get_by_text("Waiting for approval").wait_for()
    assert Principle.objects.filter(text=text).count() == 1
    assert phone.get_by_label("Your principle").input_value() == ""
    assert phone.locator(".request-error").count() == 0
