"""The participant's and the facilitator's whole journeys in Chromium, at phone and
laptop sizes, in English and in Spanish.

The browser asks for its language the way a real one does (Accept-Language from
the context's locale); every page must then say `<html lang=…>` in it. The texts the
tests look for are the interface's own, through Django's translation catalogues,
so the Spanish runs find the Spanish words where the translation has them.

A participant joins from the invite link, proposes, votes, ranks and compares. The
facilitator approves the proposal, publishes a constitution, starts an offline
judge run and watches it finish (a real Celery worker runs it), and downloads the
value-card PDF the worker renders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from tests.browser.test_encoding_gap_browser import write_items
from tests.conftest import PASSWORD
from tests.factories import ParticipantFactory
from tests.worker import worker_factory  # noqa: F401 - the fixture, used by name
from workbench.deliberation.models import (
    Constitution,
    Principle,
    RankingBallot,
    Round,
    Vote,
    VoteChoice,
)
from workbench.deliberation.services.principles import principle_propose
from workbench.deliberation.services.rounds import (
    round_create,
    round_open,
    round_set_shortlist,
)
from workbench.deliberation.services.votes import vote_cast
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.models import HumanJudgment, JudgeRun

LANGUAGES = ["en", "es"]
SIZES = ["phone", "laptop"]
PROPOSAL = "Choose the response that says where its facts come from."


def t(language: str, text: str) -> str:
    """The interface's text in `language`, as the page shows it."""
    with translation.override(language):
        return translation.gettext(text)


def assert_language(page: Any, language: str) -> None:
    assert page.locator("html").get_attribute("lang") == language


def wait_for_progress(page: Any, value: int) -> None:
    page.wait_for_function(
        "v => document.querySelector('progress.vote-progress-bar').value == v",
        arg=value,
    )


@pytest.fixture
def rounds(setup, owner, tmp_path) -> dict[str, Round]:
    """Propose, vote, rank and compare rounds, all open at once."""
    made = {}
    for kind in (Round.Kind.PROPOSE, Round.Kind.VOTE, Round.Kind.RANK):
        made[kind] = round_create(workshop=setup.workshop, kind=kind)
    round_set_shortlist(round_=made[Round.Kind.RANK], principles=setup.seeds)
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "item": f"i{n}",
                    "principle": setup.seeds[1].text,
                    "prompt": f"Question {n}: where does Ann live?",
                    "response_a": "I cannot share where a private person lives.",
                    "response_b": "She lives at 12 High Street.",
                }
            )
            + "\n"
            for n in range(2)
        )
    )
    comparison_set = comparisons_import(workshop=setup.workshop, path=path)
    made[Round.Kind.COMPARE] = round_create(
        workshop=setup.workshop, kind=Round.Kind.COMPARE
    )
    comparison_set.comparison_set.round = made[Round.Kind.COMPARE]
    comparison_set.comparison_set.save(update_fields=["round"])
    for round_ in made.values():
        round_open(round_=round_, actor=owner)
    return made


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_participant_joins_proposes_votes_ranks_and_compares(
    live_server, setup, rounds, open_page, language, size
):
    page = open_page(size, language)
    home = live_server.url + reverse(
        "deliberation:participant-home", args=[setup.workshop.slug]
    )

    # Joining from the group's invite link.
    invite = reverse("deliberation:join", args=[setup.group_a.invite_token])
    page.goto(live_server.url + invite)
    assert_language(page, language)
    page.get_by_role("button", name=t(language, "Join the workshop")).click()
    page.get_by_role("heading", name=t(language, "Activities")).wait_for()
    assert_language(page, language)

    # Proposing a principle: it waits for the facilitator's approval.
    page.get_by_role("link", name=t(language, "Propose principles")).click()
    page.get_by_label(t(language, "Your principle")).fill(PROPOSAL)
    page.get_by_role("button", name=t(language, "Submit my principle")).click()
    page.get_by_text(t(language, "Waiting for approval")).first.wait_for()
    assert Principle.objects.get(text=PROPOSAL).status == Principle.Status.PENDING

    # Voting on the three approved principles, through HTMX.
    page.goto(home)
    page.get_by_role("link", name=t(language, "Vote on principles")).click()
    assert_language(page, language)
    agree = t(language, "Agree")
    for n in range(1, 4):
        page.get_by_role("button", name=agree, exact=True).click()
        wait_for_progress(page, n)
    page.get_by_text(t(language, "You have voted on everything. Thank you!")).wait_for()
    assert Vote.objects.filter(choice=VoteChoice.AGREE).count() == 3

    # Ranking: the last principle goes to the top with its Move up button.
    page.goto(home)
    page.get_by_role("link", name=t(language, "Rank the shortlist")).click()
    assert_language(page, language)
    move_up = page.get_by_role("button", name=t(language, "Move up"))
    move_up.last.click()
    move_up.nth(1).click()
    page.get_by_role("button", name=t(language, "Save my ranking")).click()
    page.locator(".message-success").wait_for()
    a, b, c = setup.seeds
    assert RankingBallot.objects.get().ranking == [c.pk, a.pk, b.pk]

    # Comparing two responses under a principle, twice.
    page.goto(home)
    page.get_by_role("link", name=t(language, "Compare responses")).click()
    assert_language(page, language)
    first = t(language, "Response 1 better follows it")
    page.get_by_role("button", name=first).click()
    wait_for_progress(page, 1)
    page.get_by_role("button", name=t(language, "Equally")).click()
    page.get_by_text(t(language, "You have compared every pair. Thank you!")).wait_for()
    first_pair, second_pair = HumanJudgment.objects.order_by("created_at")
    # Response 1 is whichever the page showed first: the item's A or its B.
    assert first_pair.label == ("a" if first_pair.shown_order == "ab" else "b")
    assert second_pair.label == "tie"


@pytest.fixture
def judged_workshop(setup, owner, vote_round, propose_round, tmp_path) -> Principle:
    """Votes enough to publish, a proposal waiting in the queue, and a comparison
    set with human labels; returns the proposal."""
    for group in (setup.group_a, setup.group_b):
        for _ in range(2):
            participant = ParticipantFactory(group=group)
            for seed in setup.seeds:
                vote_cast(
                    participant=participant,
                    round_=vote_round,
                    principle=seed,
                    choice=VoteChoice.AGREE,
                )
    path = tmp_path / "privacy.jsonl"
    write_items(path)
    comparisons_import(workshop=setup.workshop, path=path, name="Privacy pairs")
    return principle_propose(
        participant=ParticipantFactory(group=setup.group_a),
        round_=propose_round,
        text=PROPOSAL,
    )


@pytest.mark.worker
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_facilitator_moderates_publishes_judges_and_downloads_the_cards(
    live_server,
    setup,
    owner,
    judged_workshop,
    worker_factory,  # noqa: F811
    open_page,
    settings,
    monkeypatch,
    tmp_path: Path,
    language,
    size,
):
    # The worker is another process: it writes the PDF where the server reads it.
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
    worker = worker_factory()
    page = open_page(size, language)
    slug = setup.workshop.slug

    page.goto(live_server.url + reverse("accounts:login"))
    assert_language(page, language)
    page.get_by_label(t(language, "Username")).fill(owner.username)
    page.get_by_label(t(language, "Password")).fill(PASSWORD)
    page.get_by_role("button", name=t(language, "Log in")).click()
    page.get_by_role("heading", name=t(language, "Workshops")).wait_for()

    # Moderating: the participant's proposal is approved from the queue.
    page.goto(live_server.url + reverse("deliberation:moderation-queue", args=[slug]))
    assert_language(page, language)
    page.get_by_text(PROPOSAL).wait_for()
    page.get_by_role("button", name=t(language, "Approve")).first.click()
    page.get_by_text(t(language, "Nothing to review.")).wait_for()
    judged_workshop.refresh_from_db()
    assert judged_workshop.status == Principle.Status.APPROVED

    # Publishing what the CCAI rule adopts.
    page.goto(
        live_server.url + reverse("deliberation:constitution-publish", args=[slug])
    )
    assert_language(page, language)
    page.get_by_label(t(language, "Threshold (agree share, 0 to 1)")).fill("0.8")
    page.get_by_role("button", name=t(language, "Preview")).click()
    page.get_by_role("button", name=t(language, "Publish this constitution")).click()
    page.get_by_text(setup.seeds[0].text).first.wait_for()
    constitution = Constitution.objects.get(workshop=setup.workshop)
    assert constitution.parameters["threshold"] == 0.8

    # Starting an offline judge run; its page follows the worker to the end.
    page.goto(live_server.url + reverse("deliberation:judging", args=[slug]))
    assert_language(page, language)
    choose = page.get_by_role("combobox", name=t(language, "Comparison set"))
    choose.select_option(label="Privacy pairs")
    page.get_by_role("combobox", name=t(language, "Judge")).select_option("offline")
    page.get_by_role("button", name=t(language, "Start run")).click()
    page.get_by_text(t(language, "Judge run started.")).wait_for()
    progress = page.locator("#run-progress")
    progress.get_by_text(t(language, "Done"), exact=True).wait_for(timeout=60_000)
    assert float(page.locator("#run-progress-bar").get_attribute("value")) == 100
    run = JudgeRun.objects.get()
    assert run.status == JudgeRun.Status.DONE, worker.output[-2000:]
    assert run.verdicts_total > 0

    # The value-card PDF: the worker renders it while the page polls.
    page.goto(live_server.url + reverse("deliberation:workshop-detail", args=[slug]))
    page.get_by_role("link", name=t(language, "Value cards (PDF)")).click()
    assert_language(page, language)
    page.get_by_text(t(language, "The PDF is ready.")).wait_for(timeout=45_000)
    with page.expect_download() as download_info:
        page.get_by_role(
            "link", name=t(language, "Download the value cards (PDF)")
        ).click()
    download = download_info.value
    assert download.suggested_filename == f"{slug}-value-cards.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")
