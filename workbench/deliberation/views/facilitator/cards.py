"""The workshop's value cards page: the narrative the facilitator writes for every
card, the outcome of the review rounds per card, and (from the export helper) the
downloads."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import models
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from workbench.cards.models import CardNarrative
from workbench.cards.selectors import (
    NARRATIVE_FIELDS,
    card_narrative_get,
    constitution_latest,
    review_rounds_for_workshop,
)
from workbench.cards.services.narrative import (
    NARRATIVE_MAX_LENGTH,
    card_narrative_update,
)
from workbench.cards.services.review import card_review_summary
from workbench.core.errors import ApplicationError
from workbench.core.http import AuthenticatedHttpRequest
from workbench.deliberation.models import Principle, Workshop
from workbench.deliberation.selectors.workshops import workshop_get_for_user
from workbench.deliberation.views.facilitator._common import add_form_errors

CARDS_TEMPLATE = "deliberation/facilitator/cards.html"
ON_EVERY_CARD = gettext_lazy(
    "Shown on every value card of this workshop, marked as written by the facilitator."
)


class NarrativeForm(forms.Form):
    recruitment = forms.CharField(
        label=gettext_lazy("Recruitment"),
        required=False,
        max_length=NARRATIVE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    representativeness = forms.CharField(
        label=gettext_lazy("Representativeness"),
        required=False,
        max_length=NARRATIVE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    deliberation_design = forms.CharField(
        label=gettext_lazy("Deliberation design"),
        required=False,
        max_length=NARRATIVE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    limitations = forms.CharField(
        label=gettext_lazy("Limitations"),
        required=False,
        max_length=NARRATIVE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The model's help text says what to write; the suffix says where it goes.
        for name in NARRATIVE_FIELDS:
            field = CardNarrative._meta.get_field(name)
            model_help = field.help_text if isinstance(field, models.Field) else ""
            self.fields[name].help_text = f"{_(str(model_help))} {ON_EVERY_CARD}"


def _card_rows(workshop: Workshop) -> list[dict[str, Any]]:
    """The cards the workshop has (the latest constitution's and its principles',
    else every approved principle's), each with its review outcome."""
    constitution = constitution_latest(workshop_id=workshop.pk)
    rows: list[dict[str, Any]] = []
    principles = Principle.objects.filter(
        workshop=workshop, status=Principle.Status.APPROVED, merged_into__isnull=True
    )
    if constitution is not None:
        rows.append(
            {
                "kind": "constitution",
                "title": constitution.title,
                "summary": card_review_summary(constitution=constitution),
            }
        )
        principles = principles.filter(
            pk__in=[entry["id"] for entry in constitution.principles]
        )
    for principle in principles.order_by("created_at", "id"):
        rows.append(
            {
                "kind": "principle",
                "title": principle.text,
                "summary": card_review_summary(principle=principle),
            }
        )
    return rows


def _page(
    request: AuthenticatedHttpRequest,
    workshop: Workshop,
    form: NarrativeForm,
    status: int = 200,
) -> HttpResponse:
    context = {
        "workshop": workshop,
        "form": form,
        "narrative": card_narrative_get(workshop=workshop),
        "cards": _card_rows(workshop),
        "review_rounds": review_rounds_for_workshop(workshop=workshop),
    }
    return render(request, CARDS_TEMPLATE, context, status=status)


@login_required
def workshop_cards(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    narrative = card_narrative_get(workshop=workshop)
    initial = (
        {name: getattr(narrative, name) for name in NARRATIVE_FIELDS}
        if narrative
        else None
    )
    return _page(request, workshop, NarrativeForm(initial=initial))


@login_required
@require_POST
def card_narrative(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    form = NarrativeForm(request.POST)
    if form.is_valid():
        try:
            card_narrative_update(
                workshop=workshop, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("The narrative is saved."))
            return redirect("deliberation:cards", slug=slug)
    # The text stays in the form, so nothing typed is lost to an error.
    return _page(request, workshop, form, status=400)
