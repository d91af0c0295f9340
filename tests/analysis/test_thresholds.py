"""The threshold rules, checked against an independent pandas computation on votes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.thresholds import agree_share, ccai_rule, overall_threshold_rule


def _random_votes(seed: int, n_principles: int = 30, n_groups: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for principle in range(n_principles):
        bias = rng.uniform(0.2, 0.95)
        for group in range(n_groups):
            for _ in range(rng.integers(0, 25)):
                r = rng.uniform()
                choice = 1 if r < bias else (-1 if r < bias + (1 - bias) / 2 else 0)
                rows.append((principle, group, choice))
    return pd.DataFrame(rows, columns=["principle", "group", "choice"])


def _matrices(votes: pd.DataFrame, n_principles: int, n_groups: int):
    full = pd.MultiIndex.from_product([range(n_principles), range(n_groups)])
    agree = (
        votes.assign(a=votes.choice.eq(1))
        .groupby(["principle", "group"])["a"]
        .sum()
        .reindex(full, fill_value=0)
    )
    total = votes.groupby(["principle", "group"]).size().reindex(full, fill_value=0)
    shape = (n_principles, n_groups)
    return agree.to_numpy().reshape(shape), total.to_numpy().reshape(shape)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("threshold", [0.5, 0.6, 0.7, 0.8, 1.0])
def test_ccai_rule_matches_per_group_shares_computed_with_pandas(seed, threshold):
    votes = _random_votes(seed)
    agree, total = _matrices(votes, 30, 4)
    shares = (
        votes.assign(a=votes.choice.eq(1))
        .groupby(["principle", "group"])["a"]
        .mean()
        .unstack()
        .reindex(index=range(30), columns=range(4))
    )
    expected = shares.ge(threshold).where(shares.notna(), False).all(axis=1).to_numpy()
    assert (ccai_rule(agree, total, threshold=threshold) == expected).all()


def test_group_without_votes_blocks_adoption():
    agree = np.array([[10, 0]])
    total = np.array([[10, 0]])
    assert not ccai_rule(agree, total, threshold=0.5)[0]
    assert overall_threshold_rule(agree, total, threshold=0.5)[0]


def test_min_votes_requires_enough_voices_in_every_group():
    agree = np.array([[3, 20]])
    total = np.array([[3, 20]])
    assert ccai_rule(agree, total, threshold=0.9, min_votes=3)[0]
    assert not ccai_rule(agree, total, threshold=0.9, min_votes=4)[0]


def test_agree_share_counts_passes_as_votes():
    share = agree_share(np.array([[2.0]]), np.array([[4.0]]))
    assert share[0, 0] == pytest.approx(0.5)


def test_threshold_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        ccai_rule(np.zeros((1, 1)), np.ones((1, 1)), threshold=1.5)
