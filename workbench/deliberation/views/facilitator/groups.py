"""Participant groups: create, invite links with QR codes, token regeneration."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from workbench.core.errors import ApplicationError
from workbench.core.http import AuthenticatedHttpRequest
from workbench.deliberation.forms_facilitator import GroupForm
from workbench.deliberation.selectors.workshops import (
    group_get_for_user,
    workshop_get_for_user,
)
from workbench.deliberation.services import workshops as services
from workbench.deliberation.views.facilitator._common import add_form_errors, invite_url

TEMPLATES = "deliberation/facilitator/"


def qr_svg(url: str) -> SafeString:
    svg = segno.make(url, error="m").svg_inline(
        scale=10, omitsize=True, light="white", title=_("QR code of the invite link")
    )
    # segno writes the SVG itself from a URL we built; no participant text is in it.
    return mark_safe(svg)  # noqa: S308


@login_required
def group_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    form = GroupForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            group = services.group_create(workshop=workshop, **form.cleaned_data)
        except (ApplicationError, ValidationError) as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Group created."))
            return redirect(
                "deliberation:group-invite", slug=workshop.slug, pk=group.pk
            )
    return render(
        request, TEMPLATES + "group_form.html", {"form": form, "workshop": workshop}
    )


def _invite_context(
    request: AuthenticatedHttpRequest, slug: str, pk: int
) -> dict[str, object]:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    group = group_get_for_user(user=request.user, workshop=workshop, pk=pk)
    url = invite_url(request, group)
    return {"workshop": workshop, "group": group, "invite_url": url, "qr": qr_svg(url)}


@login_required
def group_invite(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    context = _invite_context(request, slug, pk)
    return render(request, TEMPLATES + "group_invite.html", context)


@login_required
def group_room(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    context = _invite_context(request, slug, pk)
    return render(request, TEMPLATES + "group_room.html", context)


@login_required
@require_POST
def group_regenerate_token(
    request: AuthenticatedHttpRequest, slug: str, pk: int
) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    group = group_get_for_user(user=request.user, workshop=workshop, pk=pk)
    services.group_regenerate_token(group=group)
    messages.success(
        request, _("New invite link created. The old link no longer works.")
    )
    return redirect("deliberation:group-invite", slug=workshop.slug, pk=group.pk)
