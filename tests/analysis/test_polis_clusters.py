"""Opinion groups: deterministic, and compared with Polis's partition by
adjusted Rand index (Polis's labels depend on its history, so label equality is
not expected)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score

from tests.analysis.conftest import FIXTURES, load_fixture
from tests.analysis.test_polis_reference import analysed
from workbench.analysis.polis import analyze
from workbench.analysis.polis.clusters import (
    distance_matrix,
    first_distinct,
    kmeans,
    max_group_k,
    opinion_groups,
    same_clustering,
    silhouette,
)

# ARI against Polis's groups on the participants both put in groups, floors at the
# measured value rounded down to 0.05. Measured with Polis's own k-means (first k
# distinct points, clusters.clj; seed-free), k ours / Polis's in brackets:
#
# | fixture         | ARI now         | ARI before (seeded k-means++) |
# |-----------------|-----------------|-------------------------------|
# | below-100       | 0.7167 (2 / 3)  | 0.4095 (3 / 3)                |
# | 25ptpt          | 0.6330 (3 / 3)  | 0.7782 (3 / 3)                |
# | 50ptpt          | 1.0000 (3 / 3)  | 0.8641 (4 / 3)                |
# | 150ptpt         | 0.2590 (3 / 3)  | 0.5180 (3 / 3)                |
# | above-100       | 0.8831 (4 / 4)  | 0.4219 (3 / 4)                |
# | mean            | 0.6984          | 0.5983                        |
#
# These floors replace two bounds that required our partition to be no worse than
# Polis's by silhouette and by within-group sum of squares. Those were a proxy for
# quality; issue 3 asks for agreement with Polis's partition, and Polis's start
# reaches Polis's partitions even where a better k-means optimum exists (25ptpt
# silhouette 0.432 against Polis's 0.444; above-100 within-group SS 360.9 against
# 359.6; bg2050 in test_polis_opendata.py). Polis's own figures come from warm
# starts over its history and a sticky in-conv set (below-100: Polis 23 in-conv,
# ours 19; 150ptpt 121 against 117), which a cold run cannot replay; 150ptpt is
# where that costs most.
ARI_FLOORS = {
    "below-100-ptpts": 0.70,
    "25ptpt-3gp-no-strict-with-meta": 0.60,
    "50ptpt-3gp-strict-no-meta": 1.00,
    "150ptpt-3gp-no-strict-no-meta": 0.25,
    "above-100-ptpts": 0.85,
}
# Mean over the five, rounded down to 0.05: measured 0.6984 (seeded k-means++: 0.5983).
MEAN_ARI_FLOOR = 0.65


def _polis_and_ours(fixture):
    result = analysed(fixture.name)
    groups = fixture.groups
    polis = np.array([groups.get(p, -1) for p in result.matrix.participants.tolist()])
    both = (polis >= 0) & (result.opinion.labels >= 0)
    return result, polis[both], result.opinion.labels[both], both


def _ari(fixture):
    _, polis, ours, _ = _polis_and_ours(fixture)
    return adjusted_rand_score(polis, ours)


def test_groups_agree_with_polis_by_ari(polis_fixture, record_property):
    ari = _ari(polis_fixture)
    record_property("ari", ari)
    assert ari >= ARI_FLOORS[polis_fixture.name]


def test_mean_agreement_with_polis_over_the_fixtures():
    scores = [_ari(load_fixture(name)) for name in FIXTURES]
    assert np.mean(scores) >= MEAN_ARI_FLOOR


def test_same_votes_give_same_groups(polis_fixture):
    first = analyze(polis_fixture.votes, mod_out=polis_fixture.mod_out)
    shuffled = polis_fixture.votes.sample(frac=1.0, random_state=7)
    # Each (participant, principle) has one row, so the order carries no meaning.
    second = analyze(shuffled, mod_out=polis_fixture.mod_out)
    np.testing.assert_array_equal(first.opinion.labels, second.opinion.labels)
    np.testing.assert_array_equal(
        first.clustering.base.labels, second.clustering.base.labels
    )


def test_k_is_chosen_by_silhouette_within_polis_range(polis_fixture):
    clustering = analysed(polis_fixture.name).clustering
    n_base = len(clustering.base.sizes)
    assert sorted(clustering.silhouettes) == list(range(2, max_group_k(n_base) + 1))
    best = max(clustering.silhouettes, key=clustering.silhouettes.get)
    assert len(clustering.groups.sizes) == best


def test_max_group_k_follows_polis():
    assert [max_group_k(n) for n in (2, 11, 12, 24, 36, 100)] == [2, 2, 3, 4, 5, 5]


def test_group_centres_are_member_means(polis_fixture):
    result = analysed(polis_fixture.name)
    points = result.participant_projection[result.in_conv]
    groups = result.clustering
    for g, centre in enumerate(groups.groups.centers):
        np.testing.assert_allclose(
            centre, points[groups.labels == g].mean(axis=0), atol=1e-12
        )
    assert groups.base.sizes.sum() == len(points)


def test_base_clusters_are_capped_at_distinct_points():
    points = np.repeat(
        np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [6.0, 5.0]]), 3, axis=0
    )
    groups = opinion_groups(points, base_k=100)
    assert len(groups.base.sizes) == 4
    assert adjusted_rand_score(groups.labels, [0] * 6 + [1] * 6) == 1.0


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_inputs_do_not_fail(n):
    groups = opinion_groups(np.arange(2 * n, dtype=float).reshape(n, 2))
    assert len(groups.labels) == n


def test_silhouette_equals_scikit_learn():
    """Polis's silhouette (a singleton scores 0) is scikit-learn's."""
    rng = np.random.default_rng(3)
    for n, k in [(5, 2), (30, 3), (100, 5)]:
        points = rng.normal(size=(n, 2))
        labels = np.arange(n) % k
        labels[-1] = k  # a singleton cluster
        assert silhouette(distance_matrix(points), labels) == pytest.approx(
            silhouette_score(points, labels), abs=1e-12
        )


def test_weighted_kmeans_weights_count_as_copies():
    rng = np.random.default_rng(4)
    points = np.vstack([rng.normal(0, 1, (20, 2)), rng.normal(8, 1, (20, 2))])
    weights = rng.integers(1, 5, size=40).astype(float)
    weighted = kmeans(points, 2, weights=weights)
    copies = np.repeat(points, weights.astype(int), axis=0)
    expanded = kmeans(copies, 2)
    np.testing.assert_allclose(weighted.centers, expanded.centers)
    assert weighted.labels.tolist() == [0] * 20 + [1] * 20


def test_kmeans_is_deterministic_and_caps_k():
    points = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    first = kmeans(points, 5)
    assert first.labels.tolist() == [0, 0, 1]
    again = kmeans(points, 5)
    np.testing.assert_array_equal(first.centers, again.centers)


def test_kmeans_starts_from_the_first_distinct_points():
    """Polis's `init-clusters`: the first k distinct rows, in row order; cluster
    ids follow those starting points."""
    x = np.array([5.0, 5.0, 0.0, 1.0, 4.0])
    points = np.column_stack([x, np.zeros_like(x)])
    np.testing.assert_array_equal(first_distinct(points, 2), [[5.0, 0.0], [0.0, 0.0]])
    assert kmeans(points, 2).labels.tolist() == [0, 0, 1, 1, 0]
    reordered = points[[2, 0, 1, 3, 4]]  # 0 first: it starts cluster 0
    assert kmeans(reordered, 2).labels.tolist() == [0, 1, 1, 0, 1]


def test_kmeans_drops_a_cluster_left_empty():
    """Polis's `cluster-step` drops a centre that no point is nearest to. Starts
    9.9, 2.4, 2.3; after one step the centres are 7.67 (9.9, 6.5, 6.6), 3.63 (2.4,
    2.8, 5.7) and 2.3; in the next, 2.4 and 2.8 go to 2.3 and 5.7 to 7.67, so the
    second cluster is left empty."""
    x = np.array([9.9, 2.4, 2.3, 2.8, 5.7, 6.5, 6.6])
    clustering = kmeans(np.column_stack([x, np.zeros_like(x)]), 3)
    assert clustering.labels.tolist() == [0, 1, 1, 1, 0, 0, 0]
    assert clustering.sizes.tolist() == [4, 3]
    np.testing.assert_allclose(clustering.centers[:, 0], [7.175, 2.5])


def test_kmeans_stops_when_no_centre_moves_a_hundredth():
    """Polis's `same-clustering?`: centres paired in sorted order."""
    old = np.array([[0.0, 0.0], [1.0, 1.0]])
    assert same_clustering(old, np.array([[1.0, 1.009], [0.0, 0.0]]))
    assert not same_clustering(old, np.array([[1.0, 1.01], [0.0, 0.0]]))
