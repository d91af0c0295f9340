"""Polis's own computed outputs (red-dwarf test fixtures: votes plus the
math-pca2.json blob Polis served for them), loaded for comparison. The data stay
in shared/data/polis; nothing is copied into the repository."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.shared_data import polis_data_dir
from workbench.analysis.polis.matrix import build_vote_matrix, rating_values

FIXTURES = (
    "below-100-ptpts",
    "25ptpt-3gp-no-strict-with-meta",
    "50ptpt-3gp-strict-no-meta",
    "150ptpt-3gp-no-strict-no-meta",
    "above-100-ptpts",
)


@dataclass(frozen=True)
class PolisFixture:
    name: str
    votes: pd.DataFrame  # participant, principle, vote (agree +1), in time order
    math: dict[str, Any]  # math-pca2.json
    recovered: pd.DataFrame  # votes missing from votes.json, recovered (see below)

    @property
    def groups(self) -> dict[int, int]:
        """Polis's partition: participant -> group id, through the base clusters."""
        base = self.math["base-clusters"]
        members = dict(zip(base["id"], base["members"], strict=True))
        return {
            pid: group["id"]
            for group in self.math["group-clusters"]
            for bid in group["members"]
            for pid in members[bid]
        }

    @property
    def meta(self) -> list[int]:
        return list(self.math["meta-tids"])

    @property
    def mod_out(self) -> list[int]:
        """Polis's mod-out already includes the meta comments."""
        return list(self.math["mod-out"])


def _read_votes(folder: Path) -> pd.DataFrame:
    raw = pd.DataFrame(json.loads((folder / "votes.json").read_text()))
    votes = raw.rename(
        columns={
            "pid": "participant",
            "participant_id": "participant",
            "tid": "principle",
            "statement_id": "principle",
        }
    )
    votes["modified"] = votes["modified"].astype(float)
    votes = votes.sort_values("modified", kind="stable")
    return votes[["participant", "principle", "vote"]].reset_index(drop=True)


def recover_missing_votes(votes: pd.DataFrame, math: dict[str, Any]) -> pd.DataFrame:
    """Votes of the one participant Polis counted but votes.json lacks.

    50ptpt-3gp-strict-no-meta: Polis's `user-vote-counts` has participant 50 with 4
    votes and n = 52, but votes.json has no row for them (nor do the comments'
    counts). Polis's PCA centre holds the column means over all 52, so a column
    whose mean differs from ours reveals that participant's vote there:
    x = mean_polis · (n + 1) - sum. Only an exact -1/0/+1 in exactly as many
    columns as Polis counted votes is accepted."""
    counts = {int(k): v for k, v in math["user-vote-counts"].items()}
    missing = sorted(set(counts) - set(votes["participant"]))
    empty = pd.DataFrame({"participant": [], "principle": [], "vote": []}, dtype=int)
    if not missing:
        return empty
    assert len(missing) == 1, f"cannot recover several participants: {missing}"
    matrix = build_vote_matrix(votes)
    rating = rating_values(matrix, math["mod-out"])
    n = (~np.isnan(rating)).sum(axis=0)
    sums = np.nansum(rating, axis=0)
    polis_mean = -np.asarray(math["pca"]["center"])  # Polis: agree = -1
    differs = ~np.isclose(polis_mean, sums / n, rtol=0, atol=1e-12)
    recovered = polis_mean[differs] * (n[differs] + 1) - sums[differs]
    assert np.allclose(recovered, np.round(recovered), atol=1e-9)
    assert set(np.round(recovered)) <= {-1.0, 0.0, 1.0}
    assert differs.sum() == counts[missing[0]]
    return pd.DataFrame(
        {
            "participant": missing[0],
            "principle": matrix.principles[differs].astype(int),
            "vote": np.round(recovered).astype(int),
        }
    )


@cache
def load_fixture(name: str) -> PolisFixture:
    folder = polis_data_dir() / "reddwarf-fixtures" / name
    math = json.loads((folder / "math-pca2.json").read_text())
    votes = _read_votes(folder)
    recovered = recover_missing_votes(votes, math)
    return PolisFixture(
        name=name,
        votes=pd.concat([votes, recovered], ignore_index=True),
        math=math,
        recovered=recovered,
    )


@pytest.fixture(params=FIXTURES)
def polis_fixture(request: pytest.FixtureRequest) -> PolisFixture:
    return load_fixture(request.param)
