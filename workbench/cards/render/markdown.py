"""Value cards as Markdown: a heading per card and per section, tables for the
figures. Every text from the records is escaped: HTML comes out as text, and
Markdown syntax (links, images, emphasis, table pipes, autolinks) as its
literal characters, so a participant's wording can neither inject markup nor
break a table."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

# Backslash-escapes any ASCII punctuation CommonMark might read as syntax;
# ":" too, so GFM's extended autolinks (http://..., mailto:) stay text.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def md_text(value: Any) -> str:
    """One line of inline text, safe in a paragraph and in a table cell."""
    text = "" if value is None else str(value)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = "".join(_HTML.get(ch, ch) for ch in text)
    # A newline would end the table row; <br> is the workbench's own markup.
    return re.sub(r"\r\n|\r|\n", "<br>", text)


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return f"{value:.3f}"
    return md_text(value)


def _interval(bounds: list[float | None] | None) -> str:
    if not bounds:
        return ""
    return " to ".join("—" if x is None else f"{x:.3f}" for x in bounds)


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    head = [md_text(h) for h in header]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_num(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _counts_table(label: str, per: dict[str, dict[str, Any]]) -> list[str]:
    if not per:
        return []
    keys = list(next(iter(per.values())).keys())
    return _table(
        [label, *keys], ([g, *(c.get(k) for k in keys)] for g, c in per.items())
    )


def _pairs(data: dict[str, Any]) -> list[str]:
    """Scalars as a bullet list; nested values as compact JSON (escaped)."""
    lines = []
    for key, value in data.items():
        if isinstance(value, dict | list):
            shown = md_text(json.dumps(value, ensure_ascii=False, sort_keys=True))
        else:
            shown = _num(value)
        lines.append(f"- **{md_text(key)}**: {shown}")
    return [*lines, ""]


def _not_measured(block: dict[str, Any]) -> list[str]:
    return [_("Not measured: %(reason)s") % {"reason": md_text(block["reason"])}, ""]


def _criteria(card: dict[str, Any]) -> list[str]:
    c = card["criteria"]
    out = [f"> {md_text(c['text'])}", ""]
    if c["versions"]:
        out += _table(
            [_("Version"), _("Wording"), _("When"), _("Why")],
            (
                [v["number"], v["text"], v["created_at"], v["reason"]]
                for v in c["versions"]
            ),
        )
    if c.get("translations"):
        out += _table(
            [_("Language"), _("Translation"), _("Of version"), _("Current")],
            (
                [t["language"], t["text"], t["version"], t["current"]]
                for t in c["translations"]
            ),
        )
    out += [md_text(c["examples_rule"]), ""]
    if c["examples"]:
        out += _table(
            [_("Prompt"), _("Preferred response"), _("Share"), _("Labels")],
            (
                [e["prompt"], e["preferred_response"], e["share"], e["n_labels"]]
                for e in c["examples"]
            ),
        )
    return out


def _origin(card: dict[str, Any]) -> list[str]:
    o = card["origin"]
    by = o["proposed_by"]
    out = [
        _("Proposed by: %(kind)s%(group)s")
        % {
            "kind": md_text(by["kind"]),
            "group": f" ({md_text(by['group'])})" if by["group"] else "",
        },
        "",
    ]
    if o["round"]:
        out += [_("Round: %(title)s") % {"title": md_text(o["round"]["title"])}, ""]
    for merged in o["merged_from"]:
        out += [f"- {_('Merged from')}: {md_text(merged['text'])}"]
    s = o["supporters"]
    out += [
        "",
        _("Supporters: %(n)s participants voted") % {"n": s["participants"]},
        "",
    ]
    out += _counts_table(_("Group"), {**s["per_group"], _("all"): s["overall"]})
    d = o["demographics"]
    out += [md_text(d["note"]), ""]
    for question, cells in d["fields"].items():
        out += _table(
            [question, _("people"), _("share")],
            ([c["value"], c["n"], c["share"]] for c in cells),
        )
    return out


def _measurement(card: dict[str, Any]) -> list[str]:
    m = card["measurement"]
    out = [f"#### {_('Votes')}", ""]
    votes = m["votes"]
    if votes["measured"]:
        out += _counts_table(_("Group"), votes["per_group"])
        out += _counts_table(_("Opinion group"), votes["per_opinion_group"])
    else:
        out += _not_measured(votes)
    out += [f"#### {_('Ranking')}", ""]
    if m["ranking"]["measured"]:
        for r in m["ranking"]["rounds"]:
            out += _pairs({k: v for k, v in r.items() if k != "round"})
    else:
        out += _not_measured(m["ranking"])
    out += [f"#### {_('Comparisons')}", ""]
    if m["comparisons"]["measured"]:
        out += _counts_table(_("Group"), m["comparisons"]["per_group"])
    else:
        out += _not_measured(m["comparisons"])
    out += [f"#### {_('Judges')}", ""]
    out += _table(
        [_("Provider"), _("Model"), _("Prompt version"), _("Kind")],
        (
            [j["provider"], j["model"], j["prompt_version"], j.get("kind")]
            for j in m["judges"]
        ),
    )
    out += [f"#### {_('Encoding gap')}", ""]
    gap = m["encoding_gap"]
    if not gap["measured"]:
        return out + _not_measured(gap)
    if "principles" in gap:
        return out + _table(
            [_("Principle"), _("Human ceiling"), _("Judge agreement"), _("Gap")],
            (
                [p["id"], p["human_ceiling"], p["judge_agreement"], p["gap"]]
                for p in gap["principles"]
            ),
        )
    ci = gap.get("ci") or {}
    keys = ["human_ceiling", "judge_agreement", "gap", "kappa", "js_distance"]
    out += _table(
        [_("Figure"), _("Value"), _("95% CI")],
        ([k, gap.get(k), _interval(ci.get(k))] for k in keys),
    )
    out += [
        _("Best matching group: %(g)s")
        % {"g": md_text(gap.get("best_matching_group"))},
        "",
    ]
    return out


def _aggregation(card: dict[str, Any]) -> list[str]:
    a = card["aggregation"]
    out = _pairs(
        {
            _("rule"): a["rule_label"] or a["rule"],
            _("parameters"): a["parameters"],
            _("adopted"): a["adopted"],
        }
    )
    out += _table(
        [_("Rule"), _("Decision")],
        ([rule, decided] for rule, decided in a["other_rules"].items()),
    )
    dissent = a["dissent"]
    if "per_group" in dissent:
        out += _counts_table(_("Dissent by group"), dissent["per_group"])
    return out


def _legitimacy(card: dict[str, Any]) -> list[str]:
    lg = card["legitimacy"]
    n = lg["narrative"]
    out = [f"*{_('Written by the facilitator')}*", ""]
    out += _pairs({k: v for k, v in n.items() if k != "written_by"})
    out += [f"#### {_('Thresholds')}", "", *_pairs(lg["thresholds"])]
    out += [f"#### {_('Moderation')}", "", *_pairs(lg["moderation"])]
    review = lg["review"]
    out += [
        f"#### {_('Review')}",
        "",
        *_pairs({k: v for k, v in review.items() if k != "comments"}),
    ]
    for c in review.get("comments", []):
        out += [
            f"- {md_text(c.get('group'))} ({md_text(c.get('verdict'))}): "
            f"{md_text(c.get('comment'))}"
        ]
    out += ["", f"#### {_('Participation')}", ""]
    out += _table(
        [_("Day"), _("Votes")],
        ([d["date"], d["votes"]] for d in lg["participation"]["votes_per_day"]),
    )
    out += _pairs(lg["timestamps"])
    out += [f"{_('Content hash')}: `{lg['content_hash']}`", ""]
    return out


def _pluralism(card: dict[str, Any]) -> list[str]:
    return _table(
        [_("Measure"), _("Value"), _("Method"), _("Why missing")],
        (
            [name, m["value"], m["method"], m["reason"]]
            for name, m in card["pluralism"].items()
        ),
    )


SECTIONS = (
    ("Criteria", _criteria),
    ("Origin", _origin),
    ("Measurement", _measurement),
    ("Aggregation", _aggregation),
    ("Legitimacy", _legitimacy),
    ("Pluralism", _pluralism),
)


def card_markdown(card: dict[str, Any]) -> str:
    kind = _("Constitution") if card["kind"] == "constitution" else _("Principle")
    out = [
        f"## {kind}: {md_text(card['title'])}",
        "",
        f"{_('Card')} `{card['id']}` · {md_text(card['workshop']['title'])} · "
        f"{_('built')} {md_text(card['built_at'])}",
        "",
    ]
    for title, render in SECTIONS:
        out += [f"### {_(title)}", "", *render(card)]
    return "\n".join(out)


def cards_markdown(cards: list[dict[str, Any]]) -> str:
    """The cards as one Markdown document, in the order given."""
    if not cards:
        return ""
    workshop = cards[0]["workshop"]
    head = [
        f"# {_('Value cards')}: {md_text(workshop['title'])}",
        "",
        md_text(workshop["question"]),
        "",
    ]
    return "\n".join(head + [card_markdown(c) for c in cards]) + "\n"
