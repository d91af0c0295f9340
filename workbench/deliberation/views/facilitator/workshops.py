"""Workshops: list, create, edit, and the dashboard."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from workbench.core.errors import ApplicationError
from workbench.core.http import AuthenticatedHttpRequest
from workbench.deliberation.forms_facilitator import GroupForm, WorkshopForm
from workbench.deliberation.selectors.facilitator import (
    constitution_list_for_workshop,
    group_list_for_workshop,
    round_list_for_workshop,
)
from workbench.deliberation.selectors.workshops import (
    workshop_get_for_user,
    workshop_list_for_user,
)
from workbench.deliberation.services import workshops as services
from workbench.deliberation.views.facilitator._common import add_form_errors, invite_url
from workbench.deliberation.views.facilitator.live import live_panel_context

TEMPLATES = "deliberation/facilitator/"


@login_required
def workshop_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    workshops = workshop_list_for_user(user=request.user)
    return render(request, TEMPLATES + "workshop_list.html", {"workshops": workshops})


@login_required
def workshop_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = WorkshopForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            workshop = services.workshop_create(owner=request.user, **form.cleaned_data)
        except (ApplicationError, ValidationError) as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Workshop created."))
            return redirect(workshop)
    return render(request, TEMPLATES + "workshop_form.html", {"form": form})


@login_required
def workshop_edit(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    initial = {
        name: getattr(workshop, name) for name in services.WORKSHOP_EDITABLE_FIELDS
    }
    form = WorkshopForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if form.is_bound and form.is_valid():
        try:
            services.workshop_update(workshop=workshop, **form.cleaned_data)
        except (ApplicationError, ValidationError) as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Workshop saved."))
            return redirect(workshop)
    return render(
        request, TEMPLATES + "workshop_form.html", {"form": form, "workshop": workshop}
    )


@login_required
def workshop_detail(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    groups = [
        (group, invite_url(request, group))
        for group in group_list_for_workshop(workshop=workshop)
    ]
    panel = live_panel_context(workshop)
    context = {
        "workshop": workshop,
        "groups": groups,
        "rounds": round_list_for_workshop(workshop=workshop),
        "constitutions": constitution_list_for_workshop(workshop=workshop),
        "group_form": GroupForm(auto_id="id_group_%s"),
        "pending_count": panel["live"].pending,
    } | panel
    return render(request, TEMPLATES + "workshop_detail.html", context)
