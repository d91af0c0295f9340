from __future__ import annotations

from django.urls import URLPattern, path

from workbench.deliberation.views import participant as views

urlpatterns: list[URLPattern] = [
    path("join/<str:token>/", views.join, name="join"),
    path("w/<slug:slug>/", views.participant_home, name="participant-home"),
]
