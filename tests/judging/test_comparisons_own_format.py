"""The workbench's own comparison format: round trip, malformed files refused with
their location and nothing stored, and the database's own guards."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from workbench.core.errors import ApplicationError
from workbench.deliberation.models import Participant, Principle
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.comparisons.reader import ComparisonFormatError
from workbench.judging.models import ComparisonItem, HumanJudgment

COLUMNS = [
    "item",
    "principle",
    "prompt",
    "response_a",
    "response_b",
    "label",
    "annotator",
    "group",
    "reason",
]


def table_counts() -> dict[str, int]:
    """Rows of every judging and deliberation table: a refused import stores none."""
    return {
        model.__name__: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"judging", "deliberation"}
    }


SEED = "Choose the response that respects the user's privacy."


def sample_rows() -> list[dict[str, str]]:
    new = "Choose the response that admits what it does not know."
    base = [
        ("q1", SEED, "Where does Ann live?", "I can't share that.", "At 5 Elm St."),
        ("q2", new, "Will it rain?", "Probably, 70%.", "Yes, certainly."),
        ("q3", new, "Is 97 prime?", "Yes.", "I'm not sure."),
    ]
    judgments = {
        "q1": [("n1", "Nurses", "a"), ("n2", "Nurses", "a"), ("t1", "Teachers", "b")],
        "q2": [("n1", "Nurses", "a"), ("t1", "Teachers", "tie"), ("x9", "", "na")],
        "q3": [],
    }
    rows = []
    for item, principle, prompt, a, b in base:
        people = judgments[item] or [("", "", "")]
        for annotator, group, label in people:
            rows.append(
                dict(
                    zip(
                        COLUMNS,
                        [
                            item,
                            principle,
                            prompt,
                            a,
                            b,
                            label,
                            annotator,
                            group,
                            f"because {label}" if label else "",
                        ],
                        strict=True,
                    )
                )
            )
    return rows


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict[str, str]], columns=COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def stored(comparison_set) -> list[dict[str, str]]:
    """The comparison set written back as rows of the format."""
    rows = []
    for item in comparison_set.items.order_by("id"):
        common = {
            "item": item.external_id,
            "principle": item.principle_version.text,
            "prompt": item.prompt.text,
            "response_a": item.response_a.text,
            "response_b": item.response_b.text,
        }
        judgments = list(item.judgments.order_by("id"))
        for j in judgments:
            rows.append(
                {
                    **common,
                    "label": j.label,
                    "annotator": j.participant.external_id,
                    "group": j.participant.group.name,
                    "reason": j.reason,
                }
            )
        if not judgments:
            rows.append(
                {**common, "label": "", "annotator": "", "group": "", "reason": ""}
            )
    return rows


def expected(rows):
    return [
        {**r, "group": r["group"] or "Imported annotators"} if r["annotator"] else r
        for r in rows
    ]


@pytest.mark.parametrize("kind", ["jsonl", "csv", "jsonl.gz"])
def test_own_format_round_trips(setup, tmp_path, kind):
    rows = sample_rows()
    path = tmp_path / f"pairs.{kind}"
    if kind == "csv":
        write_csv(path, rows)
    else:
        write_jsonl(tmp_path / "plain.jsonl", rows)
        data = (tmp_path / "plain.jsonl").read_bytes()
        path.write_bytes(gzip.compress(data) if kind.endswith("gz") else data)
    seeds_before = Principle.objects.count()
    summary = comparisons_import(workshop=setup.workshop, path=path)
    assert summary.format == "workbench"
    assert (summary.items, summary.judgments, summary.rows) == (3, 6, 7)
    assert summary.principles_created == 1
    assert Principle.objects.count() == seeds_before + 1
    assert summary.participants_created == 4
    assert summary.groups_created == 1  # "Imported annotators", for x9
    assert stored(summary.comparison_set) == expected(rows)
    # The seed was matched by its exact text, not duplicated.
    item = ComparisonItem.objects.get(external_id="q1")
    assert item.principle_version.principle == setup.seeds[1]
    assert Participant.objects.get(external_id="n2").group == setup.group_a


def test_annotators_are_shared_across_imports(setup, tmp_path):
    rows = sample_rows()
    comparisons_import(
        workshop=setup.workshop, path=write_jsonl(tmp_path / "a.jsonl", rows)
    )
    again = comparisons_import(
        workshop=setup.workshop, path=write_jsonl(tmp_path / "b.jsonl", rows)
    )
    assert again.participants_created == 0
    assert again.principles_created == 0
    assert Participant.objects.filter(external_id="n1").count() == 1


def test_a_second_import_under_the_same_name_is_refused(setup, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", sample_rows())
    comparisons_import(workshop=setup.workshop, path=path)
    before = table_counts()
    with pytest.raises(ApplicationError, match="already has a comparison set"):
        comparisons_import(workshop=setup.workshop, path=path)
    assert table_counts() == before


def with_change(line_index: int, **changes: object) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [dict(r) for r in sample_rows()]
    rows[line_index].update(changes)
    return rows


MALFORMED_JSONL = [
    ("unknown label", with_change(2, label="maybe"), "line 3, column label", "maybe"),
    (
        "label without annotator",
        with_change(0, annotator=""),
        "line 1, column annotator",
        "needs the annotator",
    ),
    ("empty prompt", with_change(0, prompt="  "), "line 1, column prompt", "empty"),
    (
        "missing field",
        [{k: v for k, v in r.items() if k != "response_b"} for r in sample_rows()],
        "line 1, column response_b",
        "missing",
    ),
    (
        "same annotator twice",
        with_change(1, annotator="n1"),
        "line 2, column annotator",
        "already judged",
    ),
    (
        "item text differs",
        with_change(1, response_a="Other."),
        "line 2, column response_a",
        "differs from line 1",
    ),
    (
        "annotator in two groups",
        with_change(3, group="Teachers"),
        "line 4, column group",
        "is in group",
    ),
    (
        "not text",
        with_change(0, reason=["x"]),
        "line 1, column reason",
        "expected text",
    ),
    (
        "same responses",
        with_change(6, response_b="Yes."),
        "line 7, column response_b",
        "same text",
    ),
]


@pytest.mark.parametrize(
    ("rows", "where", "what"),
    [case[1:] for case in MALFORMED_JSONL],
    ids=[case[0] for case in MALFORMED_JSONL],
)
def test_malformed_jsonl_is_refused_and_nothing_stored(
    setup, tmp_path, rows, where, what
):
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    before = table_counts()
    with pytest.raises(ComparisonFormatError) as raised:
        comparisons_import(workshop=setup.workshop, path=path)
    assert raised.value.message.startswith(f"bad.jsonl {where}: ")
    assert what in raised.value.message
    assert table_counts() == before


def test_missing_csv_column_is_named(setup, tmp_path):
    path = write_csv(
        tmp_path / "bad.csv", sample_rows(), columns=COLUMNS[:4] + COLUMNS[5:]
    )
    with pytest.raises(
        ComparisonFormatError, match=r"bad.csv line 1, column response_b: missing"
    ):
        comparisons_import(workshop=setup.workshop, path=path)


def test_wrong_encoding_names_line_and_column(setup, tmp_path):
    path = write_csv(tmp_path / "latin.csv", sample_rows())
    text = path.read_text(encoding="utf-8").replace("Probably", "Probablé")
    path.write_bytes(text.encode("latin-1"))
    before = table_counts()
    with pytest.raises(
        ComparisonFormatError, match=r"latin.csv line 5, column response_a: byte 0xe9"
    ):
        comparisons_import(workshop=setup.workshop, path=path)
    assert table_counts() == before


def test_broken_json_names_line_and_character(setup, tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", sample_rows())
    lines = path.read_text().splitlines()
    lines[3] = lines[3][:-1]
    path.write_text("\n".join(lines))
    with pytest.raises(
        ComparisonFormatError, match=r"bad.jsonl line 4, column character"
    ):
        comparisons_import(workshop=setup.workshop, path=path)


def test_oversized_files_are_refused(setup, tmp_path, settings):
    path = write_jsonl(tmp_path / "big.jsonl", sample_rows())
    settings.WORKBENCH = {**settings.WORKBENCH, "COMPARISON_MAX_BYTES": 100}
    with pytest.raises(ComparisonFormatError, match="larger than the limit"):
        comparisons_import(workshop=setup.workshop, path=path)
    gz = tmp_path / "big.jsonl.gz"
    gz.write_bytes(gzip.compress(b"{}\n" * 1000))
    assert gz.stat().st_size < 100
    with pytest.raises(ComparisonFormatError, match="unpacked, the file is larger"):
        comparisons_import(workshop=setup.workshop, path=gz)


def test_too_many_rows_are_refused(setup, tmp_path, settings):
    settings.WORKBENCH = {**settings.WORKBENCH, "COMPARISON_MAX_ROWS": 5}
    path = write_jsonl(tmp_path / "long.jsonl", sample_rows())
    with pytest.raises(
        ComparisonFormatError, match=r"long.jsonl line 6: .*limit of 5 rows"
    ):
        comparisons_import(workshop=setup.workshop, path=path)


def test_icai_without_a_principle_is_refused(setup, tmp_path):
    path = write_csv(
        tmp_path / "icai.csv",
        [
            {
                "text_a": "Instruction: hi\n\nOutput: a",
                "text_b": "Instruction: hi\n\nOutput: b",
                "preferred_text": "text_a",
            }
        ],
        columns=["text_a", "text_b", "preferred_text"],
    )
    with pytest.raises(ComparisonFormatError, match="--principle"):
        comparisons_import(workshop=setup.workshop, path=path)


def test_command_reports_the_error_and_that_nothing_was_imported(setup, tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", with_change(2, label="maybe"))
    before = table_counts()
    with pytest.raises(CommandError) as raised:
        call_command("import_comparisons", str(path), "--workshop", "ai-values")
    assert "bad.jsonl line 3, column label" in str(raised.value)
    assert str(raised.value).endswith("Nothing was imported.")
    assert table_counts() == before


def test_command_refuses_an_unknown_workshop(db, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", sample_rows())
    with pytest.raises(CommandError, match=r"no workshop .*Nothing was imported"):
        call_command("import_comparisons", str(path), "--workshop", "nope")


def test_database_refuses_a_second_judgment_by_the_same_participant(setup, tmp_path):
    comparisons_import(
        workshop=setup.workshop, path=write_jsonl(tmp_path / "a.jsonl", sample_rows())
    )
    judgment = HumanJudgment.objects.filter(participant__external_id="n1").first()
    assert judgment is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        HumanJudgment.objects.create(
            item=judgment.item, participant=judgment.participant, label="b"
        )


def test_database_refuses_an_unknown_label(setup, tmp_path):
    comparisons_import(
        workshop=setup.workshop, path=write_jsonl(tmp_path / "a.jsonl", sample_rows())
    )
    item = ComparisonItem.objects.get(external_id="q3")
    person = Participant.objects.get(external_id="n1")
    with pytest.raises(IntegrityError), transaction.atomic():
        HumanJudgment.objects.create(item=item, participant=person, label="maybe")


def test_database_refuses_an_item_comparing_a_response_with_itself(setup, tmp_path):
    comparisons_import(
        workshop=setup.workshop, path=write_jsonl(tmp_path / "a.jsonl", sample_rows())
    )
    item = ComparisonItem.objects.get(external_id="q1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ComparisonItem.objects.create(
            comparison_set=item.comparison_set,
            principle_version=item.principle_version,
            prompt=item.prompt,
            response_a=item.response_a,
            response_b=item.response_a,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ComparisonItem.objects.create(
            comparison_set=item.comparison_set,
            principle_version=item.principle_version,
            prompt=item.prompt,
            response_a=item.response_a,
            response_b=item.response_b,
        )
