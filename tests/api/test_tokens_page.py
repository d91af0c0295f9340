"""The API tokens page: a facilitator lists, creates and revokes their own tokens
in the browser. The key is shown once, on the response to the create POST, and
works against the API; afterwards only its prefix is shown; another facilitator's
token is a 404 and stays; anonymous visitors are sent to log in."""

from __future__ import annotations

import io
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from workbench.api.models import ApiToken
from workbench.api.services import (
    MAX_TOKENS_PER_USER,
    api_token_create,
    api_token_hash,
)

LIST = reverse("api_tokens:list")
KEY = re.compile(r'<code id="api-token-key" dir="ltr">(wb_[A-Za-z0-9_-]{40,})</code>')


def revoke_url(token: ApiToken) -> str:
    return reverse("api_tokens:revoke", args=[token.pk])


def api_status(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/workshops/").status_code


def test_create_shows_the_key_once_and_it_works(owner_client, owner):
    response = owner_client.post(LIST, {"name": "laptop notebook"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    match = KEY.search(html)
    assert match, html
    key = match.group(1)
    assert "will not be shown again" in html
    assert f"Authorization: Token {key}" in html  # the ready-made header
    token = ApiToken.objects.get(user=owner)
    assert token.name == "laptop notebook"
    assert token.key_hash == api_token_hash(key)
    assert key not in token.key_hash + token.prefix + token.name
    assert key.startswith(token.prefix)
    assert api_status(key) == 200

    # Never again: the list shows the prefix only.
    listing = owner_client.get(LIST).content.decode()
    assert key not in listing
    assert f"{token.prefix}…" in listing
    assert "laptop notebook" in listing


def test_list_shows_last_use_and_only_your_tokens(owner_client, owner, outsider):
    mine, key = api_token_create(user=owner, name="server")
    theirs, _ = api_token_create(user=outsider, name="charlie-secret-box")
    assert api_status(key) == 200
    html = owner_client.get(LIST).content.decode()
    assert "server" in html
    assert "charlie-secret-box" not in html
    assert theirs.prefix not in html
    mine.refresh_from_db()
    assert mine.last_used_at is not None
    assert "Never" not in html


def test_names_are_escaped(owner_client, owner):
    api_token_create(user=owner, name="<script>alert(1)</script>")
    html = owner_client.get(LIST).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_name_is_required_and_nothing_is_created_without_it(owner_client):
    response = owner_client.post(LIST, {"name": "  "})
    assert response.status_code == 200
    assert not KEY.search(response.content.decode())
    assert not ApiToken.objects.exists()


def test_the_cap_refuses_one_more(owner_client, owner):
    for n in range(MAX_TOKENS_PER_USER):
        api_token_create(user=owner, name=f"t{n}")
    response = owner_client.post(LIST, {"name": "one too many"})
    html = response.content.decode()
    assert not KEY.search(html)
    assert "revoke one you no longer use" in html
    assert ApiToken.objects.filter(user=owner).count() == MAX_TOKENS_PER_USER


def test_revoke_deletes_the_token_and_the_api_refuses_it(owner_client, owner):
    token, key = api_token_create(user=owner, name="old laptop")
    other, other_key = api_token_create(user=owner, name="kept")
    assert owner_client.get(revoke_url(token)).status_code == 405  # POST only
    response = owner_client.post(revoke_url(token))
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert api_status(key) == 401
    assert api_status(other_key) == 200
    page = owner_client.get(LIST).content.decode()
    assert "revoked" in page  # the message
    assert other.prefix in page


def test_revoke_needs_the_csrf_token(owner):
    token, _ = api_token_create(user=owner, name="laptop")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    assert browser.post(revoke_url(token)).status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_the_page_posts_with_csrf_tokens(owner_client, owner):
    api_token_create(user=owner, name="laptop")
    html = owner_client.get(LIST).content.decode()
    assert html.count('name="csrfmiddlewaretoken"') >= 3  # revoke, create, log out


def test_another_facilitators_token_is_a_404_and_stays(outsider_client, owner):
    token, key = api_token_create(user=owner, name="alice's")
    assert outsider_client.post(revoke_url(token)).status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()
    assert api_status(key) == 200
    missing = reverse("api_tokens:revoke", args=[token.pk + 1000])
    assert outsider_client.post(missing).status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_log_in(client, owner, method):
    token, _ = api_token_create(user=owner, name="laptop")
    for url in (LIST, revoke_url(token)):
        response = getattr(client, method)(url, {"name": "x"} if url == LIST else {})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse(settings.LOGIN_URL))
    assert ApiToken.objects.count() == 1


def test_the_navigation_links_to_the_page(owner_client):
    html = owner_client.get(reverse("deliberation:workshop-list")).content.decode()
    assert f'href="{LIST}"' in html


def test_the_command_lists_through_the_same_selector(owner):
    api_token_create(user=owner, name="laptop")
    buffer = io.StringIO()
    call_command("api_token", owner.username, "--list", stdout=buffer)
    out = buffer.getvalue()
    assert "laptop" in out
    assert "last used never" in out
