"""Opinion groups: deterministic, and compared with Polis's partition by
adjusted Rand index (Polis's labels depend on its history, so label equality is
not expected)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score

from tests.analysis.test_polis_reference import analysed
from workbench.analysis.polis import analyze
from workbench.analysis.polis.clusters import (
    distance_matrix,
    max_group_k,
    opinion_groups,
    silhouette,
    weighted_kmeans,
)

# ARI against Polis's groups on the participants both put in groups. Measured:
# below-100 0.41, 25ptpt 0.78, 50ptpt 0.86, 150ptpt 0.52, above-100 0.42. below-100
# and 150ptpt are fixtures where Polis's partition is the worse k-means solution
# with the same k (within-group sum of squares 56.3 vs 38.0 and 365.5 vs 359.6,
# checked below), i.e. Polis sits in a history-dependent local optimum. above-100
# depends on the base clusters: silhouette picks k = 3 (0.392 against 0.390 for
# k = 5) from the one seeded k-means++ start, k = 5 (ARI 0.94-0.97) from others.
ARI_FLOOR = 0.4


def _polis_and_ours(fixture):
    result = analysed(fixture.name)
    groups = fixture.groups
    polis = np.array([groups.get(p, -1) for p in result.matrix.participants.tolist()])
    both = (polis >= 0) & (result.opinion.labels >= 0)
    return result, polis[both], result.opinion.labels[both], both


def _within_ss(points, labels):
    return sum(
        ((points[labels == g] - points[labels == g].mean(0)) ** 2).sum()
        for g in np.unique(labels)
    )


def test_groups_agree_with_polis_by_ari(polis_fixture, record_property):
    _, polis, ours, _ = _polis_and_ours(polis_fixture)
    ari = adjusted_rand_score(polis, ours)
    record_property("ari", ari)
    assert ari >= ARI_FLOOR


def test_groups_are_no_worse_than_polis_by_silhouette(polis_fixture):
    """On the same projected points, our partition's silhouette is at least
    Polis's (the criterion both use to choose k)."""
    result, polis, ours, both = _polis_and_ours(polis_fixture)
    points = result.participant_projection[both]
    assert silhouette_score(points, ours) >= silhouette_score(points, polis)


def test_groups_are_no_worse_than_polis_by_within_ss_when_k_matches(polis_fixture):
    result, polis, ours, both = _polis_and_ours(polis_fixture)
    if len(np.unique(ours)) != len(np.unique(polis)):
        pytest.skip("k differs (50ptpt: 4 vs 3, above-100: 3 vs 4); SS not comparable")
    points = result.participant_projection[both]
    assert _within_ss(points, ours) <= _within_ss(points, polis)


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
    weighted = weighted_kmeans(points, weights, 2)
    copies = np.repeat(points, weights.astype(int), axis=0)
    expanded = weighted_kmeans(copies, np.ones(len(copies)), 2)
    np.testing.assert_allclose(
        np.sort(weighted.centers, axis=0), np.sort(expanded.centers, axis=0)
    )
    assert weighted.labels.tolist() == [0] * 20 + [1] * 20


def test_weighted_kmeans_is_deterministic_and_caps_k():
    points = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    first = weighted_kmeans(points, np.ones(3), 5)
    assert first.labels.tolist() == [0, 0, 1]
    again = weighted_kmeans(points, np.ones(3), 5)
    np.testing.assert_array_equal(first.centers, again.centers)
