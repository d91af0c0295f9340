"""Rules side by side: which principles each rule adopts, where they disagree, and
which groups each outcome favours (issue 3, "A comparison view"). Pure numpy, no
ORM; the result converts to JSON with `as_dict()`.

Inputs are the principles x groups `agree` / `total` matrices of thresholds.py,
optionally a group-aware-consensus vector (otherwise computed from the same
matrices), ranking ballots over principle ids, and a dense participants x
principles vote array for welfare figures.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench.analysis.social_choice import Candidate, MethodResult, social_choice
from workbench.analysis.thresholds import (
    ccai_rule,
    ccai_sweep,
    gac_rule,
    group_aware_consensus_from_counts,
    overall_threshold_rule,
    size_adaptive_rule,
)
from workbench.analysis.welfare import (
    DEFAULT_ALPHAS,
    PASS_UTILITY,
    set_utilities,
    welfare_sweep,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Parameter = float | int | str | None


@dataclass(frozen=True)
class RuleSettings:
    """Parameters of the threshold rules and of the ballot rules. `ballot_k`: a
    ballot rule adopts its winner set (None) or its top `ballot_k` candidates,
    a tie at the cut taking in the whole tier (ranked pairs defines no ranking, so
    it only takes part with None)."""

    ccai_threshold: float = 0.7
    overall_threshold: float = 0.7
    gac_threshold: float = 0.6
    min_votes: int = 1
    ballot_k: int | None = None
    pass_utility: float = PASS_UTILITY
    alphas: tuple[float, ...] = DEFAULT_ALPHAS


@dataclass(frozen=True)
class RuleOutcome:
    """One rule's adopted set and how it lands per group. `group_agree_share[g]`:
    agree votes over all votes of group g on the adopted principles (votes pooled;
    None when the group cast none there). `favoured_group` has the highest share,
    `spread` is highest minus lowest. `welfare` maps str(alpha) to w_alpha of the
    set when votes were given."""

    rule: str
    parameters: dict[str, Parameter]
    adopted: list[Hashable]
    group_agree_share: list[float | None]
    overall_agree_share: float | None
    favoured_group: Hashable | None
    spread: float | None
    welfare: dict[str, float | None] | None


@dataclass(frozen=True)
class Disagreement:
    principle: Hashable
    adopted_by: list[str]
    rejected_by: list[str]


@dataclass(frozen=True)
class RuleComparison:
    """`agreement[a][b]`: Jaccard similarity of the sets rules a and b adopt (1.0
    when both are empty). `ccai_sweep[t]`: how many principles the CCAI rule adopts
    at threshold t (str), over 0.6..1.0 as in the CCAI notebook."""

    principles: list[Hashable]
    groups: list[Hashable]
    outcomes: list[RuleOutcome]
    adopted_by_all: list[Hashable]
    disagreements: list[Disagreement]
    agreement: dict[str, dict[str, float]]
    ccai_sweep: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _none_if_nan(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def pooled_share(values: FloatArray, totals: FloatArray, mask: BoolArray) -> FloatArray:
    """Per column: sum of values over the masked rows / sum of totals there."""
    num = np.asarray(values, dtype=float)[mask].sum(axis=0)
    den = np.asarray(totals, dtype=float)[mask].sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(den > 0, num / np.where(den > 0, den, 1), np.nan))


def jaccard(a: BoolArray, b: BoolArray) -> float:
    """Size of the intersection over size of the union, 1.0 for two empty sets
    (Jaccard 1901)."""
    union = int((a | b).sum())
    return 1.0 if union == 0 else int((a & b).sum()) / union


def threshold_masks(
    agree: FloatArray, total: FloatArray, gac: FloatArray, settings: RuleSettings
) -> dict[str, tuple[BoolArray, dict[str, Parameter]]]:
    """The threshold rules' adopted masks and their parameters."""
    n_voters = np.asarray(total, dtype=float).sum(axis=1)
    mv = settings.min_votes
    return {
        "ccai": (
            ccai_rule(agree, total, threshold=settings.ccai_threshold, min_votes=mv),
            {"threshold": settings.ccai_threshold, "min_votes": mv},
        ),
        "overall": (
            overall_threshold_rule(
                agree, total, threshold=settings.overall_threshold, min_votes=mv
            ),
            {"threshold": settings.overall_threshold, "min_votes": mv},
        ),
        "group_aware_consensus": (
            gac_rule(gac, threshold=settings.gac_threshold),
            {"threshold": settings.gac_threshold},
        ),
        "size_adaptive": (
            size_adaptive_rule(gac, n_voters),
            {"score": "group_aware_consensus", "n": "voters on the principle"},
        ),
    }


def _top_tiers(result: MethodResult, k: int) -> list[Candidate]:
    chosen: list[Candidate] = []
    for tier in result.ranking or []:
        if len(chosen) >= k:
            break
        chosen += tier
    return chosen


def ballot_masks(
    ballots: Sequence[Sequence[Candidate]],
    principles: Sequence[Hashable],
    settings: RuleSettings,
) -> dict[str, tuple[BoolArray, dict[str, Parameter]]]:
    """Each social-choice method's adopted set as a principles mask. Candidates
    are principle ids; the shortlist is the first ballot's."""
    result = social_choice(ballots)
    index = {p: i for i, p in enumerate(principles)}
    k = settings.ballot_k
    masks: dict[str, tuple[BoolArray, dict[str, Parameter]]] = {}
    for name, method in result.methods.items():
        if k is not None and method.ranking is None:
            continue
        chosen = method.winners if k is None else _top_tiers(method, k)
        mask = np.zeros(len(principles), dtype=bool)
        mask[[index[c] for c in chosen]] = True
        params: dict[str, Parameter] = {"ballots": len(ballots), "k": k}
        masks[name] = (mask, params)
    return masks


def _welfare(
    votes: FloatArray | None, mask: BoolArray, settings: RuleSettings
) -> dict[str, float | None] | None:
    if votes is None:
        return None
    utilities = set_utilities(votes, mask, pass_utility=settings.pass_utility)
    sweep = welfare_sweep(utilities, settings.alphas)
    return {str(a): _none_if_nan(w) for a, w in sweep.items()}


def rule_outcome(
    name: str,
    mask: BoolArray,
    *,
    parameters: dict[str, Parameter],
    counts: tuple[FloatArray, FloatArray],
    labels: tuple[Sequence[Hashable], Sequence[Hashable]],
    votes: FloatArray | None,
    settings: RuleSettings,
) -> RuleOutcome:
    """Figures for one rule's adopted set."""
    agree, total = counts
    principles, groups = labels
    shares = pooled_share(agree, total, mask)
    overall = pooled_share(agree.sum(axis=1), total.sum(axis=1), mask)
    known = ~np.isnan(shares)
    favoured = groups[int(np.nanargmax(shares))] if known.any() else None
    spread = float(np.ptp(shares[known])) if known.any() else None
    return RuleOutcome(
        rule=name,
        parameters=parameters,
        adopted=[principles[i] for i in np.flatnonzero(mask)],
        group_agree_share=[_none_if_nan(s) for s in shares],
        overall_agree_share=_none_if_nan(float(overall)),
        favoured_group=favoured,
        spread=spread,
        welfare=_welfare(votes, mask, settings),
    )


def _disagreements(
    masks: dict[str, BoolArray], principles: Sequence[Hashable]
) -> list[Disagreement]:
    if not masks:
        return []
    names = list(masks)
    stacked = np.vstack([masks[n] for n in names])
    split = np.flatnonzero(stacked.any(axis=0) & ~stacked.all(axis=0))
    return [
        Disagreement(
            principle=principles[j],
            adopted_by=[n for n, row in zip(names, stacked, strict=True) if row[j]],
            rejected_by=[
                n for n, row in zip(names, stacked, strict=True) if not row[j]
            ],
        )
        for j in split
    ]


def _agreement(masks: dict[str, BoolArray]) -> dict[str, dict[str, float]]:
    table = {a: {a: 1.0} for a in masks}
    for a, b in combinations(masks, 2):
        table[a][b] = table[b][a] = jaccard(masks[a], masks[b])
    return table


def compare_rules(
    agree: FloatArray,
    total: FloatArray,
    *,
    principles: Sequence[Hashable] | None = None,
    groups: Sequence[Hashable] | None = None,
    gac: FloatArray | None = None,
    ballots: Sequence[Sequence[Candidate]] | None = None,
    votes: FloatArray | None = None,
    settings: RuleSettings | None = None,
) -> RuleComparison:
    """Run every rule on the same data and compare the outcomes.

    `agree`/`total`: principles x groups counts (thresholds.py). `principles` and
    `groups` label rows and columns (default: indices). `gac`: Polis's
    group-aware consensus per principle, default Π_g (A_g + 1) / (S_g + 2) from
    the counts. `ballots`: complete rankings of a shortlist of principle ids, for
    the social-choice rules. `votes`: participants x principles (+1/0/-1, NaN),
    columns in `principles` order, for the w_alpha sweep of each outcome."""
    settings = settings or RuleSettings()
    a = np.asarray(agree, dtype=float)
    t = np.asarray(total, dtype=float)
    if a.ndim != 2 or a.shape != t.shape:
        raise ValueError("agree and total must be principles x groups, same shape")
    labels: tuple[list[Hashable], list[Hashable]] = (
        list(principles) if principles is not None else list(range(a.shape[0])),
        list(groups) if groups is not None else list(range(a.shape[1])),
    )
    g = group_aware_consensus_from_counts(a, t) if gac is None else np.asarray(gac)
    rules = threshold_masks(a, t, g, settings)
    if ballots:
        rules |= ballot_masks(ballots, labels[0], settings)
    outcomes = [
        rule_outcome(
            name,
            mask,
            parameters=params,
            counts=(a, t),
            labels=labels,
            votes=votes,
            settings=settings,
        )
        for name, (mask, params) in rules.items()
    ]
    masks = {name: mask for name, (mask, _) in rules.items()}
    everyone = np.logical_and.reduce(list(masks.values()))
    return RuleComparison(
        principles=labels[0],
        groups=labels[1],
        outcomes=outcomes,
        adopted_by_all=[labels[0][i] for i in np.flatnonzero(everyone)],
        disagreements=_disagreements(masks, labels[0]),
        agreement=_agreement(masks),
        ccai_sweep={
            f"{threshold:.2f}": n
            for threshold, n in ccai_sweep(a, t, min_votes=settings.min_votes).items()
        },
    )
