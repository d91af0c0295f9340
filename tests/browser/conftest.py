"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's
live server. `make test` installs chromium with apt when it is missing."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

# Playwright's sync API keeps an event loop on the main thread; the ORM calls the
# tests make there for set-up and assertions are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any],
) -> dict[str, Any]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail(
            "Debian's chromium is not installed: run scripts/ensure_chromium.sh"
        )
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "args": CHROMIUM_FLAGS,
        "headless": True,
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


SIZES = {"phone": (360, 780), "laptop": (1280, 800)}


def _page(browser: Any, width: int, height: int, locale: str = "en") -> Any:
    """A fresh browser context (its own cookies) and page; fails the test if the
    page raised a JavaScript error. `locale` sets the Accept-Language header."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale=locale
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def phone(browser: Any) -> Any:
    """A 360 px wide phone."""
    yield from _page(browser, 360, 780)


@pytest.fixture
def laptop(browser: Any) -> Any:
    yield from _page(browser, 1280, 800)


@pytest.fixture
def open_page(browser: Any) -> Any:
    """`open_page("phone" or "laptop", locale)`: a fresh page of that size whose
    browser asks for that language; each fails the test on a JavaScript error."""
    opened: list[Any] = []

    def open_(size: str, locale: str = "en") -> Any:
        pages = _page(browser, *SIZES[size], locale=locale)
        opened.append(pages)
        return next(pages)

    yield open_
    for pages in opened:
        next(pages, None)
