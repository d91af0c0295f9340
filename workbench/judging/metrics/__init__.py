"""Encoding-gap metrics: how far a judge's reading of a principle is from the raters'.

Pure functions over pandas frames - no ORM, no Django. Definitions follow
``shared/reference/encoding-gap.md`` section 5 (numbers such as "5.2" in the
docstrings refer to its items); estimators come from scipy, scikit-learn,
statsmodels and krippendorff.

Input, per principle
--------------------
Human labels: a long table (``pandas.DataFrame``) with one row per judgment and
columns

* ``item`` - the comparison (principle version x prompt x response pair);
* ``rater`` - the participant;
* ``group`` - the participant's group (optional column; None = no group);
* ``label`` - ``"a"``, ``"b"``, ``"tie"`` or ``"na"`` (the principle does not
  apply). ``na`` and missing labels are excluded from agreement.

Judge verdicts: one row per item with columns

* ``item``;
* ``label_ab`` / ``label_ba`` - the hard answer when A was shown first / when B
  was shown first, already mapped back to the original A and B: a, b, tie, na or
  None (abstained, malformed);
* ``p_a_ab`` / ``p_a_ba`` (optional) - the probability that the original A is
  better in each order, or None.

The combined verdict J (:func:`combine_verdicts`) is the shared label when both
orders answered the same, ``"tie"`` when they answered differently, and None when
either order abstained or said "does not apply". p_J is the mean of the available
per-order probabilities, else 1 / 0 / 0.5 from J.

Items (optional; without it the length and ranking figures are None): one row
per item with columns

* ``item``;
* ``prompt`` - the prompt's id: items of one principle that share a prompt and
  together compare 3+ of its responses are ranked (section 5.7);
* ``response_a`` / ``response_b`` - the two responses' ids (the same response in
  several items keeps its id);
* ``length_a`` / ``length_b`` - the responses' lengths in characters, for
  P(prefer longer) (section 5.10).

Opinion groups (optional): rater -> opinion group (e.g. from the workshop's
opinion analysis); the report then has a per-opinion-group block next to the
per-group one.

Figures beyond the agreement core: Gwet's AC1 (:func:`gwet_ac1`, section 5.5),
P(prefer longer) and the flipped-label check (``controls``, section 5.10), and
Kendall tau_b / Spearman rho over rankings of 3+ responses built from the
pairwise comparisons (:func:`pairwise_ranking_figures`, section 5.7).

Conventions
-----------
Agreement figures use items with at least two human labels. Every function
returns a :class:`Figure` - ``value`` (NaN when undefined), ``n`` and ``reason`` -
and never raises on degenerate data (no labels, one rater, all ties, a judge that
always abstains); malformed tables (unknown labels, missing columns) raise
ValueError. Random choices (tie-breaking of modes, noise-floor halves, bootstrap,
permutations) use ``numpy.random.default_rng(seed)`` so a figure is reproducible.
"""

from __future__ import annotations

from workbench.judging.metrics._data import (
    LABELS,
    NA,
    Figure,
    TieBreak,
    chance,
    combine_verdicts,
    normalise_labels,
)
from workbench.judging.metrics.agreement import (
    cohen_kappa,
    first_position_rate,
    gap,
    gwet_ac1,
    human_ceiling,
    judge_agreement,
    krippendorff_alpha,
    normalized_agreement,
    order_consistency,
    relevance,
)
from workbench.judging.metrics.controls import (
    judge_agreement_flipped,
    longer_response,
    prefer_longer,
    prefer_longer_share,
)
from workbench.judging.metrics.distribution import (
    brier_score,
    js_distance,
    js_noise_floor,
    preference_share,
)
from workbench.judging.metrics.inference import (
    benjamini_hochberg,
    cluster_bootstrap,
    permutation_p_value,
    wilson_interval,
)
from workbench.judging.metrics.ranking import (
    borda_scores,
    kendall_tau,
    kendall_tau_ceiling,
    pairwise_ranking_figures,
    ranked_prompts,
    win_rates,
)
from workbench.judging.metrics.report import principle_report

__all__ = [
    "LABELS",
    "NA",
    "Figure",
    "TieBreak",
    "benjamini_hochberg",
    "borda_scores",
    "brier_score",
    "chance",
    "cluster_bootstrap",
    "cohen_kappa",
    "combine_verdicts",
    "first_position_rate",
    "gap",
    "gwet_ac1",
    "human_ceiling",
    "js_distance",
    "js_noise_floor",
    "judge_agreement",
    "judge_agreement_flipped",
    "kendall_tau",
    "kendall_tau_ceiling",
    "krippendorff_alpha",
    "longer_response",
    "normalise_labels",
    "normalized_agreement",
    "order_consistency",
    "pairwise_ranking_figures",
    "permutation_p_value",
    "prefer_longer",
    "prefer_longer_share",
    "preference_share",
    "principle_report",
    "ranked_prompts",
    "relevance",
    "wilson_interval",
    "win_rates",
]
