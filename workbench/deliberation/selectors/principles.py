from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from rapidfuzz import fuzz, process, utils

from workbench.deliberation.models import (
    Participant,
    Principle,
    Round,
    Vote,
    Workshop,
)
from workbench.deliberation.selectors.analysis import (
    analysis_priorities,
    unvoted_priority,
)


def normalize_text(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class SimilarPrinciple:
    """`exact`: the same wording once case and spacing are ignored (a fuzzy match
    can also score 100, e.g. the same words in another order)."""

    pk: int
    text: str
    score: float
    exact: bool = False


def principle_find_similar(
    *, workshop: Workshop, text: str, exact_only: bool = False, limit: int = 3
) -> list[SimilarPrinciple]:
    """Existing principles (not rejected) whose wording matches or nearly matches:
    the exact matches if there are any, else the closest near matches."""
    candidates = dict(
        workshop.principles.exclude(status=Principle.Status.REJECTED).values_list(
            "pk", "text"
        )
    )
    wanted = normalize_text(text)
    exact = [
        SimilarPrinciple(pk=pk, text=t, score=100.0, exact=True)
        for pk, t in candidates.items()
        if normalize_text(t) == wanted
    ]
    if exact or exact_only:
        return exact
    matches = process.extract(
        text,
        candidates,
        scorer=fuzz.token_sort_ratio,
        processor=utils.default_process,
        score_cutoff=settings.WORKBENCH["NEAR_DUPLICATE_SCORE"],
        limit=limit,
    )
    return [SimilarPrinciple(pk=pk, text=t, score=score) for t, score, pk in matches]


def principle_agenda(*, round_: Round) -> QuerySet[Principle]:
    """The principles a vote round asks about: its explicit agenda if it has one, else
    every approved, unmerged principle in its scope (the group's own and workshop-wide
    seeds for a group round; all for a cross-group round). One lazy query: the
    shortlist test is a subquery, so callers can filter and count it in SQL."""
    # The implicit m2m table; django-stubs types it as Round, hence Any.
    shortlist_table: Any = Round.shortlist.through
    shortlist = shortlist_table.objects.filter(round_id=round_.pk)
    in_scope = Q()
    if round_.scope == Round.Scope.GROUP:
        in_scope = Q(group_id=round_.group_id) | Q(group__isnull=True)
    return Principle.objects.filter(
        Q(Exists(shortlist.filter(principle_id=OuterRef("pk"))))
        | (~Exists(shortlist) & in_scope),
        workshop_id=round_.workshop_id,
        status=Principle.Status.APPROVED,
        merged_into__isnull=True,
    )


@dataclass(frozen=True)
class AgendaProgress:
    """A participant's progress through a vote round's agenda. `unvoted`: the ids
    of the principles not voted on yet, in the agenda's order."""

    total: int
    voted: int
    unvoted: list[int]


def principle_agenda_progress(
    *, participant: Participant, round_: Round
) -> AgendaProgress:
    """How many principles the round asks about, how many the participant voted on,
    and which are left, in one query (the voting page's counts and its next card
    need all three, once per vote)."""
    rows = (
        principle_agenda(round_=round_)
        .annotate(
            voted=Exists(
                Vote.objects.filter(
                    participant_id=participant.pk, principle_id=OuterRef("pk")
                )
            )
        )
        .values_list("pk", "voted")
    )
    unvoted = []
    total = 0
    for pk, voted in rows:
        total += 1
        if not voted:
            unvoted.append(pk)
    return AgendaProgress(total=total, voted=total - len(unvoted), unvoted=unvoted)


def principle_pick_next(
    *, workshop_id: int, unvoted: Sequence[int], rng: random.Random | None = None
) -> int | None:
    """The id of the next principle to show among `unvoted`. With a stored
    analysis the choice is random weighted by each principle's routing priority
    (Polis's selectProbabilistically), so principles with few votes, or that split
    opinion, come up more; a principle newer than the analysis weighs as one nobody
    voted on. Without one the choice is uniform. One query: the priorities."""
    if not unvoted:
        return None
    rng = rng or random.SystemRandom()
    stored = analysis_priorities(workshop_id=workshop_id)
    if stored is None:
        return rng.choice(unvoted)
    fresh = unvoted_priority()
    weights = [max(stored.get(pk, fresh), 0.0) for pk in unvoted]
    if sum(weights) > 0:
        return rng.choices(unvoted, weights=weights)[0]
    return rng.choice(unvoted)


def principle_next_for_participant(
    *, participant: Participant, round_: Round, rng: random.Random | None = None
) -> Principle | None:
    """The next principle to show, among those on the agenda the participant has
    not voted on (principle_pick_next). Three queries: the agenda, the stored
    priorities, the principle."""
    progress = principle_agenda_progress(participant=participant, round_=round_)
    pick = principle_pick_next(
        workshop_id=round_.workshop_id, unvoted=progress.unvoted, rng=rng
    )
    return None if pick is None else Principle.objects.get(pk=pick)
