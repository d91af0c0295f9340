from __future__ import annotations

from django.urls import URLPattern, path

from workbench.deliberation.views import facilitator as views

urlpatterns: list[URLPattern] = [
    path("workshops/", views.workshop_list, name="workshop-list"),
    path("workshops/<slug:slug>/", views.workshop_detail, name="workshop-detail"),
]
