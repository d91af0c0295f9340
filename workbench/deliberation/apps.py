from __future__ import annotations

from django.apps import AppConfig


class DeliberationConfig(AppConfig):
    name = "workbench.deliberation"
    label = "deliberation"
