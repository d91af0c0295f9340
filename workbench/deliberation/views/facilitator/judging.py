"""Judging: the workshop's comparison sets, starting a judge run, a run's live
progress (cancel and resume), and the coverage of compare rounds, each refreshed
by HTMX polling. Runs are executed by a Celery task; these views only start,
stop and read them."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from workbench.core.errors import ApplicationError
from workbench.deliberation.models import Workshop
from workbench.deliberation.selectors.workshops import workshop_get_for_user
from workbench.deliberation.views.facilitator._common import (
    FacilitatorRequest,
    flash_errors,
)
from workbench.judging.llm import DEFAULT_MODELS
from workbench.judging.llm.offline import BASELINE_MODEL
from workbench.judging.models import (
    ComparisonSet,
    JudgeConfig,
    JudgeProvider,
    JudgeRun,
)
from workbench.judging.prompts import PROMPT_ID
from workbench.judging.selectors import judge_run_progress
from workbench.judging.selectors_compare import compare_coverage
from workbench.judging.services.runs import (
    judge_run_cancel,
    judge_run_resume,
    judge_run_start,
)

TEMPLATE = "deliberation/facilitator/judging.html"
RUN_TEMPLATE = "deliberation/facilitator/judging_run.html"
PROGRESS_POLL_SECONDS = 2
COVERAGE_POLL_SECONDS = 5
MAX_SAMPLES = 10
PROVIDERS = [
    JudgeProvider.OFFLINE,
    JudgeProvider.OPENAI,
    JudgeProvider.ANTHROPIC,
    JudgeProvider.OPENAI_COMPATIBLE,
]


class JudgeRunForm(forms.Form):
    comparison_set = forms.ModelChoiceField(
        label=gettext_lazy("Comparison set"), queryset=ComparisonSet.objects.none()
    )
    provider = forms.ChoiceField(
        label=gettext_lazy("Judge"),
        choices=[(p.value, p.label) for p in PROVIDERS],
        initial=JudgeProvider.OFFLINE,
    )
    model = forms.CharField(
        label=gettext_lazy("Model"),
        max_length=200,
        required=False,
        help_text=gettext_lazy(
            "Empty: the provider's default. Ignored by the offline baseline."
        ),
    )
    samples = forms.IntegerField(
        label=gettext_lazy("Samples per order"),
        min_value=1,
        max_value=MAX_SAMPLES,
        initial=1,
    )

    def __init__(self, *args: Any, workshop: Workshop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(
            "forms.ModelChoiceField[ComparisonSet]", self.fields["comparison_set"]
        )
        field.queryset = ComparisonSet.objects.filter(workshop=workshop)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        provider = cleaned.get("provider")
        model = (cleaned.get("model") or "").strip()
        if provider == JudgeProvider.OFFLINE:
            model = BASELINE_MODEL
        elif not model:
            model = DEFAULT_MODELS.get(str(provider), "")
            if not model and provider:
                self.add_error("model", _("This judge needs a model name."))
        cleaned["model"] = model
        return cleaned


def _config_for(*, provider: str, model: str, samples: int) -> JudgeConfig:
    """The judge configuration with these settings, shared by every run that uses
    them (so their verdicts share the cache). Keys and base URLs are read from the
    worker's environment, never stored."""
    fields = {
        "provider": provider,
        "model": model,
        "prompt_version": PROMPT_ID,
        "temperature": 0.0,
        "samples": samples,
        "both_orders": True,
        "control": JudgeConfig.Control.NONE,
        "base_url_env_name": "",
    }
    config = JudgeConfig.objects.filter(**fields).first()
    return config or JudgeConfig.objects.create(**fields)


def _comparison_sets(workshop: Workshop) -> list[ComparisonSet]:
    return list(
        ComparisonSet.objects.filter(workshop=workshop)
        .select_related("round")
        .annotate(
            item_count=Count("items", distinct=True),
            judgment_count=Count("items__judgments", distinct=True),
            run_count=Count("judge_runs", distinct=True),
        )
        .order_by("created_at", "id")
    )


def _runs(workshop: Workshop) -> list[JudgeRun]:
    return list(
        JudgeRun.objects.filter(comparison_set__workshop=workshop)
        .select_related("config", "comparison_set")
        .order_by("-created_at", "-id")
    )


def _coverages(sets: list[ComparisonSet]) -> list[dict[str, Any]]:
    return [
        {"set": s, "round": s.round, "coverage": compare_coverage(round_=s.round)}
        for s in sets
        if s.round is not None
    ]


def _run_get(workshop: Workshop, pk: int) -> JudgeRun:
    """One of the workshop's runs, or 404 (another workshop's run is not found)."""
    return get_object_or_404(
        JudgeRun.objects.select_related("config", "comparison_set").filter(
            comparison_set__workshop=workshop
        ),
        pk=pk,
    )


@login_required
def judging(request: FacilitatorRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    sets = _comparison_sets(workshop)
    if request.htmx and request.method == "GET":
        context = {
            "workshop": workshop,
            "coverages": _coverages(sets),
            "coverage_poll_seconds": COVERAGE_POLL_SECONDS,
        }
        return render(request, TEMPLATE + "#coverage", context)
    form = JudgeRunForm(
        request.POST if request.method == "POST" else None, workshop=workshop
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        config = _config_for(
            provider=data["provider"], model=data["model"], samples=data["samples"]
        )
        try:
            run = judge_run_start(
                comparison_set=data["comparison_set"],
                config=config,
                actor=request.user,
            )
        except ApplicationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Judge run started."))
            return redirect("deliberation:judge-run", slug=slug, pk=run.pk)
    context = {
        "workshop": workshop,
        "sets": sets,
        "form": form,
        "runs": _runs(workshop),
        "coverages": _coverages(sets),
        "coverage_poll_seconds": COVERAGE_POLL_SECONDS,
    }
    return render(request, TEMPLATE, context)


@login_required
def judge_run(request: FacilitatorRequest, slug: str, pk: int) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    run = _run_get(workshop, pk)
    context = {
        "workshop": workshop,
        "run": run,
        "progress": judge_run_progress(run=run),
        "poll_seconds": PROGRESS_POLL_SECONDS,
    }
    if request.htmx:
        return render(request, RUN_TEMPLATE + "#progress", context)
    return render(request, RUN_TEMPLATE, context)


@login_required
@require_POST
def judge_run_cancel_view(
    request: FacilitatorRequest, slug: str, pk: int
) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    run = _run_get(workshop, pk)
    if judge_run_cancel(run=run):
        messages.success(request, _("Run cancelled."))
    else:
        messages.info(request, _("The run had already ended."))
    return redirect("deliberation:judge-run", slug=slug, pk=run.pk)


@login_required
@require_POST
def judge_run_resume_view(
    request: FacilitatorRequest, slug: str, pk: int
) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    run = _run_get(workshop, pk)
    if judge_run_resume(run=run):
        messages.success(request, _("Run resumed: only the missing verdicts are done."))
    else:
        messages.info(request, _("The run is done; there is nothing to resume."))
    return redirect("deliberation:judge-run", slug=slug, pk=run.pk)


__all__ = ["judge_run", "judge_run_cancel_view", "judge_run_resume_view", "judging"]
