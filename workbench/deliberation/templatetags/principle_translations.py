"""`{% shown_translation key as tr %}`: the facilitator's translation a participant
page shows for a principle (or, on the compare page, a principle version).

Views put the translations they looked up (selectors/translations.py) into the
context as `principle_translations`; a page without them shows every original."""

from __future__ import annotations

from typing import Any

from django import template

from workbench.deliberation.models import PrincipleTranslation

register = template.Library()


@register.simple_tag(takes_context=True)
def shown_translation(
    context: template.Context, key: Any
) -> PrincipleTranslation | None:
    translations = context.get("principle_translations") or {}
    try:
        return translations.get(int(key))
    except (TypeError, ValueError):
        return None
