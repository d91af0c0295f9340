"""The encoding-gap report page: how far a judge's reading of each principle is from
the participants' own, per group, with the drill-down that lets the facilitator
reword a principle and test it again, its versions side by side, and the judges
on the same items. The figures come cached from ``services.report_cache``; the
tables are shaped in ``encoding_gap_display``.
"""

from __future__ import annotations

from typing import Final

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from workbench.core.errors import ApplicationError
from workbench.deliberation.models import (
    Workshop,
)
from workbench.deliberation.selectors.workshops import (
    principle_get_for_user,
    workshop_get_for_user,
)
from workbench.deliberation.views.facilitator._common import (
    FacilitatorRequest,
    flash_errors,
    flash_form_errors,
)
from workbench.deliberation.views.facilitator.encoding_gap_display import (
    BOARD_FIGURES,
    FIGURES,
    GROUP_FIGURES,
    VERSION_FIGURES,
    RewordForm,
    board,
    control_table,
    principles_rows,
    version_tables,
)
from workbench.judging.models import (
    JudgeRun,
    RunStatus,
)
from workbench.judging.services.encoding_gap import (
    report_default_run,
)
from workbench.judging.services.report_cache import report_data
from workbench.judging.services.versions import principle_reword

TEMPLATE: Final = "deliberation/facilitator/encoding_gap.html"


# --- views -------------------------------------------------------------------------


def _run_from_query(request: FacilitatorRequest, workshop: Workshop) -> JudgeRun | None:
    raw = request.GET.get("run", "")
    if not raw:
        return report_default_run(workshop=workshop)
    if not raw.isdigit():
        raise Http404("No such run.")
    return get_object_or_404(
        JudgeRun.objects.select_related("config", "comparison_set").filter(
            comparison_set__workshop=workshop
        ),
        pk=int(raw),
    )


def _report_url(workshop: Workshop, run_id: int | None) -> str:
    url = reverse("deliberation:encoding-gap", kwargs={"slug": workshop.slug})
    return f"{url}?run={run_id}" if run_id else url


@login_required
def encoding_gap(request: FacilitatorRequest, slug: str) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    run = _run_from_query(request, workshop)
    data = report_data(workshop=workshop, run=run)
    report = data["report"]
    controls = report.get("controls") or {}
    context = {
        "workshop": workshop,
        "run": run,
        "report": report,
        "judge": report.get("judge"),
        "controls": controls,
        "control_tables": [
            (table, caption)
            for name, caption in (
                ("flipped_labels", _("Flipped-label check")),
                ("prefer_longer", _("Preference for the longer response")),
            )
            if (table := control_table(controls.get(name), name))
        ],
        "opinion_note": (report.get("opinion_groups") or {}).get("note", ""),
        "principles": principles_rows(report, workshop=workshop, run=run),
        "versions": version_tables(data["versions"]),
        "board": board(data["leaderboard"]),
        "figure_labels": [label for _k, label, _kind in FIGURES],
        "group_labels": [label for _k, label, _kind in GROUP_FIGURES],
        "version_labels": [label for _k, label, _kind in VERSION_FIGURES],
        "board_labels": [label for _k, label, _kind in BOARD_FIGURES],
        "seconds": number_format(data["seconds"], 1),
        "runs": JudgeRun.objects.filter(
            comparison_set__workshop=workshop, status=RunStatus.DONE
        )
        .select_related("config", "comparison_set")
        .order_by("-finished_at", "-id"),
    }
    return render(request, TEMPLATE, context)


@login_required
@require_POST
def encoding_gap_reword(
    request: FacilitatorRequest, slug: str, pk: int
) -> HttpResponse:
    workshop = workshop_get_for_user(user=request.user, slug=slug)
    principle = principle_get_for_user(user=request.user, workshop=workshop, pk=pk)
    form = RewordForm(request.POST, workshop=workshop)
    back = _report_url(workshop, _int(request.POST.get("run", "")))
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect(back)
    comparison_set = form.cleaned_data["comparison_set"]
    try:
        version = principle_reword(
            principle=principle,
            text=form.cleaned_data["text"],
            actor=request.user,
            comparison_set=comparison_set,
        )
    except ApplicationError as exc:
        flash_errors(request, exc)
        return redirect(back)
    messages.success(
        request,
        _(
            "Version %(number)s of the principle is on “%(set)s”. Start a judge run "
            "on that set to test it: only the new wording is sent to the judge, "
            "every other verdict comes from the cache."
        )
        % {"number": version.number, "set": comparison_set.name},
    )
    return redirect("deliberation:judging", slug=workshop.slug)


def _int(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


__all__ = ["encoding_gap", "encoding_gap_reword", "report_data"]
