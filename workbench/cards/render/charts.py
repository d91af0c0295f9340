"""Charts of a value card: the marks as inline SVG, the words as HTML.

Pure functions from figures to markup: the PDF runs no JavaScript and fetches
nothing, so a chart must be complete markup. Labels and figures sit in HTML
columns beside the SVG plot, row for row (each row is ``ROW_MM`` high in both):
WeasyPrint draws an SVG ``<text>`` letter by letter with a fresh font lookup
(about 3 ms each, a third of the render time when the labels were SVG), while
HTML text costs a tenth of that. Every label is escaped here (group names are
typed by facilitators and imported from files).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from django.utils.translation import gettext as _

AGREE = "#2e7d32"
DISAGREE = "#c62828"
PASS = "#9e9e9e"  # noqa: S105 (a colour)
INK = "#212121"
GRID = "#d0d0d0"
ACCENT = "#1565c0"

PLOT_W = 400  # user units across the plot
ROW_H = 15  # user units per row
BAR_H = 10
ROW_MM = 3.0  # printed height of a row, in the SVG and in the HTML columns
PLOT_MM = 30  # printed width of the plot (charts sit in half-page columns)


@dataclass(frozen=True)
class Interval:
    """One row of a whisker chart: a point estimate and its confidence interval
    (either end may be missing), and other figures to print beside it."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""


def _cut(text: str, limit: int = 20) -> str:
    # Long labels are cut so they never run into the plot.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rect(x: float, y: float, w: float, h: float) -> str:
    return f"M{x:.1f} {y:.1f}h{w:.1f}v{h:.1f}h{-w:.1f}z"


def _path(d: Iterable[str], attributes: str) -> str:
    """All marks of one style as one ``<path>``: every SVG element is parsed,
    styled and drawn on its own, so a chart is a few paths, not a shape per
    mark."""
    data = "".join(d)
    return f'<path d="{data}" {attributes}/>' if data else ""


def _column(css: str, texts: Iterable[str]) -> str:
    # One text run per column, a line per row (``white-space: pre``): a box per
    # row cost more to lay out and draw than the text itself.
    texts = list(texts)
    direction = "" if all(t.isascii() for t in texts) else ' dir="auto"'
    return f'<td class="{css}"{direction}>{escape(chr(10).join(texts))}</td>'


def _chart(
    *,
    title: str,
    labels: Sequence[str],
    marks: str,
    figures: Sequence[str],
    below: str = "",
) -> str:
    rows = len(labels)
    height = ROW_H * rows
    plot = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" '
        f'viewBox="0 0 {PLOT_W} {height}" preserveAspectRatio="none" '
        f'width="{PLOT_MM}mm" height="{ROW_MM * rows:.1f}mm">{marks}</svg>'
    )
    # A one-row table with fixed column widths (CSS): cheaper to lay out than
    # inline blocks side by side. ``below`` goes under the plot (an axis).
    return (
        f'<table class="chart" role="img" aria-label="{quoteattr(title)[1:-1]}">'
        f"<tr>{_column('labels', (_cut(t) for t in labels))}"
        f'<td class="plot-column">{plot}{below}</td>'
        f"{_column('figures', figures)}</tr></table>"
    )


def votes_key() -> str:
    """The order of a vote bar's segments, in words, for its caption."""
    return _("bars left to right: agree · disagree · pass")


def votes_bars_svg(per_group: Mapping[str, Mapping[str, int]], *, title: str) -> str:
    """One stacked bar per group: the shares of agree, disagree and pass among
    its votes, with the counts (and participants, when known) at the right.

    The key is the caption's words (``votes_key``), not coloured swatches: the
    colours are not the only way to tell the segments apart, and a separate
    legend line cost a twentieth of a card's render."""
    bars: dict[str, list[str]] = {AGREE: [], DISAGREE: [], PASS: [], GRID: []}
    figures: list[str] = []
    for i, counts in enumerate(per_group.values()):
        y = i * ROW_H + (ROW_H - BAR_H) / 2
        agree, disagree = int(counts.get("agree", 0)), int(counts.get("disagree", 0))
        passed = int(counts.get("pass", 0))
        total = agree + disagree + passed
        x = 0.0
        for n, colour in ((agree, AGREE), (disagree, DISAGREE), (passed, PASS)):
            w = PLOT_W * n / total if total else 0.0
            if w > 0:
                bars[colour].append(_rect(x, y, w, BAR_H))
            x += w
        if not total:
            bars[GRID].append(_rect(0, y, PLOT_W, BAR_H))
        text = f"{agree}/{disagree}/{passed}"
        if counts.get("participants") is not None:
            text += f" ({int(counts['participants'])})"
        figures.append(text)
    marks = "".join(
        _path(d, f'fill="none" stroke="{GRID}"' if c == GRID else f'fill="{c}"')
        for c, d in bars.items()
    )
    return _chart(
        title=title,
        labels=[str(g) for g in per_group],
        marks=marks,
        figures=figures,
    )


def _interval_text(row: Interval) -> str:
    if row.value is None:
        return "—"
    text = f"{row.value:.2f}"
    if row.low is not None and row.high is not None:
        text += f" [{row.low:.2f}, {row.high:.2f}]"
    return f"{text} {row.note}" if row.note else text


def intervals_svg(
    rows: Sequence[Interval], *, title: str, domain: tuple[float, float] = (0.0, 1.0)
) -> str:
    """A dot per row with its confidence interval as a whisker, on a shared axis
    that widens to hold every value (kappa and gaps can be negative)."""
    values = [v for r in rows for v in (r.value, r.low, r.high) if v is not None]
    lo = min([domain[0], *values])
    hi = max([domain[1], *values])
    span = (hi - lo) or 1.0

    def x_of(v: float) -> float:
        return PLOT_W * (v - lo) / span

    height = ROW_H * len(rows)
    grid: list[str] = []
    for tick in (lo, (lo + hi) / 2, hi):
        x = min(max(x_of(tick), 0.5), PLOT_W - 0.5)
        grid.append(f"M{x:.1f} 0V{height}")
    zero = f"M{x_of(0.0):.1f} 0V{height}" if lo < 0 < hi else ""
    whiskers: list[str] = []
    dots: list[str] = []
    for i, row in enumerate(rows):
        cy = i * ROW_H + ROW_H / 2
        if row.low is not None and row.high is not None:
            x1, x2 = x_of(row.low), x_of(row.high)
            whiskers.append(
                f"M{x1:.1f} {cy}H{x2:.1f}M{x1:.1f} {cy - 4}V{cy + 4}"
                f"M{x2:.1f} {cy - 4}V{cy + 4}"
            )
        if row.value is not None:
            # A square, as forest plots mark estimates: four lines, where a
            # circle's two arcs cost WeasyPrint a Bézier conversion each.
            x = x_of(row.value)
            dots.append(f"M{x - 3.5:.1f} {cy - 3.5}h7v7h-7z")
    marks = (
        _path(grid, f'fill="none" stroke="{GRID}"')
        + _path([zero], f'fill="none" stroke="{INK}"')
        + _path(whiskers, f'fill="none" stroke="{INK}" stroke-width="1.2"')
        + _path(dots, f'fill="{ACCENT}"')
    )
    # One text run justified across the plot: the three tick values.
    axis = (
        '<div class="axis">'
        + " ".join(f"{t:.2f}" for t in (lo, (lo + hi) / 2, hi))
        + "</div>"
    )
    return _chart(
        title=title,
        labels=[r.label for r in rows],
        marks=marks,
        figures=[_interval_text(r) for r in rows],
        below=axis,
    )


def share_bars_svg(rows: Sequence[tuple[str, float | None]], *, title: str) -> str:
    """A bar per row for figures between 0 and 1 (the pluralism measures)."""
    frames: list[str] = []
    bars: list[str] = []
    for i, (_label, value) in enumerate(rows):
        y = i * ROW_H + (ROW_H - BAR_H) / 2
        frames.append(_rect(0.5, y, PLOT_W - 1, BAR_H))
        if value is not None:
            share = min(max(value, 0.0), 1.0)
            bars.append(_rect(0, y, PLOT_W * share, BAR_H))
    marks = _path(frames, f'fill="none" stroke="{GRID}"') + _path(
        bars, f'fill="{ACCENT}"'
    )
    return _chart(
        title=title,
        labels=[label for label, _value in rows],
        marks=marks,
        figures=["—" if v is None else f"{v:.2f}" for _label, v in rows],
    )
