from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from workbench.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("workbench.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("workbench.api.urls")),
    path("cards/", include("workbench.cards.urls")),
    path("", include("workbench.deliberation.urls")),
]
