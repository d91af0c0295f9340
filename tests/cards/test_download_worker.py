"""The value-card PDF rendered by a real Celery worker, end to end."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.urls import reverse

from tests.worker import worker_factory  # noqa: F401 - the fixture, used by name

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_renders_the_pdf_and_the_page_then_downloads_it(
    worker_factory,  # noqa: F811
    owner_client,
    setup,
    settings,
    tmp_path: Path,
    monkeypatch,
):
    # The worker is another process: both must see the same media folder.
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
    worker = worker_factory()
    try:
        url = reverse("cards:cards-pdf", args=[setup.workshop.slug])
        first = owner_client.get(url)
        assert first["Content-Type"].startswith("text/html")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            poll = owner_client.get(
                url, headers={"HX-Request": "true"}
            ).content.decode()
            if "The PDF is ready." in poll or "could not be rendered" in poll:
                break
            time.sleep(0.5)
        assert "The PDF is ready." in poll, worker.output[-3000:]
        download = owner_client.get(url)
        assert download["Content-Type"] == "application/pdf"
        assert b"".join(download.streaming_content).startswith(b"%PDF-")
    finally:
        worker.stop()
