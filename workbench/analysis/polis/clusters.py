"""Opinion groups: base clusters, then groups of base clusters chosen by
silhouette (Polis's math/src/polismath/math/clusters.clj and the
`:base-clusters` / `:group-clusterings` steps of conversation.clj).

Polis initialises k-means from the first k distinct points or from the last
update, and smooths k over updates; here both levels are scikit-learn k-means with
a fixed seed, so the same votes always give the same groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.cluster import KMeans  # type: ignore[import-untyped]
from sklearn.metrics import silhouette_score  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

BASE_K = 100
MAX_K = 5
RANDOM_STATE = 0
N_INIT = 10


@dataclass(frozen=True)
class Clustering:
    """`labels[i]` is point i's cluster; `centers[c]` and `sizes[c]` describe c."""

    labels: IntArray
    centers: FloatArray
    sizes: IntArray


@dataclass(frozen=True)
class OpinionGroups:
    """Base clusters of the points, the groups of base clusters, and each point's
    group (`labels`, through its base cluster). `silhouettes` maps each k tried to
    its score."""

    base: Clustering
    groups: Clustering
    labels: IntArray
    silhouettes: dict[int, float]


def _canonical(labels: IntArray) -> IntArray:
    """Renumber clusters in order of first appearance, so ids do not depend on
    k-means internals."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    return np.asarray(rank[inverse], dtype=np.int64)


def _clustering(
    points: FloatArray, labels: IntArray, weights: FloatArray | None = None
) -> Clustering:
    labels = _canonical(labels)
    n = int(labels.max()) + 1 if len(labels) else 0
    w = np.ones(len(points)) if weights is None else weights
    mass = np.bincount(labels, weights=w, minlength=n)
    centers = (
        np.stack(
            [
                np.bincount(labels, weights=w * points[:, d], minlength=n)
                for d in (0, 1)
            ],
            axis=1,
        )
        / np.maximum(mass, np.finfo(float).tiny)[:, np.newaxis]
    )
    sizes = np.bincount(labels, minlength=n).astype(np.int64)
    return Clustering(labels=labels, centers=centers, sizes=sizes)


def kmeans(
    points: FloatArray,
    k: int,
    *,
    weights: FloatArray | None = None,
    random_state: int = RANDOM_STATE,
    n_init: int = N_INIT,
) -> Clustering:
    """Seeded k-means (k-means++ init, several restarts); k is capped at the number
    of distinct points, like Polis's `init-clusters`."""
    k = min(k, len(np.unique(points, axis=0)))
    if k <= 1:
        return _clustering(points, np.zeros(len(points), dtype=np.int64), weights)
    model = KMeans(n_clusters=k, n_init=n_init, random_state=random_state)
    labels = model.fit_predict(points, sample_weight=weights)
    return _clustering(points, np.asarray(labels, dtype=np.int64), weights)


def max_group_k(n_base: int, max_k: int = MAX_K) -> int:
    """Polis's `max-k-fn`: min(5, 2 + n_base // 12)."""
    return min(max_k, 2 + n_base // 12)


def choose_groups(
    base: Clustering, *, random_state: int = RANDOM_STATE
) -> tuple[Clustering, dict[int, float]]:
    """Weighted k-means over the base centres (weight = base size) for each
    k in 2..max_group_k, keeping the k with the best silhouette on the base
    centres (unweighted, as Polis's `silhouette`; a singleton scores 0). Ties go to
    the smaller k. With fewer than 3 distinct base centres there is no choice to
    make: each is its own group."""
    centers, weights = base.centers, base.sizes.astype(np.float64)
    n_distinct = len(np.unique(centers, axis=0))
    candidates = range(2, min(max_group_k(len(centers)), n_distinct - 1) + 1)
    if not candidates:
        return kmeans(centers, 2, weights=weights, random_state=random_state), {}
    options = {
        k: kmeans(centers, k, weights=weights, random_state=random_state)
        for k in candidates
    }
    scores = {
        k: float(silhouette_score(centers, option.labels))
        for k, option in options.items()
    }
    best = max(scores, key=lambda k: (scores[k], -k))
    return options[best], scores


def opinion_groups(
    points: FloatArray,
    *,
    base_k: int = BASE_K,
    random_state: int = RANDOM_STATE,
) -> OpinionGroups:
    """Two-level clustering of participant projections (Polis's base clusters, then
    group clusters)."""
    base = kmeans(points, base_k, random_state=random_state)
    groups, silhouettes = choose_groups(base, random_state=random_state)
    labels = groups.labels[base.labels] if len(points) else base.labels
    return OpinionGroups(
        base=base, groups=groups, labels=labels, silhouettes=silhouettes
    )
