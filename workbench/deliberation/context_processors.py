"""Template context every page gets: how often its live parts poll."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def live(request: HttpRequest) -> dict[str, int]:
    return {
        "live_poll_seconds": settings.WORKBENCH["LIVE_POLL_SECONDS"],
        "round_status_poll_seconds": settings.WORKBENCH["ROUND_STATUS_POLL_SECONDS"],
    }
