"""The value-card PDF laid out in several processes at once, then merged.

WeasyPrint lays out one page after another in one Python thread (about 0.15 s
for a dense card page), so the PDF of a constitution with 50 principles takes
seconds on one core. Cards are independent of one another except for what spans
the document: the page numbers in the footers ("7 / 57"), in the contents and
in the constitution's table of principles, the links to cards and the outline.
So:

1. the cards are cut into contiguous parts of about equal weight (the length of
   their JSON), one per process, the first with the cover and contents, the
   last with the appendix;
2. each part is laid out and written in a process of its own (``fork_map``:
   the first here, the others in forked children), with room kept
   where a page number goes (``stamped.css``), and reports its pages and where
   its anchors, links and headings are;
3. here, qpdf (pikepdf) concatenates the parts; the page numbers are drawn into
   the room kept for them (``page_numbers``), the links are added with their
   targets resolved to pages, and the outline is built from the headings.

The result has the same pages and text as the one-process document
(``tests/cards/test_pdf.py`` checks both ways).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from django.utils import timezone

from workbench.cards.render import page_numbers
from workbench.cards.render.pdf import (
    RefusingURLFetcher,
    _weasyprint,
    card_entries,
    document_html,
)
from workbench.core.forking import fork_map

PX_TO_PT = 0.75  # CSS px are 1/96 in, PDF points 1/72 in
NUMBER_PX = 7 / 25.4 * 96  # the 7mm that a.page::before keeps (cards.css)
# The footer as cards.css draws it: in the 16mm bottom margin, 7.5pt, #555.
FOOTER_PX = 16 / 25.4 * 96
FOOTER_PT = 7.5
FOOTER_GREY = 0x55 / 0xFF
TEXT_GREY = 0x21 / 0xFF  # the text colour (#212121) of a reference's number
# What a card costs to lay out, in characters of its JSON (about 24 us each):
# a row of the constitution's table of principles costs as much as 570 of them,
# the cover, contents and shared facts 190 per card, the appendix 80 per card.
# Measured on the benchmark's document (scripts/bench_cards_pdf.py): 0.16 s a
# principle card, 0.9 s the constitution card with its table of 50 principles.
# The JSON is weighed, not the markup, so that each process renders only its
# own cards' markup.
PRINCIPLE_ROW_WEIGHT = 570
FRONT_WEIGHT_PER_CARD = 190
APPENDIX_WEIGHT_PER_CARD = 80


@dataclass(frozen=True)
class PartLink:
    """A link laid out in a part: on which page, to which anchor, where (CSS
    px from the page's top left) and in which font size (for its number)."""

    page: int
    target: str
    x: float
    y: float
    width: float
    height: float
    font_size: float
    numbered: bool  # an ``a.page``: its page number is stamped at its start


@dataclass(frozen=True)
class Bookmark:
    """A heading for the outline: its level (h1 = 1), label, page and height
    (CSS px from the page's top)."""

    level: int
    label: str
    page: int
    y: float


@dataclass(frozen=True)
class RenderedPart:
    pdf: bytes
    page_sizes: list[tuple[float, float]]  # CSS px
    anchors: dict[str, int]  # anchor name -> page index in this part
    links: list[PartLink]
    bookmarks: list[Bookmark]
    refused: list[str]  # URLs the part's markup asked for (all refused)


def split_parts(weights: list[int], parts: int) -> list[range]:
    """Contiguous ranges of indices, at most ``parts``, of about equal total
    weight; none empty."""
    total = sum(weights) or 1
    bounds = [0]
    running = 0
    for index, weight in enumerate(weights):
        running += weight
        # Close a part once it reaches its share of the whole.
        if running >= total * len(bounds) / parts and len(bounds) < parts:
            bounds.append(index + 1)
    if bounds[-1] != len(weights):
        bounds.append(len(weights))
    return [range(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def parallel_cards_pdf(
    cards: list[dict[str, Any]],
    *,
    title: str,
    fetcher: RefusingURLFetcher,
    processes: int,
) -> bytes:
    built_at = timezone.now()
    weights = [
        len(json.dumps(card, default=str))
        + PRINCIPLE_ROW_WEIGHT * len(card.get("principles") or [])
        for card in cards
    ]
    weights[0] += FRONT_WEIGHT_PER_CARD * len(cards)
    weights[-1] += APPENDIX_WEIGHT_PER_CARD * len(cards)
    # One part per process: each part is a document of its own, and a document
    # costs about 0.15 s besides its pages (its styles, its embedded fonts).
    ranges = split_parts(weights, processes)

    def render(part: range) -> RenderedPart:
        entries = card_entries(cards, drawn=part)
        html = document_html(
            cards,
            entries,
            title=title,
            built_at=built_at,
            shown=entries[part.start : part.stop],
            with_cover=part.start == 0,
            with_appendix=part.stop == len(entries),
            stamped=True,
        )
        return _render_part(html)

    parts = fork_map(render, ranges)
    for part in parts:
        fetcher.requested.extend(part.refused)
    return _merge(parts, title=title)


def _render_part(html: str) -> RenderedPart:
    recorder = RefusingURLFetcher()
    document = (
        _weasyprint()
        .HTML(string=html, base_url=None, url_fetcher=recorder.weasyprint())
        .render()
    )
    anchors: dict[str, int] = {}
    links: list[PartLink] = []
    bookmarks: list[Bookmark] = []
    for number, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, number)
        for link_type, target, (x1, y1, x2, y2), box in page.links:
            # The <a> itself, not the spans inside it (they carry its link too).
            if link_type == "internal" and getattr(box, "element_tag", "") == "a":
                classes = (box.element.get("class") or "").split()
                links.append(
                    PartLink(
                        number,
                        target,
                        x1,
                        y1,
                        x2 - x1,
                        y2 - y1,
                        float(box.style["font_size"]),
                        numbered="page" in classes,
                    )
                )
        bookmarks.extend(
            Bookmark(level, label, number, y)
            for level, label, (_x, y), _state in page.bookmarks
        )
    # Links to cards in other parts have no anchor here; WeasyPrint says so for
    # each one. Every internal link is added again after merging.
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        pdf: bytes = document.write_pdf()
    finally:
        logger.setLevel(level)
    return RenderedPart(
        pdf=pdf,
        page_sizes=[(p.width, p.height) for p in document.pages],
        anchors=anchors,
        links=links,
        bookmarks=bookmarks,
        refused=list(recorder.requested),
    )


def _number_boxes(links: list[PartLink]) -> list[PartLink]:
    """Where each numbered reference's page number goes: the box its
    ``a.page::before`` keeps at the start of its first line (a link that wraps
    has a box per line), ``NUMBER_PX`` wide."""
    first: dict[tuple[int, str], PartLink] = {}
    for link in links:
        if not link.numbered:
            continue
        key = (link.page, link.target)
        seen = first.get(key)
        if seen is None or (round(link.y), link.x) < (round(seen.y), seen.x):
            first[key] = link
    return [
        dataclasses.replace(link, width=min(link.width, NUMBER_PX))
        for link in first.values()
    ]


def _numbers(
    parts: list[RenderedPart], offsets: list[int], anchor_pages: dict[str, int]
) -> list[list[page_numbers.Number]]:
    """What each page gets drawn: its footer's "n / total" (not on the cover)
    and the page of each numbered reference on it, right-aligned in the room
    its part kept."""
    sizes = [size for part in parts for size in part.page_sizes]
    total = len(sizes)
    numbers: list[list[page_numbers.Number]] = [
        [
            page_numbers.Number(
                f"{i + 1} / {total}",
                top=(h - FOOTER_PX) * PX_TO_PT,
                height=FOOTER_PX * PX_TO_PT,
                size=FOOTER_PT,
                grey=FOOTER_GREY,
                centre=w * PX_TO_PT / 2,
            )
        ]
        if i > 0
        else []
        for i, (w, h) in enumerate(sizes)
    ]
    for part, offset in zip(parts, offsets, strict=False):
        for link in _number_boxes(part.links):
            if link.target in anchor_pages:
                numbers[offset + link.page].append(
                    page_numbers.Number(
                        str(anchor_pages[link.target] + 1),
                        top=link.y * PX_TO_PT,
                        height=link.height * PX_TO_PT,
                        size=link.font_size * PX_TO_PT,
                        grey=TEXT_GREY,
                        right=(link.x + link.width) * PX_TO_PT,
                    )
                )
    return numbers


def _merge(parts: list[RenderedPart], *, title: str) -> bytes:
    import pikepdf  # noqa: PLC0415 (only the parallel path needs it)

    offsets = list(itertools.accumulate((len(p.page_sizes) for p in parts), initial=0))
    anchor_pages = {
        name: offset + page
        for part, offset in zip(parts, offsets, strict=False)
        for name, page in part.anchors.items()
    }
    merged = pikepdf.Pdf.new()
    # Open until the merged file is saved: qpdf copies their streams then.
    sources = [pikepdf.Pdf.open(BytesIO(part.pdf)) for part in parts]
    with warnings.catch_warnings():
        # "extend() does not preserve named destinations": the links that
        # name them are replaced below.
        warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
        for source in sources:
            merged.pages.extend(source.pages)
    font = page_numbers.register(merged)
    heights = [h * PX_TO_PT for part in parts for _w, h in part.page_sizes]
    for page, numbers in zip(
        merged.pages, _numbers(parts, offsets, anchor_pages), strict=True
    ):
        page_numbers.draw(merged, page, font, numbers)
        # WeasyPrint's own links name their targets in its part's catalogue,
        # which concatenation leaves behind: they are all drawn again below.
        annotations = page.obj.get("/Annots")
        if annotations is not None:
            kept = [a for a in annotations if "/Dest" not in a]
            page.obj.Annots = merged.make_indirect(pikepdf.Array(kept))
    for part, offset in zip(parts, offsets, strict=False):
        for link in part.links:
            if link.target not in anchor_pages:
                continue
            page = merged.pages[offset + link.page]
            height = heights[offset + link.page]
            annotation = pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Link,
                Rect=[
                    link.x * PX_TO_PT,
                    height - (link.y + link.height) * PX_TO_PT,
                    (link.x + link.width) * PX_TO_PT,
                    height - link.y * PX_TO_PT,
                ],
                Border=[0, 0, 0],
                Dest=[merged.pages[anchor_pages[link.target]].obj, pikepdf.Name.Fit],
            )
            if "/Annots" not in page.obj:
                page.obj.Annots = merged.make_indirect(pikepdf.Array())
            page.obj.Annots.append(merged.make_indirect(annotation))
    _outline(merged, parts, offsets, heights)
    merged.docinfo["/Title"] = title
    merged.docinfo["/Producer"] = "WeasyPrint, merged by qpdf (pikepdf)"
    out = BytesIO()
    merged.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _outline(
    merged: Any, parts: list[RenderedPart], offsets: list[int], heights: list[float]
) -> None:
    """The document's outline from every part's headings, nested by level as
    WeasyPrint nests one document's (an h3 under the h2 before it)."""
    import pikepdf  # noqa: PLC0415

    with merged.open_outline() as outline:
        stack: list[tuple[int, Any]] = []  # (level, item) of the open headings
        for part, offset in zip(parts, offsets, strict=False):
            for mark in part.bookmarks:
                page = offset + mark.page
                item = pikepdf.OutlineItem(
                    mark.label,
                    page,
                    pikepdf.PageLocation.XYZ,
                    top=heights[page] - mark.y * PX_TO_PT,
                )
                while stack and stack[-1][0] >= mark.level:
                    stack.pop()
                (stack[-1][1].children if stack else outline.root).append(item)
                stack.append((mark.level, item))
