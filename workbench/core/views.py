from __future__ import annotations

import sys

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views import defaults

from workbench.core.middleware import outage_kind, outage_response


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("deliberation:workshop-list")
    return render(request, "core/home.html")


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the outage page for an unreachable service that broke the
    request outside a view (a middleware's session or cache access), which
    ServiceUnavailableMiddleware cannot see; Django's 500 page otherwise. Django
    calls it while handling the exception, so sys.exc_info() holds it."""
    exc = sys.exc_info()[1]
    kind = outage_kind(exc) if exc is not None else None
    if kind is not None:
        return outage_response(request, kind)
    return defaults.server_error(request)
