"""Value cards as a PDF, through WeasyPrint.

The document is HTML from ``templates/cards/pdf/`` with every value escaped by
Django (participant text can hold markup, script tags, remote images and
``file://`` links: it must print as text) and charts drawn as inline SVG by
``charts``. WeasyPrint gets a fetcher that refuses every URL, so even markup
that slipped through could reach neither the network nor the disk; the document
needs nothing from outside (fonts come from fontconfig, not from URLs).

Known parts of a card get a designed, compact layout (a principle card is about
one page: figures as charts and one-line facts, not nested tables); any key this
module does not know falls back to a compact generic rendering, so a card that
grows never breaks the PDF. The constitution card summarises its principles in
one table (a row per principle, with the page of its card) instead of repeating
them.

WeasyPrint is imported on first render, not with this module: importing it
costs seconds and the URL conf imports this module through the views.
"""

from __future__ import annotations

import functools
import platform
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from importlib import metadata
from types import ModuleType
from typing import Any, NoReturn

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from workbench.cards.render import charts
from workbench.core.forking import can_fork

TEMPLATE = "cards/pdf/cards.html"
# Parts of a card's top level drawn elsewhere (cover, headings, appendix).
FRAME_KEYS = {"schema_version", "kind", "id", "title", "workshop", "built_at"}
DIMENSIONS = ("criteria", "origin", "measurement", "aggregation", "legitimacy")
# Where a known part of a card goes: across the page above the two columns, in
# the left column (charts and figures) or the right one (process facts). Any
# other part goes across the page below the columns.
TOP = ("criteria",)
LEFT = ("origin", "measurement", "pluralism")
RIGHT = ("aggregation", "legitimacy")
# Longer lists print their first entries and how many more the JSON and
# Markdown exports carry, so that a card stays about one page.
LIST_LIMIT = 3
# Below this many cards per process, forking and merging cost more than they save.
MIN_CARDS_PER_PROCESS = 4
# Parts of a principle card that are often the same on every card of a workshop:
# the facilitator's narrative, the committed rule, the judges, how pluralism is
# measured. What every principle card of a document says alike is printed once,
# in "Shared by every principle card", not on each card (a quarter of a card's
# page when the rule's commitment is recorded). The JSON and Markdown cards
# carry everything on every card. Of a mapping, only the entries that are the
# same everywhere are shared; a ``value`` always stays on its card.
SHAREABLE = (
    ("criteria", "examples_rule"),
    ("origin", "demographics"),
    ("measurement", "judges"),
    ("aggregation", "parameters"),
    ("legitimacy", "narrative"),
    ("legitimacy", "thresholds"),
    ("legitimacy", "review"),
    ("legitimacy", "timestamps"),
    ("pluralism", "origin"),
    ("pluralism", "aggregation"),
    ("pluralism", "measurement"),
)
KEPT_ON_CARD = {"value"}


@functools.cache
def _weasyprint() -> ModuleType:
    import weasyprint  # noqa: PLC0415 (seconds to import; see the module docstring)

    module: ModuleType = weasyprint
    return module


@functools.cache
def _fetcher_class() -> type[Any]:
    from weasyprint.urls import URLFetcher  # noqa: PLC0415

    class _Refusing(URLFetcher):  # type: ignore[misc]
        def __init__(self, recorder: RefusingURLFetcher) -> None:
            super().__init__(allowed_protocols=())
            self.recorder = recorder

        def fetch(self, url: str, headers: Any = None) -> NoReturn:
            self.recorder.refuse(url)

    return _Refusing


class RefusingURLFetcher:
    """Refuses every URL (http, https, file, data, anything) and remembers what
    it was asked for, so tests can prove nothing was requested.

    ``weasyprint()`` gives the object WeasyPrint calls (a ``URLFetcher`` with no
    allowed protocol whose ``fetch`` always refuses); it is built on first use so
    that importing this module does not import WeasyPrint."""

    def __init__(self) -> None:
        self.requested: list[str] = []

    def refuse(self, url: str) -> NoReturn:
        self.requested.append(url)
        raise ValueError(f"value-card PDFs fetch nothing: {url}")

    def weasyprint(self) -> Any:
        return _fetcher_class()(self)


# ---------------------------------------------------------------- generic parts


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _scalar(value: Any) -> SafeString:
    if value is None or (isinstance(value, dict | list) and not value):
        return SafeString("—")
    if isinstance(value, bool):
        return format_html("{}", _("yes") if value else _("no"))
    if isinstance(value, float):
        return format_html("{}", f"{value:.3g}")
    text = str(value)
    if text.isascii():
        # Plain text, no box of its own: most values are numbers, ids, dates.
        return format_html("{}", text)
    return format_html('<span dir="auto">{}</span>', text)


def _is_flat(value: Any) -> bool:
    return not isinstance(value, dict | list) or not value


def _join(separator: str, parts: Iterable[SafeString]) -> SafeString:
    # Safe: every part is escaped markup and the separator is a constant.
    return mark_safe(separator.join(parts))  # noqa: S308


def _more(count: int) -> SafeString:
    # Plain text, no grey span: a box less on many lines of every card.
    return format_html(
        "({})",
        ngettext(
            "%(n)s more in the JSON export", "%(n)s more in the JSON export", count
        )
        % {"n": count},
    )


def _head(items: list[Any], limit: int = LIST_LIMIT) -> tuple[list[Any], int]:
    """The first ``limit`` entries of a long list and how many were left off."""
    if len(items) <= limit + 1:  # "1 more" would take the line it saves
        return items, 0
    return items[:limit], len(items) - limit


def _inline(value: Any) -> SafeString:
    """A flat value on one line: mappings as ``key value · key value``, lists
    comma-separated, empty ones as a dash."""
    if isinstance(value, dict):
        if not value:
            return SafeString("—")
        # Keys as plain text ("Key: value"), not a span each: one text run.
        return _join(
            " · ",
            (
                format_html("{}: {}", _label(str(k)), _scalar(v))
                for k, v in value.items()
            ),
        )
    if isinstance(value, list):
        if not value:
            return format_html("{}", _("none"))
        shown, more = _head(value, 8)
        text = _join(", ", (_scalar(v) for v in shown))
        return text + format_html(", {}", _more(more)) if more else text
    return _scalar(value)


def _flat_rows(value: Any) -> bool:
    """Whether ``value`` is a non-empty mapping or list of rows with flat
    values (drawn as one table)."""
    rows = list(value.values()) if isinstance(value, dict) else value
    return (
        isinstance(rows, list)
        and bool(rows)
        and all(
            isinstance(r, dict) and r and all(_is_flat(v) for v in r.values())
            for r in rows
        )
    )


def _nested_line(value: Any) -> SafeString | None:
    """A mapping of flat values and flat mappings as one line, the inner
    mappings in parentheses (``None`` for anything deeper)."""
    if not isinstance(value, dict) or not all(
        _is_flat(v) or (isinstance(v, dict) and all(map(_is_flat, v.values())))
        for v in value.values()
    ):
        return None
    return _join(
        " · ",
        (
            format_html("{}: {}", _label(str(k)), _inline(v))
            if _is_flat(v)
            else format_html("{} ({})", _label(str(k)), _inline(v))
            for k, v in value.items()
        ),
    )


def generic(value: Any, *, depth: int = 0) -> SafeString:
    """Any JSON value, compactly: flat parts on one line each, rows as a table,
    nesting as indented lines; text is escaped."""
    flat = _is_flat(value) or (
        isinstance(value, dict | list)
        and all(
            _is_flat(v) for v in (value.values() if isinstance(value, dict) else value)
        )
    )
    line = _inline(value) if flat else _nested_line(value)
    if line is not None:
        return line
    if isinstance(value, list):
        value, more = _head(value)
        if more:
            return generic(value, depth=depth) + _more(more)
    if isinstance(value, list) and _flat_rows(value):
        columns = list(dict.fromkeys(k for r in value for k in r))
        return _table([[r.get(c) for c in columns] for r in value], columns)
    if isinstance(value, dict):
        rows = list(value.values())
        columns = list(rows[0]) if isinstance(rows[0], dict) else []
        if _flat_rows(value) and all(list(r) == columns for r in rows):
            return _table([(k, *r.values()) for k, r in value.items()], ["", *columns])
        return format_html_join(
            "",
            '<div class="kv depth-{}">{}: {}</div>',
            (
                (depth, _label(str(k)), generic(v, depth=depth + 1))
                for k, v in value.items()
            ),
        )
    return format_html_join(
        "",
        '<div class="kv depth-{}">{}</div>',
        ((depth, generic(v, depth=depth + 1)) for v in value),
    )


def _table(rows: Iterable[Iterable[Any]], columns: Iterable[str]) -> SafeString:
    """Rows of flat values, a line each (``Column: value · Column: value``; an
    unnamed first column leads the line): one text run with line breaks, where
    a table cost a box per cell and a table layout (a tenth of a card's render
    for the few small tables a card has)."""
    names = [_label(str(c)) if c else "" for c in columns]
    lines = (
        _join(
            " · ",
            (
                format_html("{}: {}", name, _scalar(v)) if name else _scalar(v)
                for name, v in zip(names, r, strict=False)
            ),
        )
        for r in rows
    )
    return format_html('<p class="rows">{}</p>', _join("<br>", lines))


def _rest(part: Mapping[str, Any], done: Iterable[str]) -> SafeString:
    """The keys of ``part`` no designed layout drew, compactly."""
    rest = {k: v for k, v in part.items() if k not in set(done)}
    return generic(rest) if rest else SafeString("")


def _figure(svg: str, caption: str) -> SafeString:
    # The SVG is built by ``charts`` from numbers with every label escaped.
    chart = mark_safe(svg)  # noqa: S308
    return format_html("<figure>{}<figcaption>{}</figcaption></figure>", chart, caption)


def _caption(*parts: str) -> str:
    return "; ".join(parts)


def _not_measured(value: Any) -> SafeString | None:
    if isinstance(value, dict) and value.get("measured") is False:
        return format_html(
            '<span class="muted">{}: <span dir="auto">{}</span></span>',
            _("Not measured"),
            value.get("reason", ""),
        )
    return None


def _counts_by_group(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(
            isinstance(c, dict) and {"agree", "disagree"} <= set(c)
            for c in value.values()
        )
    )


def _abc(counts: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(counts.get(k) for k in ("agree", "disagree", "pass"))


def _same_counts(a: Any, b: Any) -> bool:
    """Whether two per-group count tables agree on agree/disagree/pass."""
    return (
        _counts_by_group(a)
        and _counts_by_group(b)
        and list(a) == list(b)
        and all(_abc(a[g]) == _abc(b[g]) for g in a)
    )


def _line(heading: str, html: SafeString) -> SafeString:
    return format_html(
        '<p class="line"><span class="h">{}</span> {}</p>', heading, html
    )


# ---------------------------------------------------------------- dimensions


def _criteria(part: dict[str, Any], card: Mapping[str, Any]) -> SafeString:
    html = format_html(
        '<blockquote class="principle" dir="auto">{}</blockquote>', part.get("text", "")
    )
    versions, more_versions = _head(list(part.get("versions") or [])[::-1])
    if len(versions) > 1:
        # A line per version, one text run each (the current wording is the
        # quotation above, not printed again).
        lines = (
            format_html(
                "{} · {} ({}): {}",
                v.get("number"),
                str(v.get("created_at") or "")[:10],
                v.get("reason") or "—",
                _("the wording above")
                if v.get("text") == part.get("text")
                else _scalar(v.get("text") or ""),
            )
            for v in versions[::-1]
        )
        html += format_html(
            '<p class="h">{}</p><p class="rows">{}</p>',
            _("Versions"),
            _join("<br>", lines),
        )
        if more_versions:
            html += format_html(
                '<p class="note">{}</p>',
                ngettext(
                    "%(n)s earlier version in the JSON export",
                    "%(n)s earlier versions in the JSON export",
                    more_versions,
                )
                % {"n": more_versions},
            )
    html += _translations(list(part.get("translations") or []))
    examples, more_examples = _head(list(part.get("examples") or []))
    if examples:
        html += format_html('<p class="h">{}</p>', _("Examples participants agree on"))
        html += format_html_join(
            "",
            '<div class="example"><span class="prompt" dir="auto">{}</span> → '
            '<span dir="auto">{}</span> <span class="muted">({})</span></div>',
            (
                (
                    e.get("prompt", ""),
                    e.get("preferred_response", ""),
                    ngettext(
                        "%(share).0f%% of %(n)s label prefers this response",
                        "%(share).0f%% of %(n)s labels prefer this response",
                        int(e.get("n_labels", 0)),
                    )
                    % {
                        "share": 100 * float(e.get("share", 0)),
                        "n": e.get("n_labels", 0),
                    },
                )
                for e in examples
            ),
        )
        if more_examples:
            html += _more(more_examples)
    else:
        html += _line(
            _("Examples participants agree on"),
            format_html('<span class="muted">{}</span>', _("none")),
        )
    if part.get("examples_rule"):
        html += format_html('<p class="note">{}</p>', part["examples_rule"])
    return html + _rest(
        part, {"text", "versions", "translations", "examples", "examples_rule"}
    )


def _translations(rows: list[dict[str, Any]]) -> SafeString:
    """The facilitator's translations of the current wording, each in its own
    language (``lang``, for the font and line breaking); those of earlier
    wordings are only counted."""
    current = [r for r in rows if r.get("current")]
    if not rows:
        return SafeString("")
    html = format_html(
        '<p class="h">{}</p>', _("Translations (written by the facilitator)")
    )
    html += format_html_join(
        "",
        '<p class="kv"><span lang="{}" dir="auto">{}: {}</span></p>',
        (
            (r.get("language", ""), r.get("language", ""), r.get("text", ""))
            for r in current
        ),
    )
    if len(rows) > len(current):
        html += format_html(
            '<p class="note">{}</p>',
            ngettext(
                "%(n)s translation of an earlier wording in the JSON export",
                "%(n)s translations of earlier wordings in the JSON export",
                len(rows) - len(current),
            )
            % {"n": len(rows) - len(current)},
        )
    return html


def _origin(part: dict[str, Any], card: Mapping[str, Any]) -> SafeString:
    html = SafeString("")
    supporters = dict(part.get("supporters") or {})
    if _counts_by_group(supporters.get("per_group")):
        html += _figure(
            charts.votes_bars_svg(
                supporters.pop("per_group"), title=_("Support per group")
            ),
            _caption(_("Support per group (participants)"), charts.votes_key()),
        )
    if supporters:
        html += _line(_("Supporters"), generic(supporters, depth=1))
    return html + _rest(part, {"supporters"})


def _encoding_gap(value: dict[str, Any], card: Mapping[str, Any]) -> SafeString:
    html = SafeString("")
    value = dict(value)
    per_group = value.get("per_group")
    if isinstance(per_group, dict) and per_group:
        metric = "gap" if any("gap" in (g or {}) for g in per_group.values()) else None
        if metric:
            rows = [_interval(_("all participants"), value, metric)]
            rows += [
                _interval(str(group), figures or {}, metric)
                for group, figures in per_group.items()
            ]
            html += _figure(
                charts.intervals_svg(rows, title=_("Encoding gap per group")),
                _(
                    # xgettext:no-python-format
                    "Encoding gap per group with 95% confidence intervals "
                    "(κ: judge-human kappa; agr.: normalised agreement)"
                ),
            )
            value.pop("per_group")
            for k in (metric, "ci"):
                value.pop(k, None)
    if isinstance(card.get("principles"), list) and isinstance(
        value.get("principles"), list
    ):
        # Drawn per principle in the constitution's summary table.
        value.pop("principles")
        html += format_html(
            '<span class="muted">{}</span> ',
            _("Per principle: see the table of principles below."),
        )
    return html + generic(value, depth=1)


def _interval(label: str, figures: Mapping[str, Any], metric: str) -> charts.Interval:
    ci = (figures.get("ci") or {}).get(metric) or [None, None]
    extra = [
        f"{name} {figures[key]:.2f}"
        # Translators: short for "normalised agreement", as in the chart's caption.
        for key, name in (("kappa", "κ"), ("normalized_agreement", _("agr.")))
        if isinstance(figures.get(key), int | float)
    ]
    others = {
        k: v
        for k, v in figures.items()
        if k not in {metric, "ci", "kappa", "normalized_agreement"}
        and isinstance(v, int | float)
        and not isinstance(v, bool)
    }
    extra += [f"{_label(k)} {v}" for k, v in others.items()]
    return charts.Interval(
        label, figures.get(metric), ci[0], ci[1], note=" · ".join(extra)
    )


def _votes(value: dict[str, Any], card: Mapping[str, Any]) -> SafeString:
    html = SafeString("")
    value = dict(value)
    supporters = (card.get("origin") or {}).get("supporters") or {}
    # What Origin already shows is not printed twice: the counts per group
    # (its chart) and the overall counts (its Supporters line).
    same_groups = _same_counts(value.get("per_group"), supporters.get("per_group"))
    overall = supporters.get("overall")
    same_totals = isinstance(overall, dict) and all(
        k in value and value[k] == overall.get(k) for k in ("agree", "disagree", "pass")
    )
    if same_groups:
        value.pop("per_group")
    if same_totals:
        for k in ("agree", "disagree", "pass"):
            value.pop(k)
    if same_groups or same_totals:
        html += format_html(
            '<span class="muted">{}</span> ',
            _("Totals and per participant group: as in Origin.")
            if same_groups and same_totals
            else _("Per participant group: as in the Origin chart.")
            if same_groups
            else _("Totals: as in Origin."),
        )
    for sub, caption in (
        ("per_group", _("Votes per participant group")),
        ("per_opinion_group", _("Votes per opinion group")),
    ):
        if _counts_by_group(value.get(sub)):
            html += _figure(
                charts.votes_bars_svg(value.pop(sub), title=caption),
                _caption(caption, charts.votes_key()),
            )
    return html + generic(value, depth=1)


def _measurement(part: dict[str, Any], card: Mapping[str, Any]) -> SafeString:
    html = SafeString("")
    labels = {
        "votes": _("Votes"),
        "ranking": _("Ranking"),
        "comparisons": _("Comparison judgments"),
        "judges": _("Judges"),
        "encoding_gap": _("Encoding gap"),
    }
    for key, heading in labels.items():
        if key not in part:
            continue
        value = part[key]
        skipped = _not_measured(value)
        if skipped is not None:
            html += _line(heading, skipped)
        elif key == "votes" and isinstance(value, dict):
            html += _line(heading, _votes(value, card))
        elif key == "encoding_gap" and isinstance(value, dict):
            html += _line(heading, _encoding_gap(value, card))
        else:
            html += _line(heading, generic(value, depth=1))
    return html + _rest(part, labels)


def _aggregation(part: dict[str, Any], card: Mapping[str, Any]) -> SafeString:
    rule = part.get("rule_label") or part.get("rule")
    html = format_html(
        '<p class="lead">{}: <strong>{}</strong> · {}: <strong>{}</strong></p>',
        _("Rule"),
        rule or "—",
        _("Adopted"),
        {True: _("yes"), False: _("no"), None: "—"}[part.get("adopted")],
    )
    return html + _rest(part, {"rule", "rule_label", "adopted"})


def _legitimacy(part: dict[str, Any], card: Mapping[str, Any]) -> SafeString:
    html = SafeString("")
    narrative = part.get("narrative") or {}
    if narrative:
        fields = [
            ("recruitment", _("Recruitment")),
            ("representativeness", _("Representativeness")),
            ("deliberation_design", _("Deliberation design")),
            ("limitations", _("Limitations")),
        ]
        html += format_html(
            '<div class="narrative"><p class="marker">{}</p>{}{}</div>',
            _("Written by the facilitator"),
            format_html_join(
                "",
                '<p><span class="h">{}</span> <span dir="auto">{}</span></p>',
                ((label, narrative.get(key) or "—") for key, label in fields),
            ),
            _rest(narrative, {key for key, _label in fields}),
        )
    review = part.get("review") or {}
    if review:
        html += _line(
            _("Review by group representatives"),
            format_html(
                "<strong>{}</strong> · {}",
                review.get("status", ""),
                generic({k: v for k, v in review.items() if k != "status"}, depth=1),
            ),
        )
    rest = _compact_process(part)
    if rest:
        html += generic(rest)
    if part.get("content_hash"):
        html += _line(
            _("Content hash"),
            format_html('<code class="hash">{}</code>', part["content_hash"]),
        )
    return html


def _compact_process(part: Mapping[str, Any]) -> dict[str, Any]:
    """Legitimacy's other entries, without what they repeat: the vote range the
    builder writes into both the thresholds and the timestamps is printed with
    the timestamps, and votes per day go on one line."""
    rest = {
        k: v
        for k, v in part.items()
        if k not in {"narrative", "review", "content_hash"}
    }
    thresholds, stamps = rest.get("thresholds"), rest.get("timestamps")
    if isinstance(thresholds, dict) and isinstance(stamps, dict):
        own = {k: v for k, v in thresholds.items() if k not in stamps or stamps[k] != v}
        if own:
            rest["thresholds"] = own
        else:
            rest.pop("thresholds")
    participation = rest.get("participation")
    days = (
        participation.get("votes_per_day") if isinstance(participation, dict) else None
    )
    if (
        isinstance(participation, dict)
        and isinstance(days, list)
        and days
        and all(isinstance(d, dict) and set(d) == {"date", "votes"} for d in days)
    ):
        shown, more = _head(days, 8)
        line = " · ".join(f"{d['date']}: {d['votes']}" for d in shown)
        if more:
            line += f", {_more(more)}"
        rest["participation"] = {**participation, "votes_per_day": line}
    return rest


def _pluralism(part: dict[str, Any], card: Mapping[str, Any]) -> SafeString:
    rows = [
        (_label(key), (m or {}).get("value") if isinstance(m, dict) else None)
        for key, m in part.items()
    ]
    html = _figure(
        charts.share_bars_svg(rows, title=_("Pluralism")),
        _("Pluralism measures (0 to 1)"),
    )
    return html + _pluralism_lines(part)


def _pluralism_lines(part: Mapping[str, Any]) -> SafeString:
    """A line per measure with what is known besides its value (method, inputs,
    why it is missing); none for a measure with nothing more to say (its method
    printed once for all cards). A table of them does not fit a column."""
    rest = {
        key: {k: v for k, v in m.items() if k != "value" and v not in ({}, None)}
        if isinstance(m, dict)
        else m
        for key, m in part.items()
    }
    return format_html_join(
        "",
        '<p class="kv">{}: {}</p>',
        ((_label(str(key)), generic(m, depth=1)) for key, m in rest.items() if m),
    )


SECTIONS: dict[str, Callable[[dict[str, Any], Mapping[str, Any]], SafeString]] = {
    "criteria": _criteria,
    "origin": _origin,
    "measurement": _measurement,
    "aggregation": _aggregation,
    "legitimacy": _legitimacy,
    "pluralism": _pluralism,
}


def _principles_table(
    ids: list[Any], card: Mapping[str, Any], anchors: Mapping[str, tuple[str, Any]]
) -> SafeString:
    """The constitution's principles, a row each: its card (with the page the
    card starts on), the votes and the encoding gap."""
    gap_rows = ((card.get("measurement") or {}).get("encoding_gap") or {}).get(
        "principles"
    )
    gaps = {
        str(r.get("id")): r
        for r in (gap_rows if isinstance(gap_rows, list) else [])
        if isinstance(r, dict)
    }
    rows = []
    for number, pid in enumerate(ids, start=1):
        anchor, principle = anchors.get(str(pid), ("", {}))
        votes = (principle.get("measurement") or {}).get("votes") or {}
        gap = gaps.get(str(pid)) or (
            (principle.get("measurement") or {}).get("encoding_gap") or {}
        )
        title = principle.get("title") or pid
        # The page number sits in a column of its own, fixed in width: text
        # that changes length when the number is known would re-wrap the row
        # and make WeasyPrint lay out every later page again.
        page = format_html('<a class="page" href="#{}"></a>', anchor) if anchor else ""
        name = (
            title
            if str(title).isascii()
            else format_html('<span dir="auto">{}</span>', title)
        )
        rows.append(
            format_html(
                '<tr><td>{}</td><td>{}<br>{}</td><td class="num">{}</td>{}</tr>',
                number,
                name,
                pid,
                page,
                format_html_join(
                    "",
                    '<td class="num">{}</td>',
                    (
                        (_scalar(v),)
                        for v in (
                            *_abc(votes),
                            gap.get("human_ceiling"),
                            gap.get("judge_agreement"),
                            gap.get("gap"),
                        )
                    ),
                ),
            )
        )
    head = format_html_join(
        "",
        "<th>{}</th>",
        (
            (c,)
            for c in (
                "#",
                _("Principle"),
                _("Page"),
                _("Agree"),
                _("Disagree"),
                _("Pass"),
                _("Human ceiling"),
                _("Judge agreement"),
                _("Gap"),
            )
        ),
    )
    return format_html(
        '<table class="grid principles"><thead><tr>{}</tr></thead>'
        "<tbody>{}</tbody></table>",
        head,
        _join("", rows),
    )


def _section_title(key: str) -> str:
    return {
        "criteria": _("Criteria"),
        "origin": _("Origin"),
        "measurement": _("Measurement"),
        "aggregation": _("Aggregation"),
        "legitimacy": _("Legitimacy"),
        "pluralism": _("Pluralism"),
        "principles": _("Principles of this constitution"),
    }.get(key, _label(key))


def _card_sections(
    card: Mapping[str, Any], anchors: Mapping[str, tuple[str, Any]]
) -> dict[str, list[tuple[str, SafeString]]]:
    """The card's parts, rendered, by place: ``top`` (across the page), ``left``
    and ``right`` (the two columns) and ``bottom`` (across the page)."""
    sections: dict[str, list[tuple[str, SafeString]]] = {
        "top": [],
        "left": [],
        "right": [],
        "bottom": [],
    }
    for key, value in card.items():
        if key in FRAME_KEYS:
            continue
        render = SECTIONS.get(key)
        if key == "measurement" and isinstance(value, dict) and "encoding_gap" in value:
            # The encoding gap (the card's tallest chart) opens the right
            # column, so that the two columns are about as long.
            gap = {"encoding_gap": value["encoding_gap"]}
            sections["right"].insert(
                0, (_("Measurement: encoding gap"), _measurement(gap, card))
            )
            value = {k: v for k, v in value.items() if k != "encoding_gap"}  # noqa: PLW2901
        if render and isinstance(value, dict):
            html = render(value, card)
        elif key == "principles" and isinstance(value, list):
            html = _principles_table(value, card, anchors)
        else:
            html = generic(value)
        place = (
            "top"
            if key in TOP
            else "left"
            if key in LEFT
            else "right"
            if key in RIGHT
            else "bottom"
        )
        sections[place].append((_section_title(key), html))
    return sections


# ---------------------------------------------------------------- document


def software_versions() -> dict[str, str]:
    versions = {"Python": platform.python_version()}
    for dist in ("workbench", "Django", "weasyprint", "pydyf", "jsonschema"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    # Pango shapes the text (and picks fallback fonts); its version is an int.
    pango = int(_weasyprint().text.ffi.pango.pango_version())
    versions["Pango"] = f"{pango // 10000}.{pango // 100 % 100}.{pango % 100}"
    return versions


def shared_facts(cards: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """The ``SHAREABLE`` parts that every principle card of ``cards`` (two or
    more) carries alike: the whole value, or of mappings the entries that are
    the same on every card (``KEPT_ON_CARD`` entries excepted)."""
    principles = [c for c in cards if c.get("kind") == "principle"]
    if len(principles) < 2:
        return {}
    shared: dict[tuple[str, str], Any] = {}
    for dimension, key in SHAREABLE:
        parts = [c.get(dimension) for c in principles]
        if not all(isinstance(p, dict) and key in p for p in parts):
            continue
        values = [p[key] for p in parts]  # type: ignore[index]
        first, others = values[0], values[1:]
        if isinstance(first, dict) and all(isinstance(v, dict) for v in others):
            common = {
                k: v
                for k, v in first.items()
                if k not in KEPT_ON_CARD and all(k in o and o[k] == v for o in others)
            }
            if common:
                shared[(dimension, key)] = common
        elif all(v == first for v in others):
            shared[(dimension, key)] = first
    return shared


def _without_shared(
    card: dict[str, Any], shared: Mapping[tuple[str, str], Any]
) -> dict[str, Any]:
    """A principle card without what ``shared`` prints once for all cards."""
    if card.get("kind") != "principle" or not shared:
        return card
    card = dict(card)
    for (dimension, key), value in shared.items():
        part = dict(card[dimension])
        own = part.pop(key)
        if isinstance(own, dict) and isinstance(value, dict):
            rest = {k: v for k, v in own.items() if k not in value}
            if rest:
                part[key] = rest
        card[dimension] = part
    return card


def _shared_sections(
    shared: Mapping[tuple[str, str], Any],
) -> list[tuple[str, SafeString]]:
    """The shared facts by dimension, drawn as on a card (pluralism as its
    method lines: the values stay on the cards)."""
    by_dimension: dict[str, dict[str, Any]] = {}
    for (dimension, key), value in shared.items():
        by_dimension.setdefault(dimension, {})[key] = value
    sections = []
    for dimension in (*DIMENSIONS, "pluralism"):
        part = by_dimension.get(dimension)
        if not part:
            continue
        if dimension == "pluralism":
            html = _pluralism_lines(part)
        elif dimension == "aggregation":  # the rule and outcome stay on the card
            html = generic(part)
        elif dimension == "criteria":  # the card's wording is never shared
            html = _line(
                _("Examples participants agree on"),
                format_html("{}", part.get("examples_rule", "")),
            ) + _rest(part, {"examples_rule"})
        else:
            html = SECTIONS[dimension](part, {})
        sections.append((_section_title(dimension), html))
    return sections


def _shared_names(shared: Mapping[tuple[str, str], Any]) -> str:
    names = {
        "examples_rule": _("the rule for examples participants agree on"),
        "demographics": _("how demographics are reported"),
        "judges": _("the judges"),
        "parameters": _("the rule's parameters"),
        "narrative": _("the facilitator's narrative"),
        "thresholds": _("the decision rule and when it was fixed"),
        "review": _("the review by group representatives"),
        "timestamps": _("workshop-wide timestamps"),
    }
    listed = [names[key] for _dimension, key in shared if key in names]
    if any(dimension == "pluralism" for dimension, _key in shared):
        listed.append(_("how pluralism is measured"))
    return ", ".join(listed)


def card_entries(
    cards: list[dict[str, Any]], *, drawn: range | None = None
) -> list[dict[str, Any]]:
    """What the template prints of each card: its anchor, frame and rendered
    sections, without the facts every principle card shares
    (``shared_entry``). Only the ``drawn`` cards' sections are rendered (a part
    of the document lists the others only in its contents and appendix)."""
    drawn = range(len(cards)) if drawn is None else drawn
    anchors = {
        str(card.get("id", "")): (f"card-{i}", card)
        for i, card in enumerate(cards, start=1)
    }
    shared = shared_facts(cards)
    return [
        {
            "anchor": f"card-{i}",
            "kind": card.get("kind", ""),
            "id": card.get("id", ""),
            "title": card.get("title", ""),
            "content_hash": (card.get("legitimacy") or {}).get("content_hash", ""),
            "built_at": card.get("built_at", ""),
            "sections": _card_sections(_without_shared(card, shared), anchors)
            if i - 1 in drawn
            else {},
            "shares": bool(shared) and card.get("kind") == "principle",
        }
        for i, card in enumerate(cards, start=1)
    ]


def shared_entry(cards: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The front matter's "Shared by every principle card": what is printed
    there once (``None`` when nothing is shared)."""
    shared = shared_facts(cards)
    if not shared:
        return None
    return {"names": _shared_names(shared), "sections": _shared_sections(shared)}


def css_string(text: str) -> SafeString:
    """``text`` as a quoted CSS string in which every character but letters,
    digits and spaces is a hex escape: nothing in it can end the string, the
    rule or the <style> element, and no HTML entity is needed."""
    escaped = "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in text)
    return mark_safe(f'"{escaped}"')  # noqa: S308 (escaped above)


def document_html(
    cards: list[dict[str, Any]],
    entries: list[dict[str, Any]],
    *,
    title: str,
    built_at: datetime,
    shown: list[dict[str, Any]] | None = None,
    with_cover: bool = True,
    with_appendix: bool = True,
    stamped: bool = False,
) -> str:
    """The whole document, or one part of it (``shown`` cards, with or without
    the cover and contents and the appendix); ``stamped`` parts leave their
    footers and page references to be stamped after merging."""
    workshop = cards[0].get("workshop", {}) if cards else {}
    sources = sorted(
        {str((c.get("workshop") or {}).get("source", "")) for c in cards} - {""}
    )
    return render_to_string(
        TEMPLATE,
        {
            "title": title,
            "workshop": workshop,
            "cards": entries,
            "shown": entries if shown is None else shown,
            "shared": shared_entry(cards),
            "with_cover": with_cover,
            "with_appendix": with_appendix,
            "stamped": stamped,
            "title_css": css_string(title),
            "built_at": built_at,
            "sources": sources,
            "versions": software_versions(),
            "schema_versions": sorted(
                {str(c.get("schema_version", "")) for c in cards}
            ),
        },
    )


def cards_html(
    cards: list[dict[str, Any]], *, title: str, built_at: datetime | None = None
) -> str:
    """The document WeasyPrint prints (useful on its own to debug the layout)."""
    return document_html(
        cards,
        card_entries(cards),
        title=title,
        built_at=built_at or timezone.now(),
    )


def cards_pdf(
    cards: list[dict[str, Any]],
    *,
    title: str,
    fetcher: RefusingURLFetcher | None = None,
    processes: int | None = None,
) -> bytes:
    """The cards as one PDF: cover, contents with page numbers, one card per
    section (each from a new page), and an appendix with provenance.

    Long documents are laid out in ``processes`` forked processes at once
    (default ``settings.CARDS_PDF_PROCESSES``) and merged (``pdf_parallel``);
    short ones, and any render in a process with other threads, in this one."""
    fetcher = fetcher or RefusingURLFetcher()
    processes = processes or settings.CARDS_PDF_PROCESSES
    if processes > 1 and len(cards) >= MIN_CARDS_PER_PROCESS * 2 and can_fork():
        from workbench.cards.render.pdf_parallel import (  # noqa: PLC0415 (cycle)
            parallel_cards_pdf,
        )

        return parallel_cards_pdf(
            cards, title=title, fetcher=fetcher, processes=processes
        )
    document = _weasyprint().HTML(
        string=cards_html(cards, title=title),
        base_url=None,
        url_fetcher=fetcher.weasyprint(),
    )
    pdf: bytes = document.write_pdf()
    return pdf
