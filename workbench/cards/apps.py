from __future__ import annotations

from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "workbench.cards"
    label = "cards"
