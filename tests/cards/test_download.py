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


def test_a_new_render_deletes_the_pdf_of_content_that_changed(
    owner_client, setup, django_capture_on_commit_callbacks, media
):
    url = reverse("cards:cards-pdf", args=[setup.workshop.slug])
    delay = stack_patch("workbench.cards.tasks.cards_pdf_render_task.delay")
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.get(url)
    first = cards_pdf_render(**delay.call_args.kwargs)
    setup.workshop.title = "AI values, second edition"
    setup.workshop.save()
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.get(url)
    second = cards_pdf_render(**delay.call_args.kwargs)
    assert first != second
    names = sorted(p.name for p in media.glob("cards/*/*"))
    assert names == [f"{second}.pdf", f"{second}.ready"]


def test_a_pdf_without_its_ready_marker_is_never_served_and_renders_again(
    owner_client, setup, django_capture_on_commit_callbacks, media
):
    """A worker killed while writing the PDF leaves the file without the marker
    written after it: the partial file is not served, and a new render runs."""
    url = reverse("cards:cards-pdf", args=[setup.workshop.slug])
    delay = stack_patch("workbench.cards.tasks.cards_pdf_render_task.delay")
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.get(url)
    key = cards_pdf_render(**delay.call_args.kwargs)
    folder = next(media.glob("cards/*"))
    (folder / f"{key}.ready").unlink()
    (folder / f"{key}.pdf").write_bytes(b"%PDF-1.7 trunc")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.get(url)
    assert response["Content-Type"].startswith("text/html")  # progress, not the file
    assert delay.call_count == 2
    cards_pdf_render(**delay.call_args.kwargs)
    download = owner_client.get(url)
    body = b"".join(download.streaming_content)
    assert body.startswith(b"%PDF-") and len(body) > 10_000


def test_a_pdf_asked_for_in_spanish_is_rendered_in_spanish_and_then_served(
    owner_client, setup, django_capture_on_commit_callbacks, media
):
    """The worker renders in the language of the request, under the key the
    request computed: the page finds the finished PDF instead of asking for a
    new render on every poll."""
    url = reverse("cards:cards-pdf", args=[setup.workshop.slug])
    spanish = {"Accept-Language": "es"}
    delay = stack_patch("workbench.cards.tasks.cards_pdf_render_task.delay")
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.get(url, headers=spanish)
    assert delay.call_args.kwargs["language"] == "es"
    cards_pdf_render(**delay.call_args.kwargs)
    download = owner_client.get(url, headers=spanish)
    assert download["Content-Type"] == "application/pdf"
    assert delay.call_count == 1
    # The English PDF is another document, rendered when asked for.
    with django_capture_on_commit_callbacks(execute=True):
        english = owner_client.get(url, headers={"Accept-Language": "en"})
    assert english["Content-Type"].startswith("text/html")
    assert delay.call_args.kwargs["language"] == "en"


def test_json_and_markdown_download_at_once(owner_client, setup):
    data = owner_client.get(reverse("cards:cards-json", args=[setup.workshop.slug]))
    assert data.status_code == 200 and data["Content-Type"] == "application/json"
    assert "attachment" in data["Content-Disposition"]
    markdown = owner_client.get(reverse("cards:cards-md", args=[setup.workshop.slug]))
    assert markdown.status_code == 200 and markdown["Content-Type"].startswith(
        "text/markdown"
    )
