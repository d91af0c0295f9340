"""Publishing a constitution: fix the rule before voting, choose a rule, preview
what it adopts, publish (confirming any deviation from the committed rule)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from workbench.core.errors import ApplicationError
from workbench.core.http import AuthenticatedHttpRequest
from workbench.deliberation.forms_facilitator import ConstitutionForm
from workbench.deliberation.models import RuleCommitment, Workshop
from workbench.deliberation.selectors.analysis import analysis_latest
from workbench.deliberation.selectors.facilitator import constitution_get_for_user
from workbench.deliberation.selectors.workshops import workshop_get_for_user
from workbench.deliberation.services import commitments
from workbench.deliberation.services import constitutions as services
from workbench.deliberation.views.facilitator import display
from workbench.deliberation.views.facilitator._common import (
    add_form_errors,
    flash_errors,
    flash_form_errors,
)
from workbench.deliberation.views.facilitator.display import bars_from_figures

TEMPLATES = "deliberation/facilitator/"
COMMIT_PREFIX = "commit"


class RuleCommitmentForm(ConstitutionForm):
    """The publish form's rule and parameters, without the title."""

    title = None  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Both forms are on the publish page: their labels must tell them apart.
        self.fields["rule"].label = _("Rule to fix")
        self.fields["threshold"].label = _("Threshold to fix (agree share from 0 to 1)")
        self.fields["min_votes"].label = _("Minimum votes per group to fix")


class DeviationForm(forms.Form):
    deviate = forms.BooleanField(
        label=gettext_lazy("Deviate from the committed rule"),
        required=False,
        help_text=gettext_lazy(
            "The constitution records that it was published under another rule "
            "or other parameters than the committed ones."
        ),
    )


def _committed_initial(commitment: RuleCommitment | None) -> dict[str, Any] | None:
    if commitment is None:
        return None
    return {"rule": commitment.rule, **commitment.parameters}


def _deviates(form: ConstitutionForm, commitment: RuleCommitment | None) -> bool:
    if commitment is None or not form.is_bound or not form.is_valid():
        return False
    data = form.cleaned_data
    parameters = {"threshold": data["threshold"], "min_votes": data["min_votes"]}
    return not commitment.matches(rule=data["rule"], parameters=parameters)


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
    status = commitments.rule_commitment_status(workshop=workshop)
    committed = _committed_initial(status.latest)
    if request.method == "POST":
        form = ConstitutionForm(request.POST)
    else:
        # Without a preview asked for, the form starts from the committed rule.
        form = ConstitutionForm(
            request.GET if "rule" in request.GET else None, initial=committed
        )
    deviation_form = DeviationForm(request.POST if request.method == "POST" else None)
    preview = None
    if form.is_bound and form.is_valid():
        if request.method == "POST":
            deviate = (
                deviation_form.is_valid() and deviation_form.cleaned_data["deviate"]
            )
            try:
                constitution = services.constitution_publish(
                    workshop=workshop,
                    actor=request.user,
                    deviate=deviate,
                    **form.cleaned_data,
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
        "deviates": _deviates(form, status.latest),
        "deviation_form": deviation_form,
        "rules": services.RULES.values(),
        "status": status,
        "commit_form": RuleCommitmentForm(prefix=COMMIT_PREFIX, initial=committed),
        **_comparison(workshop),
    }
    return render(request, TEMPLATES + "constitution_publish.html", context)


@login_required
@require_POST
def rule_commit(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Fixes the decision rule (a new commitment supersedes the previous one)."""
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    form = RuleCommitmentForm(request.POST, prefix=COMMIT_PREFIX)
    if not form.is_valid():
        flash_form_errors(request, form)
    else:
        data = form.cleaned_data
        try:
            commitments.rule_commit(
                workshop=workshop,
                rule=data["rule"],
                parameters={
                    "threshold": data["threshold"],
                    "min_votes": data["min_votes"],
                },
                actor=request.user,
            )
        except ApplicationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Decision rule fixed."))
    return redirect("deliberation:constitution-publish", slug=slug)


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
