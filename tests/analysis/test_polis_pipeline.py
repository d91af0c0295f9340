"""The pipeline's building blocks against scikit-learn and independent
computations, plus edge cases the Polis fixtures do not reach."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import decomposition

from workbench.analysis.polis import analyze
from workbench.analysis.polis.groups import GroupVotes
from workbench.analysis.polis.matrix import build_vote_matrix
from workbench.analysis.polis.pca import (
    DENSE_LIMIT,
    fit_pca,
    impute_column_means,
    project_participants,
)
from workbench.analysis.polis.repness import repness_stats, select_representative


def _random_votes(seed: int, n_participants: int, n_principles: int, density: float):
    rng = np.random.default_rng(seed)
    cells = rng.random((n_participants, n_principles)) < density
    rows, cols = np.nonzero(cells)
    side = rng.integers(0, 2, n_participants)[rows]  # two camps
    agree = rng.random(len(rows)) < np.where(side == cols % 2, 0.8, 0.2)
    vote = np.where(rng.random(len(rows)) < 0.15, 0, np.where(agree, 1, -1))
    return pd.DataFrame({"participant": rows, "principle": cols, "vote": vote})


@pytest.mark.parametrize("n_principles", [40, DENSE_LIMIT + 60])
def test_components_equal_sklearn_pca_on_imputed_matrix(n_principles):
    votes = _random_votes(1, 300, n_principles, 0.3)
    matrix = build_vote_matrix(votes)
    none = np.zeros(n_principles, dtype=bool)
    ours = fit_pca(matrix, none)
    imputed = impute_column_means(matrix.values)
    reference = decomposition.PCA(n_components=2, svd_solver="full").fit(imputed)
    np.testing.assert_allclose(ours.center, reference.mean_, atol=1e-12)
    for mine, theirs in zip(ours.components, reference.components_, strict=True):
        np.testing.assert_allclose(mine, np.sign(mine @ theirs) * theirs, atol=1e-9)


def test_projection_equals_polis_formula_cell_by_cell():
    """Polis's `sparsity-aware-project-ptpt`, written as its loop over cells, on a
    rating matrix with a zeroed mod-out column."""
    votes = _random_votes(2, 40, 12, 0.5)
    matrix = build_vote_matrix(votes)
    excluded = np.zeros(12, dtype=bool)
    excluded[3] = True
    pca = fit_pca(matrix, excluded)
    rating = matrix.values.copy()
    rating[:, 3] = 0.0
    expected = []
    for row in rating:
        n_votes, p = 0, np.zeros(2)
        for x, c, pc1, pc2 in zip(row, pca.center, *pca.components, strict=True):
            if not np.isnan(x):
                n_votes += 1
                p += (x - c) * np.array([pc1, pc2])
        expected.append(np.sqrt(len(row) / max(n_votes, 1)) * p)
    np.testing.assert_allclose(
        project_participants(matrix, pca, excluded), expected, atol=1e-12
    )


def test_last_vote_wins():
    votes = pd.DataFrame(
        {"participant": [1, 1, 2], "principle": [7, 7, 7], "vote": [1, -1, 0]}
    )
    matrix = build_vote_matrix(votes)
    assert matrix.values.tolist() == [[-1.0], [0.0]]
    assert matrix.n_votes.tolist() == [1, 1]


def test_predefined_groups_count_like_pandas():
    votes = _random_votes(3, 60, 10, 0.6)
    groups = {p: ("north" if p % 3 else "south") for p in range(0, 60, 2)}
    groups[999] = "empty"  # a group whose only member never voted
    result = analyze(votes, groups=groups)
    figures = result.predefined
    assert figures is not None
    assert figures.group_ids == ["empty", "north", "south"]
    labelled = votes.assign(group=votes.participant.map(groups)).dropna()
    for g, name in enumerate(figures.group_ids):
        mine = labelled[labelled.group == name]
        by = mine.groupby("principle").vote
        agree = by.apply(lambda v: (v > 0).sum()).reindex(range(10), fill_value=0)
        count = by.size().reindex(range(10), fill_value=0)
        assert figures.votes.agree[g].tolist() == agree.tolist()
        assert figures.votes.count[g].tolist() == count.tolist()
    assert set(figures.representative) == {"empty", "north", "south"}
    assert figures.votes.n_members[0] == 0


def _stats(na, nd, ns):
    """Two groups x principles from per-group counts."""
    return repness_stats(
        GroupVotes(
            agree=np.array(na),
            disagree=np.array(nd),
            count=np.array(ns),
            n_members=np.array([5, 5]),
        )
    )


def test_without_passing_principles_the_best_agree_one_stands_alone():
    # Group 0 agrees 1/1 on principle 0: pa = 2/3, prop test sqrt(2) > 1.2816, but
    # the test against the rest stays below it, so nothing passes.
    stats = _stats(na=[[1, 0], [0, 0]], nd=[[0, 0], [0, 0]], ns=[[1, 1], [1, 1]])
    selected = select_representative(
        stats, np.array([10, 11]), excluded=np.zeros(2, dtype=bool)
    )
    assert [(e.principle, e.best_agree) for e in selected[0]] == [(10, True)]


def test_without_passing_or_agreed_principles_the_best_by_test_stands_alone():
    stats = _stats(
        na=[[1, 0, 0], [1, 0, 0]], nd=[[1, 0, 2], [1, 0, 0]], ns=[[4, 3, 3], [4, 3, 3]]
    )
    selected = select_representative(
        stats, np.array([10, 11, 12]), excluded=np.zeros(3, dtype=bool)
    )
    best = int(np.argmax(np.maximum(stats.rat[0], stats.rdt[0])))
    assert [e.principle for e in selected[0]] == [[10, 11, 12][best]]
    assert not selected[0][0].best_agree


def test_mod_out_principles_are_never_selected():
    votes = _random_votes(4, 80, 8, 0.9)
    result = analyze(votes, mod_out=[0, 1], meta=[2])
    assert result.mod_out.tolist() == [True, True, True] + [False] * 5
    assert result.is_meta.tolist() == [False, False, True] + [False] * 5
    chosen = {
        e.principle
        for entries in result.opinion.representative.values()
        for e in entries
    }
    listed = {c.principle for c in result.consensus.agree + result.consensus.disagree}
    assert not (chosen | listed) & {0, 1, 2}
    assert result.opinion.priorities[2] == 49.0


@pytest.mark.parametrize("n_participants", [1, 2, 5])
def test_tiny_conversations_are_analysed(n_participants):
    votes = _random_votes(5, n_participants, 3, 1.0)
    result = analyze(votes)
    assert result.in_conv.sum() == n_participants  # the top-voter fill takes all
    assert len(result.opinion.labels) == n_participants
    assert np.isfinite(result.participant_projection).all()
