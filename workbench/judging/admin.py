from __future__ import annotations

from django.contrib import admin

from workbench.deliberation.admin import ReadOnlyAdmin
from workbench.judging.models import (
    ComparisonItem,
    ComparisonSet,
    HumanJudgment,
    JudgeAttemptFailure,
    JudgeConfig,
    JudgeRun,
    Prompt,
    Response,
    Verdict,
)


@admin.register(ComparisonSet)
class ComparisonSetAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "name",
        "workshop",
        "source",
        "format",
        "generation_status",
        "created_at",
    ]
    list_filter = ["workshop"]
    search_fields = ["name", "source"]


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["__str__", "external_id", "comparison_set"]
    list_filter = ["comparison_set"]
    search_fields = ["external_id", "text"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["__str__", "label", "position", "generated_by"]
    raw_id_fields = ["prompt"]
    search_fields = ["text"]


@admin.register(ComparisonItem)
class ComparisonItemAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["__str__", "comparison_set", "principle_version"]
    list_filter = ["comparison_set"]
    raw_id_fields = ["principle_version", "prompt", "response_a", "response_b"]
    search_fields = ["external_id"]


@admin.register(HumanJudgment)
class HumanJudgmentAdmin(ReadOnlyAdmin):
    list_display = ["item", "participant", "label", "shown_order", "created_at"]
    list_filter = ["label"]


@admin.register(JudgeConfig)
class JudgeConfigAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "provider",
        "model",
        "prompt_version",
        "temperature",
        "samples",
        "both_orders",
        "control",
    ]
    list_filter = ["provider"]


@admin.register(JudgeRun)
class JudgeRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "__str__",
        "config",
        "comparison_set",
        "status",
        "verdicts_done",
        "verdicts_total",
        "cost_estimate",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status"]
    raw_id_fields = ["comparison_set"]


@admin.register(Verdict)
class VerdictAdmin(ReadOnlyAdmin):
    list_display = [
        "run",
        "item",
        "order",
        "sample",
        "choice",
        "probability_a",
        "error",
        "latency_ms",
    ]
    list_filter = ["error", "choice"]


@admin.register(JudgeAttemptFailure)
class JudgeAttemptFailureAdmin(ReadOnlyAdmin):
    list_display = ["run", "item", "order", "sample", "attempt", "kind", "retried"]
    list_filter = ["kind", "retried"]
    raw_id_fields = ["run", "item"]
