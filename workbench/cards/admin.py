from __future__ import annotations

from django.contrib import admin

from workbench.cards.models import CardNarrative, CardReview


@admin.register(CardNarrative)
class CardNarrativeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["workshop", "updated_by", "updated_at"]
    search_fields = ["workshop__title", "workshop__slug"]


@admin.register(CardReview)
class CardReviewAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["__str__", "round", "verdict", "updated_at"]
    list_filter = ["verdict", "round__workshop"]
    search_fields = ["comment"]
