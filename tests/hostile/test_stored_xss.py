"""Stored XSS: a canary in every free-text field, then every page and export.

The workshop is the browser tests' world (the demo plus a rank, review and closed
round, a constitution and the value-card narrative). Into it the canary goes
through the services a facilitator or participant uses, or straight into the row
where the text comes from a file or a provider (prompts, responses, reasons,
verdicts). Every facilitator and participant page from the URL conf, the value-card
JSON / Markdown / PDF, the data export (CSV and JSON tables) and the Polis export
are then read: the canary must come out as text, never as markup. So is every URL
a page polls through htmx (the live panels, the participant's round status, the
progress of runs and renders), fetched alone as htmx fetches it.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from html import escape, unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pypdf
import pytest
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test import Client
from django.urls import get_resolver, resolve, reverse

from tests.browser.world import (
    FRAGMENTS,
    World,
    facilitator_pages,
    participant_pages,
    world_build,
)
from tests.conftest import participant_client
from tests.factories import ParticipantFactory
from workbench.api.services import api_token_create
from workbench.cards.exports.writers import export_archive
from workbench.cards.models import ReviewVerdict
from workbench.cards.render.pdf import RefusingURLFetcher, cards_pdf
from workbench.cards.services.build import cards_for_workshop
from workbench.cards.services.narrative import card_narrative_update
from workbench.cards.services.review import card_review_submit
from workbench.deliberation.models import ParticipantGroup, Principle, Round
from workbench.deliberation.polis_io.exporter import polis_export
from workbench.deliberation.services.constitutions import constitution_publish
from workbench.deliberation.services.principles import (
    principle_edit,
    principle_reject,
    principle_seed,
)
from workbench.deliberation.services.translations import translation_save
from workbench.deliberation.services.workshops import workshop_update
from workbench.judging.models import (
    ComparisonSet,
    HumanJudgment,
    Prompt,
    Response,
    Verdict,
)

CANARY = "<script>window.__xss=1</script><img src=x onerror=alert(1)>\"'&"
SCRIPT = "window.__xss"


def _append(text: str) -> Any:
    return Concat(F(text), Value(" " + CANARY))


def _plant(world: World) -> dict[str, int]:
    """The canary in every free-text field; returns how many of each were set."""
    workshop, user = world.workshop, world.user
    workshop_update(
        workshop=workshop,
        title="Values " + CANARY,
        question="What should it do? " + CANARY,
        description="About " + CANARY,
    )
    planted = {
        "groups": ParticipantGroup.objects.filter(workshop=workshop).update(
            name=_append("name"), description=_append("description")
        ),
        "rounds": Round.objects.filter(workshop=workshop).update(
            title=_append("title")
        ),
        "comparison sets": ComparisonSet.objects.filter(workshop=workshop).update(
            name=_append("name")
        ),
        "prompts": Prompt.objects.filter(comparison_set__workshop=workshop).update(
            text=_append("text")
        ),
        "responses": Response.objects.filter(
            prompt__comparison_set__workshop=workshop
        ).update(text=_append("text")),
        "reasons": HumanJudgment.objects.filter(
            item__comparison_set__workshop=workshop
        ).update(reason=Value(CANARY)),
        "verdicts": Verdict.objects.filter(run__comparison_set__workshop=workshop)
        .exclude(choice=None)
        .update(rationale=Value(CANARY), raw_output=Value("A " + CANARY)),
    }
    principles = list(workshop.principles.order_by("pk"))
    for principle in principles:  # a new version, with the canary as its reason
        if principle.status != Principle.Status.REJECTED:
            principle_edit(
                principle=principle,
                text=f"{principle.text[:150]} {CANARY}",
                actor=user,
                reason=CANARY,
            )
    planted["principles"] = len(principles)
    seeded = principle_seed(workshop=workshop, text="Seed " + CANARY, actor=user)
    principle_reject(principle=seeded, actor=user, reason="Because " + CANARY)
    translation_save(
        principle=principles[0], language="es", text="Elige " + CANARY, actor=user
    )
    card_narrative_update(
        workshop=workshop,
        actor=user,
        recruitment=CANARY,
        representativeness=CANARY,
        deliberation_design=CANARY,
        limitations=CANARY,
    )
    review = world.rounds[Round.Kind.REVIEW]
    reviewer = ParticipantFactory(group=world.nurses)
    card_review_submit(
        participant=reviewer,
        round_=review,
        verdict=ReviewVerdict.OBJECT,
        comment=CANARY,
        principle=review.shortlist.first(),
    )
    api_token_create(user=user, name="Token " + CANARY)
    constitution_publish(
        workshop=workshop, actor=user, title="C " + CANARY, rule="ccai", threshold=0.6
    )
    assert all(planted.values()), planted
    return planted


class _Markup(HTMLParser):
    """What a browser would run: script bodies and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_script = False
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_script = tag == "script"
        if tag == "script":
            self.scripts.append("")
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}={value}")
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script:
            self.scripts[-1] += data


def _injected(html: str) -> list[str]:
    """Ways the canary became markup in `html` (empty when it stayed text)."""
    parser = _Markup()
    parser.feed(html)
    found = [f"script: {s[:60]}" for s in parser.scripts if SCRIPT in s]
    found += [h for h in parser.handlers if "alert(1)" in h]
    found += [f"img src={src}" for src in parser.images if src == "x"]
    if "<script>window.__xss=1</script>" in html:
        found.append("the raw canary")
    return found


@pytest.fixture
def world(db: None) -> World:
    world = world_build()
    _plant(world)
    return world


def _get(client: Client, path: str, **headers: str) -> tuple[int, str]:
    response = client.get(path, **headers)
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    return response.status_code, body.decode("utf-8", "replace")


def _pages(world: World) -> list[tuple[str, str, Client]]:
    """(name, path, the client that opens it) of every page."""
    owner = Client()
    owner.force_login(world.user)
    participant = participant_client(ParticipantFactory(group=world.nurses))
    pages = [(f"facilitator {n}", p, owner) for n, p in facilitator_pages(world)]
    pages += [(f"participant {n}", p, participant) for n, p in participant_pages(world)]
    pages += [
        ("home", reverse("home"), Client()),
        ("join", world.join_path(), Client()),
        (
            "participant log",
            reverse("deliberation:participant-log", args=[world.workshop.slug]),
            participant,
        ),
    ]
    return pages


def test_the_canary_is_text_on_every_page(world: World) -> None:
    problems: list[str] = []
    shown_on: list[str] = []
    pages = _pages(world)
    for name, path, client in pages:
        status, html = _get(client, path)
        if status == 405:  # an action: it answers POSTs only
            continue
        if status != 200:
            problems.append(f"{name} {path}: HTTP {status}")
            continue
        problems += [f"{name} {path}: {p}" for p in _injected(html)]
        if "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html:
            shown_on.append(name)
    assert problems == []
    # Honest: the canary was on the pages, as text (on every page that shows a
    # workshop's title at least).
    assert len(shown_on) >= 20, shown_on
    for page in (
        "facilitator workshop-detail",
        "facilitator principle-detail",
        "facilitator card-narrative-edit",
        "participant participant-home",
        "participant participant-compare",
        "participant participant-review",
    ):
        if any(n == page for n, _, _ in pages):
            assert page in shown_on, page


def _polled(html: str) -> set[str]:
    """The URLs the page fetches through htmx (hx-get), as the browser reads them."""
    return {unescape(url) for url in re.findall(r'hx-get="([^"]+)"', html)}


def _changed(url: str) -> str:
    """`url` with a `shown` fingerprint that matches nothing, so a live view renders
    its fragment instead of answering 204 (nothing new since the page was shown)."""
    parts = urlsplit(url)
    query = [(k, "stale" if k == "shown" else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_the_canary_is_text_in_every_live_polled_fragment(world: World) -> None:
    problems: list[str] = []
    rendered: dict[str, str] = {}
    polled: set[tuple[str, Client]] = set()
    for _, path, client in _pages(world):
        status, html = _get(client, path)
        if status == 200:
            polled |= {(url, client) for url in _polled(html)}
    for url, client in polled:
        for fetched in (url, _changed(url)):
            status, html = _get(client, fetched, HTTP_HX_REQUEST="true")
            if status in (204, 286):  # unchanged / polling stops: no markup
                continue
            if status != 200:
                problems.append(f"{fetched}: HTTP {status}")
                continue
            problems += [f"{fetched}: {p}" for p in _injected(html)]
            assert "<html" not in html, f"{fetched}: a page, not a fragment"
            name = resolve(urlsplit(fetched).path).url_name
            rendered[name] = rendered.get(name, "") + html
    assert problems == []
    # Every fragment URL of the live pages was rendered on its own ...
    assert set(rendered) >= FRAGMENTS, sorted(rendered)
    # ... and the canary was in fragments, as text.
    shown_in = sorted(
        name
        for name, html in rendered.items()
        if "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    )
    assert set(shown_in) >= {"workshop-live", "participant-status", "results"}


def _strings(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    items = value.values() if isinstance(value, dict) else value
    if isinstance(items, list | type({}.values())):
        return set().union(*(_strings(v) for v in items))
    return set()


def _api_paths(world: World) -> list[tuple[str, str]]:
    """Every GET endpoint of /api/v1/ about the workshop (ids: none needed)."""
    _, resolver = get_resolver().namespace_dict["api"]
    (v1,) = resolver.url_patterns
    paths = []
    for pattern in v1.url_patterns:
        converters = set(pattern.pattern.converters)
        if converters <= {"slug"} and pattern.name not in ("docs", "cards-pdf"):
            kwargs = {"slug": world.workshop.slug} if converters else {}
            paths.append(
                (str(pattern.name), reverse(f"api:{pattern.name}", kwargs=kwargs))
            )
    return paths


def test_the_canary_is_text_in_the_api_and_its_browsable_pages(world: World) -> None:
    owner = Client()
    owner.force_login(world.user)
    problems: list[str] = []
    found_in_json = 0
    paths = _api_paths(world)
    assert len(paths) >= 15
    for name, path in paths:
        as_json = owner.get(path, HTTP_ACCEPT="application/json")
        assert as_json.status_code == 200, (name, as_json.status_code)
        kind = as_json["Content-Type"]
        assert not kind.startswith("text/html"), (name, kind)
        found_in_json += "window.__xss" in as_json.content.decode()
        browsable = owner.get(path, HTTP_ACCEPT="text/html")
        if browsable["Content-Type"].startswith("text/html"):
            html = browsable.content.decode()
            problems += [f"{name} (browsable): {p}" for p in _injected(html)]
    assert problems == []
    assert found_in_json >= 8


def test_the_canary_is_text_in_every_export(world: World, tmp_path: Path) -> None:
    owner = Client()
    owner.force_login(world.user)
    slug = world.workshop.slug
    json_response = owner.get(reverse("cards:cards-json", args=[slug]))
    assert json_response["Content-Type"] == "application/json"
    cards = json.loads(json_response.content)
    assert CANARY in _strings(cards)  # JSON carries the exact text, as data
    markdown = owner.get(reverse("cards:cards-md", args=[slug])).content.decode()
    # Markdown renderers pass raw HTML through: it must be escaped there.
    assert _injected(markdown) == []
    assert "<img src=x" not in markdown and "<script>" not in markdown
    assert "&lt;script&gt;window" in markdown  # the text is there, escaped

    for fmt in ("csv", "json"):
        data, _ = export_archive(workshop=world.workshop, fmt=fmt)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            texts = [archive.read(n).decode() for n in archive.namelist()]
        assert any(CANARY in t or CANARY.replace('"', '""') in t for t in texts), fmt
    polis_export(workshop=world.workshop, out=tmp_path / "polis")
    assert any(
        "window.__xss" in p.read_text() for p in (tmp_path / "polis").glob("*.csv")
    )

    # The PDF: the canary printed as text, nothing fetched (the img's src).
    fetcher = RefusingURLFetcher()
    built = cards_for_workshop(workshop=world.workshop)
    pdf = cards_pdf(built[:3], title=world.workshop.title, fetcher=fetcher, processes=1)
    text = "".join(
        page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(pdf)).pages
    )
    assert fetcher.requested == []
    assert "<script>window.__xss=1</script>" in "".join(text.split())


def test_the_detector_sees_the_canary_as_markup_and_not_as_text() -> None:
    """What the tests above rely on: raw, the canary is found four ways."""
    assert len(_injected(f"<p>{CANARY}</p>")) == 4
    assert _injected(f"<p>{escape(CANARY)}</p>") == []
    assert _injected(f'<p title="{escape(CANARY)}">x</p>') == []
