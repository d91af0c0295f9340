"""A fabricated stored analysis in the shape services/analysis.py writes, for the
pages and the map renderer, with hostile text where users type it."""

from __future__ import annotations

from typing import Any

HOSTILE = '<script>alert("x")</script><b>bold</b>'


def fabricated_result(
    principles: list[tuple[int, str, str]] | None = None,
    *,
    participant_groups: tuple[str, str] = ("Nurses", "Teachers"),
    participants: list[str] | None = None,
) -> dict[str, Any]:
    """`principles`: (pk, external id, text). `participants`: map ids, the first
    half in opinion group 0 and the rest in group 1."""
    principles = principles or [
        (1, "1", "Be honest " + HOSTILE),
        (2, "2", "Respect privacy"),
        (3, "3", "Explain plainly"),
    ]
    people = participants or [f"p{i}" for i in range(8)]
    half = len(people) // 2
    group_of = {pid: ("0" if i < half else "1") for i, pid in enumerate(people)}
    g0, g1 = participant_groups
    rows = []
    for index, (pk, ext, text) in enumerate(principles):
        rows.append(
            {
                "id": pk,
                "external_id": ext,
                "text": text,
                "agree": 5 + index,
                "disagree": 2,
                "pass": 1,
                "per_group": {
                    "0": {"agree": 4, "disagree": 0, "pass": 0},
                    "1": {"agree": 1 + index, "disagree": 2, "pass": 1},
                },
                "per_participant_group": {
                    g0: {"agree": 3, "disagree": 1, "pass": 0},
                    g1: {"agree": 2 + index, "disagree": 1, "pass": 1},
                },
                "group_aware_consensus": 0.5 + index / 10,
                "group_aware_consensus_participant_groups": 0.4,
                "extremity": 0.3,
                "x": -0.5 + index * 0.4,
                "y": 0.2 * index,
                "priority": 1.0,
                "mod_out": False,
            }
        )
    ext_ids = [ext for _, ext, _ in principles]
    rep = {
        "external_id": ext_ids[0],
        "repful_for": "agree",
        "repness": 2.5,
        "repness_test": 3.1,
        "p_success": 0.9,
        "p_test": 2.2,
        "n_success": 4,
        "n_trials": 4,
        "best_agree": True,
    }
    return {
        "computed_at": "2026-11-22T10:00:00+00:00",
        "n_votes": 24,
        "n_participants": len(people),
        "n_principles": len(principles),
        "status": "ok",
        "message": "",
        "participants": group_of,
        "groups": {"0": half, "1": len(people) - half},
        "principles": rows,
        "consensus": {"agree": ext_ids[:1], "disagree": ext_ids[-1:]},
        "divisive": ext_ids[1:2],
        "repness": {"0": [rep], "1": [{**rep, "repful_for": "disagree"}]},
        "repness_participant_groups": {g0: [rep], g1: []},
        "map": {
            "participants": [
                {
                    "id": pid,
                    "x": (-1.0 if group_of[pid] == "0" else 1.0) + i * 0.01,
                    "y": 0.1 * i,
                    "group": int(group_of[pid]),
                    "participant_group": g0 if i % 2 else g1,
                }
                for i, pid in enumerate(people)
            ],
            "principles": [
                {"external_id": row["external_id"], "x": row["x"], "y": row["y"]}
                for row in rows
            ],
        },
        "rules": {"ccai": ext_ids[:1], "overall": ext_ids[:2]},
        "comparison": {
            "principles": ext_ids,
            "groups": ["0", "1"],
            "outcomes": [
                {
                    "rule": "ccai",
                    "parameters": {"threshold": 0.7, "min_votes": 1},
                    "adopted": ext_ids[:1],
                    "group_agree_share": [1.0, 0.25],
                    "overall_agree_share": 0.6,
                    "favoured_group": "0",
                    "spread": 0.75,
                    "welfare": None,
                },
                {
                    "rule": "overall",
                    "parameters": {"threshold": 0.7, "min_votes": 1},
                    "adopted": ext_ids[:2],
                    "group_agree_share": [1.0, None],
                    "overall_agree_share": 0.7,
                    "favoured_group": "0",
                    "spread": 0.0,
                    "welfare": None,
                },
            ],
            "adopted_by_all": ext_ids[:1],
            "disagreements": [
                {
                    "principle": ext_ids[-1],
                    "adopted_by": ["overall"],
                    "rejected_by": ["ccai"],
                }
            ],
            "agreement": {
                "ccai": {"ccai": 1.0, "overall": 0.5},
                "overall": {"ccai": 0.5, "overall": 1.0},
            },
        },
    }
