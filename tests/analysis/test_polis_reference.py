"""The analysis against Polis's own output (math-pca2.json) for the five red-dwarf
fixtures. Given Polis's groups, group votes, group-aware consensus, consensus and
repness must equal Polis's; the PCA is compared up to sign."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from tests.analysis.conftest import FIXTURES, PolisFixture, load_fixture
from workbench.analysis.polis import AnalysisResult, analyze
from workbench.analysis.polis.pca import PCA, project_participants, project_principles

TOL = 1e-9


@cache
def analysed(name: str) -> AnalysisResult:
    fixture = load_fixture(name)
    return analyze(
        fixture.votes, mod_out=fixture.mod_out, meta=fixture.meta, groups=fixture.groups
    )


def _result(fixture: PolisFixture) -> AnalysisResult:
    return analysed(fixture.name)


def _per_tid(result: AnalysisResult, values: dict[str, float]) -> np.ndarray:
    return np.array([values[str(t)] for t in result.matrix.principles])


def test_columns_are_polis_tids(polis_fixture):
    result = _result(polis_fixture)
    assert result.matrix.principles.tolist() == polis_fixture.math["tids"]
    assert len(result.matrix.participants) == polis_fixture.math["n"]


def test_missing_votes_recovered_only_where_polis_counted_more(polis_fixture):
    expected = {"50ptpt-3gp-strict-no-meta": 4}.get(polis_fixture.name, 0)
    assert len(polis_fixture.recovered) == expected


def test_group_votes_equal_polis(polis_fixture):
    figures = _result(polis_fixture).predefined
    assert figures is not None
    tids = _result(polis_fixture).matrix.principles
    for g, gid in enumerate(figures.group_ids):
        polis = polis_fixture.math["group-votes"][str(gid)]
        assert figures.votes.n_members[g] == polis["n-members"]
        for key, ours in (
            ("A", figures.votes.agree),
            ("D", figures.votes.disagree),
            ("S", figures.votes.count),
        ):
            assert ours[g].tolist() == [polis["votes"][str(t)][key] for t in tids]


def test_group_aware_consensus_equals_polis(polis_fixture):
    result = _result(polis_fixture)
    assert result.predefined is not None
    expected = _per_tid(result, polis_fixture.math["group-aware-consensus"])
    np.testing.assert_allclose(
        result.predefined.group_aware_consensus, expected, rtol=0, atol=TOL
    )


@pytest.mark.parametrize("side", ["agree", "disagree"])
def test_consensus_lists_equal_polis(polis_fixture, side):
    ours = getattr(_result(polis_fixture).consensus, side)
    polis = polis_fixture.math["consensus"][side]
    assert [c.principle for c in ours] == [c["tid"] for c in polis]
    for mine, theirs in zip(ours, polis, strict=True):
        assert (mine.n_success, mine.n_trials) == (
            theirs["n-success"],
            theirs["n-trials"],
        )
        assert mine.p_success == pytest.approx(theirs["p-success"], rel=0, abs=TOL)
        assert mine.p_test == pytest.approx(theirs["p-test"], rel=0, abs=TOL)


def test_repness_equals_polis(polis_fixture):
    """Polis stores repness-test as a Java float (`(float repness-test)` in
    finalize-cmt-stats), printed with float precision, so it is compared as a
    float32: exactly equal after rounding ours the same way. All other values are
    doubles and must agree to 1e-9."""
    figures = _result(polis_fixture).predefined
    assert figures is not None
    assert sorted(map(str, figures.group_ids)) == sorted(polis_fixture.math["repness"])
    for gid, ours in figures.representative.items():
        polis = polis_fixture.math["repness"][str(gid)]
        assert [e.principle for e in ours] == [e["tid"] for e in polis]
        for mine, theirs in zip(ours, polis, strict=True):
            assert mine.repful_for == theirs["repful-for"]
            assert (mine.n_success, mine.n_trials) == (
                theirs["n-success"],
                theirs["n-trials"],
            )
            assert mine.best_agree == theirs.get("best-agree", False)
            assert mine.n_agree == theirs.get("n-agree")
            for ours_value, key in (
                (mine.p_success, "p-success"),
                (mine.p_test, "p-test"),
                (mine.repness, "repness"),
            ):
                assert ours_value == pytest.approx(theirs[key], rel=0, abs=TOL), key
            assert np.float32(mine.repness_test) == np.float32(theirs["repness-test"])
            assert mine.repness_test == pytest.approx(theirs["repness-test"], rel=1e-7)


def test_priorities_equal_polis_or_polis_bug(polis_fixture):
    """Polis computes priorities from the previous update's group votes; in these
    fixtures the groups did not change at the last update, so the current ones
    reproduce them. 50ptpt was computed while Polis's 2025 bug ("0 is truthy")
    gave every comment 49; that is checked as such, not reproduced."""
    result = _result(polis_fixture)
    assert result.predefined is not None
    expected = _per_tid(result, polis_fixture.math["comment-priorities"])
    if polis_fixture.name == "50ptpt-3gp-strict-no-meta":
        assert np.all(expected == 49)
        assert not np.allclose(result.predefined.priorities, 49)
        return
    np.testing.assert_allclose(result.predefined.priorities, expected, rtol=TOL, atol=0)


def test_in_conv_is_polis_without_stickiness(polis_fixture):
    """Polis's in-conv is sticky: a participant let in early (the top-voter fill
    while fewer than 15 qualified) stays in. Every extra member of Polis's set has
    fewer than min(7, n) votes now; apart from them the sets are equal."""
    result = _result(polis_fixture)
    ours = set(result.matrix.participants[result.in_conv].tolist())
    polis = set(polis_fixture.math["in-conv"])
    counts = {int(k): v for k, v in polis_fixture.math["user-vote-counts"].items()}
    threshold = min(7, polis_fixture.math["n-cmts"])
    assert ours <= polis
    assert all(counts[p] < threshold for p in polis - ours)
    assert ours == {p for p, n in counts.items() if n >= threshold}
    assert len(ours) >= 15
    assert (
        dict(
            zip(
                result.matrix.participants.tolist(),
                result.matrix.n_votes.tolist(),
                strict=True,
            )
        )
        == counts
    )


def test_polis_groups_cover_its_in_conv(polis_fixture):
    assert sorted(polis_fixture.groups) == sorted(polis_fixture.math["in-conv"])


class TestPCA:
    """Polis runs 100 power iterations (warm-started); ours is an exact
    eigendecomposition. On these fixtures the two agree to ~1e-15, so the
    tolerance 1e-9 leaves room for power iteration's convergence error only."""

    def test_center_equals_polis(self, polis_fixture):
        result = _result(polis_fixture)
        polis = -np.asarray(polis_fixture.math["pca"]["center"])  # agree = -1
        np.testing.assert_allclose(result.pca.center, polis, rtol=0, atol=TOL)

    def test_components_equal_polis_up_to_sign(self, polis_fixture):
        ours = _result(polis_fixture).pca.components
        polis = np.asarray(polis_fixture.math["pca"]["comps"])
        for mine, theirs in zip(ours, polis, strict=True):
            sign = np.sign(mine @ theirs)
            np.testing.assert_allclose(mine, sign * theirs, rtol=0, atol=TOL)

    def test_extremity_equals_polis(self, polis_fixture):
        result = _result(polis_fixture)
        polis = np.asarray(polis_fixture.math["pca"]["comment-extremity"])
        np.testing.assert_allclose(result.extremity, polis, rtol=0, atol=TOL)

    def test_principle_projection_equals_polis_up_to_sign(self, polis_fixture):
        result = _result(polis_fixture)
        polis = np.asarray(polis_fixture.math["pca"]["comment-projection"]).T
        for axis in range(2):
            ours = result.principle_projection[:, axis]
            sign = np.sign(ours @ polis[:, axis])
            np.testing.assert_allclose(ours, sign * polis[:, axis], rtol=0, atol=TOL)

    def test_polis_components_give_polis_comment_projection(self, polis_fixture):
        """With Polis's components (negated back to agree = +1) the projection
        formula gives Polis's numbers exactly, signs included."""
        math = polis_fixture.math["pca"]
        pca = PCA(
            center=-np.asarray(math["center"]), components=-np.asarray(math["comps"])
        )
        np.testing.assert_allclose(
            project_principles(pca), np.asarray(math["comment-projection"]).T, atol=TOL
        )

    def test_participant_projection_gives_polis_base_centres(self, polis_fixture):
        """The sparsity-aware projection, with mod-out cells counted as votes as in
        Polis, reproduces Polis's base-cluster centres (means of their members)."""
        result = _result(polis_fixture)
        math = polis_fixture.math
        pca = PCA(
            center=-np.asarray(math["pca"]["center"]),
            components=-np.asarray(math["pca"]["comps"]),
        )
        projection = project_participants(result.matrix, pca, result.mod_out)
        row = {p: i for i, p in enumerate(result.matrix.participants.tolist())}
        base = math["base-clusters"]
        centres = np.array(
            [
                projection[[row[p] for p in members]].mean(axis=0)
                for members in base["members"]
            ]
        )
        np.testing.assert_allclose(
            centres, np.column_stack([base["x"], base["y"]]), rtol=0, atol=TOL
        )


@pytest.mark.parametrize("name", FIXTURES)
def test_opinion_figures_use_the_same_code_path(name):
    """The opinion groups' figures come from the same function as Polis's groups:
    feeding our own labels back as a mapping reproduces them."""
    result = analysed(name)
    mapping = {
        p: int(g)
        for p, g in zip(
            result.matrix.participants.tolist(), result.opinion.labels, strict=True
        )
        if g >= 0
    }
    again = result.figures_for(mapping)
    np.testing.assert_array_equal(
        again.group_aware_consensus, result.opinion.group_aware_consensus
    )
    assert again.representative == result.opinion.representative
