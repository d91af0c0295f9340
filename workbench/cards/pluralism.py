"""The value card's pluralism measures (Kasirzadeh, papers/001, section 3; the
kinds of pluralism in papers/002): pure functions on plain numbers, no ORM.

Each returns a `Measure`: a value in [0, 1] (1 = most plural), or None with the
reason the data cannot support it, plus the method in one line so a card reader
sees how the number was made.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from scipy.stats import entropy  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Measure:
    value: float | None
    method: str
    reason: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "method": self.method,
            "reason": self.reason,
            "inputs": self.inputs,
        }


ORIGIN_METHOD = (
    "normalised Shannon entropy of the groups' agree rates (agree / votes in the "
    "group), rescaled to sum to 1: 1 = every group supports it equally, 0 = one "
    "group alone"
)
RULES_METHOD = (
    "agreement between rules: the share of the rules that reach the majority "
    "decision (adopt or not), rescaled so 0 = an even split, 1 = all rules agree"
)
JACCARD_METHOD = "mean pairwise Jaccard similarity of the sets the rules adopt"
MEASURES_METHOD = (
    "share of the independent measures (votes, ranking, judge) that point the "
    "same way as the majority of them"
)


def origin_pluralism(support: Mapping[str, tuple[int, int]]) -> Measure:
    """`support`: group -> (agree votes, all votes). Uses rates, not counts, so
    a larger group does not look like a more supportive one. Groups without
    votes are left out; with fewer than two groups left, or no agree vote at
    all, the measure is undefined."""
    rates = {g: a / n for g, (a, n) in support.items() if n > 0}
    inputs = {g: round(r, 6) for g, r in rates.items()}
    if len(rates) < 2:
        return Measure(None, ORIGIN_METHOD, "fewer than two groups voted", inputs)
    values = np.array(list(rates.values()), dtype=float)
    if values.sum() == 0:
        return Measure(None, ORIGIN_METHOD, "no group agreed", inputs)
    value = float(entropy(values) / math.log(len(values)))
    return Measure(round(value, 6), ORIGIN_METHOD, None, inputs)


def rule_agreement(decisions: Mapping[str, bool]) -> Measure:
    """`decisions`: rule -> adopted? With r rules of which m reach the majority
    decision, the value is (m / r - 1/2) * 2: 1 when every rule decides alike,
    0 when they split evenly. Undefined for fewer than two rules."""
    inputs = dict(decisions)
    if len(decisions) < 2:
        return Measure(None, RULES_METHOD, "fewer than two rules compared", inputs)
    adopt = sum(decisions.values())
    majority = max(adopt, len(decisions) - adopt)
    value = (majority / len(decisions) - 0.5) * 2
    return Measure(round(value, 6), RULES_METHOD, None, inputs)


def jaccard(a: set[str], b: set[str]) -> float:
    """|a & b| / |a | b|, 1.0 for two empty sets."""
    union = a | b
    return 1.0 if not union else len(a & b) / len(union)


def rule_set_agreement(adopted: Mapping[str, Sequence[str]]) -> Measure:
    """`adopted`: rule -> the principles it adopts. The mean Jaccard similarity
    over every pair of rules; undefined for fewer than two rules."""
    sets = {rule: set(ids) for rule, ids in adopted.items()}
    inputs = {rule: len(ids) for rule, ids in sets.items()}
    if len(sets) < 2:
        return Measure(None, JACCARD_METHOD, "fewer than two rules compared", inputs)
    pairs = [jaccard(a, b) for a, b in combinations(sets.values(), 2)]
    return Measure(round(sum(pairs) / len(pairs), 6), JACCARD_METHOD, None, inputs)


def measurement_agreement(signals: Mapping[str, bool | None]) -> Measure:
    """`signals`: measure -> does it support the principle (None: not measured).
    With k measures available of which m point the majority's way, the value is
    m / k; undefined with fewer than two measures."""
    available = {k: v for k, v in signals.items() if v is not None}
    inputs: dict[str, Any] = dict(signals)
    if len(available) < 2:
        return Measure(
            None, MEASURES_METHOD, "fewer than two independent measures", inputs
        )
    yes = sum(available.values())
    majority = max(yes, len(available) - yes)
    return Measure(round(majority / len(available), 6), MEASURES_METHOD, None, inputs)
