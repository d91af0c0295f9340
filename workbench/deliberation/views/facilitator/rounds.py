"""Rounds: create, choose the shortlist, open and close."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from workbench.core.errors import ApplicationError
from workbench.core.http import AuthenticatedHttpRequest
from workbench.deliberation.forms_facilitator import RoundForm, ShortlistForm
from workbench.deliberation.models import Round
from workbench.deliberation.selectors.facilitator import (
    group_list_for_workshop,
    principle_list_shortlist_candidates,
)
from workbench.deliberation.selectors.workshops import (
    round_get_for_user,
    workshop_get_for_user,
)
from workbench.deliberation.services import rounds as services
from workbench.deliberation.views.facilitator._common import (
    add_form_errors,
    flash_errors,
    flash_form_errors,
    redirect_back,
)

TEMPLATES = "deliberation/facilitator/"
SHORTLIST_KINDS = (Round.Kind.RANK, Round.Kind.VOTE, Round.Kind.REVIEW)


@login_required
def round_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    form = RoundForm(
        request.POST if request.method == "POST" else None,
        groups=group_list_for_workshop(workshop=workshop),
    )
    if form.is_bound and form.is_valid():
        try:
            round_ = services.round_create(workshop=workshop, **form.cleaned_data)
        except (ApplicationError, ValidationError) as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Round created as a draft."))
            return redirect("deliberation:round-detail", slug=slug, pk=round_.pk)
    return render(
        request, TEMPLATES + "round_form.html", {"form": form, "workshop": workshop}
    )


@login_required
def round_detail(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    round_ = round_get_for_user(user=request.user, workshop=workshop, pk=pk)
    shortlist_form = None
    if round_.kind in SHORTLIST_KINDS and round_.status == Round.Status.DRAFT:
        shortlist_form = ShortlistForm(
            candidates=principle_list_shortlist_candidates(round_=round_),
            initial={"principles": list(round_.shortlist.values_list("pk", flat=True))},
        )
    context = {
        "workshop": workshop,
        "round": round_,
        "shortlist": round_.shortlist.order_by("created_at", "id"),
        "shortlist_form": shortlist_form,
    }
    return render(request, TEMPLATES + "round_detail.html", context)


@login_required
@require_POST
def round_shortlist(
    request: AuthenticatedHttpRequest, slug: str, pk: int
) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    round_ = round_get_for_user(user=request.user, workshop=workshop, pk=pk)
    form = ShortlistForm(
        request.POST, candidates=principle_list_shortlist_candidates(round_=round_)
    )
    if not form.is_valid():
        flash_form_errors(request, form)
    else:
        try:
            services.round_set_shortlist(
                round_=round_, principles=form.cleaned_data["principles"]
            )
        except ApplicationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Shortlist saved."))
    return redirect("deliberation:round-detail", slug=slug, pk=round_.pk)


def _transition(
    request: AuthenticatedHttpRequest, slug: str, pk: int, *, to: str
) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    round_ = round_get_for_user(user=request.user, workshop=workshop, pk=pk)
    try:
        if to == Round.Status.OPEN:
            services.round_open(round_=round_, actor=request.user)
            messages.success(request, _("Round opened."))
        else:
            services.round_close(round_=round_, actor=request.user)
            messages.success(request, _("Round closed. It accepts nothing more."))
    except ApplicationError as exc:
        flash_errors(request, exc)
    return redirect_back(request, default=workshop.get_absolute_url())


@login_required
@require_POST
def round_open(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    return _transition(request, slug, pk, to=Round.Status.OPEN)


@login_required
@require_POST
def round_close(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    return _transition(request, slug, pk, to=Round.Status.CLOSED)
