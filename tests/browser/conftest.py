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


@pytest.fixture
def phone(browser: Any) -> Any:
    """A 360 px wide phone-sized page."""
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="en")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def laptop(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
