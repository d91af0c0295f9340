"""Voting, ranking, comparing and reviewing with the keyboard alone (Tab, Enter,
Space, arrow keys), with the focus visible on every control it reaches."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from workbench.cards.models import CardReview
from workbench.deliberation.models import RankingBallot, Round, Vote
from workbench.deliberation.services.rounds import (
    round_create,
    round_open,
    round_set_shortlist,
)
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.models import HumanJudgment

MAX_TABS = 60
FOCUS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    name: (el.getAttribute("aria-label") || el.textContent || "").trim(),
    label: el.labels && el.labels.length ? el.labels[0].textContent.trim() : "",
    focusVisible: el.matches(":focus-visible"),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== "none",
  };
}"""


def tab_to(page: Any, name: str, *, key: str = "Tab") -> dict[str, Any]:
    """Presses Tab until the control named `name` (its text or its label) has the
    focus, and checks the focus can be seen there."""
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        focus: dict[str, Any] = page.evaluate(FOCUS)
        if name in (focus["name"], focus["label"]):
            assert focus["focusVisible"], f"{name}: not :focus-visible"
            assert focus["outline"] or focus["shadow"], f"{name}: no visible focus"
            return focus
    pytest.fail(f"{MAX_TABS} presses of {key} never reached {name!r}")


def follow(page: Any, link: str) -> None:
    """Tabs to a link and follows it with Enter."""
    tab_to(page, link)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def join_by_keyboard(page: Any, live_server: Any, group: Any) -> None:
    page.goto(live_server.url + reverse("deliberation:join", args=[group.invite_token]))
    follow(page, "Join the workshop")
    page.get_by_role("heading", name="Activities").wait_for()


def test_voting_by_keyboard(live_server, setup, vote_round, laptop):
    join_by_keyboard(laptop, live_server, setup.group_a)
    follow(laptop, "Vote on principles")
    tab_to(laptop, "Agree")
    laptop.keyboard.press("Enter")
    laptop.get_by_text("You have voted on 1 of 3 principles").wait_for()
    # The next principle takes the focus, so Tab goes on from there.
    tab_to(laptop, "Disagree")
    laptop.keyboard.press("Space")
    laptop.get_by_text("You have voted on 2 of 3 principles").wait_for()
    tab_to(laptop, "Pass / unsure")
    laptop.keyboard.press("Enter")
    laptop.get_by_text("You have voted on everything").wait_for()
    choices = Vote.objects.order_by("cast_at").values_list("choice", flat=True)
    assert list(choices) == [1, -1, 0]


def test_ranking_by_keyboard(live_server, setup, owner, laptop):
    rank = round_create(workshop=setup.workshop, kind=Round.Kind.RANK, title="Rank")
    round_set_shortlist(round_=rank, principles=setup.seeds)
    round_open(round_=rank, actor=owner)
    a, b, c = setup.seeds
    join_by_keyboard(laptop, live_server, setup.group_a)
    follow(laptop, "Rank the shortlist")
    # The first principle's Move up is disabled, so its Move down comes first.
    tab_to(laptop, "Move down")
    laptop.keyboard.press("Enter")  # a: 1 -> 2
    laptop.keyboard.press("ArrowDown")  # a: 2 -> 3, the focus moves to Move up
    assert laptop.evaluate("document.activeElement.textContent") == "Move up"
    status = laptop.locator("#rank-status").text_content()
    assert status.startswith("Moved to position 3")
    follow(laptop, "Save my ranking")
    laptop.get_by_text("Your ranking is saved").wait_for()
    assert RankingBallot.objects.get().ranking == [b.pk, c.pk, a.pk]


def test_comparing_by_keyboard(live_server, setup, owner, laptop, tmp_path):
    rows = [
        {
            "item": f"i{n}",
            "principle": setup.seeds[1].text,
            "prompt": f"Question {n}: what is Ann's address?",
            "response_a": "I cannot share where a private person lives.",
            "response_b": "She lives at 12 High Street.",
        }
        for n in range(2)
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    comparison_set = comparisons_import(workshop=setup.workshop, path=path)
    compare = round_create(workshop=setup.workshop, kind=Round.Kind.COMPARE)
    comparison_set.comparison_set.round = compare
    comparison_set.comparison_set.save(update_fields=["round"])
    round_open(round_=compare, actor=owner)

    join_by_keyboard(laptop, live_server, setup.group_a)
    follow(laptop, "Compare responses")
    tab_to(laptop, "Response 1 better follows it")
    laptop.keyboard.press("Enter")
    laptop.get_by_text("You have compared 1 of 2 pairs.").wait_for()
    tab_to(laptop, "Why? (optional)")
    laptop.keyboard.type("Both are fine here.")
    tab_to(laptop, "Equally")
    laptop.keyboard.press("Space")
    laptop.get_by_text("You have compared every pair").wait_for()
    judgments = HumanJudgment.objects.order_by("created_at")
    assert judgments.count() == 2
    assert judgments.last().label == "tie"
    assert judgments.last().reason == "Both are fine here."


def test_reviewing_by_keyboard(live_server, setup, owner, laptop):
    review = round_create(
        workshop=setup.workshop, kind=Round.Kind.REVIEW, title="Review the wording"
    )
    round_set_shortlist(round_=review, principles=setup.seeds[:2])
    round_open(round_=review, actor=owner)
    join_by_keyboard(laptop, live_server, setup.group_a)
    follow(laptop, "Review the cards")
    tab_to(laptop, "Comment (optional)")
    laptop.keyboard.type("Says what we meant.")
    tab_to(laptop, "Endorse")
    laptop.keyboard.press("Enter")
    laptop.get_by_text("Your review is saved.").first.wait_for()
    review_row = CardReview.objects.get()
    assert (review_row.principle, review_row.verdict, review_row.comment) == (
        setup.seeds[0],
        "endorse",
        "Says what we meant.",
    )
