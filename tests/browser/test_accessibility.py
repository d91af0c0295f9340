"""Every participant and facilitator page, audited with axe-core in Chromium.

The pages come from the URL conf (`tests/browser/world.py`), so a page added later
is audited too; the workshop behind them has rounds of every kind, votes, an
opinion map, a comparison set with a judge run, a published constitution and
value cards, so the pages show their real content. At a 360 px phone and a
1280 px laptop no page may have a serious or critical WCAG 2.1 A/AA violation;
at 360 px (in English and in German) and at 200% zoom on the laptop (640 CSS px)
nothing may be wider than the screen."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.browser.axe import assert_accessible, axe_violations, blocking, describe
from tests.browser.world import (
    World,
    facilitator_pages,
    participant_pages,
    world_build,
)

PHONE = {"width": 360, "height": 780}
VIEWPORTS = {
    "phone": PHONE,
    "laptop": {"width": 1280, "height": 800},
    # A 1280 px laptop at 200% zoom lays pages out in 640 CSS px.
    "zoom-200": {"width": 640, "height": 400},
    # German's long words are the likeliest to widen a phone's page.
    "phone-de": PHONE,
}
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
# The outermost elements that stick out of the screen, to name in a failure.
WIDE = """() => {
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (typeof el.className === "string" && el.className.trim()
       ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const parent = el.parentElement;
    const edge = window.innerWidth + 1;
    if (el.getBoundingClientRect().right <= edge) continue;
    if (parent && parent.getBoundingClientRect().right > edge) continue;
    out.push(name(el));
  }
  // Else text too long for its box, such as one long word.
  for (const el of out.length ? [] : document.querySelectorAll("body *")) {
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0
        && getComputedStyle(el).overflowX === "visible") out.push(name(el));
  }
  return out.slice(-5);
}"""


@pytest.fixture
def world(transactional_db: None) -> World:
    return world_build()


class Audit:
    """Opens pages in one browser context and collects what is wrong with each."""

    def __init__(self, page: Any, base_url: str, size: str) -> None:
        self.page = page
        self.base_url = base_url
        self.size = size
        self.problems: list[str] = []
        self.audited: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(f"JS error: {error}"))

    def visit(self, name: str, path: str, status: int = 200) -> None:
        response = self.page.goto(self.base_url + path)
        if response is None or response.status != status:
            got = response.status if response else None
            self.problems.append(f"{name}: HTTP {got}, expected {status}")
            return
        self.check(name)

    def check(self, name: str) -> None:
        self.audited.append(name)
        if self.size in ("phone", "laptop"):
            found = blocking(axe_violations(self.page))
            if found:
                self.problems.append(describe(found, f"{name}: "))
        if self.size != "laptop":
            overflow = self.page.evaluate(OVERFLOW)
            if overflow > 1:
                wide = ", ".join(self.page.evaluate(WIDE))
                self.problems.append(
                    f"{name}: {overflow} px wider than the screen ({wide})"
                )


def _context(browser: Any, size: str) -> Any:
    locale = "de" if size.endswith("-de") else "en"
    return browser.new_context(viewport=VIEWPORTS[size], locale=locale)


def _log_in(page: Any, base_url: str, world: World) -> None:
    page.goto(base_url + reverse("accounts:login"))
    page.locator("#id_username").fill(world.user.username)
    page.locator("#id_password").fill(world.password)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_every_page_passes_axe_and_fits_the_screen(live_server, world, browser, size):
    facilitator = _context(browser, size)
    participant = _context(browser, size)
    try:
        # Public pages and the participant's, from the invite link onwards.
        audit = Audit(participant.new_page(), live_server.url, size)
        audit.visit("home", reverse("home"))
        audit.visit("login", reverse("accounts:login"))
        audit.visit("signup", reverse("accounts:signup"))
        audit.visit("invalid-invite", "/join/not-a-token/", status=404)
        home = reverse("deliberation:participant-home", args=[world.workshop.slug])
        audit.visit("not-joined", home, status=403)
        audit.visit("join", world.join_path())
        with audit.page.expect_navigation():
            audit.page.locator("main form button[type=submit]").click()
        for name, path in participant_pages(world):
            audit.visit(name, path)
        # The facilitator's pages, logged in.
        pages = facilitator_pages(world)
        staff = Audit(facilitator.new_page(), live_server.url, size)
        _log_in(staff.page, live_server.url, world)
        for name, path in pages:
            # Chromium shows no page for an empty answer, such as the 405 of an
            # action that only takes a POST: those are not pages.
            if staff.page.request.head(live_server.url + path).status != 405:
                staff.visit(name, path)
    finally:
        facilitator.close()
        participant.close()
    assert len(staff.audited) >= 20
    problems = audit.problems + staff.problems
    assert not problems, f"At {size}:\n" + "\n".join(problems)


def test_the_audit_names_a_serious_violation_and_its_element(laptop):
    laptop.set_content(
        '<html lang="en"><head><title>Form</title></head>'
        '<body><main><input type="text" id="unlabelled"></main></body></html>'
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(laptop, "form: ")
    assert "form: label (critical)" in str(failure.value)
    assert "#unlabelled" in str(failure.value)
