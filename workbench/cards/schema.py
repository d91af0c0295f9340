"""The published JSON Schema of a value card (docs/value-card.schema.json) and
the check every renderer runs before it writes a card."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
from django.conf import settings

from workbench.core.errors import ApplicationError

SCHEMA_VERSION = "1.0"


def schema_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "value-card.schema.json"


@cache
def card_schema() -> dict[str, Any]:
    """The schema as published in docs/ (read once per process)."""
    schema: dict[str, Any] = json.loads(schema_path().read_text(encoding="utf-8"))
    return schema


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = card_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.FormatChecker()
    )


class CardInvalidError(ApplicationError):
    """A card that does not match the published schema; `path` locates the
    first offending value (e.g. ``legitimacy/content_hash``)."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


def validate_card(card: dict[str, Any]) -> None:
    """Raises CardInvalidError naming the path of the most relevant error."""
    error = jsonschema.exceptions.best_match(_validator().iter_errors(card))
    if error is None:
        return
    path = "/".join(str(part) for part in error.absolute_path) or "(card)"
    raise CardInvalidError(f"value card invalid at {path}: {error.message}", path=path)
