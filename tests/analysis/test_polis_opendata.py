"""The analysis run from scratch on the openData conversations (CC BY 4.0, The
Computational Democracy Project; shared/data/polis/README.md), compared with what
Polis exported: its `group-id` partition and bg2050's group-informed-consensus.

Recorded figures (seeded, so they are reproducible; Polis's own k-means is not):

| conversation    | participants x principles | k ours | k Polis | ARI    |
|-----------------|---------------------------|--------|---------|--------|
| vtaiwan.uberx   | 1,921 x 197               | 2      | 2       | 0.9186 |
| austria-climate | 1,116 x 522               | 2      | 2       | 0.9605 |
| scoop-hivemind  | 234 x 71                  | 2      | 4       | 0.0947 |
| bg2050          | 126 x 371                 | 2      | 2       | 0.1939 |

ARI is over participants both sides grouped. scoop-hivemind: Polis exported 4
groups for all 234 participants, including ones under 7 votes, so its partition
comes from an earlier, sticky state (Polis keeps in-conv participants and smooths
k over updates); ours picks k = 2 by silhouette.

bg2050 (k matches, ARI 0.19; an expected failure, kept strict). Polis splits the
107 participants both sides grouped 99/8; ours is 106/1. The one is participant
91 (323 votes on 371 comments), whose projection lies 21.4 from the centre of the
other 106 (their median distance to it: 1.34); Polis puts them with 7 others in a
minority group whose centre lies 7.6 from the majority's. On our 100 base
clusters, weighted k-means with k = 2:

- ours (best weighted inertia of 10 k-means++ starts): 106/1, weighted inertia
  772.8, silhouette 0.850 on the base centres (k = 3, 4, 5: 0.478, 0.461, 0.433),
  0.856 on the participants. Unweighted k-means gives the same 106/1.
- Polis's own group step (first k distinct base centres, at most 20 further
  iterations, clusters.clj `kmeans` / `init-clusters`): 99/8, ARI 1.000 with
  Polis, weighted inertia 799.5, silhouette 0.674 (k = 3, 4, 5: 0.447, 0.364,
  0.370), 0.686 on the participants.

So Polis's partition is the worse one by both the k-means objective (+3.5 %) and
silhouette; only its start reaches it. That step was not adopted because it breaks
two bounds of test_polis_clusters.py on the red-dwarf fixtures, where it gives:
25ptpt-3gp-no-strict-with-meta silhouette 0.432 < Polis's 0.444 (ours 0.452), and
above-100-ptpts within-group sum of squares 359.7 > Polis's 359.6 with the same k
(ours picks k = 3 there). Elsewhere it agrees with Polis at least as well as ours
does (ARI: below-100 0.72 vs 0.41, 50ptpt 1.00 vs 0.86, 150ptpt 0.45 vs 0.52,
above-100 0.87 vs 0.42, vtaiwan and austria identical, scoop 0.06 vs 0.09).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from tests.analysis.conftest import polis_data_dir
from workbench.analysis.polis.pipeline import AnalysisResult, analyze
from workbench.analysis.thresholds import group_aware_consensus_from_counts

VTAIWAN = "vtaiwan.uberx"
AUSTRIA = "austria-climate.5twd2jsnkf.2022-08-08"
SCOOP = "scoop-hivemind.ubi"
BG2050 = "bg2050-volunteers"

# conversation: (k ours, k Polis, ARI to 4 decimals)
RECORDED = {
    VTAIWAN: (2, 2, 0.9186),
    AUSTRIA: (2, 2, 0.9605),
    SCOOP: (2, 4, 0.0947),
    BG2050: (2, 2, 0.1939),
}


@dataclass(frozen=True)
class OpenData:
    participants_votes: pd.DataFrame
    comments: pd.DataFrame

    @property
    def votes(self) -> pd.DataFrame:
        """Long-form votes (agree +1) from the participants x comments grid."""
        grid = self.participants_votes
        columns = [c for c in grid.columns if c.isdigit()]
        long = grid.melt(
            id_vars=["participant"],
            value_vars=columns,
            var_name="principle",
            value_name="vote",
        ).dropna()
        return long.astype({"principle": int, "vote": int})

    @property
    def mod_out(self) -> list[int]:
        return self.comments.loc[self.comments.moderated == -1, "comment-id"].tolist()

    @property
    def meta(self) -> list[int]:
        if "is-meta" not in self.comments:
            return []
        flags = self.comments["is-meta"].astype(str).str.lower() == "true"
        return self.comments.loc[flags, "comment-id"].tolist()

    @property
    def polis_groups(self) -> pd.Series:
        """participant -> Polis's exported group id, for grouped participants."""
        return self.participants_votes.set_index("participant")["group-id"].dropna()


@cache
def load(name: str) -> OpenData:
    folder = polis_data_dir() / name
    return OpenData(
        participants_votes=pd.read_csv(folder / "participants-votes.csv"),
        comments=pd.read_csv(folder / "comments.csv"),
    )


@cache
def analysed(name: str) -> AnalysisResult:
    data = load(name)
    return analyze(data.votes, mod_out=data.mod_out, meta=data.meta)


def ari(name: str) -> tuple[int, int, float]:
    result = analysed(name)
    ours = pd.Series(result.opinion.labels, index=result.matrix.participants)
    theirs = load(name).polis_groups
    common = theirs.index.intersection(ours[ours >= 0].index)
    score = adjusted_rand_score(theirs[common], ours[common])
    return len(result.opinion.group_ids), theirs.nunique(), float(score)


@pytest.mark.parametrize("name", [VTAIWAN, AUSTRIA, SCOOP, BG2050])
def test_figures_match_the_recorded_ones(name):
    k_ours, k_polis, score = ari(name)
    assert (k_ours, k_polis, round(score, 4)) == RECORDED[name]


@pytest.mark.parametrize(
    "name",
    [
        VTAIWAN,
        AUSTRIA,
        pytest.param(
            BG2050,
            marks=pytest.mark.xfail(
                strict=True,
                reason="Polis 99/8, ours 106/1: Polis's split is the worse k-means "
                "optimum (module docstring)",
            ),
        ),
    ],
)
def test_groups_agree_with_polis_where_the_group_count_matches(name):
    k_ours, k_polis, score = ari(name)
    assert k_ours == k_polis
    assert score > 0.7


def test_scoop_hivemind_group_count_differs_from_polis():
    k_ours, k_polis, _ = ari(SCOOP)
    assert (k_ours, k_polis) == (2, 4)


def _bg2050_exported_gac() -> pd.Series:
    comments = load(BG2050).comments
    return comments.set_index("comment-id")["group-informed-consensus"]


def test_bg2050_group_informed_consensus_is_reproduced_from_polis_groups():
    data = load(BG2050)
    groups = data.polis_groups.astype(int).to_dict()
    result = analyze(data.votes, mod_out=data.mod_out, meta=data.meta, groups=groups)
    assert result.predefined is not None
    ours = pd.Series(
        result.predefined.group_aware_consensus, index=result.matrix.principles
    )
    expected = _bg2050_exported_gac()
    # A comment nobody voted on has no column; each group then contributes 1/2.
    n_groups = len(result.predefined.group_ids)
    ours = ours.reindex(expected.index, fill_value=0.5**n_groups)
    assert len(expected) == 371
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)


def test_bg2050_group_informed_consensus_from_count_matrices():
    """The same figure through thresholds.py's principles x groups counts."""
    data = load(BG2050)
    votes = data.votes.merge(
        data.polis_groups.rename("group").astype(int),
        left_on="participant",
        right_index=True,
    )
    comments = _bg2050_exported_gac().index
    counts = votes.assign(agree=votes.vote.eq(1)).groupby(["principle", "group"])
    agree = counts["agree"].sum().unstack(fill_value=0).reindex(comments, fill_value=0)
    total = counts.size().unstack(fill_value=0).reindex(comments, fill_value=0)
    gac = group_aware_consensus_from_counts(agree.to_numpy(), total.to_numpy())
    np.testing.assert_allclose(gac, _bg2050_exported_gac(), rtol=0, atol=1e-12)
