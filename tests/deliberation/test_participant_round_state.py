"""A participant's open pages follow the rounds: a round that closes says so (and
what to do next), a round that opens for their group appears on the home page, and
nothing they typed is lost when a submit fails."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.conftest import participant_client
from tests.factories import ParticipantFactory
from workbench.deliberation.models import Principle, Round
from workbench.deliberation.services.rounds import round_close, round_create, round_open

HX = {"HX-Request": "true"}


def status_url(round_: Round) -> str:
    return reverse(
        "deliberation:participant-round-status",
        kwargs={"slug": round_.workshop.slug, "pk": round_.pk},
    )


def home_status_url(setup) -> str:
    return reverse("deliberation:participant-status", args=[setup.workshop.slug])


def page_url(name: str, round_: Round) -> str:
    return reverse(
        f"deliberation:participant-{name}",
        kwargs={"slug": round_.workshop.slug, "pk": round_.pk},
    )


def polled_query(page: str, element_id: str) -> str:
    """The `shown` value of the hx-get the page's element polls with."""
    match = re.search(rf'id="{element_id}"[^>]*hx-get="([^"]+)"', page, re.S)
    assert match, f"#{element_id} polls"
    url = html_lib.unescape(match.group(1))
    return url.split("shown=", 1)[1]


def test_each_round_page_polls_its_round_status(setup, participant_a, vote_round):
    client = participant_client(participant_a)
    for name in ("vote", "vote-list"):
        page = client.get(page_url(name, vote_round)).content.decode()
        assert status_url(vote_round) in page
        assert polled_query(page, "round-status") == "open"
        assert 'class="round-status-live" aria-live="polite"' in page
        assert "every 10s [document.visibilityState" in page


def test_an_open_round_that_stays_open_is_answered_204(participant_a, vote_round):
    client = participant_client(participant_a)
    response = client.get(status_url(vote_round), {"shown": "open"}, headers=HX)
    assert response.status_code == 204


def test_the_closed_banner_appears_when_the_round_closes(
    owner, participant_a, vote_round
):
    client = participant_client(participant_a)
    round_close(round_=vote_round, actor=owner)
    response = client.get(status_url(vote_round), {"shown": "open"}, headers=HX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert 'data-round-state="closed"' in fragment
    assert 'data-changed="1"' in fragment
    assert "This activity has just closed." in fragment
    home = reverse("deliberation:participant-home", args=[vote_round.workshop.slug])
    assert home in fragment  # the next step: back to what is open now
    # The next poll carries the new state, and is quiet again.
    assert polled_query(fragment, "round-status") == "closed"
    again = client.get(status_url(vote_round), {"shown": "closed"}, headers=HX)
    assert again.status_code == 204


def test_a_page_opened_after_the_close_shows_it_closed_without_forms(
    owner, setup, participant_a, vote_round, propose_round
):
    round_close(round_=vote_round, actor=owner)
    round_close(round_=propose_round, actor=owner)
    client = participant_client(participant_a)
    for name, round_ in (
        ("vote", vote_round),
        ("vote-list", vote_round),
        ("propose", propose_round),
    ):
        page = client.get(page_url(name, round_)).content.decode()
        assert "This activity is closed." in page
        assert 'data-round-state="closed"' in page
        assert '<form method="post"' not in page.split('id="main"', 1)[1]


def test_a_round_whose_window_opens_says_so_with_a_way_to_take_part(
    owner, setup, participant_a
):
    later = round_open(
        round_=round_create(
            workshop=setup.workshop,
            kind=Round.Kind.VOTE,
            opens_at=timezone.now() + timedelta(hours=1),
        ),
        actor=owner,
    )
    client = participant_client(participant_a)
    page = client.get(page_url("vote", later)).content.decode()
    assert polled_query(page, "round-status") == "not_yet_open"
    assert "This activity has not opened yet." in page
    Round.objects.filter(pk=later.pk).update(
        opens_at=timezone.now() - timedelta(minutes=1)
    )
    response = client.get(status_url(later), {"shown": "not_yet_open"}, headers=HX)
    fragment = response.content.decode()
    assert 'data-round-state="open"' in fragment
    assert "This activity is open now." in fragment
    assert 'href=""' in fragment  # reload this page


def test_another_groups_round_status_is_404(owner, setup, participant_a):
    teachers_only = round_open(
        round_=round_create(
            workshop=setup.workshop,
            kind=Round.Kind.VOTE,
            scope=Round.Scope.GROUP,
            group=setup.group_b,
        ),
        actor=owner,
    )
    client = participant_client(participant_a)
    assert client.get(status_url(teachers_only), headers=HX).status_code == 404
    teacher = participant_client(ParticipantFactory(group=setup.group_b))
    assert teacher.get(status_url(teachers_only), headers=HX).status_code == 200


def test_a_browser_that_did_not_join_gets_no_status(client, setup, vote_round):
    assert client.get(status_url(vote_round), headers=HX).status_code == 403
    assert client.get(home_status_url(setup), headers=HX).status_code == 403


def test_a_round_that_opens_for_the_group_appears_on_the_home_page(
    owner, setup, participant_a, vote_round
):
    client = participant_client(participant_a)
    home = client.get(
        reverse("deliberation:participant-home", args=[setup.workshop.slug])
    ).content.decode()
    shown = polled_query(home, "activities")
    assert shown == f"{vote_round.pk}-open"
    quiet = client.get(home_status_url(setup), {"shown": shown}, headers=HX)
    assert quiet.status_code == 204

    # A round for the other group changes nothing for this participant.
    round_open(
        round_=round_create(
            workshop=setup.workshop,
            kind=Round.Kind.PROPOSE,
            title="Teachers only",
            scope=Round.Scope.GROUP,
            group=setup.group_b,
        ),
        actor=owner,
    )
    quiet = client.get(home_status_url(setup), {"shown": shown}, headers=HX)
    assert quiet.status_code == 204

    nurses = round_open(
        round_=round_create(
            workshop=setup.workshop,
            kind=Round.Kind.PROPOSE,
            title="Nurses write principles",
            scope=Round.Scope.GROUP,
            group=setup.group_a,
        ),
        actor=owner,
    )
    response = client.get(home_status_url(setup), {"shown": shown}, headers=HX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="activities"')
    assert "Nurses write principles" in fragment
    assert "Teachers only" not in fragment
    assert page_url("propose", nurses) in fragment
    assert polled_query(fragment, "activities") == (
        f"{vote_round.pk}-open.{nurses.pk}-open"
    )


# Nothing typed is lost.


def test_a_refused_proposal_comes_back_with_its_text(participant_a, propose_round):
    client = participant_client(participant_a)
    text = "Choose the response that " + "is long " * 60
    assert len(text) > settings.WORKBENCH["PRINCIPLE_MAX_LENGTH"]
    for headers in ({}, HX):
        response = client.post(
            page_url("propose", propose_round), {"text": text}, headers=headers
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert 'role="alert"' in page
        assert text.strip() in html_lib.unescape(page)
    assert not Principle.objects.filter(author=participant_a).exists()


def test_the_propose_form_keeps_its_text_through_htmx(participant_a, propose_round):
    page = participant_client(participant_a).get(page_url("propose", propose_round))
    form = re.search(
        r'<form method="post"[^>]*propose-form[^>]*>', page.content.decode()
    )
    assert form
    tag = form.group(0)
    assert 'hx-target="#main"' in tag and 'hx-select="#main"' in tag
    assert "data-swap-invalid" in tag  # its 400 page is swapped in (static/js/live.js)
    assert 'class="request-busy"' in page.content.decode()


def test_a_closed_propose_round_refuses_and_gives_the_text_back(
    owner, participant_a, propose_round
):
    client = participant_client(participant_a)
    round_close(round_=propose_round, actor=owner)
    text = "Choose the response that admits a mistake."
    response = client.post(page_url("propose", propose_round), {"text": text})
    assert response.status_code == 400
    page = response.content.decode()
    assert text in page
    assert "This activity is closed." in page


def test_the_page_loads_the_live_script_with_translated_messages(
    participant_a, vote_round
):
    page = participant_client(participant_a).get(page_url("vote", vote_round))
    html = page.content.decode()
    assert "js/live.js" in html
    assert "data-send-error=" in html and "data-server-error=" in html
    script = (settings.BASE_DIR / "static" / "js" / "live.js").read_text()
    for event in ("htmx:responseError", "htmx:sendError", "htmx:beforeSwap"):
        assert event in script


def test_a_refused_comparison_gives_its_reason_back(setup, owner, tmp_path):
    from tests.judging.test_compare_rounds import compare_round, make_set
    from workbench.judging.models import HumanJudgment, Order
    from workbench.judging.services.compare import compare_next_item

    round_ = compare_round(setup, owner, make_set(setup.workshop, tmp_path, 2))
    participant = ParticipantFactory(group=setup.group_a)
    item, order = compare_next_item(participant=participant, round_=round_)
    stale = Order.BA if order == Order.AB else Order.AB
    reason = "Response 1 <b>cites</b> its sources."
    response = participant_client(participant).post(
        page_url("compare", round_),
        {"item": item.pk, "shown_order": stale, "choice": "1", "reason": reason},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This page was out of date" in page
    assert "Your reason is still in the box below." in page
    assert html_lib.escape(reason) in page.split('id="compare-reason"', 1)[1]
    assert not HumanJudgment.objects.exists()


def test_a_refused_review_gives_its_comment_back(setup, owner, participant_a):
    from tests.cards.test_review import review_round_for, review_url

    round_ = review_round_for(setup, owner, setup.seeds[:1])
    client = participant_client(participant_a)
    comment = "Too vague: say who decides."
    round_close(round_=round_, actor=owner)
    data = {"principle": setup.seeds[0].pk, "verdict": "object", "comment": comment}
    response = client.post(review_url(round_), data, headers=HX)
    # A closed round's card has no form left; the HTMX answer still carries the
    # error, and without HTMX the page comes back with the comment kept.
    assert (
        "This activity is not open, so nothing was saved." in response.content.decode()
    )
    round_ = review_round_for(setup, owner, setup.seeds[:1])
    data["comment"] = "x" * 1001
    for headers in (HX, {}):
        response = client.post(review_url(round_), data, headers=headers)
        page = response.content.decode()
        assert response.status_code in (200, 400)
        assert 'role="alert"' in page
        textarea = page.split(f'id="comment-principle-{setup.seeds[0].pk}"', 1)[1]
        assert textarea.split(">", 1)[1].startswith("x" * 1001)
