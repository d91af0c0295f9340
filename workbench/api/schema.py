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
            # drf-spectacular leaves this hook unannotated (untyped_calls_exclude in
            # pyproject does not reach a call through a subclass).
            body = self._get_response_for_code(  # type: ignore[no-untyped-call]
                ErrorSerializer, code, direction=direction
            )
            responses.setdefault(code, body)
        return responses
