from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """An error whose message is safe and useful to show to the person who acted."""

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class PermissionDeniedError(ApplicationError):
    pass


class RateLimitedError(ApplicationError):
    pass


class NotAvailableError(ApplicationError):
    """The object is not there for this person (absent, a draft, another group's):
    views answer 404 so that its existence is not revealed."""
