"""How fast one participant may vote or judge comparisons: VOTES_PER_MINUTE over a
sliding minute (0 turns the limit off).

The limit is counted from the participant's own stored rows (VoteRecord.cast_at,
HumanJudgment.created_at), not from cache counters. Callers check it while they hold
the participant's input lock (round_hold_for_input), so one participant's inputs are
checked and stored one after another and two racing requests cannot both pass at
limit - 1. A cache counter could not be exact: per process under the default
LocMemCache, and incremented for inputs whose transaction then rolls back. The count
needs no extra round trip on the vote path (it is a column of the statement that
already reads the round), and a resubmitted form is answered before the check.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import ngettext

from workbench.core.errors import RateLimitedError

WINDOW = timedelta(minutes=1)


def votes_per_minute() -> int:
    return int(settings.WORKBENCH["VOTES_PER_MINUTE"])


def input_rate_check(*, nth_latest: datetime | None, now: datetime) -> None:
    """Refuses one more input when `nth_latest`, the participant's VOTES_PER_MINUTE-th
    most recent input, is inside the last minute. The RateLimitedError carries
    `retry_after`: whole seconds until that input leaves the window."""
    if votes_per_minute() <= 0 or nth_latest is None or nth_latest <= now - WINDOW:
        return
    seconds = max(1, math.ceil((nth_latest + WINDOW - now).total_seconds()))
    raise RateLimitedError(
        ngettext(
            "Too many answers in a short time: this one was not saved. "
            "Please wait %(seconds)s second and try again.",
            "Too many answers in a short time: this one was not saved. "
            "Please wait %(seconds)s seconds and try again.",
            seconds,
        )
        % {"seconds": seconds},
        extra={"retry_after": seconds},
    )
