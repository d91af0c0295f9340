"""Downloading a workshop's value cards from its page: PDF through a Celery task
with progress, JSON and Markdown at once; only for the workshop's owner."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from django.urls import reverse

from workbench.cards.services.pdf_jobs import cards_pdf_render

pytestmark = pytest.mark.django_db

FORMATS = ("cards:cards-pdf", "cards:cards-json", "cards:cards-md")


_patches: list[mock._patch[mock.MagicMock]] = []


def stack_patch(target: str) -> mock.MagicMock:
    patcher = mock.patch(target)
    _patches.append(patcher)
    return patcher.start()


@pytest.fixture(autouse=True)
def _stop_patches():
    yield
    while _patches:
        _patches.pop().stop()


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_workshop_page_links_to_the_downloads(owner_client, setup):
    page = owner_client.get(
        reverse("deliberation:workshop-detail", args=[setup.workshop.slug])
    )
    for name in FORMATS:
        assert reverse(name, args=[setup.workshop.slug]) in page.content.decode()


@pytest.mark.parametrize("name", FORMATS)
def test_other_facilitators_get_404_and_anonymous_users_the_login(
    client, outsider_client, setup, name
):
    url = reverse(name, args=[setup.workshop.slug])
    assert outsider_client.get(url).status_code == 404
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_pdf_renders_in_a_task_shows_progress_then_downloads(
    owner_client, setup, django_capture_on_commit_callbacks, media
):
    url = reverse("cards:cards-pdf", args=[setup.workshop.slug])
    delay = stack_patch("workbench.cards.tasks.cards_pdf_render_task.delay")
    with django_capture_on_commit_callbacks(execute=True):
        first = owner_client.get(url)
    assert first.status_code == 200 and first["Content-Type"].startswith("text/html")
    assert (
        'id="pdf-progress"' in first.content.decode()
        and "hx-get" in first.content.decode()
    )
    delay.assert_called_once()
    # Asking again while it renders starts nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.get(url, headers={"HX-Request": "true"})
    delay.assert_called_once()

    cards_pdf_render(**delay.call_args.kwargs)
    poll = owner_client.get(url, headers={"HX-Request": "true"})
    assert "The PDF is ready." in poll.content.decode()
    download = owner_client.get(url)
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert "value-cards.pdf" in download["Content-Disposition"]
    assert list(media.glob("cards/*/*.pdf"))


def test_a_changed_workshop_renders_a_new_pdf(
    owner_client, setup, django_capture_on_commit_callbacks
):
    url = reverse("cards:cards-pdf", args=[setup.workshop.slug])
    delay = stack_patch("workbench.cards.tasks.cards_pdf_render_task.delay")
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.get(url)
    cards_pdf_render(**delay.call_args.kwargs)
    setup.workshop.title = "AI values, second edition"
    setup.workshop.save()
    with django_capture_on_commit_callbacks(execute=True):
        again = owner_client.get(url)
    assert again["Content-Type"].startswith("text/html")
    assert delay.call_count == 2


def test_json_and_markdown_download_at_once(owner_client, setup):
    data = owner_client.get(reverse("cards:cards-json", args=[setup.workshop.slug]))
    assert data.status_code == 200 and data["Content-Type"] == "application/json"
    assert "attachment" in data["Content-Disposition"]
    markdown = owner_client.get(reverse("cards:cards-md", args=[setup.workshop.slug]))
    assert markdown.status_code == 200 and markdown["Content-Type"].startswith(
        "text/markdown"
    )
