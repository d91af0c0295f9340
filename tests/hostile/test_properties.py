"""Property-based tests (hypothesis): the importers on arbitrary CSV-like bytes, and
invariants of the analysis functions on random votes and ballots.

An importer may refuse a file, but only with its own error class, and a refused
import stores nothing. The analysis keeps shares in [0, 1], counts consistent, and
does not depend on the order of the rows or on participants' ids.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile.files import (
    COMPARISONS,
    POLIS_COMMENTS,
    POLIS_VOTES,
    polis_folder,
    row_counts,
)
from workbench.analysis.polis.consensus import group_aware_consensus
from workbench.analysis.polis.groups import group_votes
from workbench.analysis.polis.matrix import build_vote_matrix
from workbench.analysis.polis.pipeline import analyze
from workbench.analysis.social_choice import social_choice
from workbench.analysis.thresholds import (
    agree_share,
    ccai_rule,
    group_aware_consensus_from_counts,
)
from workbench.core.errors import ApplicationError
from workbench.deliberation.polis_io.importer import polis_import
from workbench.deliberation.polis_io.reader import PolisFormatError, read_polis_folder
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.comparisons.reader import (
    ComparisonFormatError,
    read_comparison_file,
)

# Many small examples rather than a few big ones; the whole file runs in ~40 s.
FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
DB = settings(FAST, max_examples=25)

# Cells that are almost right: numbers, words, quotes, separators, newlines,
# formulas, odd bytes. Files are built from them and from valid lines.
CELLS = st.one_of(
    st.integers(-3, 20).map(str),
    st.sampled_from(
        ["", " ", "x", '"', '""', '"a,b"', ",", "\r", "\n", "\r\n", "=1+1", "-", "NA"]
    ),
    st.text(max_size=12),
)


@st.composite
def csvish(draw: Any, valid: str) -> bytes:
    """A CSV-like file: the valid file's header or a wrong one, rows of random
    cells, some valid lines, and sometimes raw bytes."""
    lines = valid.splitlines()
    header = draw(st.sampled_from([lines[0], lines[0].upper(), "a,b", ""]))
    width = len(lines[0].split(","))
    body = draw(
        st.lists(
            st.one_of(
                st.sampled_from(lines[1:]),
                st.lists(CELLS, min_size=1, max_size=width + 1).map(",".join),
            ),
            max_size=6,
        )
    )
    text = "\n".join([header, *body]) + draw(st.sampled_from(["", "\n", "\r\n"]))
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(st.binary(max_size=8)) + data[position:]
    return data


@FAST
@given(comments=csvish(POLIS_COMMENTS), votes=csvish(POLIS_VOTES))
def test_the_polis_reader_reads_or_refuses_clearly(tmp_path_factory, comments, votes):
    tmp = tmp_path_factory.mktemp("polis")
    folder = polis_folder(
        tmp / "export", comments=comments, votes=votes, participants_votes=None
    )
    try:
        conversation = read_polis_folder(folder)
    except PolisFormatError as exc:
        assert exc.message.split(":")[0].split()[0] in {"comments.csv", "votes.csv"}
        return
    # What it accepts is consistent: every vote is on a known comment.
    assert set(conversation.history["comment_id"]) <= set(
        conversation.comments["comment_id"]
    )
    assert set(conversation.history["vote"]) <= {-1, 0, 1}


@FAST
@given(data=csvish(COMPARISONS))
def test_the_comparison_reader_reads_or_refuses_clearly(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("pairs") / "pairs.csv"
    path.write_bytes(data)
    try:
        parsed = read_comparison_file(path)
    except ComparisonFormatError as exc:
        assert exc.message.startswith("pairs.csv")
        return
    assert parsed.rows
    for row in parsed.rows:
        assert row.response_a != row.response_b
        assert row.label in (None, "a", "b", "tie", "na")


@DB
@given(comments=csvish(POLIS_COMMENTS), votes=csvish(POLIS_VOTES))
def test_a_polis_import_is_all_or_nothing(owner, tmp_path_factory, comments, votes):
    folder = polis_folder(
        tmp_path_factory.mktemp("polis") / "export",
        comments=comments,
        votes=votes,
        participants_votes=None,
    )
    before = row_counts()
    slug = f"p{before['deliberation.Workshop']}"
    try:
        result = polis_import(folder=folder, slug=slug, owner=owner)
    except ApplicationError:
        assert row_counts() == before
        return
    assert result.votes <= result.vote_records
    assert row_counts()["deliberation.Principle"] == (
        before["deliberation.Principle"] + result.comments
    )


@DB
@given(data=csvish(COMPARISONS))
def test_a_comparison_import_is_all_or_nothing(setup, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("pairs") / "pairs.csv"
    path.write_bytes(data)
    before = row_counts()
    try:
        summary = comparisons_import(
            workshop=setup.workshop,
            path=path,
            name=f"set {before['judging.ComparisonSet']}",
        )
    except ApplicationError:
        assert row_counts() == before
        return
    after = row_counts()
    assert after["judging.ComparisonItem"] - before["judging.ComparisonItem"] == (
        summary.items
    )
    assert after["judging.HumanJudgment"] - before["judging.HumanJudgment"] == (
        summary.judgments
    )


# Analysis ---------------------------------------------------------------------


@st.composite
def vote_frames(draw: Any, max_people: int = 12, max_principles: int = 6) -> Any:
    """Long-form votes, one per (participant, principle) cell at most."""
    people = draw(st.integers(1, max_people))
    principles = draw(st.integers(1, max_principles))
    cells = draw(
        st.lists(
            st.tuples(
                st.integers(0, people - 1),
                st.integers(0, principles - 1),
                st.sampled_from([-1, 0, 1]),
            ),
            min_size=1,
            max_size=people * principles,
            unique_by=lambda cell: cell[:2],
        )
    )
    return pd.DataFrame(cells, columns=["participant", "principle", "vote"])


@FAST
@given(votes=vote_frames(), seed=st.integers(0, 2**32 - 1))
def test_the_vote_matrix_ignores_row_order(votes, seed):
    shuffled = votes.sample(frac=1.0, random_state=seed)
    a, b = build_vote_matrix(votes), build_vote_matrix(shuffled)
    np.testing.assert_array_equal(a.values, b.values)
    assert set(np.unique(a.values[~np.isnan(a.values)])) <= {-1.0, 0.0, 1.0}
    assert int(a.n_votes.sum()) == len(votes)


@FAST
@given(votes=vote_frames(), groups=st.integers(1, 4), seed=st.integers(0, 999))
def test_group_counts_add_up_and_gac_is_a_probability(votes, groups, seed):
    matrix = build_vote_matrix(votes)
    rng = np.random.default_rng(seed)
    labels = rng.integers(-1, groups, size=matrix.shape[0])
    counts = group_votes(matrix, labels, groups)
    assert (counts.agree + counts.disagree <= counts.count).all()
    assert (counts.passes >= 0).all()
    grouped = labels[matrix.rows] >= 0
    assert int(counts.count.sum()) == int(grouped.sum())
    assert int(counts.n_members.sum()) == int((labels >= 0).sum())
    gac = group_aware_consensus(counts)
    assert ((gac > 0) & (gac < 1)).all()
    np.testing.assert_allclose(
        gac, group_aware_consensus_from_counts(counts.agree.T, counts.count.T)
    )
    share = agree_share(counts.agree.T, counts.count.T)
    known = share[~np.isnan(share)]
    assert ((known >= 0) & (known <= 1)).all()


counts_matrices = st.integers(1, 6).flatmap(
    lambda groups: st.lists(
        st.lists(
            st.tuples(st.integers(0, 9), st.integers(0, 9)),
            min_size=groups,
            max_size=groups,
        ),
        min_size=1,
        max_size=8,
    )
)


def _agree_total(rows: list[list[tuple[int, int]]]) -> tuple[Any, Any]:
    # (agree, others) -> agree, total = agree + others
    agree = np.array([[a for a, _ in row] for row in rows], dtype=float)
    total = np.array([[a + o for a, o in row] for row in rows], dtype=float)
    return agree, total


@FAST
@given(
    rows=counts_matrices,
    low=st.floats(0, 1),
    high=st.floats(0, 1),
    min_votes=st.integers(1, 5),
    seed=st.integers(0, 999),
)
def test_the_ccai_rule_is_monotone_and_ignores_group_order(
    rows, low, high, min_votes, seed
):
    agree, total = _agree_total(rows)
    low, high = min(low, high), max(low, high)
    loose = ccai_rule(agree, total, threshold=low, min_votes=min_votes)
    strict = ccai_rule(agree, total, threshold=high, min_votes=min_votes)
    assert not (strict & ~loose).any()  # a stricter threshold adopts a subset
    rng = np.random.default_rng(seed)
    groups = rng.permutation(agree.shape[1])
    principles = rng.permutation(agree.shape[0])
    np.testing.assert_array_equal(
        ccai_rule(
            agree[:, groups], total[:, groups], threshold=low, min_votes=min_votes
        ),
        loose,
    )
    np.testing.assert_array_equal(
        ccai_rule(
            agree[principles], total[principles], threshold=low, min_votes=min_votes
        ),
        loose[principles],
    )


def _relabel(votes: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, dict[int, int]]:
    ids = sorted(votes["participant"].unique())
    new = np.random.default_rng(seed).permutation(len(ids)) * 7 + 100
    mapping = {old: int(n) for old, n in zip(ids, new, strict=True)}
    return votes.assign(participant=votes["participant"].map(mapping)), mapping


def _consensus(result: Any) -> Any:
    return [
        [(c.principle, c.n_success, c.n_trials, round(c.p_success, 12)) for c in side]
        for side in (result.consensus.agree, result.consensus.disagree)
    ]


@settings(FAST, max_examples=30)
@given(votes=vote_frames(max_people=16), seed=st.integers(0, 999))
def test_analysis_does_not_depend_on_participant_ids(votes, seed):
    """Renaming participants (which reorders the matrix's rows) changes neither the
    consensus lists nor the figures of predefined groups."""
    groups = {p: f"g{p % 3}" for p in votes["participant"].unique()}
    relabelled, mapping = _relabel(votes, seed)
    a = analyze(votes, groups=groups)
    b = analyze(relabelled, groups={mapping[p]: g for p, g in groups.items()})
    assert _consensus(a) == _consensus(b)
    assert a.predefined is not None and b.predefined is not None
    assert a.predefined.group_ids == b.predefined.group_ids
    np.testing.assert_allclose(
        a.predefined.group_aware_consensus, b.predefined.group_aware_consensus
    )
    np.testing.assert_array_equal(a.predefined.votes.count, b.predefined.votes.count)
    for result in (a, b):
        for side in (result.consensus.agree, result.consensus.disagree):
            assert all(0 < c.p_success < 1 for c in side)
        gac = result.opinion.group_aware_consensus
        assert ((gac > 0) & (gac < 1)).all()
        assert len(result.opinion.labels) == result.matrix.shape[0]


ballots = st.integers(2, 5).flatmap(
    lambda m: st.lists(st.permutations(list(range(m))), min_size=1, max_size=9)
)


@FAST
@given(ballots=ballots, seed=st.integers(0, 999))
def test_social_choice_ignores_ballot_order_and_counts_every_pair(ballots, seed):
    result = social_choice(ballots)
    shuffled = list(np.random.default_rng(seed).permutation(len(ballots)))
    again = social_choice([ballots[i] for i in shuffled])
    assert {k: m.winners for k, m in result.methods.items()} == {
        k: m.winners for k, m in again.methods.items()
    }
    m = len(result.candidates)
    for i, j in itertools.permutations(range(m), 2):
        # Complete ballots: every ballot ranks i above j or j above i.
        assert result.pairwise[i][j] + result.pairwise[j][i] == len(ballots)
    for method in result.methods.values():
        assert method.winners and set(method.winners) <= set(result.candidates)


@FAST
@given(
    ballot=st.integers(2, 6).flatmap(lambda m: st.permutations(list(range(m)))),
    copies=st.integers(1, 5),
)
def test_a_unanimous_profile_elects_its_first_choice(ballot, copies):
    result = social_choice([ballot] * copies)
    for name, method in result.methods.items():
        assert method.winners == [ballot[0]], name


def test_the_valid_seed_files_parse(tmp_path):
    """The strategies above start from these files: they must be valid."""
    folder = polis_folder(tmp_path / "export", participants_votes=None)
    assert len(read_polis_folder(folder).comments) == 2
    path = tmp_path / "pairs.csv"
    path.write_text(COMPARISONS)
    assert len(read_comparison_file(path).rows) == 2


def test_reversed_ballots_are_counted_at_once():
    """Two reversed ballots tie every pair: pref_voting's "basic" ranked pairs
    would try all 12! orders of the twelve margin-0 edges (found by the property
    above, which hung; fixed in ranked_pairs_algorithm)."""
    started = time.perf_counter()
    result = social_choice([[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]])
    assert result.methods["ranked_pairs"].winners == [0, 1, 2, 3, 4, 5]
    assert time.perf_counter() - started < 5
