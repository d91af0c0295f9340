"""Compare rounds: which pair a participant judges next, and storing their answer.

Assignment rule (compare_next_item): among the round's items this participant has not
judged, take those with the fewest judgments from the participant's own group, then
the fewest judgments overall; among the items still tied, the one whose hash of
(participant public id, item id) is smallest. The tie-break is deterministic, so a
participant who reloads the page sees the same pair, and it differs between
participants, so people who open the page at the same moment spread over the tied
items instead of all landing on the first. With every group's participants judging,
every item gets a judgment from each group before any item gets a second one from
the same group (where the group has enough participants).

The order the two responses are shown in is derived from a hash of the participant's
public id and the item id: random across participants and items, stable for one
participant on one item (a reload shows the same order), and recorded on the
judgment as `shown_order`. The answer is stored in the item's own terms: "a" is
`response_a` whichever order it was shown in.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from workbench.core.errors import ApplicationError, NotAvailableError
from workbench.deliberation.models import Participant, Round
from workbench.deliberation.services.input_limits import (
    WINDOW,
    input_rate_check,
    votes_per_minute,
)
from workbench.deliberation.services.rounds import round_hold_for_input
from workbench.judging.models import (
    ComparisonItem,
    ComparisonSet,
    HumanJudgment,
    Label,
    Order,
)

REASON_MAX_LENGTH = 2000

# What the participant clicked, in the order they saw the responses.
SHOWN_FIRST = "1"
SHOWN_SECOND = "2"
SHOWN_LABELS = (SHOWN_FIRST, SHOWN_SECOND, Label.TIE.value, Label.NOT_APPLICABLE.value)


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()


def compare_shown_order(*, participant: Participant, item_id: int) -> str:
    """The order `participant` sees `item` in: random-looking, but always the same."""
    if _digest("order", participant.public_id, item_id)[0] % 2 == 0:
        return Order.AB.value
    return Order.BA.value


def compare_label_in_item_terms(*, shown_label: str, shown_order: str) -> str:
    """Maps the answer given in the shown order back to the item's a / b."""
    if shown_order not in Order.values:
        raise ApplicationError(gettext("Unknown order."))
    if shown_label in (Label.TIE, Label.NOT_APPLICABLE):
        return shown_label
    if shown_label not in (SHOWN_FIRST, SHOWN_SECOND):
        raise ApplicationError(
            gettext(
                "Choose response 1, response 2, equally, "
                "or that the principle does not apply."
            )
        )
    first_is_a = shown_order == Order.AB
    if (shown_label == SHOWN_FIRST) == first_is_a:
        return Label.A.value
    return Label.B.value


def compare_set_for_round(*, round_: Round) -> ComparisonSet | None:
    return ComparisonSet.objects.filter(round=round_).first()


def compare_next_item(
    *, participant: Participant, round_: Round
) -> tuple[ComparisonItem, str] | None:
    """The next (item, shown_order) for the participant, or None when there is none
    left (or the round has no comparison set). See the module's docstring."""
    comparison_set = compare_set_for_round(round_=round_)
    if comparison_set is None:
        return None
    candidates = list(
        ComparisonItem.objects.filter(comparison_set=comparison_set)
        .exclude(judgments__participant=participant)
        .annotate(
            from_group=Count(
                "judgments",
                filter=Q(judgments__participant__group_id=participant.group_id),
            ),
            overall=Count("judgments"),
        )
        .values_list("pk", "from_group", "overall")
    )
    if not candidates:
        return None
    best = min(
        candidates,
        key=lambda row: (
            row[1],
            row[2],
            _digest("assign", participant.public_id, row[0]),
        ),
    )
    item = ComparisonItem.objects.select_related(
        "principle_version", "prompt", "response_a", "response_b"
    ).get(pk=best[0])
    return item, compare_shown_order(participant=participant, item_id=item.pk)


@transaction.atomic
def compare_submit(
    *,
    participant: Participant,
    round_: Round,
    item: ComparisonItem,
    shown_label: str,
    reason: str,
    shown_order: str,
) -> HumanJudgment:
    """Stores the participant's answer on `item` once; a second submission (a double
    click, a resent form) returns the stored judgment and changes nothing. A new
    answer past VOTES_PER_MINUTE raises RateLimitedError (input_limits.py)."""
    # Holds the round's input lock (a close waits for us, or we see it closed) and
    # this participant's lock (their submissions are stored one after another).
    round_ = round_hold_for_input(round_=round_, participant_id=participant.pk)
    if (
        round_.workshop_id != participant.workshop_id
        or round_.kind != Round.Kind.COMPARE
        or round_.status == Round.Status.DRAFT
        or not round_.admits_group(participant.group_id)
    ):
        raise NotAvailableError(gettext("This activity is not available to you."))
    if not round_.is_open_at(timezone.now()):
        raise ApplicationError(
            gettext("This activity is not open, so nothing was saved.")
        )
    found = ComparisonItem.objects.filter(
        pk=item.pk, comparison_set__round=round_
    ).first()
    if found is None:
        raise NotAvailableError(gettext("This pair is not part of this activity."))
    if shown_order != compare_shown_order(participant=participant, item_id=found.pk):
        raise ApplicationError(
            gettext("This page was out of date; please answer again.")
        )
    label = compare_label_in_item_terms(
        shown_label=shown_label, shown_order=shown_order
    )
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise ApplicationError(
            gettext("Please keep your reason under %(limit)s characters.")
            % {"limit": REASON_MAX_LENGTH}
        )
    stored = HumanJudgment.objects.filter(item=found, participant=participant).first()
    if stored is not None:
        return stored  # a resent form: answered, not counted against the limit
    now = timezone.now()
    input_rate_check(nth_latest=_nth_latest_judgment(participant, now), now=now)
    return HumanJudgment.objects.create(
        item=found,
        participant=participant,
        label=label,
        reason=reason,
        shown_order=shown_order,
    )


def _nth_latest_judgment(participant: Participant, now: datetime) -> datetime | None:
    """The participant's VOTES_PER_MINUTE-th latest judgment within the last minute."""
    skip = max(votes_per_minute() - 1, 0)
    latest = (
        HumanJudgment.objects.filter(
            participant=participant, created_at__gt=now - WINDOW
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
    )
    return next(iter(latest[skip : skip + 1]), None)


@transaction.atomic
def comparison_set_link_round(
    *, comparison_set: ComparisonSet, round_: Round | None
) -> ComparisonSet:
    """Makes ``round_`` (a compare round of the set's workshop that uses no other
    set) the round whose participants judge the set's items; None unlinks. The
    link of a round that is open does not change: its participants are answering.
    Holds the set's and the new round's row locks, so two facilitators linking two
    sets to one round cannot both succeed."""
    locked = (
        ComparisonSet.objects.select_for_update(of=("self",))
        .select_related("round")
        .get(pk=comparison_set.pk)
    )
    current = locked.round
    if round_ is not None and current is not None and current.pk == round_.pk:
        return locked
    if current is not None and current.status == Round.Status.OPEN:
        raise ApplicationError(
            gettext(
                "“%(title)s” is open and its participants are judging this set: "
                "close the round before changing its comparison set."
            )
            % {"title": current.title}
        )
    if round_ is not None:
        target = Round.objects.select_for_update().filter(pk=round_.pk).first()
        if target is None or target.workshop_id != locked.workshop_id:
            raise ApplicationError(gettext("That round is not part of this workshop."))
        if target.kind != Round.Kind.COMPARE:
            raise ApplicationError(
                gettext(
                    "“%(title)s” is not a compare round; "
                    "only a compare round can use a comparison set."
                )
                % {"title": target.title}
            )
        other = ComparisonSet.objects.filter(round=target).exclude(pk=locked.pk).first()
        if other is not None:
            raise ApplicationError(
                gettext(
                    "“%(title)s” already uses the comparison set “%(name)s”; "
                    "unlink that set first."
                )
                % {"title": target.title, "name": other.name}
            )
        round_ = target
    locked.round = round_
    locked.save(update_fields=["round", "updated_at"])
    return locked
