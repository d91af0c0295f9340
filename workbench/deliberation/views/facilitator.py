"""Facilitator pages. Placeholder views; the facilitator UI fills this module."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from workbench.core.http import AuthenticatedHttpRequest
from workbench.deliberation.selectors.workshops import (
    workshop_get_for_user,
    workshop_list_for_user,
)


@login_required
def workshop_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    workshops = workshop_list_for_user(user=request.user)
    return render(request, "deliberation/facilitator/workshop_list.html", {"workshops": workshops})


@login_required
def workshop_detail(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    return render(request, "deliberation/facilitator/workshop_detail.html", {"workshop": workshop})


_ = HttpRequest
