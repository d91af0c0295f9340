"""The value-card PDF laid out in several processes at once, then merged.

WeasyPrint lays out one page after another in one Python thread (about 0.15 s
for a dense card page), so the PDF of a constitution with 50 principles takes
seconds on one core. Cards are independent of one another except for what spans
the document: the footers ("page 7 / 60"), the page numbers in the contents and
in the constitution's table of principles, and the links to cards. So:

1. the cards are cut into contiguous parts of about equal weight (the length of
   their markup), the first with the cover and contents, the last with the
   appendix;
2. each part is laid out and written by its own process (``fork_map``), with
   empty footers and three figure spaces where a page number goes
   (``stamped.css``); it reports its pages, where its anchors are and where its
   links are;
3. here, the parts are concatenated (pypdf); one overlay page per page -- the
   footer, and each cross-reference's page number in the space kept for it -- is
   laid out by WeasyPrint (near-empty pages: fast) and stamped on; links to
   another part's cards become PDF link annotations to the pages those cards
   start on (WeasyPrint linked those within a part itself).

The result has the same pages and text as the one-process document
(``tests/cards/test_pdf.py`` checks both ways).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from workbench.cards.render.pdf import (
    RefusingURLFetcher,
    _weasyprint,
    card_entries,
    document_html,
)
from workbench.core.forking import fork_map

PX_TO_PT = 0.75  # CSS px are 1/96 in, PDF points 1/72 in
OVERLAY_TEMPLATE = "cards/pdf/overlay.html"
# Weight, in characters of markup, of the cover and contents line per card and
# of the appendix line per card (a card's own weight is its sections' markup).
FRONT_WEIGHT_PER_CARD = 400
APPENDIX_WEIGHT_PER_CARD = 300


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


@dataclass(frozen=True)
class RenderedPart:
    pdf: bytes
    page_sizes: list[tuple[float, float]]  # CSS px
    anchors: dict[str, int]  # anchor name -> page index in this part
    links: list[PartLink]
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
    entries = card_entries(cards)
    built_at = timezone.now()
    weights = [
        sum(len(html) for place in e["sections"].values() for _, html in place)
        for e in entries
    ]
    weights[0] += FRONT_WEIGHT_PER_CARD * len(entries)
    weights[-1] += APPENDIX_WEIGHT_PER_CARD * len(entries)
    ranges = split_parts(weights, processes)

    def render(part: range) -> RenderedPart:
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
        for url in part.refused:
            fetcher.requested.append(url)
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
    for number, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, number)
        for link_type, target, (x1, y1, x2, y2), box in page.links:
            # The <a> itself, not the spans inside it (they carry its link too).
            if link_type == "internal" and getattr(box, "element_tag", "") == "a":
                size = float(box.style["font_size"])
                links.append(PartLink(number, target, x1, y1, x2 - x1, y2 - y1, size))
    # Links to cards in other parts have no anchor here; WeasyPrint says so for
    # each one, and the links are added after merging.
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
        refused=list(recorder.requested),
    )


def _number_boxes(links: list[PartLink]) -> list[PartLink]:
    """Where each reference's page number goes: at the end of its last line
    (a link that wraps has a box per line; the kept space is on the last)."""
    last: dict[tuple[int, str], PartLink] = {}
    for link in links:
        key = (link.page, link.target)
        seen = last.get(key)
        if seen is None or (round(link.y), link.x + link.width) > (
            round(seen.y),
            seen.x + seen.width,
        ):
            last[key] = link
    return list(last.values())


def _merge(parts: list[RenderedPart], *, title: str) -> bytes:
    import pypdf  # noqa: PLC0415 (only the parallel path needs it)
    from pypdf.annotations import Link  # noqa: PLC0415

    offsets = list(itertools.accumulate((len(p.page_sizes) for p in parts), initial=0))
    anchor_pages = {
        name: offset + page
        for part, offset in zip(parts, offsets, strict=False)
        for name, page in part.anchors.items()
    }
    sizes = [size for part in parts for size in part.page_sizes]
    pages: list[dict[str, Any]] = [
        # Whole pixels, rounded down: a sheet a fraction taller than its page
        # would spill onto a page of its own.
        {"width": int(w), "height": int(h), "footer": i > 0, "number": i + 1}
        | {"refs": []}
        for i, (w, h) in enumerate(sizes)
    ]
    for part, offset in zip(parts, offsets, strict=False):
        for link in _number_boxes(part.links):
            if link.target in anchor_pages:
                pages[offset + link.page]["refs"].append(
                    (link, anchor_pages[link.target] + 1)
                )
    overlay = (
        _weasyprint()
        .HTML(
            string=render_to_string(
                OVERLAY_TEMPLATE,
                {"title": title, "pages": pages, "total": len(pages)},
            ),
            base_url=None,
            url_fetcher=RefusingURLFetcher().weasyprint(),
        )
        .write_pdf()
    )

    writer = pypdf.PdfWriter()
    for part in parts:
        writer.append(pypdf.PdfReader(BytesIO(part.pdf)))
    stamps = pypdf.PdfReader(BytesIO(overlay)).pages
    for page, stamp in zip(writer.pages, stamps, strict=True):
        page.merge_page(stamp)
        # Merging writes the page's content out uncompressed (6x the bytes).
        page.compress_content_streams()
    for part, offset in zip(parts, offsets, strict=False):
        for link in part.links:
            # WeasyPrint linked the anchors of the link's own part already.
            if link.target in part.anchors or link.target not in anchor_pages:
                continue
            height_pt = part.page_sizes[link.page][1] * PX_TO_PT
            writer.add_annotation(
                page_number=offset + link.page,
                annotation=Link(
                    rect=(
                        link.x * PX_TO_PT,
                        height_pt - (link.y + link.height) * PX_TO_PT,
                        (link.x + link.width) * PX_TO_PT,
                        height_pt - link.y * PX_TO_PT,
                    ),
                    target_page_index=anchor_pages[link.target],
                ),
            )
    writer.add_metadata({"/Title": title})
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
