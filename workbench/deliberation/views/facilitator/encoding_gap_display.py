"""The encoding-gap report shaped for its page: which figures go in which table,
in which number format, the rows the template loops over, and the reword form each
principle carries. Presentation only: every figure comes from the report services
as they computed it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, cast

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workbench.deliberation.models import (
    Workshop,
)
from workbench.judging.models import (
    ComparisonSet,
    JudgeRun,
)

DASH: Final = "\u2014"

# (key, label, kind): kind picks the number format. Keys absent from a report are
# left out, so figures added to the report later appear once they are listed here.
FIGURES: Final = (
    ("relevance", gettext_lazy("Relevance (the judge says it applies)"), "percent"),
    ("order_consistency", gettext_lazy("Order consistency"), "percent"),
    ("first_position_rate", gettext_lazy("Picks the response shown first"), "percent"),
    ("human_ceiling", gettext_lazy("Human ceiling (leave one out)"), "percent"),
    ("judge_agreement", gettext_lazy("Judge agreement"), "percent"),
    (
        "judge_agreement_all_raters",
        gettext_lazy("Judge agreement with the majority of all"),
        "percent",
    ),
    ("gap", gettext_lazy("Gap (ceiling minus judge)"), "points"),
    ("normalized_agreement", gettext_lazy("Normalised agreement"), "ratio"),
    ("kappa", gettext_lazy("Cohen's κ"), "ratio"),
    ("kappa_half", gettext_lazy("Cohen's κ (chance = ½)"), "ratio"),
    ("ac1", gettext_lazy("Gwet's AC1"), "ratio"),
    ("ac1_humans", gettext_lazy("Gwet's AC1, participants"), "ratio"),
    (
        "alpha_humans",
        gettext_lazy("Krippendorff's α, participants"),  # noqa: RUF001 (the Greek letter)
        "ratio",
    ),
    (
        "alpha_with_judge",
        gettext_lazy("Krippendorff's α, with the judge as a coder"),  # noqa: RUF001
        "ratio",
    ),
    ("js_distance", gettext_lazy("Jensen-Shannon distance"), "ratio"),
    ("js_noise_floor", gettext_lazy("Jensen-Shannon noise floor"), "ratio"),
    ("brier", gettext_lazy("Brier score"), "ratio3"),
    ("kendall_tau", gettext_lazy("Kendall τ (rankings)"), "ratio"),
    ("kendall_tau_ceiling", gettext_lazy("Kendall τ ceiling"), "ratio"),
    (
        "judge_agreement_flipped",
        gettext_lazy("Judge agreement with a and b swapped (control)"),
        "percent",
    ),
    ("prefer_longer_judge", gettext_lazy("P(prefers longer), judge"), "percent"),
    (
        "prefer_longer_humans",
        gettext_lazy("P(prefers longer), participants"),
        "percent",
    ),
)
GROUP_FIGURES: Final = (
    ("human_ceiling", gettext_lazy("Human ceiling"), "percent"),
    ("judge_agreement", gettext_lazy("Judge agreement"), "percent"),
    ("gap", gettext_lazy("Gap"), "points"),
    ("normalized_agreement", gettext_lazy("Normalised agreement"), "ratio"),
    ("kappa", gettext_lazy("Cohen's κ"), "ratio"),
    ("js_distance", gettext_lazy("JS distance"), "ratio"),
)
VERSION_FIGURES: Final = (
    ("human_ceiling", gettext_lazy("Human ceiling"), "percent"),
    ("judge_agreement", gettext_lazy("Judge agreement"), "percent"),
    ("gap", gettext_lazy("Gap"), "points"),
    ("normalized_agreement", gettext_lazy("Normalised agreement"), "ratio"),
    ("kappa", gettext_lazy("Cohen's κ"), "ratio"),
)
BOARD_FIGURES: Final = (
    ("judge_agreement", gettext_lazy("Judge agreement"), "percent"),
    ("normalized_agreement", gettext_lazy("Normalised agreement"), "ratio"),
    ("gap", gettext_lazy("Gap"), "points"),
    ("kappa", gettext_lazy("Cohen's κ"), "ratio"),
    ("relevance", gettext_lazy("Relevance"), "percent"),
    ("order_consistency", gettext_lazy("Order consistency"), "percent"),
)


class RewordForm(forms.Form):
    # Length and emptiness are the versioning service's rules, checked there.
    text = forms.CharField(
        label=gettext_lazy("New wording"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
    )
    comparison_set = forms.ModelChoiceField(
        queryset=ComparisonSet.objects.none(), widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, workshop: Workshop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(
            "forms.ModelChoiceField[ComparisonSet]", self.fields["comparison_set"]
        )
        field.queryset = ComparisonSet.objects.filter(workshop=workshop)


# --- numbers -----------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A plain float from a figure, or None for anything else (missing, None, NaN,
    or a structure a newer report may put under the key)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def fmt(value: Any, kind: str) -> str:
    number = _number(value)
    if number is None:
        return DASH
    if kind == "percent":
        return number_format(100 * number, 1) + "%"
    if kind == "points":
        sign = "+" if number > 0 else ("\u2212" if number < 0 else "")
        return sign + number_format(abs(100 * number), 1) + "\u00a0" + _("pts")
    if kind == "ratio3":
        return number_format(number, 3)
    if kind == "p":
        return (
            "<\u00a0" + number_format(0.001, 3)
            if number < 0.001
            else (number_format(number, 3))
        )
    return number_format(number, 2)


def fmt_interval(interval: Any, kind: str) -> str:
    if not isinstance(interval, list | tuple) or len(interval) != 2:
        return DASH
    low, high = (_number(v) for v in interval)
    if low is None or high is None:
        return DASH
    if kind == "percent":
        return f"{number_format(100 * low, 1)}\u2013{number_format(100 * high, 1)}%"
    if kind == "points":
        return f"{number_format(100 * low, 1)}\u2013{number_format(100 * high, 1)}"
    digits = 3 if kind == "ratio3" else 2
    return f"{number_format(low, digits)}\u2013{number_format(high, digits)}"


def _cells(
    figures: Mapping[str, Any], spec: tuple[tuple[str, Any, str], ...]
) -> list[str]:
    return [fmt(figures.get(key), kind) for key, _label, kind in spec]


# --- shaping for the template ------------------------------------------------------


def _figure_rows(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    ci = entry.get("ci") or {}
    reasons = entry.get("reasons") or {}
    return [
        {
            "key": key,
            "label": label,
            "value": fmt(entry.get(key), kind),
            "ci": fmt_interval(ci.get(key), kind),
            "reason": reasons.get(key, "") if _number(entry.get(key)) is None else "",
        }
        for key, label, kind in FIGURES
        if key in entry
    ]


def _group_table(
    per_group: Any, best: Any, p_value: Any, q_value: Any
) -> dict[str, Any] | None:
    if not isinstance(per_group, Mapping) or not per_group:
        return None
    rows = []
    for name, figures in per_group.items():
        if not isinstance(figures, Mapping):
            continue
        rows.append(
            {
                "name": str(name),
                "n_raters": figures.get("n_raters"),
                "n_labels": figures.get("n_human_labels"),
                "thin_items": figures.get("thin_items"),
                "cells": _cells(figures, GROUP_FIGURES),
                "is_best": str(name) == str(best),
            }
        )
    if not rows:
        return None
    return {
        "rows": rows,
        "best": best,
        "p": fmt(p_value, "p"),
        "q": fmt(q_value, "p"),
    }


def _opinion_groups(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """``per_opinion_group`` as a table, whether it maps group -> figures or is a
    nested report with its own ``per_group`` and disparity."""
    value = entry.get("per_opinion_group")
    if not isinstance(value, Mapping):
        return None
    if isinstance(value.get("per_group"), Mapping):
        return _group_table(
            value["per_group"],
            value.get("best_matching_group"),
            value.get("group_disparity_p"),
            value.get("group_disparity_q"),
        )
    return _group_table(
        value,
        entry.get("best_matching_opinion_group"),
        entry.get("opinion_group_disparity_p"),
        entry.get("opinion_group_disparity_q"),
    )


def _disagreement_rows(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for row in entry.get("disagreements") or []:
        counts = row.get("label_counts") or {}
        rows.append(
            {
                "item": row.get("item"),
                "prompt": row.get("prompt", ""),
                "verdict": row.get("judge_verdict"),
                "judge_p_a": fmt(row.get("judge_p_a"), "percent"),
                "share_a": fmt(row.get("participants_share_a"), "percent"),
                "counts": [counts.get(k, 0) for k in ("a", "b", "tie", "na")],
                "reasons": row.get("reasons") or [],
            }
        )
    return rows


CONTROL_COLUMNS: Final = {
    "flipped_labels": (
        ("judge_agreement", gettext_lazy("Judge agreement"), "percent"),
        (
            "judge_agreement_flipped",
            gettext_lazy("With a and b swapped"),
            "percent",
        ),
    ),
    "prefer_longer": (
        ("prefer_longer_judge", gettext_lazy("Judge prefers longer"), "percent"),
        (
            "prefer_longer_humans",
            gettext_lazy("Participants prefer longer"),
            "percent",
        ),
    ),
}


def control_table(value: Any, name: str) -> dict[str, Any] | None:
    """One per-principle control of the report (``controls[name]``: a note and a
    row per principle) as a table; None when the report has no such control."""
    if not isinstance(value, Mapping):
        return None
    spec = CONTROL_COLUMNS[name]
    rows = [
        {
            "principle": f"{row.get('external_id', '')} v{row.get('version', '')}",
            "cells": _cells(row, spec),
        }
        for row in value.get("principles") or []
        if isinstance(row, Mapping)
    ]
    return {
        "labels": [label for _key, label, _kind in spec],
        "rows": rows,
        "note": value.get("note", ""),
    }


def principles_rows(
    report: Mapping[str, Any], *, workshop: Workshop, run: JudgeRun | None
) -> list[dict[str, Any]]:
    entries = list(report.get("principles") or [])
    latest: dict[Any, int] = {}
    for entry in entries:
        pid = entry.get("principle_id")
        latest[pid] = max(latest.get(pid, 0), int(entry.get("version") or 0))
    controls = {
        (c.get("external_id"), c.get("version")): c
        for c in (report.get("controls") or {}).get("principles") or []
    }
    shaped = []
    for entry in entries:
        is_latest = int(entry.get("version") or 0) == latest[entry.get("principle_id")]
        form = None
        if run is not None and is_latest:
            form = RewordForm(
                workshop=workshop,
                initial={
                    "text": entry.get("text"),
                    "comparison_set": run.comparison_set_id,
                },
                # One form per principle on the page: ids must differ, names not.
                auto_id=f"reword-{entry.get('principle_id')}-%s",
            )
        control = controls.get((entry.get("external_id"), entry.get("version")))
        shaped.append(
            {
                "entry": entry,
                "anchor": "principle-{}-v{}".format(
                    entry.get("principle_id"), entry.get("version")
                ),
                "figures": _figure_rows(entry),
                "groups": _group_table(
                    entry.get("per_group"),
                    entry.get("best_matching_group"),
                    entry.get("group_disparity_p"),
                    entry.get("group_disparity_q"),
                ),
                "opinion_groups": _opinion_groups(entry),
                "disagreements": _disagreement_rows(entry),
                "flags": entry.get("flags") or [],
                "control": control
                and {
                    "judge": fmt(control.get("judge_agreement"), "percent"),
                    "no_principle": fmt(
                        control.get("no_principle_judge_agreement"), "percent"
                    ),
                    "beats": control.get("beats_control"),
                },
                "form": form,
            }
        )
    return shaped


def version_tables(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tables = []
    for principle in versions:
        rows = []
        for row in principle["versions"]:
            ci = row.get("ci") or {}
            rows.append(
                {
                    "row": row,
                    "cells": [
                        (fmt(row.get(k), kind), fmt_interval(ci.get(k), kind))
                        for k, _label, kind in VERSION_FIGURES
                    ],
                    "change": fmt(
                        None
                        if row.get("judge_agreement_change") is None
                        else row["judge_agreement_change"] / 100,
                        "points",
                    ),
                }
            )
        tables.append({"principle": principle, "rows": rows})
    return tables


def board(leaderboard: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not leaderboard or not leaderboard.get("rows"):
        return None
    columns = leaderboard.get("principles") or []
    rows = []
    for row in leaderboard["rows"]:
        ci = row.get("ci") or {}
        per = row.get("per_principle") or {}
        rows.append(
            {
                "row": row,
                "cells": [
                    (fmt(row.get(k), kind), fmt_interval(ci.get(k), kind))
                    for k, _label, kind in BOARD_FIGURES
                ],
                "per_principle": [fmt(per.get(c["key"]), "percent") for c in columns],
            }
        )
    return {"board": leaderboard, "columns": columns, "rows": rows}
