"""Presentation mode: the room's projected page with live counts, the opinion map
and the principles every group agrees with, for the workshop's owner only."""

from __future__ import annotations

import re

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.conftest import participant_client
from tests.deliberation.analysis_fixtures import fabricated_result
from tests.factories import ParticipantFactory
from workbench.deliberation.models import VoteChoice, WorkshopAnalysis
from workbench.deliberation.services.votes import vote_cast

HX = {"HX-Request": "true"}


def present_url(setup) -> str:
    return reverse("deliberation:workshop-present", args=[setup.workshop.slug])


def shown_of(html: str) -> str:
    match = re.search(r'id="present-live"[^>]*data-shown="([^"]+)"', html, re.S)
    assert match
    return match.group(1)


def store_analysis(setup) -> WorkshopAnalysis:
    principles = [(p.pk, str(p.pk), p.text) for p in setup.seeds]
    return WorkshopAnalysis.objects.create(
        workshop=setup.workshop,
        computed_at=timezone.now(),
        result=fabricated_result(principles),
    )


def test_the_page_is_large_type_without_the_site_header(owner_client, setup):
    response = owner_client.get(present_url(setup))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="present"' in html
    assert "css/live.css" in html
    assert "every 5s [document.visibilityState" in html
    css = (settings.BASE_DIR / "static" / "css" / "live.css").read_text()
    # 24 px body text at the browser's default 16 px root size.
    assert "body.present { font-size: 1.5rem;" in css
    assert "body.present .site-header { display: none; }" in css


def test_it_says_what_is_missing_before_there_is_data(owner_client, setup):
    html = owner_client.get(present_url(setup)).content.decode()
    assert "No round is open right now." in html
    assert "The map appears once enough people have voted." in html
    assert "No principle has broad agreement yet." in html


def test_live_counts_update_on_the_next_poll(owner_client, setup, vote_round):
    html = owner_client.get(present_url(setup)).content.decode()
    assert re.search(r'id="present-joined">0<', html)
    shown = shown_of(html)
    assert (
        owner_client.get(present_url(setup), {"shown": shown}, headers=HX).status_code
        == 204
    )
    for group in (setup.group_a, setup.group_b):
        vote_cast(
            participant=ParticipantFactory(group=group),
            round_=vote_round,
            principle=setup.seeds[0],
            choice=VoteChoice.AGREE,
        )
    response = owner_client.get(present_url(setup), {"shown": shown}, headers=HX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="present-live"')
    assert re.search(r'id="present-joined">2<', fragment)
    assert re.search(r'class="present-number">2</strong>\s*<span>2 votes', fragment)
    assert "from 2 participants" in fragment


def test_the_map_and_the_consensus_come_from_the_stored_analysis(owner_client, setup):
    before = shown_of(owner_client.get(present_url(setup)).content.decode())
    store_analysis(setup)
    response = owner_client.get(present_url(setup), {"shown": before}, headers=HX)
    assert response.status_code == 200  # a new analysis is a change
    html = response.content.decode()
    assert "<svg" in html and 'id="present-map' in html
    assert "Opinion groups on the map" in html
    # fabricated_result's consensus is the first principle, with its agree share.
    consensus = html.split("present-consensus", 1)[1]
    assert setup.seeds[0].text in consensus
    assert "% agree" in consensus
    assert setup.seeds[2].text not in consensus


def test_principle_text_on_the_map_page_is_escaped(owner_client, setup):
    setup.seeds[0].text = "<script>alert(1)</script> honest"
    principles = [(p.pk, str(p.pk), p.text) for p in setup.seeds]
    WorkshopAnalysis.objects.create(
        workshop=setup.workshop,
        computed_at=timezone.now(),
        result=fabricated_result(principles),
    )
    html = owner_client.get(present_url(setup)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; honest" in html


def test_only_the_owner_sees_it(client, outsider_client, setup, vote_round):
    assert outsider_client.get(present_url(setup)).status_code == 404
    assert outsider_client.get(present_url(setup), headers=HX).status_code == 404
    anonymous = client.get(present_url(setup))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    nurse = participant_client(ParticipantFactory(group=setup.group_a))
    assert nurse.get(present_url(setup)).status_code == 302
