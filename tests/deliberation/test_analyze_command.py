"""`manage.py analyze SLUG --json` on an imported Polis conversation equals the
analysis run directly on the source participants-votes.csv, with the source's
comment and participant ids (DESIGN.md, "Contracts other tools rely on")."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from tests.analysis.test_polis_opendata import SCOOP, load
from tests.shared_data import polis_data_dir
from workbench.analysis.polis import AnalysisResult, analyze
from workbench.deliberation.polis_io.importer import polis_import

DESIGN_PRINCIPLE_KEYS = {
    "external_id",
    "text",
    "agree",
    "disagree",
    "pass",
    "per_group",
    "group_aware_consensus",
}
DESIGN_REPNESS_KEYS = {
    "external_id",
    "repful_for",
    "repness",
    "repness_test",
    "p_success",
    "p_test",
}


@pytest.fixture(scope="module")
def source() -> AnalysisResult:
    data = load(SCOOP)
    return analyze(data.votes, mod_out=data.mod_out, meta=data.meta)


@pytest.fixture
def printed(owner) -> dict:
    folder = polis_data_dir() / SCOOP
    polis_import(folder=folder, slug="scoop", owner=owner)
    out = StringIO()
    call_command("analyze", "scoop", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_json_has_the_shape_design_md_promises(printed):
    assert {
        "participants",
        "groups",
        "principles",
        "consensus",
        "repness",
        "rules",
    } <= set(printed)
    for entry in printed["principles"]:
        assert set(entry) >= DESIGN_PRINCIPLE_KEYS
    for entries in printed["repness"].values():
        for entry in entries:
            assert set(entry) >= DESIGN_REPNESS_KEYS
    assert set(printed["consensus"]) == {"agree", "disagree"}
    assert printed["status"] == "ok"


def test_groups_and_participants_equal_the_source_analysis(printed, source):
    expected = {
        str(p): None if label < 0 else int(label)
        for p, label in zip(
            source.matrix.participants, source.opinion.labels, strict=True
        )
    }
    assert printed["participants"] == expected
    assert printed["groups"] == {
        str(g): int(n)
        for g, n in zip(
            source.opinion.group_ids, source.opinion.votes.n_members, strict=True
        )
    }


def test_consensus_and_group_aware_consensus_equal_the_source_analysis(printed, source):
    assert printed["consensus"] == {
        "agree": [str(c.principle) for c in source.consensus.agree],
        "disagree": [str(c.principle) for c in source.consensus.disagree],
    }
    gac = {p["external_id"]: p["group_aware_consensus"] for p in printed["principles"]}
    columns = [str(p) for p in source.matrix.principles]
    assert set(columns) <= set(gac)
    ours = np.array([gac[c] for c in columns])
    np.testing.assert_allclose(
        ours, source.opinion.group_aware_consensus, rtol=0, atol=1e-12
    )


def test_counts_and_repness_equal_the_source_analysis(printed, source):
    by_id = {p["external_id"]: p for p in printed["principles"]}
    votes = source.opinion.votes
    for j, principle in enumerate(source.matrix.principles):
        for g in source.opinion.group_ids:
            assert by_id[str(principle)]["per_group"][str(g)] == {
                "agree": int(votes.agree[g, j]),
                "disagree": int(votes.disagree[g, j]),
                "pass": int(votes.passes[g, j]),
            }
    expected = {
        str(g): [
            (str(e.principle), e.repful_for, e.repness, e.repness_test) for e in entries
        ]
        for g, entries in source.opinion.representative.items()
    }
    assert {
        g: [
            (e["external_id"], e["repful_for"], e["repness"], e["repness_test"])
            for e in entries
        ]
        for g, entries in printed["repness"].items()
    } == expected


def test_moderated_out_comments_stay_out_of_the_figures(printed):
    rejected = {str(c) for c in load(SCOOP).mod_out}
    assert rejected
    for entry in printed["principles"]:
        assert entry["mod_out"] == (
            entry["external_id"] in rejected or entry["is_meta"]
        )
    assert not rejected & set(printed["consensus"]["agree"])
    assert not rejected & {p["external_id"] for p in printed["map"]["principles"]}


def test_without_json_it_prints_a_short_summary(owner, setup, vote_round):
    out = StringIO()
    call_command("analyze", setup.workshop.slug, stdout=out)
    text = out.getvalue()
    assert text.startswith("not_enough_data: No votes yet")
    assert "adopted per rule" in text


def test_an_unknown_workshop_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no workshop “nope”"):
        call_command("analyze", "nope", "--json")
