"""Two-component PCA and the sparsity-aware projections of Polis
(math/src/polismath/math/pca.clj; `with-proj-and-extremtiy` and the `:mat` step
of conversation.clj).

Polis fills missing votes with the column mean, centres on the column means and
finds 2 components by 100 power iterations, warm-started from the last update and
cold-started from an unseeded random vector, so its signs are arbitrary. After
that imputation and centring a missing cell is exactly 0, so the centred matrix is
as sparse as the votes; it is used as such here. Components come from an exact
eigendecomposition (Lanczos for many principles), with the sign fixed so that each
component's largest-magnitude loading is positive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]
from scipy.sparse.linalg import LinearOperator, eigsh  # type: ignore[import-untyped]

from workbench.analysis.polis.matrix import VoteMatrix

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

N_COMPONENTS = 2
DENSE_LIMIT = 400
"""Up to this many principles the Gram matrix is decomposed densely."""


@dataclass(frozen=True)
class PCA:
    """`center` per principle, `components` 2 x principles (unit rows)."""

    center: FloatArray
    components: FloatArray


def impute_column_means(values: FloatArray) -> FloatArray:
    """Dense form of Polis's `:mat`: missing votes (NaN) replaced by their column's
    mean; a column without any vote becomes 0."""
    voted = ~np.isnan(values)
    counts = voted.sum(axis=0)
    sums = np.where(voted, values, 0.0).sum(axis=0)
    means = np.divide(sums, counts, out=np.zeros(values.shape[1]), where=counts > 0)
    return np.where(voted, values, means[np.newaxis, :])


def column_means(matrix: VoteMatrix, excluded: BoolArray) -> FloatArray:
    """Mean vote per principle; 0 for an excluded (mod-out) column, which Polis
    zeroes for everyone, and for a column without votes."""
    n = matrix.shape[1]
    sums = np.bincount(matrix.cols, weights=matrix.votes, minlength=n)
    counts = np.bincount(matrix.cols, minlength=n)
    means = np.divide(sums, counts, out=np.zeros(n), where=counts > 0)
    return np.asarray(np.where(excluded, 0.0, means), dtype=np.float64)


def deviations(matrix: VoteMatrix, center: FloatArray, excluded: BoolArray) -> Any:
    """Sparse participants x principles matrix of vote - center over the cells
    voted on; excluded columns are all 0, as in Polis's rating matrix."""
    keep = ~excluded[matrix.cols]
    data = matrix.votes[keep] - center[matrix.cols[keep]]
    return sparse.csr_matrix(
        (data, (matrix.rows[keep], matrix.cols[keep])), shape=matrix.shape
    )


def _top_eigenvectors(centred: Any, k: int) -> FloatArray:
    """Top-k eigenvectors of centredᵀ·centred (k x principles)."""
    n = centred.shape[1]
    if n <= DENSE_LIMIT or k >= n - 1:
        _, vectors = np.linalg.eigh((centred.T @ centred).toarray())
        return np.asarray(vectors[:, ::-1][:, :k].T, dtype=np.float64)
    gram = LinearOperator(
        (n, n), matvec=lambda v: centred.T @ (centred @ v), dtype=np.float64
    )
    start = np.random.default_rng(0).standard_normal(n)
    values, vectors = eigsh(gram, k=k, which="LA", v0=start, tol=0)
    return np.asarray(vectors[:, np.argsort(values)[::-1]].T, dtype=np.float64)


def _fix_signs(components: FloatArray) -> FloatArray:
    """Make each component's largest-magnitude loading positive."""
    pivots = components[np.arange(len(components)), np.abs(components).argmax(axis=1)]
    signs = np.where(pivots < 0, -1.0, 1.0)
    return np.asarray(components * signs[:, np.newaxis], dtype=np.float64)


def fit_pca(
    matrix: VoteMatrix, excluded: BoolArray, n_components: int = N_COMPONENTS
) -> PCA:
    """Polis's `powerit-pca` on the column-mean-imputed rating matrix; fewer
    components when there are fewer participants or principles, the rest padded
    with zeros."""
    center = column_means(matrix, excluded)
    components = np.zeros((n_components, matrix.shape[1]))
    k = min(n_components, *matrix.shape)
    if k > 0:
        centred = deviations(matrix, center, excluded)
        components[:k] = _fix_signs(_top_eigenvectors(centred, k))
    return PCA(center=center, components=components)


def project_participants(
    matrix: VoteMatrix, pca: PCA, excluded: BoolArray
) -> FloatArray:
    """Polis's `sparsity-aware-project-ptpt`: project only the cells a participant
    voted on, then scale by sqrt(n_principles / max(n_votes, 1)) so sparse voters
    are not pulled to the centre. As in Polis, n_votes is counted on the rating
    matrix, where every excluded (mod-out) column is a 0 vote for everyone."""
    counted = ~excluded[matrix.cols]
    n_votes = np.bincount(matrix.rows[counted], minlength=matrix.shape[0])
    n_votes = n_votes + int(excluded.sum())
    scale = np.sqrt(matrix.shape[1] / np.maximum(n_votes, 1))
    projected = deviations(matrix, pca.center, excluded) @ pca.components.T
    return np.asarray(projected * scale[:, np.newaxis], dtype=np.float64)


def project_principles(pca: PCA) -> FloatArray:
    """Polis's `pca-project-cmnts`: each principle as a synthetic participant who
    agreed with it alone; principles x 2. Polis projects the agree vote with its
    internal sign (agree = -1), so its projection is this one negated when the
    components agree in sign."""
    n = pca.center.shape[0]
    return np.asarray(
        (np.sqrt(n) * (1.0 - pca.center))[:, np.newaxis] * pca.components.T
    )


def extremity(principle_projection: FloatArray) -> FloatArray:
    """Length of each principle's projection (Polis's `comment-extremity`)."""
    return np.asarray(np.linalg.norm(principle_projection, axis=1))
