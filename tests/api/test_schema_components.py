"""The OpenAPI document says exactly what the card, encoding-gap and analysis
endpoints return: their responses validate against the components the document
publishes (read back from /api/v1/schema/'s generator, OpenAPI 3.0 `nullable`
turned into JSON Schema), the encoding-gap report with no undocumented key, and
the ValueCard component accepts and refuses the same cards as
docs/value-card.schema.json."""

from __future__ import annotations

import copy
import io
from typing import Any

import jsonschema
import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from tests.api.conftest import token_client
from workbench.api.openapi30 import component_name, json_schema_to_openapi30
from workbench.cards.schema import card_schema
from workbench.deliberation.models import Principle, Round, VoteChoice, Workshop
from workbench.deliberation.services.constitutions import constitution_publish
from workbench.deliberation.services.votes import vote_cast
from workbench.judging.models import JudgeControl, JudgeRun

P = "/api/v1/workshops/{slug}"


def published() -> dict[str, Any]:
    spec: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(spec)
    return spec


def as_json_schema(node: Any, *, strict: bool) -> Any:
    """OpenAPI 3.0 schema objects as JSON Schema: ``nullable`` joins null to the
    type; ``strict`` closes every object that lists its properties."""
    if isinstance(node, list):
        return [as_json_schema(n, strict=strict) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: as_json_schema(v, strict=strict) for k, v in node.items()}
    if out.pop("nullable", False) and "type" in out:  # no type: anything goes
        out["type"] = [out["type"], "null"]
    if strict and "properties" in out:
        out.setdefault("additionalProperties", False)
    return out


def validator(
    spec: dict[str, Any], name: str, *, strict: bool = False
) -> jsonschema.Draft202012Validator:
    schemas = spec["components"]["schemas"]
    root = {
        "$ref": f"#/components/schemas/{name}",
        "components": {"schemas": as_json_schema(schemas, strict=strict)},
    }
    return jsonschema.Draft202012Validator(
        root, format_checker=jsonschema.FormatChecker()
    )


def errors(check: jsonschema.Draft202012Validator, value: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in check.iter_errors(value)
    ]


def response_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    responses = spec["paths"][path]["get"]["responses"]["200"]
    schema: dict[str, Any] = responses["content"]["application/json"]["schema"]
    return schema


# --- the document ------------------------------------------------------------------


def test_the_endpoints_refer_to_their_components():
    spec = published()
    assert response_schema(spec, P + "/cards/") == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/ValueCard"},
    }
    assert response_schema(spec, P + "/encoding-gap/") == {
        "$ref": "#/components/schemas/EncodingGapReport"
    }
    # One object, not a list of them (the route is a list route).
    assert response_schema(spec, P + "/analysis/") == {
        "$ref": "#/components/schemas/Analysis"
    }
    schemas = spec["components"]["schemas"]
    # Every $defs entry of the published file is a component.
    for name in card_schema()["$defs"]:
        assert component_name("ValueCard", name) in schemas
    interval = schemas["EncodingGapInterval"]
    assert (interval["minItems"], interval["maxItems"]) == (2, 2)
    principle = schemas["EncodingGapPrinciple"]["properties"]
    assert principle["ci"]["properties"]["judge_agreement"] == {
        "$ref": "#/components/schemas/EncodingGapInterval"
    }
    assert principle["per_group"]["additionalProperties"] == {
        "$ref": "#/components/schemas/EncodingGapGroupFigures"
    }


def test_the_enums_keep_the_names_they_had():
    """Publishing the cards' and the report's enums renames no existing enum
    (drf-spectacular renames by hash when two `kind`s differ)."""
    schemas = published()["components"]["schemas"]
    assert {"ActionEnum", "ScopeEnum", "VoteChoiceEnum", "LabelEnum"} <= set(schemas)
    assert not [name for name in schemas if any(c.isdigit() for c in name)]


# --- real responses ----------------------------------------------------------------


@pytest.fixture
def demo(db, settings):
    """The demo workshop, with a published constitution (as in tests/cards) and a
    finished no-principle control run, so that every part of both documents has
    rows to validate."""
    settings.JUDGE_CONCURRENCY = {"offline": 1}  # one thread: this transaction
    call_command("demo", stdout=io.StringIO())
    workshop = Workshop.objects.get(slug="ai-assistant-values")
    tested = Principle.objects.get(
        workshop=workshop,
        text__startswith="The assistant should not help with anything that could hurt",
    )
    round_ = Round.objects.get(
        workshop=workshop, kind=Round.Kind.VOTE, scope=Round.Scope.ALL
    )
    for participant in workshop.participants.all():
        vote_cast(
            participant=participant,
            round_=round_,
            principle=tested,
            choice=VoteChoice.AGREE,
        )
    constitution_publish(
        workshop=workshop, actor=workshop.owner, title="", rule="ccai", threshold=0.7
    )
    call_command(
        "judge",
        workshop.slug,
        "--provider",
        "offline",
        "--eager",
        "--control",
        "no-principle",
        stdout=io.StringIO(),
    )
    assert JudgeRun.objects.filter(
        comparison_set__workshop=workshop,
        config__control=JudgeControl.NO_PRINCIPLE,
        status="done",
    ).exists()
    return workshop


def test_demo_responses_validate_against_the_published_components(demo):
    spec = published()
    api = token_client(demo.owner)
    base = P.format(slug=demo.slug)

    cards = api.get(base + "/cards/")
    assert cards.status_code == 200
    cards_json = cards.json()
    assert [c["kind"] for c in cards_json][:1] == ["constitution"]
    assert len(cards_json) >= 2
    check = validator(spec, "ValueCard")
    original = jsonschema.Draft202012Validator(card_schema())
    for card in cards_json:
        assert errors(check, card) == [], card["id"]
        assert errors(original, card) == []

    report = api.get(base + "/encoding-gap/")
    assert report.status_code == 200
    body = report.json()
    # The parts that are empty in smaller worlds have rows here.
    principle = body["principles"][0]
    assert principle["disagreements"] and principle["per_group"]
    assert body["controls"]["principles"]
    assert body["judge"]["is_llm"] is False
    assert errors(validator(spec, "EncodingGapReport", strict=True), body) == []

    analysis = api.get(base + "/analysis/")
    assert analysis.status_code == 200
    assert errors(validator(spec, "Analysis"), analysis.json()) == []


def test_a_report_without_a_finished_run(world, alice_api):
    """No finished run: run and judge are null and a message says why; with the
    pending run asked for, the judge figures are null."""
    spec = published()
    strict = validator(spec, "EncodingGapReport", strict=True)
    base = P.format(slug=world["slug"])
    default = alice_api.get(base + "/encoding-gap/").json()
    assert default["run"] is None and default["message"]
    assert errors(strict, default) == []
    pending = alice_api.get(base + f"/encoding-gap/?run={world['run']}").json()
    assert pending["run"]["status"] == "pending"
    assert pending["principles"][0]["judge_agreement"] is None
    assert errors(strict, pending) == []


def test_the_report_component_refuses_what_the_report_does_not_say(world, alice_api):
    spec = published()
    strict = validator(spec, "EncodingGapReport", strict=True)
    report = alice_api.get(
        P.format(slug=world["slug"]) + f"/encoding-gap/?run={world['run']}"
    ).json()
    undocumented = copy.deepcopy(report)
    undocumented["principles"][0]["new_figure"] = 0.5
    assert errors(strict, undocumented)
    # The published component itself is open to new keys (not a breaking change).
    assert errors(validator(spec, "EncodingGapReport"), undocumented) == []
    for path, value in [
        (("principles", 0, "kappa"), "high"),
        (("principles", 0, "ci", "gap"), [0.1]),
        (("run", "status"), "paused"),
        (("judge",), {"provider": "offline"}),
        (("controls", "no_principle_run"), "none"),
    ]:
        broken = copy.deepcopy(report)
        target = broken
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert errors(strict, broken), path


# --- the ValueCard component is the published file ---------------------------------


def _set(card: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(card)
    *parents, last = path.split("/")
    target = out
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return out


DELETE = object()
# (path, value, valid by docs/value-card.schema.json)
MUTATIONS = [
    ("kind", "manifesto", False),
    ("built_at", DELETE, False),
    ("schema_version", "2.0", False),
    ("secret", 1, False),
    ("legitimacy/content_hash", "xyz", False),
    ("pluralism/origin/value", None, True),
    ("pluralism/origin/value", "high", False),
    ("pluralism/origin/value", 1.5, False),
    ("measurement/votes", {"measured": False, "reason": "no votes"}, True),
    ("measurement/votes", {"measured": True}, False),
    ("aggregation/other_rules", {"ccai": True, "borda": [1, 2]}, True),
    ("aggregation/other_rules", {"ccai": "yes"}, False),
    ("aggregation/rule", None, True),
    ("legitimacy/review/status", "endorsed", True),
    ("legitimacy/review/status", "loved", False),
    ("origin/supporters/overall/agree", -1, False),
]


def test_the_value_card_component_judges_cards_as_the_file_does(world, alice_api):
    spec = published()
    component = validator(spec, "ValueCard")
    original = jsonschema.Draft202012Validator(card_schema())
    cards = alice_api.get(P.format(slug=world["slug"]) + "/cards/").json()
    kinds = {card["kind"]: card for card in cards}
    assert set(kinds) == {"constitution", "principle"}
    # The file's if/then: a constitution card must list its principles.
    cases = [
        (kinds["constitution"], ("principles", DELETE, False)),
        (kinds["principle"], ("kind", "constitution", False)),
    ]
    cases += [(card, mutation) for card in cards for mutation in MUTATIONS]
    for card in cards:
        assert errors(component, card) == []
    for card, (path, value, valid) in cases:
        mutated = _set(card, path, value)
        assert (errors(original, mutated) == []) is valid, (card["id"], path, value)
        assert (errors(component, mutated) == []) is valid, (card["id"], path, value)


# --- the converter -----------------------------------------------------------------


def test_the_converter_rewrites_what_openapi_30_cannot_say():
    components = json_schema_to_openapi30(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": {"small_int": {"type": "integer", "maximum": 9}},
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"const": 1},
                "c": {"type": ["boolean", "array"]},
                "d": {"$ref": "#/$defs/small_int", "description": "one digit"},
                "e": {"type": "array"},
            },
            "if": {"properties": {"b": {"const": 1}}},
            "then": {"required": ["a"]},
        },
        prefix="Thing",
    )
    assert set(components) == {"Thing", "ThingSmallInt"}
    props = components["Thing"]["properties"]
    assert props["a"] == {"type": "string", "nullable": True}
    assert props["b"] == {"enum": [1]}
    assert props["c"] == {
        "anyOf": [{"type": "boolean"}, {"type": "array", "items": {}}]
    }
    # OpenAPI 3.0 ignores a $ref's siblings: they move into an allOf.
    assert props["d"] == {
        "allOf": [
            {"$ref": "#/components/schemas/ThingSmallInt"},
            {"description": "one digit"},
        ]
    }
    assert props["e"] == {"type": "array", "items": {}}
    assert components["Thing"]["anyOf"] == [
        {"allOf": [{"properties": {"b": {"enum": [1]}}}, {"required": ["a"]}]},
        {"allOf": [{"not": {"properties": {"b": {"enum": [1]}}}}, {}]},
    ]


@pytest.mark.parametrize(
    "schema",
    [
        {"prefixItems": [{"type": "string"}]},
        {"$ref": "https://example.org/other.json"},
        {"type": "null"},
        {"properties": {"x": {"exclusiveMinimum": 0}}},
    ],
)
def test_the_converter_refuses_what_it_cannot_publish(schema):
    with pytest.raises(ValueError):
        json_schema_to_openapi30(schema, prefix="Thing")
