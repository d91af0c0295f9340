"""Helpers shared by the facilitator's views."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

from workbench.core.errors import ApplicationError
from workbench.core.http import AuthenticatedHttpRequest
from workbench.deliberation.models import ParticipantGroup


class FacilitatorRequest(AuthenticatedHttpRequest):
    """A logged-in request that passed through django-htmx's middleware."""

    htmx: HtmxDetails


def error_messages(exc: ApplicationError | ValidationError) -> list[str]:
    if isinstance(exc, ApplicationError):
        return [exc.message]
    return list(exc.messages)


def add_form_errors(form: forms.Form, exc: ApplicationError | ValidationError) -> None:
    for message in error_messages(exc):
        form.add_error(None, message)


def flash_errors(
    request: AuthenticatedHttpRequest, exc: ApplicationError | ValidationError
) -> None:
    for message in error_messages(exc):
        messages.error(request, message)


def flash_form_errors(request: AuthenticatedHttpRequest, form: forms.Form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


def redirect_back(
    request: AuthenticatedHttpRequest, default: str
) -> HttpResponseRedirect:
    """Back to the page the form came from (its `next` field), if it is on this site."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return HttpResponseRedirect(target if target and safe else default)


def invite_url(request: AuthenticatedHttpRequest, group: ParticipantGroup) -> str:
    path = reverse("deliberation:join", kwargs={"token": group.invite_token})
    return request.build_absolute_uri(path)
