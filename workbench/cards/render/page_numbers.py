"""Page numbers drawn straight into the merged value-card PDF.

The parts of a parallel render (``pdf_parallel``) leave room for what they
cannot know: the footer's "12 / 57" and the page of each card in the contents
and the constitution's table. Those are ASCII digits, so they are drawn here as
PDF text operators in the document's own font (DejaVu Sans, as ``cards.css``
sets it), from a TrueType subset of the dozen glyphs they need (fontTools, which
WeasyPrint uses for its own subsets). Laying them out as HTML pages with
WeasyPrint and stamping those on cost about 8 ms a page, a tenth of a 60-page
render's wall time, all of it after the parts were done.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from typing import Any

FONT_FAMILY = "DejaVu Sans"  # the body font of cards.css
CHARACTERS = " /0123456789"
FIRST_CHAR, LAST_CHAR = 32, 57  # space .. 9 in WinAnsiEncoding
RESOURCE = "/WorkbenchPageNumbers"


@dataclass(frozen=True)
class SubsetFont:
    data: bytes  # the TrueType subset
    name: str
    widths: dict[str, float]  # advance per character, in 1/1000 em
    ascent: float  # in 1/1000 em, as PDF font descriptors give them
    descent: float
    bbox: tuple[float, float, float, float]

    def width(self, text: str, size: float) -> float:
        return sum(self.widths[c] for c in text) * size / 1000

    def baseline(self, top: float, height: float, size: float) -> float:
        """Where the baseline of one line of ``size`` lies in a box ``top`` ..
        ``top + height`` (down the page): centred as CSS centres a line's
        content area in its line box."""
        content = (self.ascent - self.descent) * size / 1000
        return top + (height - content) / 2 + self.ascent * size / 1000


@functools.cache
def number_font() -> SubsetFont:
    from fontTools import subset  # noqa: PLC0415 (a dependency of WeasyPrint)
    from fontTools.ttLib import TTFont  # noqa: PLC0415

    # The file fontconfig gives Pango (and so WeasyPrint) for the family.
    path = subprocess.run(  # noqa: S603 (constant arguments)
        [shutil.which("fc-match") or "fc-match", "--format=%{file}", FONT_FAMILY],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Quiet: "GSUB pruned", "FFTM NOT subset" for every render of a worker.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    font = TTFont(path)
    options = subset.Options()
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=CHARACTERS)
    subsetter.subset(font)
    scale = 1000 / font["head"].unitsPerEm
    cmap = font.getBestCmap()
    widths = {c: font["hmtx"][cmap[ord(c)]][0] * scale for c in CHARACTERS}
    head = font["head"]
    out = BytesIO()
    font.save(out)
    return SubsetFont(
        data=out.getvalue(),
        name="WBPGNO+" + font["name"].getDebugName(6),
        widths=widths,
        ascent=font["hhea"].ascent * scale,
        descent=font["hhea"].descent * scale,
        bbox=(
            head.xMin * scale,
            head.yMin * scale,
            head.xMax * scale,
            head.yMax * scale,
        ),
    )


def register(pdf: Any) -> Any:
    """The font as a resource of ``pdf`` (a pikepdf.Pdf), shared by its pages."""
    import pikepdf  # noqa: PLC0415

    font = number_font()
    name = pikepdf.Name("/" + font.name)
    descriptor = pikepdf.Dictionary(
        Type=pikepdf.Name.FontDescriptor,
        FontName=name,
        Flags=32,  # nonsymbolic: the codes are WinAnsi, found through the font's cmap
        FontBBox=list(font.bbox),
        ItalicAngle=0,
        Ascent=font.ascent,
        Descent=font.descent,
        CapHeight=font.ascent,
        StemV=80,
        FontFile2=pdf.make_stream(font.data, Length1=len(font.data)),
    )
    return pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.TrueType,
            BaseFont=name,
            FirstChar=FIRST_CHAR,
            LastChar=LAST_CHAR,
            Widths=[
                font.widths.get(chr(code), 0)
                for code in range(FIRST_CHAR, LAST_CHAR + 1)
            ],
            Encoding=pikepdf.Name.WinAnsiEncoding,
            FontDescriptor=pdf.make_indirect(descriptor),
        )
    )


@dataclass(frozen=True)
class Number:
    """Text to draw: its right edge (``right``) or centre (``centre``) across
    the page and the box it is centred in down the page, in PDF points from the
    top left; its size in points and its grey level (0 black, 1 white)."""

    text: str
    top: float
    height: float
    size: float
    grey: float
    right: float | None = None
    centre: float | None = None


def draw(pdf: Any, page: Any, font_resource: Any, numbers: list[Number]) -> None:
    """Draws ``numbers`` on ``page`` over its content, whatever graphics state
    the content leaves behind (it is wrapped in q ... Q)."""
    if not numbers:
        return
    import pikepdf  # noqa: PLC0415

    font = number_font()
    height = float(page.mediabox[3]) - float(page.mediabox[1])
    operations = []
    for number in numbers:
        if not set(number.text) <= set(CHARACTERS):
            raise ValueError(f"only {CHARACTERS!r} can be drawn: {number.text!r}")
        width = font.width(number.text, number.size)
        if number.right is not None:
            x = number.right - width
        else:
            x = (number.centre or 0.0) - width / 2
        y = height - font.baseline(number.top, number.height, number.size)
        text = number.text.encode("ascii")
        operations.append(
            f"BT {RESOURCE} {_n(number.size)} Tf {_n(number.grey)} g "
            f"{_n(x)} {_n(y)} Td ({text.decode()}) Tj ET"
        )
    if "/Resources" not in page.obj:
        page.obj.Resources = pikepdf.Dictionary()
    if "/Font" not in page.obj.Resources:
        page.obj.Resources.Font = pikepdf.Dictionary()
    page.obj.Resources.Font[RESOURCE] = font_resource
    page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
    page.contents_add(pdf.make_stream(("\nQ\n" + "\n".join(operations)).encode()))


def _n(value: float) -> str:
    return format(Decimal(value).quantize(Decimal("0.001")).normalize(), "f")
