"""Principles: seeding, the moderation queue and its actions, history and the log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from workbench.core.errors import ApplicationError
from workbench.core.http import AuthenticatedHttpRequest
from workbench.deliberation.forms_facilitator import (
    ApproveForm,
    EditForm,
    MergeForm,
    RejectForm,
    SeedForm,
)
from workbench.deliberation.forms_translations import TranslationForm
from workbench.deliberation.models import Principle, Workshop
from workbench.deliberation.selectors.facilitator import (
    group_list_for_workshop,
    moderation_event_list,
    principle_list_for_workshop,
    principle_list_merge_targets,
    principle_list_pending,
    principle_version_list,
)
from workbench.deliberation.selectors.translations import (
    translation_list_for_principle,
)
from workbench.deliberation.selectors.workshops import (
    principle_get_for_user,
    workshop_get_for_user,
)
from workbench.deliberation.services import principles as services
from workbench.deliberation.views.facilitator._common import (
    add_form_errors,
    flash_errors,
    flash_form_errors,
    redirect_back,
)

TEMPLATES = "deliberation/facilitator/"


def _get(
    request: AuthenticatedHttpRequest, slug: str, pk: int
) -> tuple[Workshop, Principle]:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    return workshop, principle_get_for_user(user=request.user, workshop=workshop, pk=pk)


def _detail_url(principle: Principle, workshop: Workshop) -> str:
    return reverse(
        "deliberation:principle-detail",
        kwargs={"slug": workshop.slug, "pk": principle.pk},
    )


@login_required
def principle_seed(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    form = SeedForm(
        request.POST if request.method == "POST" else None,
        groups=group_list_for_workshop(workshop=workshop),
    )
    if form.is_bound and form.is_valid():
        try:
            services.principle_seed(
                workshop=workshop, actor=request.user, **form.cleaned_data
            )
        except (ApplicationError, ValidationError) as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Principle seeded. Add another or go back."))
            return redirect("deliberation:principle-seed", slug=slug)
    context = {"form": form, "workshop": workshop}
    return render(request, TEMPLATES + "principle_seed.html", context)


@login_required
def principle_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    principles = principle_list_for_workshop(workshop=workshop)
    context = {"workshop": workshop, "principles": principles}
    return render(request, TEMPLATES + "principle_list.html", context)


@login_required
def moderation_queue(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    context = {
        "workshop": workshop,
        "pending": principle_list_pending(workshop=workshop),
        "targets": list(principle_list_merge_targets(workshop=workshop)),
    }
    return render(request, TEMPLATES + "moderation_queue.html", context)


@login_required
def moderation_log(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    context = {"workshop": workshop, "events": moderation_event_list(workshop=workshop)}
    return render(request, TEMPLATES + "moderation_log.html", context)


@login_required
def principle_detail(
    request: AuthenticatedHttpRequest, slug: str, pk: int
) -> HttpResponse:
    workshop, principle = _get(request, slug, pk)
    context = {
        "workshop": workshop,
        "principle": principle,
        "versions": principle_version_list(principle=principle),
        "events": moderation_event_list(workshop=workshop, principle=principle),
        "edit_form": EditForm(initial={"text": principle.text}),
        "targets": principle_list_merge_targets(workshop=workshop),
        "translations": translation_list_for_principle(principle=principle),
        "translation_form": TranslationForm(),
    }
    return render(request, TEMPLATES + "principle_detail.html", context)


def _moderate(
    request: AuthenticatedHttpRequest,
    form: forms.Form,
    act: Callable[[dict[str, Any]], object],
    *,
    done: str,
    back_to: str,
) -> HttpResponse:
    """Validates a moderation form, runs the service, flashes the outcome, goes back."""
    if not form.is_valid():
        flash_form_errors(request, form)
    else:
        try:
            act(form.cleaned_data)
        except ApplicationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, done)
    return redirect_back(request, default=back_to)


@login_required
@require_POST
def principle_approve(
    request: AuthenticatedHttpRequest, slug: str, pk: int
) -> HttpResponse:
    workshop, principle = _get(request, slug, pk)
    return _moderate(
        request,
        ApproveForm(request.POST),
        lambda data: services.principle_approve(
            principle=principle, actor=request.user, **data
        ),
        done=_("Principle approved."),
        back_to=_detail_url(principle, workshop),
    )


@login_required
@require_POST
def principle_reject(
    request: AuthenticatedHttpRequest, slug: str, pk: int
) -> HttpResponse:
    workshop, principle = _get(request, slug, pk)
    return _moderate(
        request,
        RejectForm(request.POST),
        lambda data: services.principle_reject(
            principle=principle, actor=request.user, **data
        ),
        done=_("Principle rejected."),
        back_to=_detail_url(principle, workshop),
    )


@login_required
@require_POST
def principle_merge(
    request: AuthenticatedHttpRequest, slug: str, pk: int
) -> HttpResponse:
    workshop, principle = _get(request, slug, pk)
    return _moderate(
        request,
        MergeForm(
            request.POST, targets=principle_list_merge_targets(workshop=workshop)
        ),
        lambda data: services.principle_merge(
            source=principle,
            target=data["target"],
            actor=request.user,
            reason=data["reason"],
        ),
        done=_("Principle merged."),
        back_to=_detail_url(principle, workshop),
    )


@login_required
@require_POST
def principle_edit(
    request: AuthenticatedHttpRequest, slug: str, pk: int
) -> HttpResponse:
    workshop, principle = _get(request, slug, pk)
    return _moderate(
        request,
        EditForm(request.POST),
        lambda data: services.principle_edit(
            principle=principle, actor=request.user, **data
        ),
        done=_("New wording saved as a new version."),
        back_to=_detail_url(principle, workshop),
    )
