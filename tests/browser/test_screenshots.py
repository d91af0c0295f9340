"""Screenshots of the main pages at phone and laptop sizes, for the README.

Taken on every run from the demo workshop as `<page>-<size>.png`, and each page
is checked to be the one meant (its heading) before it is photographed. They are
written into docs/screenshots/ (which the README shows) when the variable
SCREENSHOTS is "update" (`make screenshots`), else into a temporary folder, so
that an ordinary test run leaves the tracked images alone (the live panel's
clock alone changes every image's bytes)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from tests.browser.world import World, world_build
from workbench.deliberation.models import Round

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZES = {"phone": (360, 780), "laptop": (1280, 800)}


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    if os.environ.get("SCREENSHOTS") == "update":
        return DOCS_SCREENSHOTS
    return tmp_path


def _shoot(
    page: Any, folder: Path, name: str, size: str, focus: str | None = None
) -> Path:
    if focus is not None:
        page.locator(focus).first.scroll_into_view_if_needed()
    path = folder / f"{name}-{size}.png"
    page.screenshot(path=str(path), full_page=False, scale="css", animations="disabled")
    return path


def _participant_pages(
    page: Any, base: str, world: World, size: str, folder: Path
) -> list[Path]:
    slug = world.workshop.slug
    page.goto(base + world.join_path())
    shots = [_shoot(page, folder, "participant-join", size)]
    page.get_by_role("button", name="Join the workshop").click()
    page.get_by_role("heading", name="Activities").wait_for()
    for name, kind, url_name, ready in (
        ("participant-vote", Round.Kind.VOTE, "participant-vote", ".vote-card"),
        ("participant-rank", Round.Kind.RANK, "participant-rank", ".rank-list"),
        (
            "participant-compare",
            Round.Kind.COMPARE,
            "participant-compare",
            ".compare-card",
        ),
    ):
        pk = world.rounds[kind].pk
        page.goto(base + reverse(f"deliberation:{url_name}", args=[slug, pk]))
        page.locator(ready).wait_for()
        shots.append(_shoot(page, folder, name, size))
    return shots


def _facilitator_pages(
    page: Any, base: str, world: World, size: str, folder: Path
) -> list[Path]:
    slug = world.workshop.slug
    page.goto(base + reverse("accounts:login"))
    page.get_by_label("Username").fill(world.user.username)
    page.get_by_label("Password").fill(world.password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Workshops").wait_for()
    shots = []
    for name, url_name, heading, focus in (
        ("facilitator-workshop", "workshop-detail", world.workshop.title, None),
        ("facilitator-results", "results", "Live results", ".map-figure"),
        ("facilitator-encoding-gap", "encoding-gap", "Encoding-gap report", None),
        ("facilitator-value-cards", "cards", "Value cards", None),
    ):
        page.goto(base + reverse(f"deliberation:{url_name}", args=[slug]))
        page.get_by_role("heading", name=heading, exact=True).first.wait_for()
        shots.append(_shoot(page, folder, name, size, focus))
    return shots


def test_screenshots_of_the_main_pages(
    live_server, transactional_db, browser, screenshots
):
    world = world_build()
    screenshots.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    for size, (width, height) in SIZES.items():
        for pages in (_participant_pages, _facilitator_pages):
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="en"
            )
            try:
                shots += pages(
                    context.new_page(), live_server.url, world, size, screenshots
                )
            finally:
                context.close()
    assert len(shots) == 16
    for shot in shots:
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG"), shot
        assert 5_000 < len(data) < 400_000, (shot, len(data))
