"""The opinion map as inline SVG: participants and principles in the plane of the
analysis's first two principal components (issue 3, "Where people see it").

Pure: it reads the stored analysis dict (`WorkshopAnalysis.result`) and returns
markup. Every group has a colour from the Okabe-Ito palette *and* a marker shape,
so nothing is told by colour alone; every piece of text is escaped, because
principle and group names are typed by participants and facilitators.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common
# colour-vision deficiency. Black is kept for principles and the axes.
PALETTE = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
)
NO_GROUP_COLOUR = "#8C959F"
INK = "#1B1F24"
SHAPES = ("circle", "square", "triangle", "diamond", "triangle-down", "plus", "star")
# Shape names for people who cannot see the marker, in the legend's data table.
SHAPE_SYMBOLS = {
    "circle": "●",
    "square": "■",
    "triangle": "▲",
    "diamond": "◆",
    "triangle-down": "▼",
    "plus": "✚",
    "star": "★",
    "ring": "○",
}
MARKER_RADIUS = 4.5
PAD = 24
LEGEND_ROW = 22
MAX_LABEL_CHARS = 10
MAX_PRINCIPLE_LABELS = 60


@dataclass(frozen=True)
class GroupStyle:
    key: str
    label: str
    colour: str
    shape: str
    members: int

    @property
    def symbol(self) -> str:
        return SHAPE_SYMBOLS[self.shape]


def _letter(index: int) -> str:
    """A, B, ..., Z, AA, AB, ...: how Polis names its opinion groups."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _sort_key(key: str) -> tuple[int, float, str]:
    try:
        return (0, float(key), key)
    except ValueError:
        return (1, 0.0, key)


def opinion_group_label(index: int) -> str:
    return gettext("Opinion group %(letter)s") % {"letter": _letter(index)}


def _style(index: int, key: str, label: str, members: int) -> GroupStyle:
    return GroupStyle(
        key=key,
        label=label,
        colour=PALETTE[index % len(PALETTE)],
        # Colour and shape cycle at different lengths, so pairs stay distinct.
        shape=SHAPES[index % len(SHAPES)],
        members=members,
    )


def opinion_group_styles(result: Mapping[str, Any]) -> dict[str, GroupStyle]:
    """Label, colour and shape of every opinion group, keyed by str(group id)."""
    groups: Mapping[Any, Any] = result.get("groups") or {}
    keys = sorted((str(k) for k in groups), key=_sort_key)
    sizes = {str(k): v for k, v in groups.items()}
    return {
        key: _style(index, key, opinion_group_label(index), int(sizes[key] or 0))
        for index, key in enumerate(keys)
    }


def participant_group_styles(result: Mapping[str, Any]) -> dict[str, GroupStyle]:
    """The same for the workshop's own groups, as named in the map's points."""
    counts: dict[str, int] = {}
    for point in _map(result).get("participants") or []:
        name = point.get("participant_group")
        if name is not None:
            counts[str(name)] = counts.get(str(name), 0) + 1
    return {
        name: _style(index, name, name, counts[name])
        for index, name in enumerate(sorted(counts))
    }


def no_group_style(members: int) -> GroupStyle:
    return GroupStyle(
        key="",
        label=gettext("Not in a group"),
        colour=NO_GROUP_COLOUR,
        shape="ring",
        members=members,
    )


def _map(result: Mapping[str, Any]) -> Mapping[str, Any]:
    value = result.get("map")
    return value if isinstance(value, Mapping) else {}


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _point(item: Mapping[str, Any]) -> tuple[float, float] | None:
    x, y = _number(item.get("x")), _number(item.get("y"))
    return None if x is None or y is None else (x, y)


def _extent(points: Iterable[tuple[float, float]]) -> tuple[float, float]:
    xs, ys = [0.0], [0.0]
    for x, y in points:
        xs.append(abs(x))
        ys.append(abs(y))
    return max(xs), max(ys)


def _shape(shape: str, r: float) -> str:
    """One marker centred on (0, 0)."""
    if shape == "circle":
        return f'<circle r="{r:.1f}"/>'
    if shape == "ring":
        return f'<circle r="{r:.1f}" fill="#ffffff" stroke-width="1.5"/>'
    if shape == "square":
        s = r * 0.85
        side = 2 * s
        return (
            f'<rect x="{-s:.1f}" y="{-s:.1f}" width="{side:.1f}" height="{side:.1f}"/>'
        )
    corners = _corners(shape, r)
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in corners)
    return f'<polygon points="{path}"/>'


def _corners(shape: str, r: float) -> list[tuple[float, float]]:
    r = r * 1.2
    if shape == "triangle":
        return [(0, -r), (r * 0.95, r * 0.7), (-r * 0.95, r * 0.7)]
    if shape == "triangle-down":
        return [(0, r), (r * 0.95, -r * 0.7), (-r * 0.95, -r * 0.7)]
    if shape == "diamond":
        return [(0, -r), (r * 0.8, 0), (0, r), (-r * 0.8, 0)]
    if shape == "plus":
        a = r * 0.35
        return [
            (-a, -r), (a, -r), (a, -a), (r, -a), (r, a), (a, a),
            (a, r), (-a, r), (-a, a), (-r, a), (-r, -a), (-a, -a),
        ]  # fmt: skip
    # A five-pointed star.
    return [
        (
            (r if i % 2 == 0 else r * 0.45) * math.sin(i * math.pi / 5),
            -(r if i % 2 == 0 else r * 0.45) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]


@dataclass(frozen=True)
class _Frame:
    """From analysis coordinates to SVG user units: origin in the middle."""

    cx: float
    cy: float
    scale: float
    principle_scale: float

    def at(
        self, point: tuple[float, float], *, principle: bool = False
    ) -> tuple[float, float]:
        s = self.principle_scale if principle else self.scale
        # SVG's y axis points down.
        return self.cx + point[0] * s, self.cy - point[1] * s


def _frame(
    people: Sequence[tuple[float, float]],
    principles: Sequence[tuple[float, float]],
    width: int,
    height: int,
) -> _Frame:
    half_w, half_h = width / 2 - PAD, height / 2 - PAD

    def fit(points: Sequence[tuple[float, float]]) -> float:
        ex, ey = _extent(points)
        scales = [half_w / ex if ex else math.inf, half_h / ey if ey else math.inf]
        scale = min(scales)
        return 1.0 if math.isinf(scale) else scale

    # Like a biplot, principles get their own scale: their loadings and the
    # participants' projections are in different units, and each set should fill
    # the frame.
    return _Frame(width / 2, height / 2, fit(people), fit(principles))


def _use(prefix: str, style: GroupStyle, xy: tuple[float, float]) -> str:
    return f'<use href="#{prefix}-m-{style.shape}" x="{xy[0]:.1f}" y="{xy[1]:.1f}"/>'


@dataclass(frozen=True)
class _People:
    styles: dict[str, GroupStyle]
    rows: list[tuple[str, GroupStyle, tuple[float, float]]]
    unplaced: int


def _people(result: Mapping[str, Any], grouping: str) -> _People:
    by_opinion = grouping == "opinion"
    styles = (
        opinion_group_styles(result) if by_opinion else participant_group_styles(result)
    )
    field = "group" if by_opinion else "participant_group"
    rows: list[tuple[str, GroupStyle, tuple[float, float]]] = []
    unplaced = 0
    ungrouped = 0
    points = list(_map(result).get("participants") or [])
    for item in points:
        xy = _point(item)
        if xy is None:
            unplaced += 1
            continue
        key = item.get(field)
        style = styles.get(str(key)) if key is not None else None
        if style is None:
            ungrouped += 1
        rows.append((str(item.get("id", "")), style or no_group_style(0), xy))
    if ungrouped:
        styles = {**styles, "": no_group_style(ungrouped)}
    return _People(styles, rows, unplaced)


def map_group_styles(
    result: Mapping[str, Any], grouping: str = "opinion"
) -> dict[str, GroupStyle]:
    """The groups as the map draws them, with members counted on the map and
    "Not in a group" when someone is: for the tables beside the map."""
    return _people(result, grouping).styles


def _principle_texts(result: Mapping[str, Any]) -> dict[str, str]:
    texts: dict[str, str] = {}
    for item in result.get("principles") or []:
        key = str(item.get("external_id") or item.get("id") or "")
        texts[key] = str(item.get("text") or "")
    return texts


def short_label(external_id: str) -> str:
    if len(external_id) <= MAX_LABEL_CHARS:
        return external_id
    return external_id[: MAX_LABEL_CHARS - 1] + "…"


def _principle_marks(
    result: Mapping[str, Any], frame: _Frame, width: int
) -> tuple[list[str], int]:
    texts = _principle_texts(result)
    items = [
        (str(item.get("external_id", "")), xy)
        for item in _map(result).get("principles") or []
        if (xy := _point(item)) is not None
    ]
    labelled = len(items) <= MAX_PRINCIPLE_LABELS
    marks = []
    for external_id, xy in items:
        x, y = frame.at(xy, principle=True)
        title = f"{external_id}: {texts.get(external_id, '')}".rstrip(": ")
        label = ""
        if labelled:
            anchor = "end" if x > width - 80 else "start"
            dx = -6 if anchor == "end" else 6
            label = (
                f'<text x="{x + dx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}" '
                'stroke="#ffffff" stroke-width="3" paint-order="stroke">'
                f"{escape(short_label(external_id))}</text>"
            )
        marks.append(
            f'<g class="principle" data-principle="{escape(external_id)}">'
            f"<title>{escape(title)}</title>"
            f'<path d="M{x - 3:.1f},{y - 3:.1f}L{x + 3:.1f},{y + 3:.1f}'
            f'M{x - 3:.1f},{y + 3:.1f}L{x + 3:.1f},{y - 3:.1f}"/>'
            f"{label}</g>"
        )
    return marks, len(items)


def _legend(
    prefix: str, styles: Mapping[str, GroupStyle], top: float, width: int
) -> tuple[str, float]:
    """Legend entries laid out in rows that wrap at the frame's width."""
    entries: list[str] = []
    x: float = PAD
    y: float = top + LEGEND_ROW / 2
    for style in styles.values():
        text = f"{style.label} ({style.members})"
        entry_width = 24 + 7.5 * len(text)
        if x > PAD and x + entry_width > width - PAD:
            x, y = PAD, y + LEGEND_ROW
        entries.append(
            f'<g class="legend-entry" fill="{style.colour}" stroke="{INK}">'
            f'<use href="#{prefix}-m-{style.shape}" x="{x + 6:.1f}" y="{y:.1f}"/>'
            f'<text x="{x + 18:.1f}" y="{y + 5:.1f}" fill="{INK}" stroke="none">'
            f"{escape(text)}</text></g>"
        )
        x += entry_width
    principle_text = gettext("Principle")
    if x > PAD and x + 24 + 7.5 * len(principle_text) > width - PAD:
        x, y = PAD, y + LEGEND_ROW
    entries.append(
        f'<g class="legend-entry" stroke="{INK}" stroke-width="1.5">'
        f'<path d="M{x + 3:.1f},{y - 3:.1f}L{x + 9:.1f},{y + 3:.1f}'
        f'M{x + 3:.1f},{y + 3:.1f}L{x + 9:.1f},{y - 3:.1f}"/>'
        f'<text x="{x + 18:.1f}" y="{y + 5:.1f}" fill="{INK}" stroke="none">'
        f"{escape(principle_text)}</text></g>"
    )
    bottom = y + LEGEND_ROW / 2 + 8
    return "".join(entries), bottom


def _you(
    prefix: str, people: _People, highlight: str | None, frame: _Frame, width: int
) -> tuple[str, GroupStyle | None]:
    if highlight is None:
        return "", None
    row = next((r for r in people.rows if r[0] == highlight), None)
    if row is None:
        return "", None
    _, style, xy = row
    x, y = frame.at(xy)
    anchor = "end" if x > width / 2 else "start"
    dx = -16 if anchor == "end" else 16
    ty = y - 12 if y > 40 else y + 24
    marker = (
        f'<use href="#{prefix}-m-{style.shape}" stroke-width=".6" '
        f'transform="translate({x:.1f} {y:.1f}) scale(2.4)"/>'
    )
    return (
        f'<g class="you" fill="{style.colour}" stroke="{INK}">'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="17" fill="none" stroke-width="2.5"/>'
        f"{marker}"
        f'<text x="{x + dx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" fill="{INK}" '
        f'stroke="#ffffff" stroke-width="4" paint-order="stroke" font-weight="700">'
        f"{escape(gettext('You are here'))}</text></g>",
        style,
    )


def _description(people: _People, n_principles: int, you: GroupStyle | None) -> str:
    n = len(people.rows)
    parts = [
        ngettext("%(n)d participant and ", "%(n)d participants and ", n) % {"n": n}
        + ngettext("%(n)d principle.", "%(n)d principles.", n_principles)
        % {"n": n_principles}
    ]
    parts.extend(
        gettext("%(label)s: %(n)d, shown as %(shape)s.")
        % {"label": style.label, "n": style.members, "shape": style.symbol}
        for style in people.styles.values()
    )
    if you is not None:
        parts.append(gettext("You are in %(label)s.") % {"label": you.label})
    parts.append(
        gettext(
            "People close together voted alike. Principles are scaled separately "
            "and lean towards the people who agreed with them."
        )
    )
    return " ".join(parts)


def _defs(prefix: str) -> str:
    shapes = (*SHAPES, "ring")
    return (
        "<defs>"
        + "".join(
            f'<g id="{prefix}-m-{shape}">{_shape(shape, MARKER_RADIUS)}</g>'
            for shape in shapes
        )
        + "</defs>"
    )


def render_opinion_map(
    result: Mapping[str, Any],
    *,
    highlight_participant: str | None = None,
    width: int = 640,
    height: int = 440,
    grouping: str = "opinion",
    id_prefix: str = "opinion-map",
    title: str | None = None,
) -> SafeString:
    """The map as one `<svg>` element, safe to put in a template as it is.

    `grouping`: "opinion" colours people by opinion group, "participant" by the
    workshop's own groups. `id_prefix` keeps element ids unique when a page shows
    more than one map. `highlight_participant` is a participant's id in the map
    ("You are here").
    """
    prefix = escape(id_prefix)
    people = _people(result, grouping)
    principle_points = [
        xy for item in _map(result).get("principles") or [] if (xy := _point(item))
    ]
    frame = _frame([r[2] for r in people.rows], principle_points, width, height)
    principle_marks, n_principles = _principle_marks(result, frame, width)
    you, you_style = _you(prefix, people, highlight_participant, frame, width)
    legend, bottom = _legend(prefix, people.styles, height, width)
    title = title or gettext("Opinion map")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="opinion-map" '
        f'viewBox="0 0 {width} {bottom:.0f}" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" font-size="13" '
        f'font-family="system-ui, sans-serif">',
        f'<title id="{prefix}-title">{escape(title)}</title>',
        f'<desc id="{prefix}-desc">'
        f"{escape(_description(people, n_principles, you_style))}</desc>",
        _defs(prefix),
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" '
        f'fill="#ffffff" stroke="#D0D7DE"/>',
        f'<g class="axes" stroke="#8C959F" stroke-dasharray="4 4">'
        f'<line x1="{PAD / 2}" y1="{frame.cy}" x2="{width - PAD / 2}" '
        f'y2="{frame.cy}"/><line x1="{frame.cx}" y1="{PAD / 2}" x2="{frame.cx}" '
        f'y2="{height - PAD / 2}"/>'
        f"</g>",
    ]
    if not people.rows:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2 - 8}" text-anchor="middle" '
            f'fill="{INK}">{escape(gettext("No participants to show yet."))}</text>'
        )
    for style in people.styles.values():
        markers = "".join(
            _use(prefix, style, frame.at(xy))
            for _, s, xy in people.rows
            if s.key == style.key
        )
        parts.append(
            f'<g class="participants" data-group="{escape(style.key)}" '
            f'fill="{style.colour}" stroke="{INK}" stroke-width=".75">{markers}</g>'
        )
    parts.append(
        f'<g class="principles" stroke="{INK}" stroke-width="1.5" fill="{INK}">'
        + "".join(principle_marks)
        + "</g>"
    )
    parts.extend([you, legend, "</svg>"])
    return mark_safe("".join(parts))  # noqa: S308  every text in it went through escape()
