from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from workbench.accounts.forms import SignupForm


def signup(request: HttpRequest) -> HttpResponse:
    """Facilitators create their own account; participants never need one."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("deliberation:workshop-list")
    return render(request, "accounts/signup.html", {"form": form})
