from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from workbench.deliberation.models import (
    Constitution,
    ModerationEvent,
    Participant,
    ParticipantGroup,
    Principle,
    PrincipleTranslation,
    PrincipleVersion,
    RankingBallot,
    Round,
    RuleCommitment,
    Vote,
    VoteRecord,
    Workshop,
    WorkshopAnalysis,
)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """For append-only records: they can be read, never changed or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class GroupInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ParticipantGroup
    extra = 0
    readonly_fields = ["invite_token"]


@admin.register(Workshop)
class WorkshopAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "title",
        "slug",
        "owner",
        "strict_moderation",
        "show_opinion_map",
        "created_at",
    ]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [GroupInline]


@admin.register(ParticipantGroup)
class ParticipantGroupAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "workshop"]
    list_filter = ["workshop"]
    readonly_fields = ["invite_token"]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["public_id", "external_id", "workshop", "group", "created_at"]
    list_filter = ["workshop", "group"]
    search_fields = ["external_id", "public_id"]


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["title", "workshop", "kind", "scope", "group", "status"]
    list_filter = ["kind", "status", "workshop"]
    filter_horizontal = ["shortlist"]


class VersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PrincipleVersion
    extra = 0
    readonly_fields = ["number", "text", "edited_by", "reason", "created_at"]
    can_delete = False


@admin.register(Principle)
class PrincipleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["text", "workshop", "status", "is_seed", "group", "merged_into"]
    list_filter = ["status", "is_seed", "workshop"]
    search_fields = ["text", "external_id"]
    raw_id_fields = ["author", "merged_into", "round"]
    inlines = [VersionInline]


@admin.register(PrincipleVersion)
class PrincipleVersionAdmin(ReadOnlyAdmin):
    list_display = ["principle", "number", "edited_by", "created_at"]


@admin.register(PrincipleTranslation)
class PrincipleTranslationAdmin(ReadOnlyAdmin):
    # Changed through the principle page, so that every change is logged.
    list_display = ["version", "language", "translated_by", "updated_at"]


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = ["participant", "principle", "choice", "cast_at"]
    list_filter = ["choice"]
    raw_id_fields = ["participant", "principle", "round"]


@admin.register(VoteRecord)
class VoteRecordAdmin(ReadOnlyAdmin):
    list_display = ["participant", "principle", "choice", "cast_at"]


@admin.register(RankingBallot)
class RankingBallotAdmin(ReadOnlyAdmin):
    list_display = ["participant", "round", "updated_at"]


@admin.register(ModerationEvent)
class ModerationEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "workshop", "action", "principle", "actor", "reason"]
    list_filter = ["action", "workshop"]


@admin.register(Constitution)
class ConstitutionAdmin(ReadOnlyAdmin):
    list_display = ["title", "workshop", "rule", "published_at", "content_hash"]


@admin.register(RuleCommitment)
class RuleCommitmentAdmin(ReadOnlyAdmin):
    list_display = ["committed_at", "workshop", "rule", "committed_by", "content_hash"]
    list_filter = ["workshop"]


@admin.register(WorkshopAnalysis)
class WorkshopAnalysisAdmin(ReadOnlyAdmin):
    list_display = [
        "computed_at",
        "workshop",
        "n_participants",
        "n_votes",
        "duration_ms",
        "error",
    ]
    list_filter = ["workshop"]
    # The result can be megabytes: the change list never loads it.
    list_select_related = ["workshop"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).defer("result", "priorities")
