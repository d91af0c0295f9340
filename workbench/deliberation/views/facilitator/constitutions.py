"""Publishing a constitution: choose a rule, preview what it adopts, publish."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from workbench.core.errors import ApplicationError
from workbench.core.http import AuthenticatedHttpRequest
from workbench.deliberation.forms_facilitator import ConstitutionForm
from workbench.deliberation.models import Workshop
from workbench.deliberation.selectors.analysis import analysis_latest
from workbench.deliberation.selectors.facilitator import constitution_get_for_user
from workbench.deliberation.selectors.workshops import workshop_get_for_user
from workbench.deliberation.services import constitutions as services
from workbench.deliberation.views.facilitator import display
from workbench.deliberation.views.facilitator._common import add_form_errors
from workbench.deliberation.views.facilitator.display import bars_from_figures

TEMPLATES = "deliberation/facilitator/"


def _preview(form: ConstitutionForm, workshop: Workshop) -> dict[str, Any] | None:
    data = form.cleaned_data
    try:
        preview = services.constitution_preview(
            workshop=workshop,
            rule=data["rule"],
            threshold=data["threshold"],
            min_votes=data["min_votes"],
        )
    except ApplicationError as exc:
        add_form_errors(form, exc)
        return None
    return {
        "adopted": [bars_from_figures(f) for f in preview["adopted"]],
        "figures": [bars_from_figures(f) for f in preview["figures"]],
        "groups": preview["groups"],
    }


def _comparison(workshop: Workshop) -> dict[str, Any]:
    """The latest stored analysis's rule comparison, so the facilitator sees what
    other rules would adopt before publishing."""
    analysis = analysis_latest(workshop=workshop)
    if analysis is None:
        return {"analysis": None, "comparison": None}
    return {
        "analysis": analysis,
        "comparison": display.comparison_table(analysis.result or {}),
    }


@login_required
def constitution_publish(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """GET with the form's fields previews; POST publishes."""
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    if request.method == "POST":
        form = ConstitutionForm(request.POST)
    else:
        form = ConstitutionForm(request.GET if "rule" in request.GET else None)
    preview = None
    if form.is_bound and form.is_valid():
        if request.method == "POST":
            try:
                constitution = services.constitution_publish(
                    workshop=workshop, actor=request.user, **form.cleaned_data
                )
            except ApplicationError as exc:
                add_form_errors(form, exc)
            else:
                messages.success(request, _("Constitution published."))
                return redirect(
                    "deliberation:constitution-detail", slug=slug, pk=constitution.pk
                )
        preview = _preview(form, workshop)
    context = {
        "workshop": workshop,
        "form": form,
        "preview": preview,
        "rules": services.RULES.values(),
        **_comparison(workshop),
    }
    return render(request, TEMPLATES + "constitution_publish.html", context)


@login_required
def constitution_detail(
    request: AuthenticatedHttpRequest, slug: str, pk: int
) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    constitution = constitution_get_for_user(
        user=request.user, workshop=workshop, pk=pk
    )
    figures = constitution.figures
    context = {
        "workshop": workshop,
        "constitution": constitution,
        "rule": services.RULES.get(constitution.rule),
        "groups": figures.get("groups", []),
        "figures": [bars_from_figures(f) for f in figures.get("principles", [])],
    }
    return render(request, TEMPLATES + "constitution_detail.html", context)
