"""The workshop page's live panel: it shows votes, joins, the moderation queue and
the latest judge run as they happen, answers an unchanged poll with 204, and reads
its figures in a number of queries that does not grow with the participants."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import participant_client
from tests.factories import ParticipantFactory
from tests.judging.judging_fixtures import make_offline_run
from workbench.deliberation.models import Round, VoteChoice
from workbench.deliberation.selectors.live import live_dashboard
from workbench.deliberation.services.principles import principle_propose
from workbench.deliberation.services.rounds import round_close, round_create
from workbench.deliberation.services.votes import vote_cast

HX = {"HX-Request": "true"}


def live_url(setup) -> str:
    return reverse("deliberation:workshop-live", args=[setup.workshop.slug])


def shown_of(html: str) -> str:
    match = re.search(r'id="live-panel"[^>]*data-shown="([0-9a-f]+)"', html, re.S)
    assert match, "the panel carries the fingerprint of what it shows"
    return match.group(1)


def vote(participant, round_, principle, choice=VoteChoice.AGREE):
    return vote_cast(
        participant=participant, round_=round_, principle=principle, choice=choice
    )


def test_the_workshop_page_has_the_live_panel_and_the_presentation_link(
    owner_client, setup, vote_round
):
    page = owner_client.get(setup.workshop.get_absolute_url()).content.decode()
    assert 'id="live-panel"' in page
    assert reverse("deliberation:workshop-live", args=[setup.workshop.slug]) in page
    # Polls every LIVE_POLL_SECONDS, only while the tab is visible.
    assert "every 5s [document.visibilityState === 'visible']" in page
    assert 'aria-live="polite"' in page
    assert reverse("deliberation:workshop-present", args=[setup.workshop.slug]) in page


def test_the_poll_interval_comes_from_settings(owner_client, setup, settings):
    settings.WORKBENCH = {**settings.WORKBENCH, "LIVE_POLL_SECONDS": 11}
    page = owner_client.get(live_url(setup)).content.decode()
    assert "every 11s" in page


def test_a_new_vote_shows_on_the_next_poll_and_an_unchanged_poll_is_204(
    owner_client, setup, vote_round
):
    first = owner_client.get(live_url(setup), headers=HX)
    assert first.status_code == 200
    html = first.content.decode()
    shown = shown_of(html)
    assert re.search(
        r'<strong class="live-answers">0 votes',
        html,
    )

    unchanged = owner_client.get(live_url(setup), {"shown": shown}, headers=HX)
    assert unchanged.status_code == 204
    assert unchanged.content == b""

    nurse = ParticipantFactory(group=setup.group_a)
    vote(nurse, vote_round, setup.seeds[0])
    vote(nurse, vote_round, setup.seeds[1], VoteChoice.DISAGREE)

    changed = owner_client.get(live_url(setup), {"shown": shown}, headers=HX)
    assert changed.status_code == 200
    html = changed.content.decode()
    assert re.search(
        r'<strong class="live-answers">2 votes',
        html,
    )
    assert "from 1 participant" in html
    assert shown_of(html) != shown
    # The screen-reader summary rides along out of band, and says the same.
    assert 'id="live-summary" hx-swap-oob="innerHTML"' in html
    assert "2 votes." in html


def test_participation_per_group_counts_joins_and_who_took_part(
    owner_client, setup, vote_round
):
    nurses = [ParticipantFactory(group=setup.group_a) for _ in range(3)]
    ParticipantFactory(group=setup.group_b)
    vote(nurses[0], vote_round, setup.seeds[0])
    vote(nurses[1], vote_round, setup.seeds[0])
    vote(nurses[1], vote_round, setup.seeds[1])

    live = live_dashboard(workshop=setup.workshop)
    assert [(g.name, g.joined) for g in live.groups] == [("Nurses", 3), ("Teachers", 1)]
    [open_round] = live.open_rounds
    assert (open_round.answers, open_round.people) == (3, 2)
    rows = {group.name: people for group, people in live.group_rows}
    assert rows == {"Nurses": [2], "Teachers": [0]}
    assert live.joined == 4


def test_every_kind_of_open_round_counts_its_answers(
    owner_client, owner, setup, vote_round, propose_round
):
    nurse = ParticipantFactory(group=setup.group_a)
    principle_propose(
        participant=nurse,
        round_=propose_round,
        text="Choose the response that says where its facts come from.",
    )
    live = live_dashboard(workshop=setup.workshop)
    by_kind = {r.round.kind: (r.answers, r.people) for r in live.open_rounds}
    assert by_kind == {Round.Kind.VOTE: (0, 0), Round.Kind.PROPOSE: (1, 1)}
    assert live.pending == 1
    html = owner_client.get(live_url(setup)).content.decode()
    assert "1 proposal" in html
    assert 'id="live-pending">1<' in html
    assert reverse("deliberation:moderation-queue", args=[setup.workshop.slug]) in html


def test_a_closed_round_leaves_the_panel(owner_client, owner, setup, vote_round):
    html = owner_client.get(live_url(setup)).content.decode()
    assert vote_round.title in html
    round_close(round_=vote_round, actor=owner)
    html = owner_client.get(live_url(setup)).content.decode()
    assert "No round is open" in html


def test_the_latest_judge_run_and_its_progress(owner_client, setup):
    assert "No judge run yet." in owner_client.get(live_url(setup)).content.decode()
    run = make_offline_run(setup)
    html = owner_client.get(live_url(setup)).content.decode()
    assert reverse("deliberation:judge-run", args=[setup.workshop.slug, run.pk]) in html
    live = live_dashboard(workshop=setup.workshop)
    assert live.judge_run is not None and live.judge_run.pk == run.pk
    assert f'value="{live.judge_run.percent}"' in html


def test_group_names_are_escaped(owner_client, setup, vote_round):
    setup.group_a.name = "<script>alert(1)</script>"
    setup.group_a.save()
    html = owner_client.get(live_url(setup)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, headers=HX).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_participants(
    owner_client, owner, setup, vote_round, propose_round
):
    url = live_url(setup)
    ParticipantFactory(group=setup.group_a)
    few = _queries(owner_client, url)
    for index in range(30):
        participant = ParticipantFactory(
            group=setup.group_a if index % 2 else setup.group_b
        )
        for principle in setup.seeds:
            vote(participant, vote_round, principle)
    principle_propose(
        participant=participant,
        round_=propose_round,
        text="Choose the response that keeps a promise it made earlier.",
    )
    round_create(workshop=setup.workshop, kind=Round.Kind.RANK)  # a draft: not open
    many = _queries(owner_client, url)
    assert many == few
    assert many <= 12


def test_an_outsider_and_a_participant_get_no_panel(
    outsider_client, client, setup, vote_round
):
    assert outsider_client.get(live_url(setup), headers=HX).status_code == 404
    nurse = participant_client(ParticipantFactory(group=setup.group_a))
    response = nurse.get(live_url(setup), headers=HX)
    assert response.status_code == 302  # to the facilitator log in
