"""Vote statistics from Polis's math/src/polismath/math/stats.clj and the
`comment-stats` graph in repness.clj. Every function is vectorised over arrays."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

Z_90 = 1.2816
"""One-sided 90% critical value used by Polis's `z-sig-90?`."""


def smoothed_probability(successes: ArrayLike, trials: ArrayLike) -> FloatArray:
    """(s + 1) / (n + 2): the `pa` / `pd` of repness.clj (a Beta(1, 1) prior)."""
    s = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    return np.asarray((s + 1.0) / (n + 2.0), dtype=np.float64)


def prop_test(successes: ArrayLike, trials: ArrayLike) -> FloatArray:
    """Polis's `prop-test`: 2·sqrt(n+1)·((s+1)/(n+1) - 0.5), the z of a one-sample
    test of the proportion against 0.5 after adding one success and one trial."""
    s = np.asarray(successes, dtype=np.float64) + 1.0
    n = np.asarray(trials, dtype=np.float64) + 1.0
    return np.asarray(2.0 * np.sqrt(n) * (s / n - 0.5), dtype=np.float64)


def two_prop_test(
    successes_in: ArrayLike,
    successes_out: ArrayLike,
    trials_in: ArrayLike,
    trials_out: ArrayLike,
) -> FloatArray:
    """Polis's `two-prop-test`: the pooled two-proportion z after adding 1 to all
    four counts; 0 where the pooled proportion is 1."""
    s1 = np.asarray(successes_in, dtype=np.float64) + 1.0
    s2 = np.asarray(successes_out, dtype=np.float64) + 1.0
    n1 = np.asarray(trials_in, dtype=np.float64) + 1.0
    n2 = np.asarray(trials_out, dtype=np.float64) + 1.0
    pooled = (s1 + s2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    degenerate = pooled == 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (s1 / n1 - s2 / n2) / np.sqrt(np.where(degenerate, 1.0, variance))
    return np.asarray(np.where(degenerate, 0.0, z), dtype=np.float64)


def z_sig_90(z: ArrayLike) -> npt.NDArray[np.bool_]:
    """Polis's `z-sig-90?`: z > 1.2816."""
    return np.asarray(np.asarray(z) > Z_90)
