"""Social-choice rules on ranking ballots, through `pref_voting` (Holliday & Pacuit,
pref_voting 1.x). Pure functions, no ORM.

A ballot lists candidate ids best first and ranks every candidate of the shortlist
(complete strict rankings of one candidate set). Every method reports its winner
set: more than one winner is a tie, reported as such and never broken. pref_voting
computes the winner sets; this module converts ids in and out, adds the scores or
rankings each method defines, and handles the cases pref_voting does not (no
ballots, no candidates).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from math import factorial, prod
from typing import Any

import numpy as np
import numpy.typing as npt
from pref_voting.iterative_methods import instant_runoff, instant_runoff_ranking
from pref_voting.profiles import Profile
from pref_voting.voting_methods import (
    beat_path,
    borda,
    copeland,
    plurality,
    ranked_pairs,
)

Candidate = int | str
IntArray = npt.NDArray[np.int64]

METHODS = (
    "borda",
    "copeland",
    "schulze",
    "ranked_pairs",
    "instant_runoff",
    "plurality",
)


@dataclass(frozen=True)
class MethodResult:
    """One method's outcome. `winners` follows the candidate order; `ranking` is
    best-first tiers (a tier of several is a tie) where the method defines one;
    `scores` follows `SocialChoiceResult.candidates` where it defines scores."""

    method: str
    winners: list[Candidate]
    ranking: list[list[Candidate]] | None
    scores: list[float] | None

    @property
    def tied(self) -> bool:
        return len(self.winners) > 1


@dataclass(frozen=True)
class SocialChoiceResult:
    """`pairwise[i][j]`: ballots ranking candidate i above candidate j.
    `strongest_paths[i][j]`: Schulze's strongest path strength from i to j over
    margins (0 when there is no path)."""

    candidates: list[Candidate]
    n_ballots: int
    pairwise: list[list[int]]
    strongest_paths: list[list[int]]
    methods: dict[str, MethodResult]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (plain lists, dicts, numbers and strings)."""
        return asdict(self)


def ballot_positions(
    ballots: Sequence[Sequence[Candidate]], candidates: Sequence[Candidate]
) -> IntArray:
    """positions[b, c]: 0-based place of candidate c on ballot b. Raises ValueError
    for a ballot that is not a complete ranking of exactly these candidates."""
    index = {c: i for i, c in enumerate(candidates)}
    m = len(candidates)
    positions = np.empty((len(ballots), m), dtype=np.int64)
    for b, ballot in enumerate(ballots):
        order = [index.get(c, -1) for c in ballot]
        if len(order) != m or -1 in order or len(set(order)) != m:
            raise ValueError(
                f"ballot {b} must rank each of the {m} candidates exactly once"
            )
        positions[b, order] = np.arange(m)
    return positions


def pairwise_matrix(positions: IntArray) -> IntArray:
    """N[i, j] = number of ballots placing i above j (Condorcet's pairwise
    majority counts)."""
    m = positions.shape[1]
    if positions.shape[0] == 0:
        return np.zeros((m, m), dtype=np.int64)
    above = positions[:, :, None] < positions[:, None, :]
    return np.asarray(above.sum(axis=0), dtype=np.int64)


def strongest_paths(pairwise: IntArray) -> IntArray:
    """Schulze's strongest (widest) path strengths over margin links: a link i->j
    exists when i beats j and has strength margin(i, j) (Schulze 2011, sections 2.1
    and 2.3; Floyd-Warshall variant). For complete rankings, margins and winning
    votes order paths identically."""
    margin = pairwise - pairwise.T
    p = np.where(margin > 0, margin, 0)
    for k in range(p.shape[0]):
        p = np.maximum(p, np.minimum(p[:, k : k + 1], p[k : k + 1, :]))
    np.fill_diagonal(p, 0)
    return np.asarray(p, dtype=np.int64)


def schulze_tiers(paths: IntArray) -> list[list[int]]:
    """Schulze ranking as tiers: the candidates no remaining one beats
    (p[j, i] > p[i, j]), removed in turn. The first tier is the winner set."""
    beats = paths > paths.T
    remaining = list(range(paths.shape[0]))
    tiers: list[list[int]] = []
    while remaining:
        sub = beats[np.ix_(remaining, remaining)]
        top = [c for c, col in zip(remaining, sub.T, strict=True) if not col.any()]
        # Schulze's relation is a strict order, so a top tier always exists; the
        # fallback only guards against a broken invariant looping forever.
        top = top or remaining
        tiers.append(top)
        remaining = [c for c in remaining if c not in top]
    return tiers


def tiers_by_score(scores: Sequence[float]) -> list[list[int]]:
    """Candidate indices grouped by equal score, highest first."""
    values = sorted(set(scores), reverse=True)
    return [[i for i, s in enumerate(scores) if s == v] for v in values]


def build_profile(positions: IntArray) -> Profile:
    """A pref_voting Profile over candidates 0..m-1, identical ballots merged."""
    rankings = np.argsort(positions, axis=1)
    unique, counts = np.unique(rankings, axis=0, return_counts=True)
    return Profile(unique.tolist(), rcounts=counts.tolist())


def _named(indices: Sequence[int], candidates: Sequence[Candidate]) -> list[Candidate]:
    return [candidates[int(i)] for i in sorted(int(i) for i in indices)]


def _named_tiers(
    tiers: Sequence[Sequence[int]], candidates: Sequence[Candidate]
) -> list[list[Candidate]]:
    return [_named(tier, candidates) for tier in tiers]


def _score_method(
    name: str,
    winners: Callable[[Profile], list[int]],
    scores: dict[int, float],
    profile: Profile,
    candidates: Sequence[Candidate],
) -> MethodResult:
    values = [float(scores[i]) for i in range(len(candidates))]
    return MethodResult(
        method=name,
        winners=_named(winners(profile), candidates),
        ranking=_named_tiers(tiers_by_score(values), candidates),
        scores=values,
    )


def _ranking_tiers(profile: Profile) -> list[list[int]]:
    """pref_voting's instant-runoff ranking (reverse elimination order) as tiers."""
    rmap = instant_runoff_ranking(profile).rmap
    return [[int(c) for c in rmap if rmap[c] == r] for r in sorted(set(rmap.values()))]


def ranked_pairs_algorithm(pairwise: IntArray) -> str:
    """pref_voting's cheaper exact algorithm for this profile. Its "basic" one
    tries every tie-breaking order of equal margins (Π count! over margin values),
    and counts a tied pair as two edges of margin 0 (two reversed ballots on four
    candidates: 12! orders); "from_stacks" checks every candidate order (m!). Both
    give the same winners."""
    margin = pairwise - pairwise.T
    edges = (margin >= 0) & ~np.eye(margin.shape[0], dtype=bool)
    _, counts = np.unique(margin[edges], return_counts=True)
    orders = prod(factorial(int(c)) for c in counts)
    return "basic" if orders <= factorial(margin.shape[0]) else "from_stacks"


def _methods(
    profile: Profile, pairwise: IntArray, candidates: Sequence[Candidate]
) -> dict[str, MethodResult]:
    paths = strongest_paths(pairwise)
    schulze = schulze_tiers(paths)
    return {
        "borda": _score_method(
            "borda", borda, profile.borda_scores(), profile, candidates
        ),
        "copeland": _score_method(
            "copeland", copeland, profile.copeland_scores(), profile, candidates
        ),
        "schulze": MethodResult(
            method="schulze",
            winners=_named(beat_path(profile), candidates),
            ranking=_named_tiers(schulze, candidates),
            scores=None,
        ),
        "ranked_pairs": MethodResult(
            method="ranked_pairs",
            winners=_named(
                ranked_pairs(profile, algorithm=ranked_pairs_algorithm(pairwise)),
                candidates,
            ),
            ranking=None,
            scores=None,
        ),
        "instant_runoff": MethodResult(
            method="instant_runoff",
            winners=_named(instant_runoff(profile), candidates),
            ranking=_named_tiers(_ranking_tiers(profile), candidates),
            scores=None,
        ),
        "plurality": _score_method(
            "plurality", plurality, profile.plurality_scores(), profile, candidates
        ),
    }


def _all_tied(candidates: Sequence[Candidate]) -> dict[str, MethodResult]:
    """No ballots: every method ties every candidate (scores all zero)."""
    everyone = list(candidates)
    tiers = [everyone] if everyone else []
    zeros = [0.0] * len(everyone)
    scored = {"borda", "copeland", "plurality"}
    return {
        name: MethodResult(
            method=name,
            winners=everyone,
            ranking=None if name == "ranked_pairs" else tiers,
            scores=zeros if name in scored else None,
        )
        for name in METHODS
    }


def default_candidates(ballots: Sequence[Sequence[Candidate]]) -> list[Candidate]:
    """The candidate set when none is given: the first ballot's ids, sorted."""
    if not ballots:
        return []
    first = list(ballots[0])
    try:
        return sorted(first, key=lambda c: (isinstance(c, str), c))
    except TypeError:
        return sorted(first, key=str)


def social_choice(
    ballots: Sequence[Sequence[Candidate]],
    *,
    candidates: Sequence[Candidate] | None = None,
) -> SocialChoiceResult:
    """Borda, Copeland, Schulze (beat path), ranked pairs, instant runoff and
    plurality on complete ranking ballots, plus the pairwise majority matrix.

    Borda: m-1 points for a first place down to 0 (Borda 1781); Copeland: +1 per
    pairwise win, 0 per tie, -1 per loss; plurality: first places; instant runoff:
    pref_voting removes all candidates tied for fewest first places together;
    ranked pairs: pref_voting's winners over every tie-breaking of equal margins,
    so a tie among margins shows up as several winners. With no ballots every
    candidate ties."""
    cands = list(candidates) if candidates is not None else default_candidates(ballots)
    if len(set(cands)) != len(cands):
        raise ValueError("candidate ids must be distinct")
    positions = ballot_positions(ballots, cands)
    pairwise = pairwise_matrix(positions)
    paths = strongest_paths(pairwise)
    if positions.shape[0] == 0 or not cands:
        methods = _all_tied(cands)
    else:
        methods = _methods(build_profile(positions), pairwise, cands)
    return SocialChoiceResult(
        candidates=cands,
        n_ballots=len(ballots),
        pairwise=pairwise.tolist(),
        strongest_paths=paths.tolist(),
        methods=methods,
    )
