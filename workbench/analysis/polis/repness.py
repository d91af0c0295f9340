"""Representativeness of principles for groups (Polis's
math/src/polismath/math/repness.clj: `conv-repness`, `add-comparitive-stats`,
`select-rep-comments`).

Each group is compared with the rest, the members of all *other* groups;
participants outside every group are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from workbench.analysis.polis.groups import GroupVotes
from workbench.analysis.polis.stats import (
    Z_90,
    prop_test,
    smoothed_probability,
    two_prop_test,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
RepfulFor = Literal["agree", "disagree"]

TOP_N = 5


@dataclass(frozen=True)
class RepnessStats:
    """Groups x principles. `pa`/`pd` smoothed agree/disagree probabilities in the
    group, `pat`/`pdt` their prop tests; `ra`/`rd` the group's probability over
    the rest's, `rat`/`rdt` the two-proportion tests against the rest."""

    na: FloatArray
    nd: FloatArray
    ns: FloatArray
    pa: FloatArray
    pd: FloatArray
    pat: FloatArray
    pdt: FloatArray
    ra: FloatArray
    rd: FloatArray
    rat: FloatArray
    rdt: FloatArray


@dataclass(frozen=True)
class RepresentativePrinciple:
    """One entry of Polis's `repness` list. `repness_test` is kept in double
    precision; Polis rounds it to a Java float (`finalize-cmt-stats`)."""

    principle: object
    repful_for: RepfulFor
    n_success: int
    n_trials: int
    p_success: float
    p_test: float
    repness: float
    repness_test: float
    best_agree: bool = False
    n_agree: int | None = None


def repness_stats(votes: GroupVotes) -> RepnessStats:
    """Polis's `comment-stats` per group plus `add-comparitive-stats`."""
    na, nd, ns = (
        x.astype(np.float64) for x in (votes.agree, votes.disagree, votes.count)
    )
    rest_na, rest_nd, rest_ns = (x.sum(axis=0) - x for x in (na, nd, ns))
    pa, pd = smoothed_probability(na, ns), smoothed_probability(nd, ns)
    return RepnessStats(
        na=na,
        nd=nd,
        ns=ns,
        pa=pa,
        pd=pd,
        pat=prop_test(na, ns),
        pdt=prop_test(nd, ns),
        ra=pa / smoothed_probability(rest_na, rest_ns),
        rd=pd / smoothed_probability(rest_nd, rest_ns),
        rat=two_prop_test(na, rest_na, ns, rest_ns),
        rdt=two_prop_test(nd, rest_nd, ns, rest_ns),
    )


def _float32(x: FloatArray) -> FloatArray:
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def _finalize(
    s: RepnessStats, g: int, j: int, principle: object
) -> RepresentativePrinciple:
    """Polis's `finalize-cmt-stats`: report the agree side if rat > rdt."""
    if s.rat[g, j] > s.rdt[g, j]:
        side: RepfulFor = "agree"
        n, p, pt, r, rt = s.na, s.pa, s.pat, s.ra, s.rat
    else:
        side = "disagree"
        n, p, pt, r, rt = s.nd, s.pd, s.pdt, s.rd, s.rdt
    return RepresentativePrinciple(
        principle=principle,
        repful_for=side,
        n_success=int(n[g, j]),
        n_trials=int(s.ns[g, j]),
        p_success=float(p[g, j]),
        p_test=float(pt[g, j]),
        repness=float(r[g, j]),
        repness_test=float(rt[g, j]),
    )


def passes_by_test(s: RepnessStats) -> BoolArray:
    """Polis's `passes-by-test?`: significant against the rest and within the group,
    on the agree or the disagree side."""
    agree = (s.rat > Z_90) & (s.pat > Z_90)
    disagree = (s.rdt > Z_90) & (s.pdt > Z_90)
    return np.asarray(agree | disagree)


def best_agree_index(
    s: RepnessStats, g: int, candidates: npt.NDArray[np.intp]
) -> int | None:
    """Polis's `beats-best-agr?` folded over the principles in order. The test
    switches between ra·rat·pa·pat and pa·pat depending on the current best, so it
    is a sequential scan."""
    na, nd, ra, rat, pa, pat = (
        x[g, candidates].tolist() for x in (s.na, s.nd, s.ra, s.rat, s.pa, s.pat)
    )
    best: int | None = None
    for i in range(len(candidates)):
        if na[i] == 0 and nd[i] == 0:
            continue
        if best is not None and ra[best] > 1.0:
            beats = (
                ra[i] * rat[i] * pa[i] * pat[i]
                > ra[best] * rat[best] * pa[best] * pat[best]
            )
        elif best is not None:
            beats = pa[i] * pat[i] > pa[best] * pat[best]
        else:
            beats = pat[i] > Z_90 or (ra[i] > 1.0 and pa[i] > 0.5)
        if beats:
            best = i
    return None if best is None else int(candidates[best])


def best_by_test_index(
    s: RepnessStats, g: int, candidates: npt.NDArray[np.intp]
) -> int | None:
    """Polis's `beats-best-by-test?`: the first principle with the highest
    max(rat, rdt), where each challenger is compared with the float-rounded test of
    the current best, as in Polis."""
    tests = np.maximum(s.rat[g, candidates], s.rdt[g, candidates]).tolist()
    best: int | None = None
    best_z = 0.0
    for i, z in enumerate(tests):
        if best is None or z > best_z:
            best, best_z = i, float(np.float32(z))
    return None if best is None else int(candidates[best])


def _metric(entry: RepresentativePrinciple) -> float:
    """Polis's `repness-metric`, with the float-rounded repness test."""
    return (
        entry.repness
        * float(np.float32(entry.repness_test))
        * entry.p_success
        * entry.p_test
    )


def select_group(
    s: RepnessStats,
    g: int,
    principles: npt.NDArray[np.generic],
    candidates: npt.NDArray[np.intp],
    passing: BoolArray,
) -> list[RepresentativePrinciple]:
    """Polis's `select-rep-comments` for one group: the passing principles sorted by
    the repness metric, the best-agree one first, the top 5, agrees before
    disagrees; if none pass, the best-agree one alone, else the best by test."""
    agree_j = best_agree_index(s, g, candidates)
    best_agree = None
    if agree_j is not None:
        base = _finalize(s, g, agree_j, principles[agree_j])
        best_agree = _with_best_agree(base, int(s.na[g, agree_j]))
    sufficient = [
        _finalize(s, g, int(j), principles[j])
        for j in candidates[passing[g, candidates]]
        if agree_j is None or j != agree_j
    ]
    if not sufficient and not passing[g, candidates].any():
        if best_agree is not None:
            return [best_agree]
        best_j = best_by_test_index(s, g, candidates)
        return [] if best_j is None else [_finalize(s, g, best_j, principles[best_j])]
    ranked = sorted(sufficient, key=lambda e: -_metric(e))
    top = ([best_agree] if best_agree is not None else []) + ranked
    top = top[:TOP_N]
    return [e for e in top if e.repful_for == "agree"] + [
        e for e in top if e.repful_for == "disagree"
    ]


def _with_best_agree(
    entry: RepresentativePrinciple, n_agree: int
) -> RepresentativePrinciple:
    return replace(entry, best_agree=True, n_agree=n_agree)


def select_representative(
    s: RepnessStats, principles: npt.NDArray[np.generic], *, excluded: BoolArray
) -> list[list[RepresentativePrinciple]]:
    """Representative principles for every group (index = group label); `excluded`
    marks the mod-out principles, which are never selected."""
    candidates = np.flatnonzero(~excluded)
    passing = passes_by_test(s)
    return [
        select_group(s, g, principles, candidates, passing)
        for g in range(s.na.shape[0])
    ]
