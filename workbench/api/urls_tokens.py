"""The facilitator's API tokens page (HTML, session login), at /accounts/api-tokens/."""

from __future__ import annotations

from django.urls import path

from workbench.api import views_tokens

app_name = "api_tokens"

urlpatterns = [
    path("", views_tokens.api_tokens, name="list"),
    path("<int:pk>/revoke/", views_tokens.api_token_revoke, name="revoke"),
]
