"""Degenerate input through `analyze` (issue 3: "a clear result, not a crash").

`analyze` never raises for too little data: it returns an AnalysisResult whose
`shortfall` is None when there are at least two opinion groups, and otherwise
says why (Shortfall.NO_VOTES, Shortfall.ONE_POSITION). Every figure it returns is
finite. See the "Degenerate input" section of workbench/analysis/polis/pipeline.py.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.polis import AnalysisResult, Shortfall, analyze


def _votes(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["participant", "principle", "vote"])


def _checkerboard(n: int = 20, m: int = 10) -> pd.DataFrame:
    """Two opposed camps: even participants agree with even principles, odd with
    odd ones."""
    return _votes(
        [(i, j, 1 if (i + j) % 2 == 0 else -1) for i in range(n) for j in range(m)]
    )


def _numbers(value: Any) -> list[float]:
    """Every float in a result, through dataclasses, lists, dicts and arrays."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            x
            for field in dataclasses.fields(value)
            for x in _numbers(getattr(value, field.name))
        ]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, list | tuple):
        return [x for v in value for x in _numbers(v)]
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number):
        return [float(x) for x in value.ravel()]
    if isinstance(value, float):
        return [value]
    return []


def _assert_finite(result: AnalysisResult) -> None:
    numbers = _numbers(result)
    assert all(math.isfinite(x) for x in numbers)


def test_no_votes():
    result = analyze(_votes([]))
    assert result.shortfall is Shortfall.NO_VOTES
    assert result.matrix.shape == (0, 0)
    assert result.opinion.group_ids == []
    assert len(result.opinion.labels) == 0
    assert result.consensus.agree == result.consensus.disagree == []
    assert result.clustering.silhouettes == {}


def test_no_votes_with_predefined_groups_keeps_the_groups():
    result = analyze(_votes([]), groups={1: "a", 2: "b"})
    assert result.shortfall is Shortfall.NO_VOTES
    assert result.predefined is not None
    assert result.predefined.group_ids == ["a", "b"]
    assert result.predefined.votes.n_members.tolist() == [0, 0]
    assert result.predefined.group_aware_consensus.shape == (0,)


def test_one_participant():
    result = analyze(_votes([(1, j, 1) for j in range(10)]))
    assert result.shortfall is Shortfall.ONE_POSITION
    assert result.opinion.labels.tolist() == [0]
    assert result.opinion.votes.n_members.tolist() == [1]
    _assert_finite(result)


def test_one_principle():
    result = analyze(_votes([(i, 1, 1 if i % 2 else -1) for i in range(20)]))
    assert result.pca.components[1].tolist() == [0.0]
    assert result.shortfall is None
    assert len(result.opinion.group_ids) == 2
    labels = result.opinion.labels
    assert len(set(labels[::2])) == len(set(labels[1::2])) == 1
    assert labels[0] != labels[1]
    _assert_finite(result)


@pytest.mark.parametrize(
    "vote", [1, -1, 0], ids=["all agree", "all disagree", "all pass"]
)
def test_everyone_voting_alike_is_one_group(vote):
    result = analyze(_votes([(i, j, vote) for i in range(20) for j in range(10)]))
    assert result.shortfall is Shortfall.ONE_POSITION
    assert result.opinion.group_ids == [0]
    assert result.opinion.labels.tolist() == [0] * 20
    np.testing.assert_array_equal(result.participant_projection, 0.0)
    _assert_finite(result)


def test_everyone_agreeing_is_consensus():
    result = analyze(_votes([(i, j, 1) for i in range(20) for j in range(10)]))
    assert len(result.consensus.agree) == 5
    assert result.consensus.disagree == []


def test_all_passes_give_no_consensus():
    result = analyze(_votes([(i, j, 0) for i in range(20) for j in range(10)]))
    assert result.consensus.agree == result.consensus.disagree == []


def test_all_principles_moderated_out():
    result = analyze(_checkerboard(), mod_out=range(10))
    assert result.shortfall is Shortfall.ONE_POSITION
    assert result.mod_out.all()
    assert result.consensus.agree == result.consensus.disagree == []
    assert result.opinion.representative == {0: []}
    _assert_finite(result)


def test_two_camps_have_no_shortfall():
    result = analyze(_checkerboard())
    assert result.shortfall is None
    labels = result.opinion.labels
    assert len(result.opinion.group_ids) == 2
    assert set(labels[::2]) == {labels[0]} and set(labels[1::2]) == {labels[1]}
    _assert_finite(result)


def test_predefined_group_with_one_member():
    groups = {0: "solo", **dict.fromkeys(range(1, 20), "rest")}
    result = analyze(_checkerboard(), groups=groups)
    assert result.predefined is not None
    assert result.predefined.group_ids == ["rest", "solo"]
    assert result.predefined.votes.n_members.tolist() == [19, 1]
    assert result.predefined.votes.count[1].tolist() == [1] * 10
    assert len(result.predefined.representative["solo"]) >= 1
    _assert_finite(result)


def test_predefined_group_whose_members_never_voted():
    result = analyze(_checkerboard(), groups={0: "a", 99: "ghost"})
    assert result.predefined is not None
    assert result.predefined.group_ids == ["a", "ghost"]
    assert result.predefined.votes.n_members.tolist() == [1, 0]
    _assert_finite(result)


def test_missing_column_is_malformed_input():
    with pytest.raises(KeyError):
        analyze(pd.DataFrame({"participant": [1], "principle": [1]}))
