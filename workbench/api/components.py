"""OpenAPI components for the two responses the views build as plain JSON rather
than through serializers: a value card and the encoding-gap report.

* ``ValueCard`` (and ``ValueCard<Def>`` for each ``$defs`` entry) is the published
  docs/value-card.schema.json, read once and converted to OpenAPI 3.0 by
  :mod:`workbench.api.openapi30` - the document and the file cannot drift.
* ``EncodingGapReport`` and its parts describe what ``manage.py encoding_gap
  --json`` prints (:func:`workbench.judging.services.encoding_gap.
  encoding_gap_report`): every key, its type, which figures may be null and the
  [low, high] intervals of ``ci``. Objects stay open to new keys (a new figure is
  not a breaking change); tests/api hold the report to exactly these keys.

A view names one of the marker serializers below in ``extend_schema``; the
extension at the end publishes its components. The markers never serialize.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, ClassVar

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from workbench.api.openapi30 import component_name, json_schema_to_openapi30
from workbench.cards.schema import card_schema
from workbench.judging.metrics.report import BOOTSTRAPPED
from workbench.judging.models import JudgeControl, JudgeProvider, RunStatus
from workbench.judging.services.encoding_gap import BASELINE_KIND, LLM_KIND
from workbench.judging.services.flags import INJECTION, POSITION_BIAS

Schema = dict[str, Any]
REF = "#/components/schemas/"


def lift_enums(components: dict[str, Schema]) -> dict[str, Schema]:
    """The components with each property's ``enum`` moved to a component of its
    own, ``<Component><Property>``, and referred to.

    drf-spectacular's enum hook does the same to the properties it finds, but
    names the enums by property alone and, when two components have a ``kind``
    with other values, renames every such enum (the rounds' too) after a hash.
    Properties that are references are left alone by it. Like the hook, this
    visits each component's properties and those of its oneOf / allOf / anyOf
    branches; a second enum for one property name is named after its values."""
    out = copy.deepcopy(components)
    lifted: dict[str, Schema] = {}

    def visit(name: str, schema: Any) -> None:
        if not isinstance(schema, dict):
            return
        for prop, sub in schema.get("properties", {}).items():
            target = sub.get("items", {}) if sub.get("type") == "array" else sub
            if "enum" not in target:
                continue
            enum = {k: v for k, v in target.items() if k in _ENUM_KEYS}
            enum_name = component_name(name, prop)
            if lifted.get(enum_name, enum) != enum:  # e.g. a condition's `kind`
                enum_name += "".join(component_name("", str(v)) for v in enum["enum"])
            if lifted.get(enum_name, enum) != enum:
                raise ValueError(f"two enums would be named {enum_name}")
            lifted[enum_name] = enum
            rest = {k: v for k, v in target.items() if k not in _ENUM_KEYS}
            target.clear()
            target.update(
                {"allOf": [_ref(enum_name)], **rest} if rest else _ref(enum_name)
            )
        for key in ("oneOf", "allOf", "anyOf"):
            for branch in schema.get(key, []):
                visit(name, branch)

    for name, schema in out.items():
        visit(name, schema)
    clash = set(lifted) & set(out)
    if clash:
        raise ValueError(f"enum components clash with components: {sorted(clash)}")
    return out | lifted


_ENUM_KEYS = frozenset({"type", "enum"})


# --- value card --------------------------------------------------------------------


@cache
def value_card_components() -> dict[str, Schema]:
    """docs/value-card.schema.json as components, read on first use."""
    return lift_enums(json_schema_to_openapi30(card_schema(), prefix="ValueCard"))


# --- encoding-gap report -----------------------------------------------------------


def _ref(name: str) -> Schema:
    return {"$ref": REF + name}


def _num(description: str = "", *, nullable: bool = True) -> Schema:
    out: Schema = {"type": "number", "format": "double"}
    if nullable:
        out["nullable"] = True
    if description:
        out["description"] = description
    return out


def _int(description: str = "", *, nullable: bool = False) -> Schema:
    out: Schema = {"type": "integer"}
    if nullable:
        out["nullable"] = True
    if description:
        out["description"] = description
    return out


def _str(description: str = "", *, nullable: bool = False, **more: Any) -> Schema:
    out: Schema = {"type": "string", **more}
    if nullable:
        out["nullable"] = True
    if description:
        out["description"] = description
    return out


def _obj(
    properties: dict[str, Schema],
    description: str = "",
    *,
    optional: tuple[str, ...] = (),
    nullable: bool = False,
) -> Schema:
    out: Schema = {
        "type": "object",
        "properties": properties,
        "required": [k for k in properties if k not in optional],
    }
    if nullable:
        out["nullable"] = True
    if description:
        out["description"] = description
    return out


def _map(values: Schema, description: str) -> Schema:
    return {
        "type": "object",
        "additionalProperties": values,
        "description": description,
    }


def _list(items: Schema, description: str = "") -> Schema:
    out: Schema = {"type": "array", "items": items}
    if description:
        out["description"] = description
    return out


# The judge's own figures over every judged item (the same in every group).
JUDGE_FIGURES: dict[str, str] = {
    "relevance": "Share of judged items with a verdict in both orders.",
    "order_consistency": "Share of items whose two orders gave the same answer.",
    "first_position_rate": "Share of decisive per-order answers that picked the "
    "response shown first (0.5: no position bias).",
    "prefer_longer_judge": "P(the judge picks the longer response), over decisive "
    "verdicts on items whose responses differ in length.",
}
# The figures that depend on the participants' labels (per group: that group's).
LABEL_FIGURES: dict[str, str] = {
    "human_ceiling": "How often a participant agrees with the others' majority "
    "(leave-one-out): the best a judge can expect.",
    "judge_agreement": "How often the judge agrees with the participants' majority "
    "(leave-one-out, the ceiling's terms).",
    "judge_agreement_all_raters": "Judge agreement with the majority of all raters.",
    "gap": "human_ceiling - judge_agreement.",
    "normalized_agreement": "(judge_agreement - chance) / (human_ceiling - chance).",
    "kappa": "Cohen's kappa, judge against the majority.",
    "kappa_half": "Kappa with a tie counting half.",
    "ac1": "Gwet's AC1, judge against the majority on kappa's items.",
    "ac1_humans": "Gwet's AC1 among the participants.",
    "alpha_humans": "Krippendorff's alpha among the participants.",
    "alpha_with_judge": "Krippendorff's alpha with the judge as one more rater.",
    "alpha_delta": "alpha_with_judge - alpha_humans.",
    "js_distance": "Jensen-Shannon distance between the judge's and the "
    "participants' label distributions.",
    "js_noise_floor": "The distance expected from sampling noise alone.",
    "brier": "Mean squared difference between the judge's P(A) and the "
    "participants' share preferring A.",
    "judge_agreement_flipped": "Judge agreement against the labels with a and b "
    "swapped (a control: should fall towards zero).",
}
# Figures that need the items' prompts and responses.
PAIR_FIGURES: dict[str, str] = {
    "prefer_longer_humans": "P(a participant picks the longer response).",
    "kendall_tau": "Kendall's tau between the judge's and the participants' "
    "rankings of 3+ responses to one prompt.",
    "kendall_tau_ceiling": "The participants' own ranking agreement (tau).",
    "spearman_rho": "Spearman's rho of the same rankings.",
}
ALL_FIGURES = {**JUDGE_FIGURES, **LABEL_FIGURES, **PAIR_FIGURES}
# The figures with an interval in ``ci``.
CI_FIGURES = (
    *JUDGE_FIGURES,
    *BOOTSTRAPPED,
    "prefer_longer_humans",
)
NULL_FIGURES = "Figures are null when undefined, with the cause in `reasons`."


def _figures() -> dict[str, Schema]:
    return {name: _num(text) for name, text in ALL_FIGURES.items()}


def _reasons() -> Schema:
    return _map(_str(), "Why a figure is null, by the figure's name.")


def _group_figures() -> Schema:
    return _obj(
        {
            **_figures(),
            "n_ranked_prompts": _int(nullable=True),
            "n_items": _int("Items with a label from this group."),
            "n_human_labels": _int(),
            "n_raters": _int(),
            "thin_items": _int("Items with fewer than 5 labels from this group."),
            "reasons": _reasons(),
        },
        "One group's figures: the label figures on its labels only; the judge "
        "figures are the principle's. " + NULL_FIGURES,
    )


def _principle() -> Schema:
    ci = _obj(
        {name: _ref("EncodingGapInterval") for name in CI_FIGURES},
        "The figures' 95% intervals: cluster bootstrap over items for the "
        "agreement, kappa, AC1 and distribution figures, Wilson for the shares.",
    )
    return _obj(
        {
            "external_id": _str("The principle's external id, else its id."),
            "principle_id": _int(),
            "version": _int("The principle version on the run's items."),
            "text": _str("That version's wording."),
            "n_items": _int(),
            "n_eligible_items": _int("Items with a judge verdict and 2+ labels."),
            "n_human_labels": _int(),
            "n_raters": _int(),
            "chance": _num(
                "Chance agreement (1/3 with ties, else 1/2).", nullable=False
            ),
            **_figures(),
            "n_ranked_prompts": _int(nullable=True),
            "ci": ci,
            "per_group": _map(
                _ref("EncodingGapGroupFigures"), "By workshop group name."
            ),
            "best_matching_group": _str(nullable=True),
            "group_disparity": _num("Max - min normalized_agreement over groups."),
            "group_agreement_disparity": _num("Max - min judge_agreement over groups."),
            "group_disparity_test": _str(
                "The figure the permutation test uses.",
                enum=["judge_agreement", "normalized_agreement"],
            ),
            "group_disparity_p": _num("Permutation p-value of the disparity."),
            "group_disparity_q": _num("Benjamini-Hochberg q over the principles."),
            "per_opinion_group": _map(
                _ref("EncodingGapGroupFigures"),
                "By opinion group of the latest opinion analysis.",
            ),
            "best_matching_opinion_group": _str(nullable=True),
            "opinion_group_disparity": _num(),
            "opinion_group_agreement_disparity": _num(),
            "opinion_group_disparity_p": _num(),
            "opinion_group_disparity_q": _num(),
            "reasons": _reasons(),
            "disagreements": _list(
                _ref("EncodingGapDisagreement"),
                "The items where judge and participants disagree most, largest first.",
            ),
            "flags": _list(_ref("EncodingGapFlag")),
        },
        "One principle version's figures. " + NULL_FIGURES,
    )


def _controls() -> Schema:
    row = {"external_id": _str(), "version": _int()}
    return _obj(
        {
            "no_principle_run": _int(
                "The finished no-principle control run's id.", nullable=True
            ),
            "principles": _list(
                _obj(
                    {
                        **row,
                        "judge_agreement": _num(),
                        "no_principle_judge_agreement": _num(),
                        "beats_control": {"type": "boolean", "nullable": True},
                    }
                ),
                "Empty without a control run.",
            ),
            "note": _str(),
            "flipped_labels": _obj(
                {
                    "principles": _list(
                        _obj(
                            {
                                **row,
                                "judge_agreement": _num(),
                                "judge_agreement_flipped": _num(),
                            }
                        )
                    ),
                    "note": _str(),
                }
            ),
            "prefer_longer": _obj(
                {
                    "principles": _list(
                        _obj(
                            {
                                **row,
                                "prefer_longer_judge": _num(),
                                "prefer_longer_judge_ci": _ref("EncodingGapInterval"),
                                "prefer_longer_humans": _num(),
                                "prefer_longer_humans_ci": _ref("EncodingGapInterval"),
                            }
                        )
                    ),
                    "note": _str(),
                }
            ),
        }
    )


@cache
def encoding_gap_components() -> dict[str, Schema]:
    """The ``EncodingGapReport`` component and the ones it refers to."""
    return lift_enums(_encoding_gap_components())


def _encoding_gap_components() -> dict[str, Schema]:
    return {
        "EncodingGapReport": _obj(
            {
                "workshop": _str("The workshop's slug."),
                "run": _ref("EncodingGapRun"),
                "judge": _ref("EncodingGapJudge"),
                "opinion_groups": _obj(
                    {
                        "analysis": _int("The analysis used.", nullable=True),
                        "computed_at": _str(nullable=True, format="date-time"),
                        "status": _str(),
                        "n_raters_grouped": _int(),
                        "groups": _map(_int(), "Raters per opinion group."),
                        "note": _str(),
                    },
                    "The opinion analysis behind per_opinion_group.",
                    optional=("status", "n_raters_grouped", "groups"),
                ),
                "principles": _list(_ref("EncodingGapPrinciple")),
                "controls": _controls(),
                "multiple_testing": _obj(
                    {
                        "method": _str(),
                        "family": _str(),
                        "opinion_family": _str(),
                        "alpha": _num(nullable=False),
                    }
                ),
                "verdict_mapping": _str(),
                "message": _str("Why figures are missing (no run, items or labels)."),
            },
            "What `manage.py encoding_gap --json` prints.",
            optional=("message",),
        ),
        "EncodingGapRun": _obj(
            {
                "id": _int(),
                "status": _str(enum=list(RunStatus.values)),
                "comparison_set": _str("The comparison set's name."),
                "finished_at": _str(nullable=True, format="date-time"),
            },
            "The judge run reported; null when there is none.",
            nullable=True,
        ),
        "EncodingGapJudge": _obj(
            {
                "provider": _str(enum=list(JudgeProvider.values)),
                "model": _str(),
                "prompt_version": _str(),
                "is_llm": {"type": "boolean"},
                "kind": _str(enum=[LLM_KIND, BASELINE_KIND]),
                "control": _str(enum=list(JudgeControl.values)),
                "temperature": _num(nullable=False),
                "samples": _int(),
            },
            "The run's judge configuration; null when there is no run.",
            nullable=True,
        ),
        "EncodingGapPrinciple": _principle(),
        "EncodingGapGroupFigures": _group_figures(),
        "EncodingGapInterval": {
            "type": "array",
            "items": {"type": "number", "format": "double"},
            "minItems": 2,
            "maxItems": 2,
            "nullable": True,
            "description": "[low, high]; null when the figure is undefined.",
        },
        "EncodingGapDisagreement": _obj(
            {
                "item": _str("The item's external id, else its id."),
                "item_id": _int(),
                "prompt": _str("The prompt, truncated to 300 characters."),
                "judge_verdict": _str(enum=["a", "b", "tie"]),
                "judge_p_a": _num("The judge's P(A is better).", nullable=False),
                "participants_share_a": _num(
                    "Share preferring A, a tie counting half.", nullable=False
                ),
                "distance": _num("|judge_p_a - participants_share_a|", nullable=False),
                "label_counts": _obj(
                    {label: _int() for label in ("a", "b", "tie", "na")}
                ),
                "reasons": _list(
                    _str(), "Participants' reasons: plain text, escape it to show it."
                ),
            }
        ),
        "EncodingGapFlag": _obj(
            {
                "kind": _str(enum=[POSITION_BIAS, INJECTION]),
                "detail": _str(),
            }
        ),
    }


# --- publishing ----------------------------------------------------------------------


class PublishedSchema(serializers.Serializer[None]):
    """Documentation only: a response the view builds itself, described by
    ``components()`` (``component`` is the response's own)."""

    component: ClassVar[str]

    @staticmethod
    def components() -> dict[str, Schema]:
        raise NotImplementedError


class ValueCardSchema(PublishedSchema):
    component = "ValueCard"

    @staticmethod
    def components() -> dict[str, Schema]:
        return value_card_components()


@extend_schema_serializer(many=False)
class EncodingGapReportSchema(PublishedSchema):
    component = "EncodingGapReport"

    @staticmethod
    def components() -> dict[str, Schema]:
        return encoding_gap_components()


class PublishedSchemaExtension(OpenApiSerializerExtension):
    target_class = PublishedSchema
    match_subclasses = True

    # drf-spectacular types ``target`` as Any; with match_subclasses it is a
    # PublishedSchema subclass.
    target: type[PublishedSchema]

    def get_name(self, auto_schema: Any, direction: str) -> str:
        return self.target.component

    def map_serializer(self, auto_schema: Any, direction: str) -> Schema:
        components = self.target.components()
        for name, schema in components.items():
            if name != self.target.component:
                auto_schema.registry.register_on_missing(
                    ResolvedComponent(
                        name=name,
                        type=ResolvedComponent.SCHEMA,
                        object=name,
                        schema=copy.deepcopy(schema),
                    )
                )
        # Copies: the generator's hooks rewrite enums in place.
        return copy.deepcopy(components[self.target.component])
