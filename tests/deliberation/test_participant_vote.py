from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import participant_client
from workbench.deliberation.models import Round, Vote, VoteRecord
from workbench.deliberation.selectors.principles import principle_agenda
from workbench.deliberation.services.analysis import analysis_refresh
from workbench.deliberation.services.principles import principle_seed
from workbench.deliberation.services.rounds import (
    round_close,
    round_create,
    round_open,
    round_set_shortlist,
)
from workbench.deliberation.services.translations import translation_save


def vote_url(round_) -> str:
    return reverse(
        "deliberation:participant-vote", args=[round_.workshop.slug, round_.pk]
    )


def list_url(round_) -> str:
    return reverse(
        "deliberation:participant-vote-list", args=[round_.workshop.slug, round_.pk]
    )


def shown_principle(response) -> int:
    match = re.search(r'name="principle" value="(\d+)"', response.content.decode())
    assert match, "no principle on the page"
    return int(match.group(1))


def shown_token(response) -> str:
    match = re.search(
        r'name="client_token" value="([0-9a-f-]+)"', response.content.decode()
    )
    assert match
    return match.group(1)


@pytest.fixture
def client_a(participant_a):
    return participant_client(participant_a)


@pytest.fixture
def group_round(setup, owner) -> Round:
    """An open vote round for the Nurses only."""
    round_ = round_create(
        workshop=setup.workshop,
        kind=Round.Kind.VOTE,
        scope=Round.Scope.GROUP,
        group=setup.group_a,
    )
    return round_open(round_=round_, actor=owner)


def test_votes_one_principle_at_a_time_until_done(
    setup, vote_round, client_a, participant_a
):
    seen = []
    for n in range(3):
        page = client_a.get(vote_url(vote_round))
        assert page.status_code == 200
        assert f"You have voted on {n} of 3 principles" in page.content.decode()
        principle = shown_principle(page)
        assert principle not in seen
        seen.append(principle)
        response = client_a.post(
            vote_url(vote_round),
            {"principle": principle, "choice": 1, "client_token": shown_token(page)},
        )
        assert response.status_code == 303
        assert response["Location"] == vote_url(vote_round)
    assert sorted(seen) == sorted(p.pk for p in setup.seeds)
    done = client_a.get(vote_url(vote_round)).content.decode()
    assert "You have voted on everything" in done
    assert list_url(vote_round) in done
    assert Vote.objects.filter(participant=participant_a, choice=1).count() == 3


def test_the_page_has_three_labelled_buttons_and_a_link_to_the_list(
    vote_round, client_a
):
    content = client_a.get(vote_url(vote_round)).content.decode()
    for value, label in (("1", "Agree"), ("-1", "Disagree"), ("0", "Pass")):
        assert re.search(rf'name="choice" value="{value}"[^>]*>{label}', content)
    assert 'name="csrfmiddlewaretoken"' in content
    assert list_url(vote_round) in content


def test_revoting_changes_the_current_vote_and_keeps_history(
    setup, vote_round, client_a, participant_a
):
    principle = setup.seeds[0]
    for choice in (1, -1, 0):
        client_a.post(
            vote_url(vote_round), {"principle": principle.pk, "choice": choice}
        )
    current = Vote.objects.get(participant=participant_a, principle=principle)
    assert current.choice == 0
    history = VoteRecord.objects.filter(participant=participant_a, principle=principle)
    assert list(history.values_list("choice", flat=True)) == [1, -1, 0]


def test_a_double_submission_is_stored_once(setup, vote_round, client_a, participant_a):
    data = {
        "principle": setup.seeds[0].pk,
        "choice": 1,
        "client_token": str(uuid.uuid4()),
    }
    for _ in range(2):
        assert client_a.post(vote_url(vote_round), data).status_code == 303
    assert VoteRecord.objects.filter(participant=participant_a).count() == 1
    assert Vote.objects.filter(participant=participant_a).count() == 1


def test_a_closed_round_rejects_votes_and_stores_nothing(
    setup, owner, vote_round, client_a
):
    round_close(round_=vote_round, actor=owner)
    response = client_a.post(
        vote_url(vote_round), {"principle": setup.seeds[0].pk, "choice": 1}, follow=True
    )
    content = response.content.decode()
    assert "This round is closed" in content
    assert 'name="choice"' not in content
    assert not VoteRecord.objects.exists()


def test_a_round_not_yet_open_rejects_votes(setup, client_a):
    draft = round_create(workshop=setup.workshop, kind=Round.Kind.VOTE)
    # Drafts are invisible to participants.
    response = client_a.post(
        vote_url(draft), {"principle": setup.seeds[0].pk, "choice": 1}
    )
    assert response.status_code == 404
    assert not VoteRecord.objects.exists()


def test_a_scheduled_round_shows_not_yet_open_and_rejects_votes(setup, owner, client_a):
    from datetime import timedelta

    from django.utils import timezone

    later = timezone.now() + timedelta(days=1)
    scheduled = round_open(
        round_=round_create(
            workshop=setup.workshop, kind=Round.Kind.VOTE, opens_at=later
        ),
        actor=owner,
    )
    page = client_a.get(vote_url(scheduled)).content.decode()
    assert "Not yet open" in page
    response = client_a.post(
        vote_url(scheduled), {"principle": setup.seeds[0].pk, "choice": 1}, follow=True
    )
    assert response.status_code == 200
    assert not VoteRecord.objects.exists()


def test_a_group_round_is_invisible_to_the_other_group(
    setup, group_round, participant_b, client_a
):
    client_b = participant_client(participant_b)
    assert client_b.get(vote_url(group_round)).status_code == 404
    assert client_b.get(list_url(group_round)).status_code == 404
    response = client_b.post(
        vote_url(group_round), {"principle": setup.seeds[0].pk, "choice": 1}
    )
    assert response.status_code == 404
    assert not VoteRecord.objects.exists()
    assert client_a.get(vote_url(group_round)).status_code == 200


def test_a_principle_not_on_the_agenda_is_refused(setup, owner, vote_round, client_a):
    rejected = principle_seed(
        workshop=setup.workshop, text="Something else entirely", actor=owner
    )
    rejected.status = "pending"
    rejected.save(update_fields=["status"])
    response = client_a.post(
        vote_url(vote_round), {"principle": rejected.pk, "choice": 1}, follow=True
    )
    assert "not on this round" in response.content.decode()
    assert not VoteRecord.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"principle": "abc", "choice": 1},
        {"principle": 1, "choice": 2},
        {"principle": 1, "choice": 1, "client_token": "not-a-uuid"},
    ],
)
def test_malformed_votes_store_nothing(setup, vote_round, client_a, data):
    response = client_a.post(vote_url(vote_round), data, follow=True)
    assert "Choose agree, disagree or pass" in response.content.decode()
    assert not VoteRecord.objects.exists()


def test_voting_needs_the_cookie(setup, vote_round):
    from django.test import Client

    response = Client().post(
        vote_url(vote_round), {"principle": setup.seeds[0].pk, "choice": 1}
    )
    assert response.status_code == 403
    assert not VoteRecord.objects.exists()


def test_a_vote_round_page_is_not_the_rank_page(vote_round, client_a):
    url = reverse(
        "deliberation:participant-rank", args=[vote_round.workshop.slug, vote_round.pk]
    )
    assert client_a.get(url).status_code == 404


def test_htmx_post_returns_only_the_next_principle(setup, vote_round, client_a):
    response = client_a.post(
        vote_url(vote_round),
        {
            "principle": setup.seeds[0].pk,
            "choice": -1,
            "client_token": str(uuid.uuid4()),
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert "You have voted on 1 of 3 principles" in content
    assert shown_principle(response) != setup.seeds[0].pk
    assert "autofocus" in content


def test_htmx_post_to_a_closed_round_shows_the_error(
    setup, owner, vote_round, client_a
):
    round_close(round_=vote_round, actor=owner)
    response = client_a.post(
        vote_url(vote_round),
        {"principle": setup.seeds[0].pk, "choice": 1},
        headers={"HX-Request": "true"},
    )
    assert "This round is closed" in response.content.decode()
    assert not VoteRecord.objects.exists()


def test_the_vote_post_path_stays_lean(
    setup, vote_round, client_a, django_assert_max_num_queries
):
    data = {
        "principle": setup.seeds[0].pk,
        "choice": 1,
        "client_token": str(uuid.uuid4()),
    }
    # The participant's ids from the cookie; then vote_cast: the two input locks, one
    # statement for the round and its checks, the history insert and the vote upsert;
    # plus the test's savepoint and its release. docs/benchmarks.md explains each.
    url = vote_url(vote_round)  # outside the count: it loads the workshop's slug
    with django_assert_max_num_queries(7):
        response = client_a.post(url, data)
    assert response.status_code == 303


def _htmx_vote(client, url, principle):
    return client.post(
        url,
        {"principle": principle.pk, "choice": 1, "client_token": str(uuid.uuid4())},
        headers={"HX-Request": "true"},
    )


def test_an_htmx_vote_reads_the_agenda_once(
    setup, owner, vote_round, client_a, django_assert_max_num_queries
):
    for n in range(10):
        principle_seed(
            workshop=setup.workshop, text=f"Principle {n} on the agenda.", actor=owner
        )
    analysis_refresh(workshop=setup.workshop)  # so the routing priorities are read
    url = vote_url(vote_round)  # outside the count: it loads the workshop's slug
    # The participant, the round; vote_cast's four statements and the test's
    # savepoint and its release (test_the_vote_post_path_stays_lean); then the
    # next card: the agenda with the participant's votes in one query (the counts
    # and the principles left), the routing priorities and the principle. It was
    # 14, with the agenda read three times.
    with django_assert_max_num_queries(11):
        response = client_a.post(
            url,
            {
                "principle": setup.seeds[0].pk,
                "choice": 1,
                "client_token": str(uuid.uuid4()),
            },
            headers={"HX-Request": "true"},
        )
    content = response.content.decode()
    assert "You have voted on 1 of 13 principles" in content
    assert shown_principle(response) != setup.seeds[0].pk
    # The last vote: the counts and "done", without a card to pick.
    for principle in principle_agenda(round_=vote_round).exclude(pk=setup.seeds[0].pk)[
        1:
    ]:
        _htmx_vote(client_a, url, principle)
    last = principle_agenda(round_=vote_round).exclude(votes__isnull=False).get()
    with django_assert_max_num_queries(9):
        response = _htmx_vote(client_a, url, last)
    content = response.content.decode()
    assert "You have voted on 13 of 13 principles" in content
    assert "You have voted on everything" in content


def test_an_htmx_vote_shows_the_next_card_in_the_readers_language(
    setup, owner, participant_a, django_assert_max_num_queries
):
    translated, other = setup.seeds[:2]
    translation_save(
        principle=translated, language="es", text="Sé honesto.", actor=owner
    )
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.VOTE)
    round_set_shortlist(round_=round_, principles=[translated, other])
    round_open(round_=round_, actor=owner)
    client = participant_client(participant_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    url = vote_url(round_)
    # One query more than test_an_htmx_vote_reads_the_agenda_once: the
    # translation of the principle shown.
    with django_assert_max_num_queries(12):
        response = _htmx_vote(client, url, other)
    content = response.content.decode()
    assert (
        f'<p class="principle-text" dir="auto" id="principle-{translated.pk}" '
        'lang="es" tabindex="-1" autofocus>Sé honesto.</p>'
    ) in content
    assert '<input type="hidden" name="shown_language" value="es">' in content
    assert f'<p dir="auto">{translated.text}</p></details>' in content


def test_the_vote_post_works_with_csrf_checks(setup, vote_round, participant_a):
    client = participant_client(participant_a)
    client.handler.enforce_csrf_checks = True
    page = client.get(vote_url(vote_round))
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()
    )
    data = {"principle": shown_principle(page), "choice": 1}
    assert client.post(vote_url(vote_round), data).status_code == 403
    data["csrfmiddlewaretoken"] = token.group(1)
    assert client.post(vote_url(vote_round), data).status_code == 303
    assert VoteRecord.objects.count() == 1


def test_the_list_shows_every_principle_and_the_current_vote_in_words(
    setup, vote_round, client_a
):
    client_a.post(vote_url(vote_round), {"principle": setup.seeds[1].pk, "choice": -1})
    content = client_a.get(list_url(vote_round)).content.decode()
    for seed in setup.seeds:
        assert f'id="p-{seed.pk}"' in content
    assert "Your vote:" in content
    assert re.search(r"Your vote:\s*<strong[^>]*>Disagree</strong>", content)
    assert content.count("Not voted yet") == 2
    assert "You have voted on 1 of 3 principles" in content


def test_the_list_changes_a_vote(setup, vote_round, client_a, participant_a):
    seed = setup.seeds[2]
    client_a.post(vote_url(vote_round), {"principle": seed.pk, "choice": 1})
    response = client_a.post(
        list_url(vote_round),
        {"principle": seed.pk, "choice": 0, "client_token": str(uuid.uuid4())},
    )
    assert response.status_code == 303
    assert response["Location"] == f"{list_url(vote_round)}#p-{seed.pk}"
    assert Vote.objects.get(participant=participant_a, principle=seed).choice == 0
    assert VoteRecord.objects.filter(participant=participant_a).count() == 2


def test_the_list_of_a_closed_round_is_read_only(setup, owner, vote_round, client_a):
    client_a.post(vote_url(vote_round), {"principle": setup.seeds[0].pk, "choice": 1})
    round_close(round_=vote_round, actor=owner)
    content = client_a.get(list_url(vote_round)).content.decode()
    assert "Agree" in content
    assert 'name="choice"' not in content
    response = client_a.post(
        list_url(vote_round), {"principle": setup.seeds[0].pk, "choice": -1}
    )
    assert response.status_code == 303
    assert VoteRecord.objects.count() == 1
