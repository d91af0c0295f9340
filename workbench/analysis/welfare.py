"""Welfare functions over per-participant utilities: the w_alpha family of the
roadmap paper (shared/papers/002, "A Roadmap to Pluralistic Alignment", section
4.3, after Moulin 2004 and Bakker et al. 2022). Pure numpy, no ORM.

Utilities. Participant i's utility for an adopted set S is the mean, over the
principles of S that i voted on, of agree = 1, disagree = 0, pass = `pass_utility`
(0.5 by default). The paper's juror functions map to a scalar reward and cite
Bakker et al. 2022, whose utilities are agreement ratings on a Likert scale; a
pass is that scale's midpoint ("neither agree nor disagree"), and it is also the
linear map (v + 1) / 2 of Polis's coding (disagree -1, pass 0, agree +1). Set
`pass_utility=0` to count a pass as no support at all. A participant who voted on
none of S has no utility for it (NaN) and is left out of w_alpha: silence is not read
as either consent or dissent.

Votes are a dense participants x principles array, +1 / 0 / -1, NaN for no vote
(`VoteMatrix.values`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import combinations, islice
from math import comb

import numpy as np
import numpy.typing as npt
from scipy.special import logsumexp  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

PASS_UTILITY = 0.5
DEFAULT_ALPHAS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, float("inf"))
EXACT_LIMIT = 20_000
MAX_TIES = 100
_CHUNK = 1_024
_TIE_TOLERANCE = 1e-12


def vote_utilities(
    votes: FloatArray, *, pass_utility: float = PASS_UTILITY
) -> FloatArray:
    """Utility of each vote: agree 1, disagree 0, pass `pass_utility`; NaN stays."""
    if not 0.0 <= pass_utility <= 1.0:
        raise ValueError("pass_utility must be between 0 and 1")
    v = np.asarray(votes, dtype=float)
    return np.where(
        v > 0, 1.0, np.where(v < 0, 0.0, np.where(v == 0, pass_utility, np.nan))
    )


def _as_columns(adopted: BoolArray | FloatArray, n_principles: int) -> FloatArray:
    m = np.asarray(adopted, dtype=float)
    if m.shape[0] != n_principles:
        raise ValueError("adopted must have one row per principle")
    return m.reshape(n_principles, -1)


def set_utilities(
    votes: FloatArray,
    adopted: BoolArray | FloatArray,
    *,
    pass_utility: float = PASS_UTILITY,
) -> FloatArray:
    """Each participant's utility for an adopted set (a principles mask), or for
    many sets at once (principles x sets): participants, or participants x sets.
    NaN where the participant voted on none of the set."""
    utility = vote_utilities(votes, pass_utility=pass_utility)
    sets = _as_columns(adopted, utility.shape[1])
    voted = ~np.isnan(utility)
    total = np.nan_to_num(utility) @ sets
    count = voted.astype(float) @ sets
    with np.errstate(invalid="ignore", divide="ignore"):
        result = np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)
    return result if np.ndim(adopted) > 1 else result[:, 0]


def _welfare_general(
    u: FloatArray, valid: BoolArray, n: FloatArray, alpha: float
) -> FloatArray:
    """(1/n Σ u^(1-alpha))^(1/(1-alpha)) in the log domain, so a large alpha
    neither overflows nor underflows:
    log w = (logsumexp((1-alpha) log u) - log n) / (1-alpha)."""
    exponent = 1.0 - alpha
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(valid, exponent * np.log(np.where(valid, u, 1.0)), -np.inf)
        log_mean = logsumexp(terms, axis=0) - np.log(np.maximum(n, 1))
        return np.asarray(np.exp(log_mean / exponent), dtype=float)


def welfare(utilities: FloatArray, alpha: float) -> FloatArray:
    """w_alpha of each column of utilities (participants x sets, or one vector of
    participants giving one value; NaN ignored), from the
    paper's section 4.3:

        w_alpha = ((1/n) Σ j_i^(1-alpha))^(1/(1-alpha))   alpha >= 0, alpha != 1
        w_1 = (Π j_i)^(1/n)                   (Nash: geometric mean, via mean log)
        w_∞ = min_i j_i                        (max-min, Rawls; the alpha → ∞ limit)

    alpha = 0 is the utilitarian mean. A zero utility makes w_alpha zero for
    alpha >= 1 (the limit of the formula). A column without any utility gives NaN.
    Utilities must be non-negative."""
    if alpha < 0:
        raise ValueError("alpha must be non-negative")
    u = np.asarray(utilities, dtype=float)
    u2 = u if u.ndim == 2 else u.reshape(-1, 1)
    if np.nanmin(u2, initial=0.0) < 0:
        raise ValueError("utilities must be non-negative")
    valid = ~np.isnan(u2)
    n = valid.sum(axis=0).astype(float)
    has_zero = (valid & (u2 == 0)).any(axis=0)
    if alpha == 0:
        result = np.nansum(u2, axis=0) / np.maximum(n, 1)
    elif np.isinf(alpha):
        result = np.min(np.where(valid, u2, np.inf), axis=0)
    elif alpha >= 1:
        if alpha == 1:
            with np.errstate(divide="ignore"):
                logs = np.where(valid & (u2 > 0), np.log(np.where(valid, u2, 1.0)), 0.0)
            result = np.exp(logs.sum(axis=0) / np.maximum(n, 1))
        else:
            result = _welfare_general(u2, valid & (u2 > 0), n, alpha)
        result = np.where(has_zero, 0.0, result)
    else:
        result = _welfare_general(u2, valid, n, alpha)
    return np.asarray(np.where(n > 0, result, np.nan), dtype=float)


def welfare_value(utilities: FloatArray, alpha: float) -> float:
    """w_alpha of one vector of utilities (NaN ignored; NaN if none)."""
    return float(welfare(np.asarray(utilities, dtype=float).reshape(-1, 1), alpha)[0])


def welfare_sweep(
    utilities: FloatArray, alphas: Sequence[float] = DEFAULT_ALPHAS
) -> dict[float, float]:
    """w_alpha for each alpha: utilitarian (0), Nash (1), ..., max-min (inf)."""
    return {float(a): welfare_value(utilities, a) for a in alphas}


@dataclass(frozen=True)
class WelfareChoice:
    """The k-set of principles (column indices) with the highest w_alpha. `method`
    is "exact" (every k-subset of the pool evaluated; `n_ties` optimal sets, the
    first `MAX_TIES` listed in `ties`, `principles` the first of them) or "greedy"
    (no tie information). With alpha >= 1 one participant who disagreed with
    everything they voted on in a set gives it welfare 0, so ties at 0 are common
    when no set satisfies everyone a little."""

    alpha: float
    k: int
    principles: list[int]
    welfare: float
    method: str
    n_ties: int = 1
    ties: list[list[int]] = field(default_factory=list)


def _combination_chunks(pool: IntArray, k: int) -> Iterator[IntArray]:
    it = combinations(pool.tolist(), k)
    while chunk := list(islice(it, _CHUNK)):
        yield np.asarray(chunk, dtype=np.int64)


def _one_hot(chunk: IntArray, n_principles: int) -> FloatArray:
    sets = np.zeros((n_principles, chunk.shape[0]))
    sets[chunk, np.arange(chunk.shape[0])[:, None]] = 1.0
    return sets


def _exact(
    votes: FloatArray, pool: IntArray, k: int, alpha: float, pass_utility: float
) -> WelfareChoice:
    best = -np.inf
    ties: list[list[int]] = []
    n_ties = 0
    for chunk in _combination_chunks(pool, k):
        sets = _one_hot(chunk, votes.shape[1])
        scores = np.nan_to_num(
            welfare(set_utilities(votes, sets, pass_utility=pass_utility), alpha),
            nan=-np.inf,
        )
        top = float(scores.max())
        if top > best + _TIE_TOLERANCE:
            best, ties, n_ties = top, [], 0
        if top >= best - _TIE_TOLERANCE:
            optimal = chunk[scores >= best - _TIE_TOLERANCE]
            n_ties += optimal.shape[0]
            ties += optimal[: MAX_TIES - len(ties)].tolist()
    value = best if np.isfinite(best) else float("nan")
    return WelfareChoice(alpha, k, ties[0], value, "exact", n_ties, ties)


def _greedy(
    votes: FloatArray, pool: IntArray, k: int, alpha: float, pass_utility: float
) -> WelfareChoice:
    utility = vote_utilities(votes, pass_utility=pass_utility)
    total = np.nan_to_num(utility)
    count = (~np.isnan(utility)).astype(float)
    chosen: list[int] = []
    remaining = pool.copy()
    sum_s = np.zeros(votes.shape[0])
    n_s = np.zeros(votes.shape[0])
    value = float("nan")
    for _ in range(k):
        num = sum_s[:, None] + total[:, remaining]
        den = n_s[:, None] + count[:, remaining]
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
        scores = np.nan_to_num(welfare(u, alpha), nan=-np.inf)
        pick = int(np.argmax(scores))  # first best: lowest index among ties
        value = float(scores[pick]) if np.isfinite(scores[pick]) else float("nan")
        chosen.append(int(remaining[pick]))
        sum_s, n_s = num[:, pick], den[:, pick]
        remaining = np.delete(remaining, pick)
    return WelfareChoice(alpha, k, sorted(chosen), value, "greedy", 1, [])


def best_set(
    votes: FloatArray,
    *,
    k: int,
    alpha: float,
    pool: BoolArray | None = None,
    pass_utility: float = PASS_UTILITY,
    exact_limit: int = EXACT_LIMIT,
) -> WelfareChoice:
    """The k principles (from `pool`, e.g. the set a rule passes; default all) whose
    adopted set maximises w_alpha.

    Exact when the pool has at most `exact_limit` k-subsets: every subset is
    evaluated in vectorised chunks, and all optimal sets are reported. Otherwise
    greedy (add the principle that raises w_alpha most, k times): w_alpha of mean
    utilities is neither monotone nor submodular in the set, so greedy carries no
    approximation guarantee; it is the practical fallback for large pools."""
    v = np.asarray(votes, dtype=float)
    if v.ndim != 2:
        raise ValueError("votes must be participants x principles")
    mask = (
        np.ones(v.shape[1], dtype=bool)
        if pool is None
        else np.asarray(pool, dtype=bool)
    )
    candidates = np.flatnonzero(mask).astype(np.int64)
    k = max(0, min(k, candidates.size))
    if k == 0:
        return WelfareChoice(alpha, 0, [], float("nan"), "exact", 1, [[]])
    if comb(candidates.size, k) <= exact_limit:
        return _exact(v, candidates, k, alpha, pass_utility)
    return _greedy(v, candidates, k, alpha, pass_utility)
