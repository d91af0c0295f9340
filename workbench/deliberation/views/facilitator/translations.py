"""A principle's translations, written by the facilitator on the principle's page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from workbench.core.errors import ApplicationError
from workbench.core.http import AuthenticatedHttpRequest
from workbench.deliberation.forms_translations import (
    TranslationForm,
    TranslationRemoveForm,
)
from workbench.deliberation.models import Principle
from workbench.deliberation.selectors.workshops import (
    principle_get_for_user,
    workshop_get_for_user,
)
from workbench.deliberation.services.translations import (
    translation_remove,
    translation_save,
)
from workbench.deliberation.views.facilitator._common import (
    flash_errors,
    flash_form_errors,
    redirect_back,
)


def _act(
    request: AuthenticatedHttpRequest,
    slug: str,
    pk: int,
    *,
    form_class: type[forms.Form],
    act: Callable[[Principle, dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """The owner's principle (else 404), the form checked, the service run, the
    outcome flashed, and back to the principle's page."""
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    principle = principle_get_for_user(user=request.user, workshop=workshop, pk=pk)
    form = form_class(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
    else:
        try:
            act(principle, form.cleaned_data)
        except ApplicationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, done)
    detail = reverse(
        "deliberation:principle-detail", kwargs={"slug": slug, "pk": principle.pk}
    )
    return redirect_back(request, default=detail + "#translations-heading")


@login_required
@require_POST
def principle_translate(
    request: AuthenticatedHttpRequest, slug: str, pk: int
) -> HttpResponse:
    return _act(
        request,
        slug,
        pk,
        form_class=TranslationForm,
        act=lambda principle, data: translation_save(
            principle=principle, actor=request.user, **data
        ),
        done=_("Translation saved."),
    )


@login_required
@require_POST
def principle_translation_remove(
    request: AuthenticatedHttpRequest, slug: str, pk: int
) -> HttpResponse:
    return _act(
        request,
        slug,
        pk,
        form_class=TranslationRemoveForm,
        act=lambda principle, data: translation_remove(
            principle=principle, translation_id=data["translation"], actor=request.user
        ),
        done=_("Translation removed."),
    )
