"""Judging: the workshop's comparison sets (generated through a provider, or
imported; linked to a compare round), starting a judge run or a no-principle
control run, a run's and a generation's live progress (cancel and resume), and the
coverage of compare rounds, each refreshed by HTMX polling. Runs and generations
are executed by Celery tasks; these views only start, stop and read them.

Only providers this process's environment can use are offered; the others are
shown disabled with what to set (``available_providers``)."""

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
from workbench.deliberation.models import PrincipleVersion, Round, Workshop
from workbench.deliberation.selectors.workshops import workshop_get_for_user
from workbench.deliberation.views.facilitator._common import (
    FacilitatorRequest,
    add_form_errors,
    flash_errors,
    flash_form_errors,
)
from workbench.judging.llm import (
    LLM_PROVIDERS,
    available_providers,
)
from workbench.judging.models import (
    ComparisonSet,
    GenerationStatus,
    JudgeControl,
    JudgeProvider,
    JudgeRun,
)
from workbench.judging.selectors import (
    compare_rounds_unlinked,
    judge_run_progress,
    principle_versions_current,
)
from workbench.judging.selectors_compare import compare_coverage
from workbench.judging.services.compare import comparison_set_link_round
from workbench.judging.services.generate import (
    MAX_PROMPTS,
    comparison_set_generate,
    comparison_set_generation_progress,
    comparison_set_generation_resume,
)
from workbench.judging.services.runs import (
    judge_config_get_or_create,
    judge_model,
    judge_run_cancel,
    judge_run_resume,
    judge_run_start,
)

TEMPLATE = "deliberation/facilitator/judging.html"
RUN_TEMPLATE = "deliberation/facilitator/judging_run.html"
GENERATE_TEMPLATE = "deliberation/facilitator/judging_generate.html"
SET_TEMPLATE = "deliberation/facilitator/judging_set.html"
PROGRESS_POLL_SECONDS = 2
COVERAGE_POLL_SECONDS = 5
MAX_SAMPLES = 10
ITEMS_SHOWN = 50
PROVIDERS = [
    JudgeProvider.OFFLINE,
    JudgeProvider.OPENAI,
    JudgeProvider.ANTHROPIC,
    JudgeProvider.OPENAI_COMPATIBLE,
]
# How a retried provider call failed (JudgeAttemptFailure.kind), as the run page
# names it.
RETRY_KINDS = {
    "rate_limited": gettext_lazy("rate limited (429)"),
    "server_error": gettext_lazy("server error (5xx)"),
    "timeout": gettext_lazy("timeout"),
    "connection": gettext_lazy("connection failed"),
    "malformed_body": gettext_lazy("unreadable answer"),
}
CONTROLS = [
    (JudgeControl.NONE.value, gettext_lazy("None: the principle is shown")),
    (
        JudgeControl.NO_PRINCIPLE.value,
        gettext_lazy("Control: no principle (the judge's own taste)"),
    ),
]


class ProviderSelect(forms.Select):
    """A provider list whose unavailable providers are shown disabled, each with
    what to set to switch it on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unavailable: dict[str, str] = {}

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(*args, **kwargs)
        reason = self.unavailable.get(str(option["value"]))
        if reason:
            option["attrs"]["disabled"] = True
            option["label"] = _("%(provider)s (not available: %(reason)s)") % {
                "provider": option["label"],
                "reason": reason,
            }
        return option


def _offer_providers(
    field: forms.Field, providers: list[JudgeProvider]
) -> tuple[dict[str, str], list[str]]:
    """Offers ``providers`` as they are usable now (the first usable one is
    preselected); returns the unavailable ones' reasons and the usable ones."""
    unavailable = {
        name: reason for name, reason in available_providers().items() if reason
    }
    choice_field = cast("forms.ChoiceField", field)
    choice_field.choices = [(p.value, p.label) for p in providers]
    cast("ProviderSelect", field.widget).unavailable = unavailable
    usable = [p.value for p in providers if p.value not in unavailable]
    field.initial = usable[0] if usable else None
    return unavailable, usable


def _refuse_unavailable(form: forms.Form, provider: str | None) -> None:
    reason = available_providers().get(provider or "")
    if provider and reason:
        form.add_error(
            "provider",
            _("This provider is not available: %(reason)s.") % {"reason": reason},
        )


class JudgeRunForm(forms.Form):
    unavailable: dict[str, str]
    usable: list[str]
    comparison_set = forms.ModelChoiceField(
        label=gettext_lazy("Comparison set"), queryset=ComparisonSet.objects.none()
    )
    provider = forms.ChoiceField(label=gettext_lazy("Judge"), widget=ProviderSelect)
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
    control = forms.ChoiceField(
        label=gettext_lazy("Control"),
        choices=CONTROLS,
        required=False,
        initial=JudgeControl.NONE.value,
        help_text=gettext_lazy(
            "A no-principle run asks which response is better without showing the "
            "principle. The encoding-gap report sets it beside the run with the "
            "principle: a principle that does not beat the judge's own taste adds "
            "nothing."
        ),
    )

    def __init__(self, *args: Any, workshop: Workshop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(
            "forms.ModelChoiceField[ComparisonSet]", self.fields["comparison_set"]
        )
        # A set still being generated has no items to judge yet.
        field.queryset = ComparisonSet.objects.filter(workshop=workshop).exclude(
            generation_status__in=[GenerationStatus.PENDING, GenerationStatus.RUNNING]
        )
        self.unavailable, self.usable = _offer_providers(
            self.fields["provider"], PROVIDERS
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        provider = cleaned.get("provider")
        _refuse_unavailable(self, provider)
        if provider:
            try:
                cleaned["model"] = judge_model(
                    provider=str(provider), model=cleaned.get("model") or ""
                )
            except ApplicationError:
                self.add_error("model", _("This judge needs a model name."))
        cleaned["control"] = cleaned.get("control") or JudgeControl.NONE.value
        return cleaned


class PrincipleVersionChoices(forms.ModelMultipleChoiceField[PrincipleVersion]):
    def label_from_instance(self, obj: PrincipleVersion) -> str:
        return obj.text


class GenerateForm(forms.Form):
    unavailable: dict[str, str]
    usable: list[str]
    name = forms.CharField(
        label=gettext_lazy("Name of the comparison set"),
        max_length=200,
        initial=gettext_lazy("Generated pairs"),
    )
    principles = PrincipleVersionChoices(
        label=gettext_lazy("Principles"),
        queryset=PrincipleVersion.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("The current wording of each accepted principle."),
    )
    prompts = forms.CharField(
        label=gettext_lazy("Prompts"),
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    provider = forms.ChoiceField(
        label=gettext_lazy("Written by"), widget=ProviderSelect
    )
    model = forms.CharField(
        label=gettext_lazy("Model"),
        max_length=200,
        required=False,
        help_text=gettext_lazy(
            "Empty: the provider's default (an OpenAI-compatible server needs one)."
        ),
    )

    def __init__(self, *args: Any, workshop: Workshop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["prompts"].help_text = _(
            "One prompt per line (at most %(max)s): the user's message that the two "
            "responses answer."
        ) % {"max": MAX_PROMPTS}
        field = cast("PrincipleVersionChoices", self.fields["principles"])
        current = principle_versions_current(workshop=workshop)
        field.queryset = PrincipleVersion.objects.filter(
            pk__in=[v.pk for v in current]
        ).order_by("principle__created_at", "principle_id")
        self.unavailable, self.usable = _offer_providers(
            self.fields["provider"], [JudgeProvider(p) for p in LLM_PROVIDERS]
        )

    def clean_prompts(self) -> list[str]:
        text = str(self.cleaned_data.get("prompts") or "")
        return [line.strip() for line in text.splitlines() if line.strip()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _refuse_unavailable(self, cleaned.get("provider"))
        return cleaned


class LinkRoundForm(forms.Form):
    round = forms.ModelChoiceField(
        label=gettext_lazy("Compare round"),
        queryset=Round.objects.none(),
        required=False,
    )

    def __init__(self, *args: Any, workshop: Workshop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[Round]", self.fields["round"])
        field.queryset = Round.objects.filter(workshop=workshop)


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


def _set_get(workshop: Workshop, pk: int) -> ComparisonSet:
    """One of the workshop's comparison sets, or 404."""
    return get_object_or_404(
        ComparisonSet.objects.select_related("round").filter(workshop=workshop),
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
        config = judge_config_get_or_create(
            provider=data["provider"],
            model=data["model"],
            samples=data["samples"],
            control=data["control"],
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
        "unlinked_rounds": compare_rounds_unlinked(workshop=workshop),
        "coverages": _coverages(sets),
        "coverage_poll_seconds": COVERAGE_POLL_SECONDS,
    }
    return render(request, TEMPLATE, context)


@login_required
def judging_generate(request: FacilitatorRequest, slug: str) -> HttpResponse:
    """The form that asks a provider for contrasting responses; starts the task."""
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    form = GenerateForm(
        request.POST if request.method == "POST" else None, workshop=workshop
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            comparison_set = comparison_set_generate(
                workshop=workshop,
                name=data["name"],
                prompts=data["prompts"],
                principle_versions=list(data["principles"]),
                provider=data["provider"],
                model=data["model"],
                actor=request.user,
            )
        except ApplicationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(
                request, _("Generation started: the responses are being written.")
            )
            return redirect("deliberation:judging-set", slug=slug, pk=comparison_set.pk)
    return render(request, GENERATE_TEMPLATE, {"workshop": workshop, "form": form})


@login_required
def judging_set(request: FacilitatorRequest, slug: str, pk: int) -> HttpResponse:
    """A comparison set: its generation's live progress and its first items."""
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    comparison_set = _set_get(workshop, pk)
    progress = None
    if comparison_set.generation_status:
        progress = comparison_set_generation_progress(comparison_set=comparison_set)
    context: dict[str, Any] = {
        "workshop": workshop,
        "set": comparison_set,
        "progress": progress,
        "poll_seconds": PROGRESS_POLL_SECONDS,
    }
    if request.htmx:
        return render(request, SET_TEMPLATE + "#generation", context)
    items = comparison_set.items.select_related(
        "principle_version", "prompt", "response_a", "response_b"
    ).order_by("id")
    context["items"] = list(items[:ITEMS_SHOWN])
    context["item_count"] = items.count()
    return render(request, SET_TEMPLATE, context)


@login_required
@require_POST
def judging_set_resume(request: FacilitatorRequest, slug: str, pk: int) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    comparison_set = _set_get(workshop, pk)
    if comparison_set_generation_resume(comparison_set=comparison_set):
        messages.success(
            request, _("Generation resumed: only the missing responses are written.")
        )
    else:
        messages.info(request, _("There is nothing to resume."))
    return redirect("deliberation:judging-set", slug=slug, pk=comparison_set.pk)


@login_required
@require_POST
def judging_set_round(request: FacilitatorRequest, slug: str, pk: int) -> HttpResponse:
    """Links the set to a compare round of the workshop (or unlinks it)."""
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    comparison_set = _set_get(workshop, pk)
    form = LinkRoundForm(request.POST, workshop=workshop)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect("deliberation:judging", slug=slug)
    chosen: Round | None = form.cleaned_data["round"]  # one of this workshop's
    try:
        comparison_set_link_round(comparison_set=comparison_set, round_=chosen)
    except ApplicationError as exc:
        flash_errors(request, exc)
    else:
        if chosen is None:
            messages.success(request, _("The set is no longer used by a round."))
        else:
            messages.success(
                request,
                _("Participants of “%(round)s” now judge “%(set)s”.")
                % {"round": chosen.title, "set": comparison_set.name},
            )
    return redirect("deliberation:judging", slug=slug)


@login_required
def judge_run(request: FacilitatorRequest, slug: str, pk: int) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    run = _run_get(workshop, pk)
    progress = judge_run_progress(run=run)
    context = {
        "workshop": workshop,
        "run": run,
        "progress": progress,
        "retried": [
            (RETRY_KINDS.get(kind, kind), count)
            for kind, count in progress["retried_by_kind"].items()
        ],
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


__all__ = [
    "judge_run",
    "judge_run_cancel_view",
    "judge_run_resume_view",
    "judging",
    "judging_generate",
    "judging_set",
    "judging_set_resume",
    "judging_set_round",
]
