"""The value-card PDF: its pages and text, PNG rendering, hostile participant text
and growing cards."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pypdf
import pytest
import weasyprint

from workbench.cards.render.pdf import (
    RefusingURLFetcher,
    cards_pdf,
    css_string,
    shared_facts,
)
from workbench.cards.render.pdf_parallel import parallel_cards_pdf, split_parts
from workbench.cards.render.pdf_sample import sample_card, sample_constitution_cards
from workbench.cards.schema import validate_card

HOSTILE = (
    '<script>alert("x")</script> <img src="http://evil.example/p.png"> '
    '<a href="file:///etc/passwd">passwd</a> <link rel="stylesheet" '
    'href="https://evil.example/s.css"> url(file:///etc/shadow)'
)


def _pages(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(BytesIO(pdf))
    return [page.extract_text() or "" for page in reader.pages]


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _render(cards: list[dict[str, object]], mode: str, **kwargs: object) -> bytes:
    """The PDF laid out in this process, or in parts by forked processes and
    merged: both must give the same document."""
    if mode == "parallel":
        return parallel_cards_pdf(
            cards,
            title=str(kwargs.get("title", "AI values")),
            fetcher=kwargs.get("fetcher") or RefusingURLFetcher(),  # type: ignore[arg-type]
            processes=2,
        )
    return cards_pdf(cards, processes=1, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=["one process", "parallel"])
def document(request) -> tuple[list[dict[str, object]], bytes]:
    cards = sample_constitution_cards(principles=4, groups=3)
    for card in cards:
        validate_card(card)
    return cards, _render(cards, request.param, title="AI values")


def _layout_text(pdf: bytes, page: int) -> str:
    """One page's text as poppler lays it out (the stamped page numbers of the
    parallel document sit on their lines there, not at the end of the text)."""
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()


def _link_targets(pdf: bytes, page: int) -> dict[int, int]:
    """Where the links on a page go: {top of the link's box: page index}."""
    reader = pypdf.PdfReader(BytesIO(pdf))
    named = {
        name: reader.get_destination_page_number(dest)
        for name, dest in reader.named_destinations.items()
    }
    targets = {}
    for annotation in reader.pages[page].get("/Annots") or []:
        link = annotation.get_object()
        dest = link.get("/Dest")
        if isinstance(dest, str):
            targets[round(float(link["/Rect"][1]))] = named[dest]
        elif dest is not None:
            targets[round(float(link["/Rect"][1]))] = reader.get_page_number(
                dest[0].get_object()
            )
    return targets


def test_pdf_has_cover_contents_one_section_per_card_and_appendix(document):
    cards, pdf = document
    pages = _pages(pdf)
    assert pdf.startswith(b"%PDF-")
    assert "AI values" in pages[0] and "How should an AI assistant behave?" in pages[0]
    assert "Contents" in pages[1]
    # Every card starts on a new page whose number the contents give.
    for card in cards:
        start = next(
            i
            for i, p in enumerate(pages)
            # The card's kicker; the constitution's table of principles also
            # names every principle card's id.
            if f"CARD · {card['id']}".upper() in p.upper()
        )
        contents = _layout_text(pdf, 2)
        line = next(ln for ln in contents.splitlines() if str(card["title"]) in ln)
        # The page number leads the entry, in a column of its own.
        assert line.split()[0] == str(start + 1), (line, start + 1)
        for heading in (
            "Criteria",
            "Origin",
            "Measurement",
            "Aggregation",
            "Legitimacy",
        ):
            assert heading in "".join(pages[start : start + 8])
    # Content hashes on each card and in the appendix; page numbers in the footer.
    for card in cards:
        digest = card["legitimacy"]["content_hash"]  # type: ignore[index]
        start = next(
            i
            for i, p in enumerate(pages)
            if f"CARD · {card['id']}".upper() in p.upper()
        )
        assert digest in _flat("".join(pages[start : start + 3]))
        assert digest in _flat(pages[-1] + pages[-2])
    assert "Appendix: provenance" in pages[-1] + pages[-2]
    assert "WeasyPrint" in pages[-1] or "weasyprint" in pages[-1]
    assert f"2 / {len(pages)}" in pages[1]
    assert all(f"{n} / {len(pages)}" in pages[n - 1] for n in range(2, len(pages)))
    assert f"1 / {len(pages)}" not in pages[0]  # no footer on the cover


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_contents_link_to_the_page_each_card_starts_on(document):
    cards, pdf = document
    pages = _pages(pdf)
    starts = sorted(
        next(i for i, p in enumerate(pages) if f"CARD · {c['id']}".upper() in p.upper())
        for c in cards
    )
    # Every card's first page is the target of a link in the contents.
    assert set(starts) <= set(_link_targets(pdf, 1).values())


def test_parts_are_contiguous_balanced_and_never_empty():
    assert split_parts([5, 5, 5, 5], 2) == [range(0, 2), range(2, 4)]
    assert split_parts([30, 1, 1, 1, 1], 2) == [range(0, 1), range(1, 5)]
    assert split_parts([1, 1, 1], 8) == [range(0, 1), range(1, 2), range(2, 3)]
    assert split_parts([4], 2) == [range(0, 1)]


def test_pdf_draws_charts_as_vector_graphics(document):
    _, pdf = document
    pages = _pages(pdf)
    # The chart labels are text in the PDF (inline SVG), e.g. the legend and the groups.
    start = next(
        i for i, p in enumerate(pages) if "CARD · AI-VALUES/PRINCIPLE/1" in p.upper()
    )
    text = "".join(pages[start : start + 8])
    assert "Support per group" in text and "Encoding gap per group" in text
    assert "Nurses" in text and "Teachers" in text


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None,
    reason="poppler-utils is not installed (scripts/ensure_pdf_libs.sh)",
)
def test_pdf_renders_to_png(document, tmp_path: Path):
    _, pdf = document
    (tmp_path / "cards.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "30",
            "-f",
            "1",
            "-l",
            "3",
            str(tmp_path / "cards.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
        timeout=60,
    )
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == 3
    assert all(
        p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 1000 for p in pngs
    )


@pytest.mark.parametrize("mode", ["one process", "parallel"])
def test_hostile_participant_text_prints_as_text_and_fetches_nothing(mode):
    card = sample_card(text=HOSTILE, groups=2, narrative=HOSTILE)
    card["criteria"]["examples"][0]["prompt"] = HOSTILE
    card["origin"]["supporters"]["per_group"][
        '<img src="http://evil.example/g.png">'
    ] = {
        "agree": 1,
        "disagree": 0,
        "pass": 0,
        "participants": 1,
    }
    validate_card(card)
    fetcher = RefusingURLFetcher()
    pdf = _render([card, card], mode, title=HOSTILE, fetcher=fetcher)
    assert fetcher.requested == []
    text = _flat("".join(_pages(pdf)))
    assert _flat('<script>alert("x")</script>') in text
    assert _flat('<a href="file:///etc/passwd">passwd</a>') in text
    assert _flat('<img src="http://evil.example/p.png">') in text
    # No link annotation points anywhere (participant text made no link).
    reader = pypdf.PdfReader(BytesIO(pdf))
    uris = [
        a.get_object().get("/A", {}).get("/URI")
        for page in reader.pages
        for a in page.get("/Annots") or []
    ]
    assert not [u for u in uris if u]


def test_fetcher_refuses_and_records_what_markup_would_fetch():
    """The recording the test above relies on: unescaped markup does ask."""
    fetcher = RefusingURLFetcher()
    html = '<img src="http://evil.example/p.png"><img src="file:///etc/passwd">'
    pdf = weasyprint.HTML(
        string=html, base_url=None, url_fetcher=fetcher.weasyprint()
    ).write_pdf()
    assert pdf.startswith(b"%PDF-")
    assert fetcher.requested == ["http://evil.example/p.png", "file:///etc/passwd"]


def test_unknown_parts_of_a_card_print_as_generic_tables():
    card = sample_card(groups=2)
    card["future_section"] = {"novel_figure": 0.42, "rows": [{"a": 1, "b": "x"}]}
    card["measurement"]["brand_new"] = {"nested": {"deep": "value-7"}}
    text = "".join(_pages(cards_pdf([card], title="Cards")))
    assert "Future section" in text and "Novel figure" in text and "0.42" in text
    assert "Brand new" in text and "value-7" in text


def test_non_latin_scripts_are_printed_with_embedded_fonts():
    words = ["看護師は患者を尊重する", "المعلمون", "शिक्षक", "Ελληνικά"]
    card = sample_card(text=" / ".join(words), groups=2)
    pdf = cards_pdf([card], title="Cards")
    text = "".join(_pages(pdf))
    # Devanagari is shaped into conjunct glyphs that text extraction does not
    # map back to letters; its font is checked below instead.
    for word in (words[0], words[1], words[3]):
        assert word in text or _flat(word) in _flat(text), word
    if (
        not shutil.which("fc-list")
        or not subprocess.run(
            ["fc-list", ":lang=zh-cn"], check=False, capture_output=True, text=True
        ).stdout
    ):
        pytest.skip("no CJK font installed (scripts/ensure_pdf_libs.sh)")
    fonts = {
        str(f.get_object().get("/BaseFont"))
        for page in pypdf.PdfReader(BytesIO(pdf)).pages
        for f in (page.get("/Resources", {}).get("/Font") or {}).values()
    }
    assert any("CJK" in f for f in fonts), fonts
    assert any("Devanagari" in f for f in fonts), fonts


def test_what_a_part_asked_for_in_its_own_process_reaches_the_callers_fetcher(
    monkeypatch,
):
    """The recording above also works across processes: markup a child laid out
    (here, unescaped on purpose) reports what it asked for to the caller."""
    from workbench.cards.render import pdf_parallel

    def raw(cards, entries, *, shown, **kwargs):
        card, pid = shown[0]["id"], os.getpid()
        return f'<p>{card}</p><img src="http://evil.example/{card}/{pid}.png">'

    monkeypatch.setattr(pdf_parallel, "document_html", raw)
    cards = sample_constitution_cards(principles=3, groups=2)
    fetcher = RefusingURLFetcher()
    pdf = parallel_cards_pdf(cards, title="t", fetcher=fetcher, processes=2)
    assert pdf.startswith(b"%PDF-")
    # One part per process, each asking once for its first card's image; the
    # second part was laid out by the child.
    asked = [url.rsplit("/", 1) for url in fetcher.requested]
    assert len(asked) == 2
    assert all(url.startswith("http://evil.example/ai-values/") for url, _ in asked)
    assert {pid for _url, pid in asked} - {f"{os.getpid()}.png"}


def _card_pages(pages: list[str], card: dict[str, object]) -> str:
    start = next(
        i for i, p in enumerate(pages) if f"CARD · {card['id']}".upper() in p.upper()
    )
    end = next(
        (i for i in range(start + 1, len(pages)) if "CARD · " in pages[i].upper()),
        len(pages),
    )
    return "".join(pages[start:end])


def test_facts_every_principle_card_shares_are_printed_once(document):
    cards, pdf = document
    pages = _pages(pdf)
    front = _flat("".join(pages[1:3]))
    assert _flat("Shared by every principle card") in front
    assert _flat("Invited through the unions' mailing lists.") in front
    assert _flat("similarity-baseline") in front
    for card in cards[1:]:
        text = _flat(_card_pages(pages, card))
        # Not repeated on the card, which says where it is...
        assert _flat("Invited through the unions' mailing lists.") not in text
        assert _flat("similarity-baseline") not in text
        assert _flat("Printed once for all principle cards") in text
        # ...while the card keeps its own part of a shared mapping.
        first_vote = card["legitimacy"]["thresholds"]["first_vote_at"]  # type: ignore[index]
        assert _flat(f"First vote at: {first_vote}") in text
        assert card["legitimacy"]["content_hash"] in text  # type: ignore[index]
    # The constitution card is one card: it keeps its own narrative.
    assert _flat("Invited through the unions' mailing lists.") in _flat(
        _card_pages(pages, cards[0])
    )


def test_what_differs_between_principle_cards_stays_on_each_card():
    cards = sample_constitution_cards(principles=3, groups=2)
    cards[2]["legitimacy"]["narrative"]["recruitment"] = "Door to door."
    cards[3]["measurement"]["judges"] = []
    shared = shared_facts(cards)
    assert ("legitimacy", "narrative") in shared
    # Only the entries that are the same on every card, never a card's value.
    assert "recruitment" not in shared[("legitimacy", "narrative")]
    assert ("measurement", "judges") not in shared
    assert "first_vote_at" not in shared[("legitimacy", "thresholds")]
    assert "value" not in shared[("pluralism", "origin")]
    pages = _pages(cards_pdf(cards, title="AI values", processes=1))
    assert "Door to door." in _card_pages(pages, cards[2])
    assert "Invited through the unions" in _card_pages(pages, cards[1])
    assert "similarity-baseline" in _card_pages(pages, cards[2])
    # A single principle card shares nothing: it is printed whole.
    assert shared_facts(cards[:2]) == {}


@pytest.mark.parametrize("mode", ["one process", "parallel"])
def test_the_outline_lists_every_card_under_the_document(mode):
    cards = sample_constitution_cards(principles=8, groups=2)
    pdf = _render(cards, mode, title="AI values")
    reader = pypdf.PdfReader(BytesIO(pdf))

    def titles(items: list[object], depth: int = 0) -> list[tuple[int, str, int]]:
        found = []
        for item in items:
            if isinstance(item, list):
                found += titles(item, depth + 1)
            else:
                found.append(
                    (depth, item.title, reader.get_destination_page_number(item))
                )
        return found

    outline = titles(reader.outline)
    pages = _pages(pdf)
    for card in cards:
        start = next(
            i
            for i, p in enumerate(pages)
            if f"CARD · {card['id']}".upper() in p.upper()
        )
        assert (1, card["title"], start) in outline, (card["title"], outline[:6])
    assert outline[0][:2] == (0, "AI values")


def test_a_title_becomes_a_css_string_that_cannot_break_out():
    hostile = 'x"; } body { color: red } </style><script>\\'
    quoted = str(css_string(hostile))
    assert quoted.startswith('"') and quoted.endswith('"')
    inner = quoted[1:-1]
    for character in '"{};<>/\n':
        assert character not in inner
    assert inner.startswith("x\\22 ")  # the quote, as a CSS hex escape


@pytest.mark.parametrize("mode", ["one process", "parallel"])
def test_every_page_but_the_cover_has_the_title_and_its_number(mode):
    cards = sample_constitution_cards(principles=8, groups=2)
    pdf = _render(cards, mode, title="Ωμέγα & <co>")
    pages = _pages(pdf)
    assert "Ωμέγα & <co>" not in pages[0].split("\n")[-1]
    for number, text in enumerate(pages[1:], start=2):
        assert "Ωμέγα & <co>" in text, number
        assert f"{number} / {len(pages)}" in text, number
