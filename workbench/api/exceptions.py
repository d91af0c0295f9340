"""One error body for every API error: ``{"error": {"code", "message", "fields"?}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from workbench.core.errors import (
    ApplicationError,
    NotAvailableError,
    PermissionDeniedError,
    RateLimitedError,
)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the object's state."


def _translate(exc: Exception) -> Exception:  # noqa: PLR0911 (one case a line)
    """Domain and Django errors as the DRF exceptions with the right status."""
    if isinstance(exc, NotAvailableError | Http404):
        return exceptions.NotFound(_("Not found."))
    if isinstance(exc, PermissionDeniedError):
        return exceptions.PermissionDenied(exc.message)
    if isinstance(exc, RateLimitedError):
        return exceptions.Throttled(detail=exc.message)
    if isinstance(exc, ApplicationError):
        return exceptions.ValidationError(exc.message, code="application_error")
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        return next((_first_message(v) for v in detail.values()), "")
    if isinstance(detail, list):
        return next((_first_message(v) for v in detail), "")
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _translate(exc)
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response  # not an API error: a 500, reported as such
    detail = exc.detail
    error: dict[str, Any]
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict):
        error = {
            "code": "invalid",
            "message": _("The input is not valid: %(reason)s")
            % {"reason": _first_message(detail)},
            "fields": {
                field: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
                for field, msgs in detail.items()
            },
        }
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else _first_message(codes)
        error = {"code": code or "error", "message": _first_message(detail)}
    response.data = {"error": error}
    return response
