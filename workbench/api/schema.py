# DRF ships no type hints (and djangorestframework-stubs is not installed):
# mypy: disable-error-code="import-untyped, misc, no-untyped-call"
# mypy: disable-error-code="untyped-decorator, no-any-return"
from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema

from workbench.api.serializers import ErrorSerializer


class ApiSchema(AutoSchema):
    """Documents the error body on every operation, with the statuses it can have:
    401 (no or bad credentials), 404 (not found or not yours), 429 (throttled), and
    400 for the operations that take input."""

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        public = not self.view.get_permissions() or all(
            type(p).__name__ == "AllowAny" for p in self.view.get_permissions()
        )
        if public:
            return responses
        for code in ("400", "401", "404", "429"):
            responses.setdefault(
                code,
                self._get_response_for_code(ErrorSerializer, code, direction=direction),
            )
        return responses
