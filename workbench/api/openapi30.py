"""A JSON Schema (draft 2020-12) as OpenAPI 3.0 schema objects, for the published
value-card schema: the API document is OpenAPI 3.0.3, whose schema dialect has no
type lists, ``const``, ``$defs`` or ``if``/``then``.

Every rewrite keeps the meaning: ``type: [t, "null"]`` is ``type: t`` with
``nullable``; several types are an ``anyOf``; ``const: v`` is ``enum: [v]``;
``if``/``then``/``else`` is the ``anyOf`` of its branches (``not`` the condition
for the other one); ``$defs`` become components whose ``$ref`` points at
``#/components/schemas/<prefix><Name>``; an array without ``items`` gets
``items: {}``, which OpenAPI 3.0 requires. A keyword OpenAPI 3.0 cannot say raises
ValueError, so a schema edit that cannot be published fails loudly rather than
publishing something the cards do not obey.
"""

from __future__ import annotations

from typing import Any

__all__ = ["component_name", "json_schema_to_openapi30"]

# Kept as they are: the keywords both dialects share, with the same meaning.
_SAME = frozenset(
    {
        "title",
        "description",
        "format",
        "pattern",
        "minimum",
        "maximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "required",
        "enum",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)
# Their values are schemas (or lists / maps of schemas), converted in turn.
_SUBSCHEMA = frozenset({"items", "not", "additionalProperties"})
_SUBSCHEMA_LIST = frozenset({"allOf", "anyOf", "oneOf"})
# Only at the root, and dropped: the document's dialect and address.
_ROOT_ONLY = frozenset({"$schema", "$id", "$defs"})


def component_name(prefix: str, def_name: str) -> str:
    """``("ValueCard", "counts_by_group")`` -> ``"ValueCardCountsByGroup"``."""
    return prefix + "".join(part[:1].upper() + part[1:] for part in def_name.split("_"))


def json_schema_to_openapi30(
    schema: dict[str, Any], *, prefix: str
) -> dict[str, dict[str, Any]]:
    """The components for ``schema``: ``prefix`` itself (the root) and one per
    entry of its ``$defs``, named by :func:`component_name`."""
    defs = schema.get("$defs", {})
    names = {name: component_name(prefix, name) for name in defs}
    root = {k: v for k, v in schema.items() if k not in _ROOT_ONLY}
    components = {prefix: _convert(root, names, "#")}
    for name, sub in defs.items():
        components[names[name]] = _convert(sub, names, f"#/$defs/{name}")
    return components


def _convert(schema: Any, names: dict[str, str], where: str) -> dict[str, Any]:
    if schema is True:
        return {}
    if not isinstance(schema, dict):
        raise ValueError(f"{where}: OpenAPI 3.0 cannot say {schema!r} as a schema")
    out: dict[str, Any] = {}
    branches: list[dict[str, Any]] = []
    for key, value in schema.items():
        if key not in {"if", "then", "else"}:  # below, together
            _keyword(
                key, value, names=names, at=f"{where}/{key}", out=out, branches=branches
            )
    if "if" in schema:
        out = _all_of(out, _conditional(schema, names, where))
    if branches:
        out = _all_of(out, {"anyOf": branches})
    if out.get("type") == "array" and "items" not in out:
        out["items"] = {}
    if "$ref" in out and len(out) > 1:
        # OpenAPI 3.0 ignores a $ref's siblings: keep them in an allOf.
        ref = out.pop("$ref")
        out = {"allOf": [{"$ref": ref}, out]}
    return out


def _keyword(
    key: str,
    value: Any,
    *,
    names: dict[str, str],
    at: str,
    out: dict[str, Any],
    branches: list[dict[str, Any]],
) -> None:
    """Converts one keyword into ``out`` (a type list's branches: ``branches``)."""
    if key in _SAME:
        out[key] = value
    elif key == "$ref":
        out["$ref"] = _ref(value, names, at)
    elif key == "type":
        branches.extend(_types(value, out))
    elif key == "const":
        out["enum"] = [value]
    elif key == "properties":
        out[key] = {
            name: _convert(sub, names, f"{at}/{name}") for name, sub in value.items()
        }
    elif key in _SUBSCHEMA:
        out[key] = value if isinstance(value, bool) else _convert(value, names, at)
    elif key in _SUBSCHEMA_LIST:
        out[key] = [_convert(s, names, f"{at}/{i}") for i, s in enumerate(value)]
    else:
        raise ValueError(f"{at}: OpenAPI 3.0 has no keyword {key!r}")


def _ref(value: str, names: dict[str, str], where: str) -> str:
    prefix = "#/$defs/"
    if not value.startswith(prefix) or value[len(prefix) :] not in names:
        raise ValueError(f"{where}: only references to $defs are published: {value}")
    return f"#/components/schemas/{names[value[len(prefix) :]]}"


def _types(value: str | list[str], out: dict[str, Any]) -> list[dict[str, Any]]:
    """Sets ``type`` (and ``nullable``) on ``out`` for one type; for several,
    returns the ``anyOf`` branches instead."""
    types = [value] if isinstance(value, str) else list(value)
    nullable = "null" in types
    types = [t for t in types if t != "null"]
    if not types:
        raise ValueError("OpenAPI 3.0 has no null type")
    if len(types) == 1:
        out["type"] = types[0]
        if nullable:
            out["nullable"] = True
        return []
    branches: list[dict[str, Any]] = [
        {"type": t, "items": {}} if t == "array" else {"type": t} for t in types
    ]
    if nullable:
        branches[0]["nullable"] = True
    return branches


def _conditional(
    schema: dict[str, Any], names: dict[str, str], where: str
) -> dict[str, Any]:
    """``if C then T else E`` is ``(C and T) or (not C and E)``; a missing branch
    is the empty schema (anything)."""
    condition = _convert(schema["if"], names, f"{where}/if")
    then = _convert(schema.get("then", True), names, f"{where}/then")
    otherwise = _convert(schema.get("else", True), names, f"{where}/else")
    return {
        "anyOf": [
            {"allOf": [condition, then]},
            {"allOf": [{"not": condition}, otherwise]},
        ]
    }


def _all_of(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` that must also match ``extra`` (merged when they share no key)."""
    if not set(base) & set(extra):
        return {**base, **extra}
    return {**base, "allOf": [*base.get("allOf", []), extra]}
