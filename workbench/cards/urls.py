from __future__ import annotations

from django.urls import URLPattern, path

from workbench.cards import views

app_name = "cards"

W = "<slug:slug>/"

urlpatterns: list[URLPattern] = [
    path(W + "value-cards.pdf", views.cards_pdf_download, name="cards-pdf"),
    path(W + "value-cards.json", views.cards_json_download, name="cards-json"),
    path(W + "value-cards.md", views.cards_markdown_download, name="cards-md"),
]
