"""The opinion analysis of a workshop, computed from its current votes and stored.

`analysis_refresh` reads the votes in one query, builds the result
(services/analysis_result.py documents its keys: a contract the results pages and
`manage.py analyze --json` rely on) and stores it as a WorkshopAnalysis. It runs
in a Celery task a few seconds after new votes, proposals, moderation or ballots
(`analysis_request`, debounced) or from `manage.py analyze`, never in a request.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from datetime import datetime

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from workbench.deliberation.models import (
    Participant,
    Principle,
    Vote,
    Workshop,
    WorkshopAnalysis,
)
from workbench.deliberation.selectors.analysis import (
    analysis_ballots,
    analysis_is_stale,
    analysis_latest,
    analysis_watermarks,
)
from workbench.deliberation.services.analysis_result import (
    AnalysisInputs,
    Json,
    PrincipleRow,
    analysis_result,
)

logger = logging.getLogger(__name__)

HISTORY = 5
DEBOUNCE_SECONDS = 3


# Reading -------------------------------------------------------------------


def analysis_inputs(*, workshop: Workshop) -> AnalysisInputs:
    """Everything the analysis needs, in five queries. The watermarks are read
    first and the participants and principles after the votes, so every vote's
    participant and principle is known and the watermarks never claim more than
    the votes hold."""
    watermarks = analysis_watermarks(workshop_id=workshop.pk)
    rows = Vote.objects.filter(participant__workshop_id=workshop.pk).values_list(
        "participant_id", "principle_id", "choice"
    )
    votes = pd.DataFrame.from_records(
        list(rows.order_by()),
        columns=["participant", "principle", "vote"],
    ).astype(np.int64)
    ballots = analysis_ballots(workshop_id=workshop.pk)
    participants = {
        pk: (external or str(pk), group)
        for pk, external, group in Participant.objects.filter(
            workshop_id=workshop.pk
        ).values_list("pk", "external_id", "group__name")
    }
    principles = {
        pk: PrincipleRow(
            pk, external or str(pk), text, status, merged is not None, meta
        )
        for pk, external, text, status, merged, meta in Principle.objects.filter(
            workshop_id=workshop.pk
        ).values_list(
            "pk", "external_id", "text", "status", "merged_into_id", "is_meta"
        )
    }
    return AnalysisInputs(
        votes=votes,
        participants=participants,
        group_names=sorted({group for _, group in participants.values()}),
        principles=principles,
        ballots=ballots,
        watermarks=watermarks,
    )


# Storing -------------------------------------------------------------------


@transaction.atomic
def _store(
    *,
    workshop: Workshop,
    inputs: AnalysisInputs,
    computed_at: datetime,
    result: Json,
    routing: dict[str, float],
    error: str,
    duration_ms: int,
) -> WorkshopAnalysis:
    analysis = WorkshopAnalysis.objects.create(
        workshop=workshop,
        computed_at=computed_at,
        n_votes=len(inputs.votes),
        n_participants=result.get("n_participants", 0),
        vote_watermark=inputs.watermarks.votes,
        moderation_watermark=inputs.watermarks.moderation,
        ballot_watermark=inputs.watermarks.ballots,
        duration_ms=duration_ms,
        result=result,
        priorities=routing,
        error=error,
    )
    keep = list(
        WorkshopAnalysis.objects.filter(workshop=workshop).values_list("pk", flat=True)[
            :HISTORY
        ]
    )
    WorkshopAnalysis.objects.filter(workshop=workshop).exclude(pk__in=keep).delete()
    return analysis


def analysis_refresh(
    *, workshop: Workshop, only_if_stale: bool = False
) -> WorkshopAnalysis:
    """Analyses the workshop's current votes and stores the result (the latest
    HISTORY runs are kept). `only_if_stale`: return the latest run instead when no
    vote, moderation or ballot has changed since it read the data, which makes a
    repeated task cheap. A failure is stored with its error and logged, never
    raised: the previous successful run stays the one pages show."""
    if only_if_stale:
        latest = analysis_latest(workshop=workshop)
        if latest is not None and not analysis_is_stale(
            workshop=workshop, analysis=latest
        ):
            return latest
    computed_at = timezone.now()
    started = time.perf_counter()
    inputs = analysis_inputs(workshop=workshop)
    error = ""
    try:
        result, routing = analysis_result(inputs, computed_at=computed_at)
    except Exception as exc:  # stored on the row; the task must not crash-loop
        logger.exception("The analysis of workshop %s failed", workshop.pk)
        error = f"{type(exc).__name__}: {exc}"
        result = {
            "computed_at": computed_at.isoformat(),
            "status": "error",
            "message": "The analysis failed; the error is stored with the run.",
        }
        routing = {}
    return _store(
        workshop=workshop,
        inputs=inputs,
        computed_at=computed_at,
        result=result,
        routing=routing,
        error=error,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )


# Scheduling ----------------------------------------------------------------


def _pending_key(workshop_id: int) -> str:
    return f"analysis-pending:{workshop_id}"


def analysis_pending_clear(*, workshop_id: int, token: str | None = None) -> None:
    """Clears the workshop's pending flag if it is still the one set with `token`
    (any flag without one: a task queued before flags carried tokens).

    A run must not clear a newer flag. Its own flag expires at the end of the
    window, a little before the run starts (the countdown starts after the flag is
    set, and the worker takes a moment to start a due task): a vote in that gap sets
    a new flag and schedules the next window's run. Clearing that flag would let the
    next vote schedule another run for the same window, and the two would run
    together on the same votes (docs/reliability.md, "Load"). Read and delete are
    two commands: the flag could only change in between if it expired at that
    instant, and then the cost is one extra run, never a vote left out."""
    key = _pending_key(workshop_id)
    if token is None or cache.get(key) == token:
        cache.delete(key)


def analysis_request(*, workshop_id: int) -> bool:
    """Schedules a refresh DEBOUNCE_SECONDS from now unless one is already
    pending; returns whether it scheduled one. Call it after commit.

    `cache.add` is the atomic "pending" flag; it holds a token naming the run it
    scheduled. A vote that finds the flag is covered by that run: the flag is gone
    by the time the run starts (it expires with the window, or the run clears it
    as it starts) and the vote committed before it looked. So a vote arriving while
    a run computes always schedules one more: the run reads the votes after the
    flag is gone. With the default per-process cache each web process debounces on
    its own: at most one run per process per window (docs/deploy.md). A broker that
    cannot be reached loses only this request, never the vote: the flag is cleared
    so the next vote retries. A cache that cannot be reached (Redis restarting)
    loses it too, without an enqueue: with no flag to debounce on, every vote
    would enqueue a run."""
    key = _pending_key(workshop_id)
    token = uuid.uuid4().hex
    try:
        if not cache.add(key, token, timeout=DEBOUNCE_SECONDS):
            return False
    except Exception:  # the vote is committed: its answer must not be an error
        logger.warning(
            "Could not schedule the analysis of workshop %s: the cache is "
            "unreachable; the next vote schedules it",
            workshop_id,
            exc_info=True,
        )
        return False
    # tasks.py imports this module for the service, hence the import here.
    from workbench.deliberation.tasks import analysis_refresh_task  # noqa: PLC0415

    try:
        analysis_refresh_task.apply_async(
            args=(workshop_id,),
            kwargs={"pending": token},
            countdown=DEBOUNCE_SECONDS,
        )
    except Exception:
        logger.exception("Could not schedule the analysis of workshop %s", workshop_id)
        with contextlib.suppress(Exception):  # the cache may be down with the broker
            analysis_pending_clear(workshop_id=workshop_id, token=token)
        return False
    return True


def analysis_request_on_commit(*, workshop_id: int) -> None:
    """analysis_request once the current transaction commits (at once outside
    one)."""
    transaction.on_commit(lambda: analysis_request(workshop_id=workshop_id))
