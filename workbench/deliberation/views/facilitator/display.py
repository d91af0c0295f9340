"""Vote counts shaped for the bar-and-number rows the facilitator's pages show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from workbench.deliberation.selectors.results import PrincipleTally


def _percent(part: int, whole: int) -> str:
    # A plain string keeps the decimal point whatever the locale, for inline CSS.
    return f"{100 * part / whole:.1f}" if whole else "0"


@dataclass(frozen=True)
class BarRow:
    label: str
    agree: int
    disagree: int
    passes: int
    agree_share: float | None = None

    @property
    def total(self) -> int:
        return self.agree + self.disagree + self.passes

    @property
    def agree_pct(self) -> str:
        return _percent(self.agree, self.total)

    @property
    def disagree_pct(self) -> str:
        return _percent(self.disagree, self.total)

    @property
    def pass_pct(self) -> str:
        return _percent(self.passes, self.total)


@dataclass(frozen=True)
class PrincipleBars:
    principle_id: int
    text: str
    overall: BarRow
    groups: list[BarRow]
    status: str = ""
    merged: bool = False
    adopted: bool = False


def bars_from_tally(
    tally: PrincipleTally, group_names: dict[int, str]
) -> PrincipleBars:
    principle = tally.principle
    groups = [
        BarRow(name, counts["agree"], counts["disagree"], counts["pass"])
        for gid, name in group_names.items()
        if (counts := tally.per_group.get(gid))
    ]
    return PrincipleBars(
        principle_id=principle.pk,
        text=principle.text,
        overall=BarRow("", tally.agree, tally.disagree, tally.passes),
        groups=groups,
        status="" if principle.is_votable else principle.get_status_display(),
        merged=principle.merged_into_id is not None,
    )


def bars_from_figures(figure: dict[str, Any]) -> PrincipleBars:
    """From one principle's figures in a constitution preview or snapshot."""
    groups = [
        BarRow(
            name,
            counts["agree"],
            counts["disagree"],
            counts["pass"],
            counts.get("agree_share"),
        )
        for name, counts in figure["per_group"].items()
    ]
    return PrincipleBars(
        principle_id=figure["id"],
        text=figure["text"],
        overall=BarRow("", figure["agree"], figure["disagree"], figure["pass"]),
        groups=groups,
        adopted=figure["adopted"],
    )


# The stored analysis (WorkshopAnalysis.result), shaped for the results page. Every
# reader is defensive: the dict is JSON written by another process and may come
# from an older version of the analysis.

RULE_LABELS = {
    "ccai": _("Agree share ≥ threshold in every group (CCAI)"),
    "overall": _("Agree share ≥ threshold overall"),
    "group_aware_consensus": _("Group-aware consensus ≥ threshold"),
    "size_adaptive": _("Size-adaptive consensus threshold"),
    "borda": _("Borda count"),
    "copeland": _("Copeland"),
    "schulze": _("Schulze (beat path)"),
    "ranked_pairs": _("Ranked pairs"),
    "instant_runoff": _("Instant runoff"),
    "plurality": _("Plurality"),
}


@dataclass(frozen=True)
class PrincipleRef:
    external_id: str
    text: str
    agree_pct: str = ""


@dataclass(frozen=True)
class RepRow:
    principle: PrincipleRef
    agrees: bool
    percent: str
    n_success: int
    n_trials: int
    repness: float


@dataclass(frozen=True)
class RepGroup:
    label: str
    symbol: str
    colour: str
    rows: list[RepRow]


@dataclass(frozen=True)
class PointRow:
    principle: PrincipleRef
    x: float
    y: float


@dataclass(frozen=True)
class RuleRow:
    rule: str
    label: str
    parameters: str
    adopted: list[PrincipleRef]
    shares: list[str]
    overall_share: str
    favoured: str
    spread: str
    welfare: list[str]
    agreement: list[str]


@dataclass(frozen=True)
class AdoptionRow:
    principle: PrincipleRef
    adopted: list[bool]
    split: bool


@dataclass(frozen=True)
class Comparison:
    rules: list[RuleRow]
    groups: list[str]
    adoption: list[AdoptionRow]
    adopted_by_all: list[PrincipleRef]
    alphas: list[str]
    sweep: list[tuple[str, int]]


ALPHA_NAMES = {"0.0": _("utilitarian"), "1.0": _("Nash"), "inf": _("max-min")}


def _alpha_label(key: str) -> str:
    """'0.0' -> 'alpha = 0 (utilitarian)', 'inf' -> 'alpha = infinity (max-min)',
    with the Greek letter and the infinity sign."""
    number = "\N{INFINITY}" if key == "inf" else key.removesuffix(".0")
    name = ALPHA_NAMES.get(key)
    return f"\N{GREEK SMALL LETTER ALPHA} = {number}" + (f" ({name})" if name else "")


def _welfare_value(value: Any) -> str:
    number = _float(value)
    return "" if number is None else f"{number:.3f}"


def _share(value: Any) -> str:
    number = _float(value)
    return "" if number is None else f"{100 * number:.0f}"


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _counts(raw: Any) -> tuple[int, int, int]:
    raw = raw if isinstance(raw, dict) else {}
    return (
        int(raw.get("agree", 0)),
        int(raw.get("disagree", 0)),
        int(raw.get("pass", 0)),
    )


def principle_index(result: dict[str, Any]) -> dict[str, PrincipleRef]:
    """Every analysed principle by external id (the key every list uses)."""
    index = {}
    for item in result.get("principles") or []:
        key = str(item.get("external_id") or item.get("id"))
        agree, disagree, passes = _counts(item)
        index[key] = PrincipleRef(
            key, str(item.get("text", "")), _percent(agree, agree + disagree + passes)
        )
    return index


def _ref(index: dict[str, PrincipleRef], key: Any) -> PrincipleRef:
    return index.get(str(key)) or PrincipleRef(str(key), "")


def refs(result: dict[str, Any], keys: Any) -> list[PrincipleRef]:
    index = principle_index(result)
    return [_ref(index, key) for key in keys or []]


def analysis_bars(
    result: dict[str, Any], field: str, labels: dict[str, str]
) -> list[PrincipleBars]:
    """Each principle's bars per group of one grouping: `field` is per_group
    (opinion groups, labelled by `labels`) or per_participant_group."""
    bars = []
    for item in result.get("principles") or []:
        per_group = item.get(field) or {}
        groups = [
            BarRow(labels.get(str(key), str(key)), *_counts(per_group[key]))
            for key in sorted(per_group, key=lambda k: labels.get(str(k), str(k)))
        ]
        bars.append(
            PrincipleBars(
                principle_id=int(_float(item.get("id")) or 0),
                text=str(item.get("text", "")),
                overall=BarRow("", *_counts(item)),
                groups=groups,
                status=gettext("Moderated out") if item.get("mod_out") else "",
            )
        )
    return bars


def rep_groups(
    result: dict[str, Any], field: str, styles: dict[str, Any]
) -> list[RepGroup]:
    """Representative principles per group: `styles` maps a group key to its
    GroupStyle (label and marker symbol), in display order."""
    index = principle_index(result)
    by_group = result.get(field) or {}
    out = []
    for key, style in styles.items():
        rows = [
            RepRow(
                principle=_ref(index, rep.get("external_id")),
                agrees=rep.get("repful_for") == "agree",
                percent=_percent(
                    int(rep.get("n_success", 0)), int(rep.get("n_trials", 0))
                ).removesuffix(".0"),
                n_success=int(rep.get("n_success", 0)),
                n_trials=int(rep.get("n_trials", 0)),
                repness=_float(rep.get("repness")) or 0.0,
            )
            for rep in by_group.get(key) or []
        ]
        out.append(RepGroup(style.label, style.symbol, style.colour, rows))
    return out


def principle_points(result: dict[str, Any]) -> list[PointRow]:
    index = principle_index(result)
    rows = []
    for item in (result.get("map") or {}).get("principles") or []:
        x, y = _float(item.get("x")), _float(item.get("y"))
        if x is not None and y is not None:
            rows.append(PointRow(_ref(index, item.get("external_id")), x, y))
    return rows


def _parameters(raw: Any) -> str:
    if not isinstance(raw, dict):
        return ""
    return ", ".join(f"{k} = {v}" for k, v in raw.items() if v is not None)


def comparison_table(result: dict[str, Any]) -> Comparison | None:
    """The rule comparison: each rule's adopted set and its per-group agree share
    (groups are the workshop's participant groups, by name), and the adoption
    matrix of every principle some rule adopts."""
    raw = result.get("comparison") or {}
    outcomes = raw.get("outcomes") or []
    if not outcomes:
        return None
    index = principle_index(result)
    names = [str(o.get("rule")) for o in outcomes]
    alphas = list((outcomes[0].get("welfare") or {}).keys())
    agreement = raw.get("agreement") or {}
    rules = [
        RuleRow(
            rule=name,
            label=str(RULE_LABELS.get(name, name)),
            parameters=_parameters(o.get("parameters")),
            adopted=[_ref(index, key) for key in o.get("adopted") or []],
            shares=[_share(s) for s in o.get("group_agree_share") or []],
            overall_share=_share(o.get("overall_agree_share")),
            favoured=str(o.get("favoured_group") or ""),
            spread=_share(o.get("spread")),
            welfare=[_welfare_value((o.get("welfare") or {}).get(a)) for a in alphas],
            agreement=[_share((agreement.get(name) or {}).get(b)) for b in names],
        )
        for name, o in zip(names, outcomes, strict=True)
    ]
    adopted_sets = [{p.external_id for p in rule.adopted} for rule in rules]
    anywhere = set().union(*adopted_sets)
    order = [str(p) for p in raw.get("principles") or index]
    adoption = []
    for key in [k for k in order if k in anywhere]:
        marks = [key in chosen for chosen in adopted_sets]
        adoption.append(AdoptionRow(_ref(index, key), marks, not all(marks)))
    return Comparison(
        rules=rules,
        groups=[str(g) for g in raw.get("groups") or []],
        adoption=adoption,
        adopted_by_all=[_ref(index, key) for key in raw.get("adopted_by_all") or []],
        alphas=[_alpha_label(a) for a in alphas],
        sweep=[(t, int(n)) for t, n in (raw.get("ccai_sweep") or {}).items()],
    )
