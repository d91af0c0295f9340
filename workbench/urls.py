from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from workbench.core import views as core_views

# An unreachable database or broker is a 503 with a retry message, not a 500.
handler500 = "workbench.core.views.server_error"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/api-tokens/", include("workbench.api.urls_tokens")),
    path("accounts/", include("workbench.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("workbench.api.urls")),
    path("cards/", include("workbench.cards.urls")),
    path("", include("workbench.deliberation.urls")),
]
