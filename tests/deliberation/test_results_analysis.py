"""The analysis section of the facilitator's results page, and the rule comparison
on the publish page, read from a stored WorkshopAnalysis."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.deliberation.analysis_fixtures import HOSTILE, fabricated_result
from tests.factories import ParticipantFactory
from workbench.deliberation.models import VoteChoice, WorkshopAnalysis
from workbench.deliberation.services.analysis import analysis_watermarks
from workbench.deliberation.services.votes import vote_cast

SLUG = "ai-values"


def url(name: str) -> str:
    return reverse(f"deliberation:{name}", kwargs={"slug": SLUG})


def store(workshop, result, **fields) -> WorkshopAnalysis:
    """A run that saw everything so far, unless `fields` say otherwise."""
    marks = analysis_watermarks(workshop_id=workshop.pk)
    fields = {
        "vote_watermark": marks.votes,
        "moderation_watermark": marks.moderation,
        "ballot_watermark": marks.ballots,
        **fields,
    }
    return WorkshopAnalysis.objects.create(
        workshop=workshop,
        computed_at=timezone.now(),
        n_votes=result.get("n_votes", 0),
        n_participants=result.get("n_participants", 0),
        result=result,
        **fields,
    )


def seeded_result(setup, **kwargs):
    principles = [(p.pk, str(p.pk), p.text) for p in setup.seeds]
    principles[0] = (principles[0][0], principles[0][1], "Be honest " + HOSTILE)
    return fabricated_result(principles, **kwargs)


def test_results_page_says_when_there_is_no_analysis(owner_client, setup):
    response = owner_client.get(url("results"))
    assert response.status_code == 200
    assert "No analysis yet" in response.content.decode()


def test_results_page_shows_every_section_of_the_stored_analysis(owner_client, setup):
    store(setup.workshop, seeded_result(setup))
    response = owner_client.get(url("results"))
    page = response.content.decode()
    assert response.status_code == 200
    for text in (
        "Computed",
        "from 24 votes by 8 participants",
        'class="opinion-map"',
        "Opinion groups on the map",
        "positions on the map",
        "By opinion group",
        "By participant group",
        "Broad agreement",
        "Divisive",
        "What sets each group apart",
        "Rules compared",
        "Rules differ",
        "Agree share ≥ threshold in every group (CCAI)",
    ):
        assert text in page, text
    assert "Opinion group A" in page
    assert "Updating…" not in page


def test_analysis_text_is_escaped(owner_client, setup):
    result = seeded_result(setup, participant_groups=(HOSTILE, "Teachers"))
    result["message"] = HOSTILE
    store(setup.workshop, result)
    for name in ("results", "results-analysis", "constitution-publish"):
        page = owner_client.get(url(name)).content.decode()
        assert "<script>alert" not in page, name
        assert "<b>bold</b>" not in page, name
        assert "&lt;script&gt;" in page, name


def test_not_enough_data_is_explained(owner_client, setup):
    store(
        setup.workshop,
        {"status": "not_enough_data", "message": "Only 2 participants voted."},
    )
    page = owner_client.get(url("results")).content.decode()
    assert "not enough data yet" in page
    assert "Only 2 participants voted." in page
    assert "opinion-map" not in page


def test_new_votes_mark_the_analysis_as_updating(
    owner_client, setup, participant_a, vote_round
):
    store(setup.workshop, seeded_result(setup), vote_watermark=0)
    vote_cast(
        participant=participant_a,
        round_=vote_round,
        principle=setup.seeds[0],
        choice=VoteChoice.AGREE,
    )
    page = owner_client.get(url("results")).content.decode()
    assert "Updating…" in page


def test_polling_answers_204_while_the_shown_analysis_is_current(owner_client, setup):
    analysis = store(setup.workshop, seeded_result(setup))
    headers = {"HX-Request": "true"}
    current = owner_client.get(
        url("results-analysis"), {"shown": analysis.pk, "stale": "0"}, headers=headers
    )
    assert current.status_code == 204
    newer = store(setup.workshop, seeded_result(setup))
    response = owner_client.get(
        url("results-analysis"), {"shown": analysis.pk, "stale": "0"}, headers=headers
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="analysis"')
    assert f"shown={newer.pk}" in page
    assert "<html" not in page


def test_polling_the_live_tallies_leaves_the_analysis_out(owner_client, setup):
    store(setup.workshop, seeded_result(setup))
    response = owner_client.get(url("results"), headers={"HX-Request": "true"})
    page = response.content.decode()
    assert 'id="live-results"' in page
    assert "opinion-map" not in page


def test_failed_runs_are_not_shown(owner_client, setup):
    store(setup.workshop, seeded_result(setup), error="boom")
    page = owner_client.get(url("results")).content.decode()
    assert "No analysis yet" in page


def test_publish_page_shows_what_other_rules_would_adopt(owner_client, setup):
    store(setup.workshop, seeded_result(setup))
    page = owner_client.get(url("constitution-publish")).content.decode()
    assert "Which principles each rule adopts" in page
    assert "Agree share ≥ threshold overall" in page


def test_outsider_cannot_see_the_analysis(outsider_client, setup):
    store(setup.workshop, seeded_result(setup))
    assert outsider_client.get(url("results-analysis")).status_code == 404
    assert outsider_client.get(url("results")).status_code == 404


@pytest.mark.parametrize("name", ["results", "results-analysis"])
def test_query_count_does_not_grow_with_the_analysis(owner_client, setup, name):
    store(setup.workshop, seeded_result(setup))
    with CaptureQueriesContext(connection) as small:
        owner_client.get(url(name))
    people = [f"p{i}" for i in range(300)]
    big = seeded_result(setup, participants=people)
    big["principles"] *= 20
    store(setup.workshop, big)
    for _ in range(5):
        ParticipantFactory(group=setup.group_a)
    with CaptureQueriesContext(connection) as large:
        response = owner_client.get(url(name))
    assert response.status_code == 200
    assert len(large) == len(small)


def test_comparison_shows_the_ccai_sweep_welfare_and_rule_agreement(
    owner_client, setup, vote_round
):
    """From a real run: the page prints the figures the analysis stored."""
    from tests.factories import ParticipantFactory
    from workbench.deliberation.services.analysis import analysis_refresh
    from workbench.deliberation.services.votes import vote_cast

    for group, choices in ((setup.group_a, (1, 1, -1)), (setup.group_b, (1, -1, 0))):
        for n in range(4):
            voter = ParticipantFactory(group=group)
            for principle, choice in zip(setup.seeds, choices, strict=True):
                flip = -choice if n == 3 and choice else choice
                vote_cast(
                    participant=voter,
                    round_=vote_round,
                    principle=principle,
                    choice=flip,
                )
    comparison = analysis_refresh(workshop=setup.workshop).result["comparison"]
    page = owner_client.get(
        reverse("deliberation:results-analysis", args=[setup.workshop.slug])
    ).content.decode()
    assert "Principles adopted" in page
    for threshold, count in comparison["ccai_sweep"].items():
        assert f'<th scope="col" class="num">{threshold}</th>' in page
        assert f'<td class="num">{count}</td>' in page
    ccai = next(o for o in comparison["outcomes"] if o["rule"] == "ccai")
    utilitarian = ccai["welfare"]["0.0"]
    assert utilitarian is not None
    assert f"{utilitarian:.3f}" in page
    assert "\N{GREEK SMALL LETTER ALPHA} = 1 (Nash)" in page
    assert "How much the rules agree" in page
