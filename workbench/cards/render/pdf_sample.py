"""Synthetic value cards that match the published schema: the PDF benchmark's
input and the tests' cards when no workshop is needed. Deterministic (seeded), so
two runs render the same document."""

from __future__ import annotations

import hashlib
import random
from typing import Any

GROUP_NAMES = (
    "Nurses",
    "Teachers",
    "Farmers",
    "Students",
    "Retirees",
    "Māori caregivers",
    "看護師",
    "शिक्षक",
    "معلمون",
    "Drivers",
)


def _counts(rng: random.Random) -> dict[str, int]:
    return {
        "agree": rng.randint(5, 40),
        "disagree": rng.randint(0, 15),
        "pass": rng.randint(0, 8),
    }


def _not_measured(reason: str) -> dict[str, Any]:
    return {"measured": False, "reason": reason}


def _measure(value: float | None, method: str) -> dict[str, Any]:
    return {
        "value": value,
        "reason": None if value is not None else "no data",
        "method": method,
        "inputs": {},
    }


def sample_card(
    *,
    index: int = 1,
    text: str = "Choose the response that respects the user's autonomy.",
    groups: int = 2,
    kind: str = "principle",
    seed: int = 0,
    narrative: str = "Invited through the unions' mailing lists.",
) -> dict[str, Any]:
    """One card with every dimension filled, per-group votes for ``groups``
    groups and encoding-gap figures with confidence intervals."""
    rng = random.Random(seed * 1000 + index)  # noqa: S311 (reproducible, not secret)
    names = [
        GROUP_NAMES[i % len(GROUP_NAMES)] + ("" if i < len(GROUP_NAMES) else f" {i}")
        for i in range(groups)
    ]
    per_group = {name: _counts(rng) for name in names}
    totals = {
        k: sum(c[k] for c in per_group.values()) for k in ("agree", "disagree", "pass")
    }
    gap_groups = {}
    for name in names:
        gap = rng.uniform(-0.05, 0.35)
        gap_groups[name] = {
            "gap": gap,
            "kappa": rng.uniform(0.1, 0.8),
            "ci": {"gap": [gap - 0.08, gap + 0.08]},
        }
    first_vote = f"2025-01-02T09:{rng.randint(0, 59):02d}:00+00:00"
    last_vote = f"2025-01-03T17:{rng.randint(0, 59):02d}:00+00:00"
    day_one = rng.randint(0, sum(totals.values()))
    card: dict[str, Any] = {
        "schema_version": "1.0",
        "kind": kind,
        "id": f"ai-values/{kind}/{index}",  # as the builder names them
        "title": text,
        "workshop": {
            "slug": "ai-values",
            "title": "AI values",
            "question": "How should an AI assistant behave?",
            "source": "workbench",
        },
        "built_at": "2025-01-01T00:00:00+00:00",
        "criteria": {
            "text": text,
            "versions": [
                {
                    "number": 1,
                    "text": text + " (draft)",
                    "created_at": "2025-01-01T00:00:00+00:00",
                    "reason": "proposed",
                    "event": None,
                },
                {
                    "number": 2,
                    "text": text,
                    "created_at": "2025-01-02T00:00:00+00:00",
                    "reason": "reworded",
                    "event": None,
                },
            ],
            "examples": [
                {
                    "item": f"item-{index}",
                    "prompt": "Should I take the job abroad?",
                    "preferred": "a",
                    "preferred_response": "Here is what to weigh; the choice is yours.",
                    "share": 0.8,
                    "n_labels": 5,
                }
            ],
            "examples_rule": "items where at least 75% of at least 3 labels agree",
        },
        "origin": {
            "proposed_by": {"kind": "participant", "group": names[0]},
            "round": {"id": 1, "title": "Propose"},
            "merged_from": [],
            "supporters": {
                "overall": totals,
                "participants": sum(totals.values()),
                "per_group": {
                    n: {**c, "participants": sum(c.values())}
                    for n, c in per_group.items()
                },
            },
            "demographics": {
                "min_cell": 5,
                "note": "consented answers only",
                "fields": {},
                "suppressed_cells": 0,
            },
        },
        "measurement": {
            "votes": {
                "measured": True,
                "analysis_computed_at": "2025-01-03T00:00:00+00:00",
                **totals,
                "per_group": per_group,
                "per_opinion_group": {"0": _counts(rng), "1": _counts(rng)},
                "group_aware_consensus": rng.uniform(0.2, 0.9),
            },
            "ranking": _not_measured("no rank round"),
            "comparisons": {
                "measured": True,
                "n_items": 12,
                "labels": {"a": 20, "b": 14, "tie": 3},
                "per_group": {},
            },
            "judges": [
                {
                    "run": 1,
                    "provider": "offline",
                    "model": "similarity-baseline",
                    "prompt_version": "v1",
                    "is_llm": False,
                    "kind": "similarity baseline, not an LLM",
                    "status": "done",
                    "control": False,
                }
            ],
            "encoding_gap": {
                "measured": True,
                "gap": 0.12,
                "ci": {"gap": [0.05, 0.2]},
                "per_group": gap_groups,
                "best_matching_group": names[0],
            },
        },
        "aggregation": {
            "rule": "group_aware_consensus",
            "rule_label": "Group-aware consensus",
            "parameters": {"threshold": 0.6},
            "adopted": True,
            "other_rules": {"majority": True, "borda": False},
            "dissent": {"disagree": totals["disagree"]},
        },
        "legitimacy": {
            "narrative": {
                "recruitment": narrative,
                "representativeness": "Nurses and teachers of one region.",
                "deliberation_design": "Within-group rounds, then a cross-group round.",
                "limitations": "Small groups.",
                "written_by": "facilitator",
            },
            # As the builder writes them: the workshop's rule commitment, and
            # this principle's own first and last vote.
            "thresholds": {
                "rule": "group_aware_consensus",
                "parameters": {"threshold": 0.6, "min_votes": 3},
                "fixed_at": "2025-01-01T00:00:00+00:00",
                "first_vote_at": first_vote,
                "last_vote_at": last_vote,
                "voting_started_at": "2025-01-02T09:00:00+00:00",
                "fixed_before_voting": True,
                "commitment": {
                    "committed_at": "2025-01-01T00:00:00+00:00",
                    "content_hash": hashlib.sha256(b"commitment").hexdigest(),
                    "superseded_by": None,
                },
                "published": {
                    "rule": "group_aware_consensus",
                    "parameters": {"threshold": 0.6, "min_votes": 3},
                },
                "matches_published": True,
                "deviation": None,
                "note": "The rule was committed before the workshop's first vote.",
            },
            # This principle's own moderation record.
            "moderation": {
                "counts": {"approve": 1, **({"edit": 1} if index % 3 == 0 else {})},
                "rejected_with_reason": 0,
                "total": 1 + (index % 3 == 0),
            },
            "review": {
                "status": "not reviewed",
                "round": None,
                "endorse": 0,
                "object": 0,
                "per_group": {},
                "comments": [],
            },
            "participation": {
                "participants": sum(totals.values()),
                "votes_per_day": [
                    {"date": "2025-01-02", "votes": day_one},
                    {"date": "2025-01-03", "votes": sum(totals.values()) - day_one},
                ],
            },
            "timestamps": {
                "proposed_at": f"2025-01-01T{index % 24:02d}:00:00+00:00",
                "first_vote_at": first_vote,
                "last_vote_at": last_vote,
                "analysis_computed_at": "2025-01-03T18:00:00+00:00",
                "constitution_published_at": "2025-01-04T09:00:00+00:00",
            },
            "content_hash": hashlib.sha256(
                f"{seed}:{index}:{text}".encode()
            ).hexdigest(),
        },
        "pluralism": {
            "origin": _measure(
                rng.uniform(0.5, 1.0), "normalised entropy of support across groups"
            ),
            "aggregation": _measure(0.5, "share of rules that agree"),
            "measurement": _measure(None, "independent measures that agree"),
        },
    }
    return card


def sample_constitution_cards(
    *, principles: int = 50, groups: int = 8
) -> list[dict[str, Any]]:
    """A constitution card followed by one card per principle."""
    cards = [
        sample_card(
            index=i,
            text=f"Choose the response that follows principle {i}.",
            groups=groups,
        )
        for i in range(1, principles + 1)
    ]
    constitution = sample_card(
        index=0, text="The constitution", groups=groups, kind="constitution"
    )
    constitution["principles"] = [c["id"] for c in cards]
    return [constitution, *cards]
