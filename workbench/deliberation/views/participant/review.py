"""Review rounds: a group's representatives endorse or object to the wording of
each card (a shortlisted principle's, and the latest constitution's).

Every card has its own small form; without JavaScript a submit stores the review and
redirects back (303) to that card, with HTMX it swaps the card in place. Submitting
again replaces the earlier verdict and comment, so a double click changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods

from workbench.cards.models import CardReview, ReviewVerdict
from workbench.cards.selectors import (
    ReviewSubjects,
    review_subjects,
    reviews_of_participant,
)
from workbench.cards.services.review import COMMENT_MAX_LENGTH, card_review_submit
from workbench.core.errors import ApplicationError, NotAvailableError
from workbench.core.text_order import text_sort_key
from workbench.deliberation.models import (
    Constitution,
    Participant,
    Principle,
    Round,
    Workshop,
)
from workbench.deliberation.selectors.analysis import analysis_latest
from workbench.deliberation.selectors.translations import translations_for_principles
from workbench.deliberation.views.participant.common import (
    HtmxHttpRequest,
    HttpResponseSeeOther,
    not_joined,
    participant_for_slug,
    round_of_kind,
    round_state,
)

REVIEW_TEMPLATE = "deliberation/participant/review.html"


class ReviewForm(forms.Form):
    principle = forms.IntegerField(required=False, min_value=1)
    constitution = forms.IntegerField(required=False, min_value=1)
    verdict = forms.ChoiceField(choices=ReviewVerdict.choices)
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        label=gettext_lazy("Comment (optional)"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("principle")) == bool(data.get("constitution")):
            raise forms.ValidationError(gettext("Review one card at a time."))
        return data


@dataclass
class ReviewItem:
    """One card on the page: what it says, how groups voted, the participant's
    review of it."""

    kind: str  # "principle" | "constitution"
    subject_id: int
    title: str
    lines: list[str]
    support: list[dict[str, Any]]
    review: CardReview | None
    error: str = ""
    saved: bool = False
    # The comment as typed, given back when it could not be saved.
    draft: str | None = None

    @property
    def anchor(self) -> str:
        return f"{self.kind}-{self.subject_id}"


def _support(workshop: Workshop) -> dict[int, dict[str, dict[str, int]]]:
    """Agree / disagree / pass per participant group, from the stored analysis."""
    analysis = analysis_latest(workshop=workshop)
    if analysis is None:
        return {}
    return {
        int(entry["id"]): entry.get("per_participant_group", {})
        for entry in analysis.result.get("principles", [])
    }


def _items(
    participant: Participant, round_: Round, subjects: ReviewSubjects
) -> list[ReviewItem]:
    reviews = reviews_of_participant(participant=participant, round_=round_)
    support = _support(participant.workshop)
    items: list[ReviewItem] = []
    if subjects.constitution is not None:
        constitution = subjects.constitution
        items.append(
            ReviewItem(
                kind="constitution",
                subject_id=constitution.pk,
                title=constitution.title,
                lines=[entry["text"] for entry in constitution.principles],
                support=[],
                review=reviews.get(("constitution", constitution.pk)),
            )
        )
    for principle in subjects.principles:
        per_group = support.get(principle.pk, {})
        items.append(
            ReviewItem(
                kind="principle",
                subject_id=principle.pk,
                title=principle.text,
                lines=[],
                support=[
                    {"group": name, **counts}
                    for name, counts in sorted(
                        per_group.items(), key=lambda pair: text_sort_key(pair[0])
                    )
                ],
                review=reviews.get(("principle", principle.pk)),
            )
        )
    return items


def _submit(
    request: HtmxHttpRequest, participant: Participant, round_: Round
) -> tuple[str, str]:
    """Stores the posted review; returns (the card's anchor, an error or "")."""
    form = ReviewForm(request.POST)
    if not form.is_valid():
        errors = form.errors.get("comment") or [gettext("Choose Endorse or Object.")]
        anchor = next(
            (
                f"{k}-{request.POST[k]}"
                for k in ("principle", "constitution")
                if request.POST.get(k, "").isdigit()
            ),
            "",
        )
        return anchor, str(errors[0])
    data = form.cleaned_data
    principle = Principle(pk=data["principle"]) if data["principle"] else None
    constitution = (
        Constitution(pk=data["constitution"]) if data["constitution"] else None
    )
    anchor = (
        f"principle-{data['principle']}"
        if principle
        else f"constitution-{data['constitution']}"
    )
    try:
        # References by id: card_review_submit checks they are on this round.
        card_review_submit(
            participant=participant,
            round_=round_,
            principle=principle,
            constitution=constitution,
            verdict=data["verdict"],
            comment=data["comment"],
        )
    except NotAvailableError as error:
        raise Http404(error.message) from None
    except ApplicationError as error:
        return anchor, error.message
    return anchor, ""


def _context(
    participant: Participant, round_: Round, items: list[ReviewItem]
) -> dict[str, Any]:
    return {
        "participant": participant,
        "workshop": participant.workshop,
        "round": round_,
        "state": round_state(round_),
        "items": items,
        "principle_translations": translations_for_principles(
            principle_ids=[i.subject_id for i in items if i.kind == "principle"]
        ),
        "verdicts": ReviewVerdict,
        "comment_max_length": COMMENT_MAX_LENGTH,
    }


@require_http_methods(["GET", "POST"])
def review(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    participant = participant_for_slug(request, slug)
    if participant is None:
        return not_joined(request)
    round_ = round_of_kind(participant, pk, Round.Kind.REVIEW)
    if request.method == "POST":
        anchor, error = _submit(request, participant, round_)
        if request.htmx:
            round_.refresh_from_db()
            items = _items(participant, round_, review_subjects(round_=round_))
            item = next((i for i in items if i.anchor == anchor), None)
            if item is None:
                raise Http404("This card is not part of this review.")
            item.error, item.saved = error, not error
            if error:
                item.draft = request.POST.get("comment", "")
            context = _context(participant, round_, items) | {"item": item}
            # 200 even with an error: htmx swaps only successful responses.
            return render(request, f"{REVIEW_TEMPLATE}#review-item", context)
        comment = request.POST.get("comment", "")
        if error and comment.strip():
            # Without JavaScript: the page comes back with the comment as typed.
            items = _items(participant, round_, review_subjects(round_=round_))
            for item in items:
                if item.anchor == anchor:
                    item.error, item.draft = error, comment
            context = _context(participant, round_, items)
            return render(request, REVIEW_TEMPLATE, context, status=400)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, gettext("Your review is saved."))
        return HttpResponseSeeOther(
            f"{request.path}#{anchor}" if anchor else request.path
        )
    items = _items(participant, round_, review_subjects(round_=round_))
    return render(request, REVIEW_TEMPLATE, _context(participant, round_, items))
