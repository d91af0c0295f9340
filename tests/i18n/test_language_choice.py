"""Pages follow the browser's Accept-Language, the switcher overrides it with a
cookie, and anything else falls back to English."""

from __future__ import annotations

import re
from html import escape

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import participant_client


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "the page has no <html lang>"
    return match.group(1)


def home_url(setup) -> str:
    return reverse("deliberation:participant-home", args=[setup.workshop.slug])


def vote_url(round_) -> str:
    return reverse(
        "deliberation:participant-vote", args=[round_.workshop.slug, round_.pk]
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "lang", "heading", "agree"),
    [
        ("es-ES,es;q=0.9,en;q=0.5", "es", "Actividades", "De acuerdo"),
        ("de-DE,de;q=0.9", "de", "Aktivitäten", "Zustimmen"),
        ("en-GB,en;q=0.8", "en", "Activities", "Agree"),
    ],
)
def test_participant_pages_follow_the_browser(
    setup, participant_a, vote_round, accept, lang, heading, agree
):
    client = participant_client(participant_a)
    home = client.get(home_url(setup), HTTP_ACCEPT_LANGUAGE=accept)
    assert home.status_code == 200
    assert html_lang(home) == lang
    assert f">{heading}<" in home.content.decode()

    vote = client.get(vote_url(vote_round), HTTP_ACCEPT_LANGUAGE=accept)
    assert vote.status_code == 200
    assert html_lang(vote) == lang
    assert f">{agree}</button>" in vote.content.decode()
    # The principle is shown as its author wrote it, never machine-translated.
    assert any(escape(seed.text) in vote.content.decode() for seed in setup.seeds)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "lang", "text"),
    [
        ("es", "es", "Tus talleres"),
        ("de", "de", "Deine Workshops"),
        ("en", "en", "Your workshops"),
    ],
)
def test_facilitator_workshop_list_follows_the_browser(
    owner_client, setup, accept, lang, text
):
    response = owner_client.get(
        reverse("deliberation:workshop-list"), HTTP_ACCEPT_LANGUAGE=accept
    )
    assert response.status_code == 200
    assert html_lang(response) == lang
    assert text in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["fr-FR,fr;q=0.9", "xx", "zh-Hant", ""])
def test_an_unknown_language_falls_back_to_english(owner_client, setup, accept):
    response = owner_client.get(
        reverse("deliberation:workshop-list"), HTTP_ACCEPT_LANGUAGE=accept
    )
    assert html_lang(response) == "en"
    assert "Your workshops" in response.content.decode()


@pytest.mark.django_db
def test_a_language_cookie_the_app_does_not_offer_falls_back_to_english(
    owner_client, setup
):
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    response = owner_client.get(reverse("deliberation:workshop-list"))
    assert html_lang(response) == "en"


@pytest.mark.django_db
def test_switcher_lists_each_language_in_its_own_language(setup, participant_a):
    client = participant_client(participant_a)
    page = client.get(home_url(setup), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    form = re.search(r'<form class="lang-switcher.*?</form>', page, re.S)
    assert form, "no language switcher on the participant page"
    form_html = form.group(0)
    assert f'action="{reverse("set_language")}"' in form_html
    assert 'method="post"' in form_html
    assert 'aria-label="Sprache"' in form_html
    assert f'name="next" value="{home_url(setup)}"' in form_html
    assert "csrfmiddlewaretoken" in form_html
    # The current language is marked, not a button; the others are buttons.
    assert '<strong lang="de" aria-current="true">Deutsch</strong>' in form_html
    for code, name in (("en", "English"), ("es", "Español")):
        assert re.search(
            rf'<button type="submit"[^>]*name="language" value="{code}" '
            rf'lang="{code}">{name}</button>',
            form_html,
        )


@pytest.mark.django_db
def test_switcher_is_on_facilitator_pages(owner_client, setup):
    page = owner_client.get(
        reverse("deliberation:workshop-detail", args=[setup.workshop.slug])
    ).content.decode()
    assert 'class="lang-switcher' in page
    assert '<strong lang="en" aria-current="true">English</strong>' in page


@pytest.mark.django_db
def test_switching_language_sticks_across_requests(setup, participant_a, vote_round):
    client = participant_client(participant_a)
    client.get(home_url(setup), HTTP_ACCEPT_LANGUAGE="es")
    response = client.post(
        reverse("set_language"),
        {"language": "de", "next": vote_url(vote_round)},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 302
    assert response["Location"] == vote_url(vote_round)
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"

    # The cookie now wins over the browser's Spanish, on every page.
    for url in (vote_url(vote_round), home_url(setup)):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
        assert html_lang(page) == "de"
    assert ">Zustimmen</button>" in client.get(vote_url(vote_round)).content.decode()

    client.post(reverse("set_language"), {"language": "en", "next": home_url(setup)})
    assert html_lang(client.get(home_url(setup), HTTP_ACCEPT_LANGUAGE="de")) == "en"


@pytest.mark.django_db
def test_switcher_works_with_csrf_checks_on(setup, participant_a):
    """A real browser posts the form with its CSRF token; no JavaScript involved."""
    client = participant_client(participant_a)
    client.handler.enforce_csrf_checks = True
    page = client.get(home_url(setup)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    response = client.post(
        reverse("set_language"),
        {
            "language": "es",
            "next": home_url(setup),
            "csrfmiddlewaretoken": token.group(1),
        },
    )
    assert response.status_code == 302
    assert html_lang(client.get(home_url(setup))) == "es"


@pytest.mark.django_db
def test_switcher_refuses_an_offsite_next(setup, participant_a):
    client = participant_client(participant_a)
    response = client.post(
        reverse("set_language"), {"language": "es", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


@pytest.mark.django_db
def test_public_pages_without_a_session_follow_the_browser():
    response = Client().get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="es")
    assert html_lang(response) == "es"
    assert "Iniciar sesión" in response.content.decode()
