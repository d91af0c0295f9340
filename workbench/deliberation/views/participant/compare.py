"""Compare rounds: one pair of responses at a time, judged against a principle.

The page shows the next item compare_next_item assigns (balanced across groups) with
its responses in the participant's own stable order; a POST stores the answer through
compare_submit and redirects back (303) to the next pair.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from workbench.core.errors import (
    ApplicationError,
    NotAvailableError,
    RateLimitedError,
)
from workbench.deliberation.models import Participant, Round
from workbench.deliberation.selectors.translations import translations_for_versions
from workbench.deliberation.views.participant.common import (
    OPEN,
    HtmxHttpRequest,
    HttpResponseSeeOther,
    not_joined,
    participant_for_slug,
    rate_limited,
    round_of_kind,
    round_state,
)
from workbench.judging.models import ComparisonItem, HumanJudgment, Order
from workbench.judging.services.compare import (
    REASON_MAX_LENGTH,
    compare_next_item,
    compare_set_for_round,
    compare_submit,
)

COMPARE_TEMPLATE = "deliberation/participant/compare.html"


def _submit(request: HtmxHttpRequest, participant: Participant, round_: Round) -> str:
    """Stores the posted answer; returns an error message, or "" when stored.
    Raises RateLimitedError: the view answers it with a 429 page."""
    item_id = request.POST.get("item", "")
    if not item_id.isdigit():
        return gettext("Choose one of the answers for the pair shown.")
    try:
        compare_submit(
            participant=participant,
            round_=round_,
            # A reference by id: compare_submit checks it is in this round's set.
            item=ComparisonItem(pk=int(item_id)),
            shown_label=request.POST.get("choice", ""),
            reason=request.POST.get("reason", ""),
            shown_order=request.POST.get("shown_order", ""),
        )
    except NotAvailableError as error:
        raise Http404(error.message) from None
    except RateLimitedError:
        raise
    except ApplicationError as error:
        return error.message
    return ""


def _context(participant: Participant, round_: Round) -> dict[str, Any]:
    state = round_state(round_)
    comparison_set = compare_set_for_round(round_=round_)
    total = comparison_set.items.count() if comparison_set else 0
    done = (
        HumanJudgment.objects.filter(
            participant=participant, item__comparison_set=comparison_set
        ).count()
        if comparison_set
        else 0
    )
    context: dict[str, Any] = {
        "participant": participant,
        "workshop": participant.workshop,
        "round": round_,
        "state": state,
        "total": total,
        "done": done,
        "percent": round(100 * done / total) if total else 0,
        "item": None,
        "reason_max_length": REASON_MAX_LENGTH,
    }
    if state == OPEN:
        assigned = compare_next_item(participant=participant, round_=round_)
        if assigned is not None:
            item, shown_order = assigned
            first, second = item.response_a, item.response_b
            if shown_order == Order.BA:
                first, second = second, first
            context |= {
                "item": item,
                "shown_order": shown_order,
                "first": first,
                "second": second,
                "principle_translations": translations_for_versions(
                    version_ids=[item.principle_version_id]
                ),
            }
    return context


@require_http_methods(["GET", "POST"])
def compare(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    participant = participant_for_slug(request, slug)
    if participant is None:
        return not_joined(request)
    round_ = round_of_kind(participant, pk, Round.Kind.COMPARE)
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            error = _submit(request, participant, round_)
        except RateLimitedError as limited:
            # Not saved: the same pair again, with the reason as typed, as a 429.
            page = _page_with_error(request, participant, round_, limited.message)
            return rate_limited(page, limited)
        if error and reason.strip():
            # A reason was typed: the page comes back with it and the error rather
            # than redirecting, so the participant does not have to type it again.
            return _page_with_error(request, participant, round_, error)
        if error:
            messages.error(request, error)
        return HttpResponseSeeOther(request.path)
    return render(request, COMPARE_TEMPLATE, _context(participant, round_))


def _page_with_error(
    request: HtmxHttpRequest, participant: Participant, round_: Round, error: str
) -> HttpResponse:
    context = _context(participant, round_) | {"error": error}
    item = context["item"]
    reason = request.POST.get("reason", "")
    if item is not None and str(item.pk) == request.POST.get("item") and reason.strip():
        context["reason"] = reason
    return render(request, COMPARE_TEMPLATE, context, status=400)
