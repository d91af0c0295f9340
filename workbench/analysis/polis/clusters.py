"""Opinion groups: base clusters, then groups of base clusters chosen by
silhouette, as Polis computes them from scratch (math/src/polismath/math/
clusters.clj `kmeans`, and the `:base-clusters` / `:group-clusterings` steps of
conversation.clj). There is no randomness: the same votes always give the same
groups, whatever the order of the vote rows.

Both levels are Polis's k-means (`kmeans`):

- start from the first k distinct points (`init-clusters`), in row order. The
  participants' rows are sorted by participant id (matrix.py), which is Polis's
  row order up to the rare participant who joined before someone but voted after
  them (Polis orders rows by first vote, pids by joining);
- each step assigns every point to its nearest centre and moves each centre to its
  members' (weighted) mean; a centre left without members is dropped, so a level
  can end with fewer than k clusters (`cluster-step`);
- stop once every centre, matched to the previous ones in sorted order, has moved
  less than 0.01 (`same-clustering?`), or after max_iters + 1 steps: 101 for the
  base clusters (`:base-iters` 100) and 21 for the groups (the group call passes
  `:cluster-iters`, which `kmeans` ignores, so its default of 20 applies).

Cluster ids are the order of the starting points, as Polis's; clusters that Polis
would drop are left out and the others renumbered from 0 in that order. A point
equidistant from two centres goes to the lower id (Polis: to the last in a hash
map's order).

Polis itself warm-starts both levels from its previous update (`clean-start-
clusters`) and smooths k over updates (`:group-k-smoother`); a computation from
scratch cannot. Agreement with Polis's exported partitions (adjusted Rand index)
is in tests/analysis/test_polis_clusters.py and test_polis_opendata.py.

Silhouettes are computed from one base-centre distance matrix (Polis's
`bucket-dists`) shared by every candidate k, with Polis's rule that a member of a
singleton cluster scores 0 (the same value as scikit-learn's silhouette_score).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from workbench.analysis.polis.threads import single_threaded

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BASE_K = 100
MAX_K = 5
BASE_ITERS = 100
GROUP_ITERS = 20
CONVERGED = 0.01


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


def first_distinct(points: FloatArray, k: int) -> FloatArray:
    """The first k distinct rows of `points`, in row order (Polis's
    `init-clusters`); fewer if there are fewer distinct rows."""
    _, first = np.unique(points, axis=0, return_index=True)
    return np.asarray(points[np.sort(first)[:k]], dtype=np.float64)


def _nearest(points: FloatArray, centers: FloatArray) -> IntArray:
    """Each point's nearest centre, the lowest index on a tie. Squared distances
    are summed per coordinate, elementwise, so a point's result does not depend on
    its row's position (as a matrix product's blocking might)."""
    squared = np.zeros((len(points), len(centers)))
    for d in range(points.shape[1]):
        squared += (points[:, d, np.newaxis] - centers[np.newaxis, :, d]) ** 2
    return np.asarray(squared.argmin(axis=1), dtype=np.int64)


def _means(
    points: FloatArray, weights: FloatArray, labels: IntArray, k: int
) -> tuple[FloatArray, BoolArray]:
    """Weighted member mean of each of k clusters (Polis's `weighted-mean`), and
    which clusters have members."""
    mass = np.bincount(labels, weights=weights, minlength=k)
    sums = np.stack(
        [
            np.bincount(labels, weights=weights * points[:, d], minlength=k)
            for d in range(points.shape[1])
        ],
        axis=1,
    )
    occupied = np.bincount(labels, minlength=k) > 0
    means = sums / np.maximum(mass, np.finfo(float).tiny)[:, np.newaxis]
    return means, occupied


def _sorted_rows(centers: FloatArray) -> FloatArray:
    return np.asarray(centers[np.lexsort(centers.T[::-1])], dtype=np.float64)


def same_clustering(
    old: FloatArray, new: FloatArray, threshold: float = CONVERGED
) -> bool:
    """Polis's `same-clustering?`: both sets of centres sorted, paired in that
    order (the shorter set decides how many pairs), every pair closer than
    `threshold`."""
    n = min(len(old), len(new))
    step = _sorted_rows(old)[:n] - _sorted_rows(new)[:n]
    return bool((np.sqrt((step**2).sum(axis=1)) < threshold).all())


def kmeans(
    points: FloatArray,
    k: int,
    *,
    weights: FloatArray | None = None,
    max_iters: int = BASE_ITERS,
) -> Clustering:
    """Polis's k-means (module docstring): starts from the first k distinct points,
    drops a centre left without members, stops when no centre moves 0.01 or after
    max_iters + 1 steps. `weights` (default 1) weigh the points in the means, as
    base-cluster sizes do at the group level. Centres are the weighted member
    means, labels follow the starting points' order."""
    w = np.ones(len(points)) if weights is None else weights
    if len(points) == 0:
        return Clustering(
            labels=np.zeros(0, dtype=np.int64),
            centers=np.zeros((0, points.shape[1] if points.ndim == 2 else 2)),
            sizes=np.zeros(0, dtype=np.int64),
        )
    centers = first_distinct(points, max(k, 1))
    labels = np.zeros(len(points), dtype=np.int64)
    for _ in range(max_iters + 1):
        labels = _nearest(points, centers)
        means, occupied = _means(points, w, labels, len(centers))
        labels = np.asarray((np.cumsum(occupied) - 1)[labels], dtype=np.int64)
        moved = means[occupied]
        converged = same_clustering(centers, moved)
        centers = moved
        if converged:
            break
    sizes = np.asarray(np.bincount(labels, minlength=len(centers)), dtype=np.int64)
    return Clustering(labels=labels, centers=centers, sizes=sizes)


def max_group_k(n_base: int, max_k: int = MAX_K) -> int:
    """Polis's `max-k-fn`: min(5, 2 + n_base // 12)."""
    return min(max_k, 2 + n_base // 12)


def distance_matrix(points: FloatArray) -> FloatArray:
    """Euclidean distances between all pairs of points (Polis's `bucket-dists`,
    `named-dist-matrix` in clusters.clj)."""
    difference = points[:, np.newaxis, :] - points[np.newaxis, :, :]
    return np.asarray(np.sqrt((difference**2).sum(axis=2)), dtype=np.float64)


def silhouette(distances: FloatArray, labels: IntArray) -> float:
    """Mean silhouette of a clustering from its points' distance matrix (Polis's
    `silhouette` in clusters.clj): a = mean distance to the other members of the
    point's cluster, b = lowest mean distance to another cluster's members,
    s = (b - a) / max(a, b); a member of a singleton cluster scores 0. A single
    cluster scores 0."""
    n_clusters = int(labels.max()) + 1 if len(labels) else 0
    if n_clusters < 2:
        return 0.0
    members = np.zeros((len(labels), n_clusters))
    members[np.arange(len(labels)), labels] = 1.0
    sizes = members.sum(axis=0)
    totals = distances @ members
    rows = np.arange(len(labels))
    own_size = sizes[labels]
    a = totals[rows, labels] / np.maximum(own_size - 1, 1)
    means = np.divide(totals, sizes, out=np.full_like(totals, np.inf), where=sizes > 0)
    means[rows, labels] = np.inf
    b = means.min(axis=1)
    spread = np.maximum(a, b)
    scores = np.divide(b - a, spread, out=np.zeros_like(a), where=spread > 0)
    return float(np.where(own_size > 1, scores, 0.0).mean())


def choose_groups(base: Clustering) -> tuple[Clustering, dict[int, float]]:
    """Polis's k-means over the base centres (weight = base size, Polis's
    `base-clusters-weights`; at most 20 further steps) for each k in
    2..max_group_k, keeping the k with the best silhouette on the base centres
    (unweighted, as Polis's `silhouette` over `bucket-dists`). Ties go to the
    smaller k. With fewer than 3 distinct base centres there is no choice to make:
    each is its own group."""
    centers, weights = base.centers, base.sizes.astype(np.float64)
    n_distinct = len(np.unique(centers, axis=0))
    candidates = range(2, min(max_group_k(len(centers)), n_distinct - 1) + 1)
    if not candidates:
        return kmeans(centers, 2, weights=weights, max_iters=GROUP_ITERS), {}
    options = {
        k: kmeans(centers, k, weights=weights, max_iters=GROUP_ITERS)
        for k in candidates
    }
    distances = distance_matrix(centers)
    scores = {k: silhouette(distances, option.labels) for k, option in options.items()}
    best = max(scores, key=lambda k: (scores[k], -k))
    return options[best], scores


def opinion_groups(points: FloatArray, *, base_k: int = BASE_K) -> OpinionGroups:
    """Two-level clustering of participant projections, rows in participant order
    (Polis's base clusters, then group clusters), on one thread (see threads.py)."""
    with single_threaded():
        base = kmeans(points, base_k)
        groups, silhouettes = choose_groups(base)
    labels = groups.labels[base.labels] if len(points) else base.labels
    return OpinionGroups(
        base=base, groups=groups, labels=labels, silhouettes=silhouettes
    )
