"""Answers a request that failed because a backing service is down (PostgreSQL
restarting, Redis or the broker unreachable) with a 503 that says so.

Without this, Django answers such a request with its 500 page (or, in DEBUG, a
traceback), and a participant cannot tell a lost vote from a bug. The answer is
a 503 with Retry-After and a short message: a whole page for a plain request,
the message alone for an HTMX request (static/js/live.js shows it beside the
form, which keeps what was typed) and the API's error body for the API. The
page touches neither the database nor the session, which may be what is down.

A form sent again after the outage is stored once: votes carry a client_token
(services/votes.py), so even a vote whose commit went through just before the
connection broke is not counted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
TEMPLATE = "core/unavailable.html"
DATABASE = "database"
SERVICE = "service"


def outage_kind(exc: BaseException) -> str | None:
    """DATABASE or SERVICE when ``exc`` means a backing service cannot be
    reached, else None (a bug, answered with the usual 500)."""
    if isinstance(exc, DatabaseOperationalError | DatabaseInterfaceError):
        return DATABASE
    # Imported here: both come with celery[redis], but settings may use neither.
    from kombu.exceptions import OperationalError as BrokerError  # noqa: PLC0415
    from redis.exceptions import ConnectionError as RedisConnectionError  # noqa: PLC0415
    from redis.exceptions import TimeoutError as RedisTimeoutError  # noqa: PLC0415

    if isinstance(exc, RedisConnectionError | RedisTimeoutError | BrokerError):
        return SERVICE
    return None


def outage_message(kind: str) -> str:
    if kind == DATABASE:
        return gettext(
            "The workbench cannot reach its database right now. What you just "
            "sent was not saved; please try again in a moment."
        )
    return gettext(
        "The workbench cannot reach one of its services right now. What you just "
        "sent may not have been saved; please try again in a moment."
    )


def outage_response(request: HttpRequest, kind: str) -> HttpResponse:
    message = outage_message(kind)
    match = request.resolver_match
    if match is not None and "api" in match.namespaces:
        response: HttpResponse = JsonResponse(
            {"error": {"code": "unavailable", "message": message}}, status=503
        )
    else:
        fragment = bool(getattr(request, "htmx", False))
        name = f"{TEMPLATE}#message" if fragment else TEMPLATE
        # No RequestContext: its processors would read the user from the session.
        response = HttpResponse(
            render_to_string(name, {"message": message}), status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Never cached by a proxy: the next try must reach the server.
    response["Cache-Control"] = "no-store"
    return response


class ServiceUnavailableMiddleware:
    """Turns a view's unreachable-service error into outage_response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        kind = outage_kind(exception)
        if kind is None:
            return None
        logger.warning(
            "%s %s answered 503: the %s is unreachable (%s: %s)",
            request.method,
            request.path,
            kind,
            type(exception).__name__,
            exception,
        )
        return outage_response(request, kind)
