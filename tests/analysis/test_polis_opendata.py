"""The analysis run from scratch on the openData conversations (CC BY 4.0, The
Computational Democracy Project; shared/data/polis/README.md), compared with what
Polis exported: its `group-id` partition and bg2050's group-informed-consensus.

Recorded figures (Polis's own k-means started from the first distinct points,
clusters.py; no randomness, so they are reproducible). ARI before: the seeded
k-means++ this replaced.

| conversation    | participants x principles | k ours | k Polis | ARI    | before     |
|-----------------|---------------------------|--------|---------|--------|------------|
| vtaiwan.uberx   | 1,921 x 197               | 2      | 2       | 0.9191 | 0.9186 (2) |
| austria-climate | 1,116 x 522               | 2      | 2       | 0.9771 | 0.9605 (2) |
| scoop-hivemind  | 234 x 71                  | 3      | 4       | 0.0609 | 0.0947 (2) |
| bg2050          | 126 x 371                 | 2      | 2       | 1.0000 | 0.1939 (2) |

ARI is over participants both sides grouped; the floors in ARI_FLOORS are these
figures rounded down to 0.05. scoop-hivemind: Polis exported 4 groups for all 234
participants, including ones under 7 votes, so its partition comes from an
earlier, sticky state (Polis keeps in-conv participants and smooths k over
updates); ours picks k = 3 by silhouette (k = 2..5: 0.364, 0.426, 0.397, 0.333).

bg2050: Polis splits the 107 participants both sides grouped 99/8, and so do we
now. The seeded k-means++ start gave 106/1 (participant 91, 323 votes on 371
comments, alone: its projection lies 21.4 from the centre of the other 106), a
better k-means optimum on the participants (within-group sum of squares 772.9
against 799.6, silhouette 0.856 against 0.686) that Polis's start does not
reach. Agreement with Polis, not the k-means objective, is what issue 3 asks for.
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
    VTAIWAN: (2, 2, 0.9191),
    AUSTRIA: (2, 2, 0.9771),
    SCOOP: (3, 4, 0.0609),
    BG2050: (2, 2, 1.0),
}
# The recorded ARI rounded down to 0.05.
ARI_FLOORS = {VTAIWAN: 0.90, AUSTRIA: 0.95, SCOOP: 0.05, BG2050: 1.00}


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


@pytest.mark.parametrize("name", [VTAIWAN, AUSTRIA, BG2050])
def test_groups_agree_with_polis_where_the_group_count_matches(name):
    """Issue 3: above 0.7 where the group count matches."""
    k_ours, k_polis, score = ari(name)
    assert k_ours == k_polis
    assert score > 0.7


@pytest.mark.parametrize("name", [VTAIWAN, AUSTRIA, SCOOP, BG2050])
def test_groups_agree_with_polis_at_least_as_recorded(name):
    _, _, score = ari(name)
    assert score >= ARI_FLOORS[name]


def test_scoop_hivemind_group_count_differs_from_polis():
    k_ours, k_polis, _ = ari(SCOOP)
    assert (k_ours, k_polis) == (3, 4)


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
