"""A phone endorses a principle in a review round, through HTMX, without a reload."""

from __future__ import annotations

from django.urls import reverse

from workbench.cards.models import CardReview
from workbench.deliberation.models import Participant, Round
from workbench.deliberation.services.rounds import (
    round_create,
    round_open,
    round_set_shortlist,
)


def test_a_phone_endorses_a_principle(live_server, setup, owner, phone):
    round_ = round_create(
        workshop=setup.workshop, kind=Round.Kind.REVIEW, title="Review the wording"
    )
    round_set_shortlist(round_=round_, principles=setup.seeds[:2])
    round_open(round_=round_, actor=owner)
    phone.goto(
        live_server.url
        + reverse("deliberation:join", args=[setup.group_a.invite_token])
    )
    phone.get_by_role("button", name="Join the workshop").click()
    phone.get_by_role("link", name="Review the cards").click()
    url = phone.url
    first = phone.locator(f"#principle-{setup.seeds[0].pk}")
    first.get_by_label("Comment (optional)").fill("Says what we meant.")
    first.get_by_role("button", name="Endorse").click()
    first.get_by_text("Your review is saved.").wait_for()
    assert phone.url == url
    # The swapped card shows the choice; the other card is untouched.
    assert first.get_by_role("button", name="Endorse ✓").is_visible()
    second = phone.locator(f"#principle-{setup.seeds[1].pk}")
    assert second.get_by_text("Not reviewed yet").is_visible()
    # Nothing is wider than the phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    review = CardReview.objects.get()
    assert review.participant == Participant.objects.get()
    assert (review.principle, review.verdict, review.comment) == (
        setup.seeds[0],
        "endorse",
        "Says what we meant.",
    )
