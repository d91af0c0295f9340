"""Reads of API tokens for the token page and `manage.py api_token --list`."""

from __future__ import annotations

from django.db.models import QuerySet

from workbench.accounts.models import User
from workbench.api.models import ApiToken


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens, oldest first (the model's order); only ever the user's."""
    return ApiToken.objects.filter(user=user).order_by("created_at", "id")
