from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from workbench.api.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Limits each API token (settings: API_TOKEN_RATE); browser sessions are not
    throttled, scripts are."""

    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
