from __future__ import annotations

from django.http import HttpRequest

from workbench.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind login_required: `user` is a real User."""

    user: User
