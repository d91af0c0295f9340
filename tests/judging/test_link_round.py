"""Linking a comparison set to a compare round: the service's rules, what
participants then see, and `import_comparisons --round` (checked, atomic)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.conftest import participant_client
from tests.factories import WorkshopFactory
from tests.judging.judging_fixtures import make_set
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import Round
from workbench.deliberation.services.rounds import round_close, round_create, round_open
from workbench.judging.models import ComparisonItem, ComparisonSet
from workbench.judging.selectors import compare_rounds_unlinked
from workbench.judging.services.compare import (
    compare_next_item,
    comparison_set_link_round,
)

PRINCIPLE = "Choose the response that respects the user's privacy."


@pytest.fixture
def compare_round(setup) -> Round:
    return round_create(workshop=setup.workshop, kind=Round.Kind.COMPARE)


def test_a_linked_set_is_what_the_rounds_participants_judge(
    setup, compare_round, participant_a
):
    comparison_set = make_set(setup, items=2)
    assert compare_next_item(participant=participant_a, round_=compare_round) is None
    comparison_set_link_round(comparison_set=comparison_set, round_=compare_round)
    item, _order = compare_next_item(participant=participant_a, round_=compare_round)
    assert item.comparison_set_id == comparison_set.pk
    assert compare_rounds_unlinked(workshop=setup.workshop) == []


def test_linking_again_to_the_same_round_changes_nothing(setup, compare_round):
    comparison_set = make_set(setup)
    comparison_set_link_round(comparison_set=comparison_set, round_=compare_round)
    linked = comparison_set_link_round(
        comparison_set=comparison_set, round_=compare_round
    )
    assert linked.round == compare_round


def test_a_set_moves_to_another_round_and_can_be_unlinked(setup, compare_round):
    second = round_create(workshop=setup.workshop, kind=Round.Kind.COMPARE)
    comparison_set = make_set(setup)
    comparison_set_link_round(comparison_set=comparison_set, round_=compare_round)
    comparison_set_link_round(comparison_set=comparison_set, round_=second)
    assert ComparisonSet.objects.get().round == second
    assert compare_rounds_unlinked(workshop=setup.workshop) == [compare_round]
    comparison_set_link_round(comparison_set=comparison_set, round_=None)
    assert ComparisonSet.objects.get().round is None


@pytest.mark.parametrize("kind", [Round.Kind.VOTE, Round.Kind.RANK])
def test_only_a_compare_round_can_use_a_set(setup, kind):
    other = round_create(workshop=setup.workshop, kind=kind)
    comparison_set = make_set(setup)
    with pytest.raises(ApplicationError, match="only a compare round"):
        comparison_set_link_round(comparison_set=comparison_set, round_=other)
    assert ComparisonSet.objects.get().round is None


def test_a_round_of_another_workshop_is_refused(setup):
    other = WorkshopFactory(owner=setup.workshop.owner, slug="other")
    foreign = round_create(workshop=other, kind=Round.Kind.COMPARE)
    with pytest.raises(ApplicationError, match="not part of this workshop"):
        comparison_set_link_round(comparison_set=make_set(setup), round_=foreign)


def test_a_round_already_used_by_another_set_is_refused(setup, compare_round):
    first, second = make_set(setup, name="first"), make_set(setup, name="second")
    comparison_set_link_round(comparison_set=first, round_=compare_round)
    with pytest.raises(ApplicationError, match="already uses the comparison set"):
        comparison_set_link_round(comparison_set=second, round_=compare_round)
    assert ComparisonSet.objects.get(name="first").round == compare_round
    assert ComparisonSet.objects.get(name="second").round is None


def test_the_set_of_an_open_round_stays_until_the_round_closes(
    setup, owner, compare_round, participant_a
):
    comparison_set = make_set(setup)
    comparison_set_link_round(comparison_set=comparison_set, round_=compare_round)
    round_open(round_=compare_round, actor=owner)
    with pytest.raises(ApplicationError, match="close the round"):
        comparison_set_link_round(comparison_set=comparison_set, round_=None)
    url = reverse(
        "deliberation:participant-compare",
        kwargs={"slug": setup.workshop.slug, "pk": compare_round.pk},
    )
    page = _text_of(participant_client(participant_a), url)
    assert " for pairs?" in page  # one of the set's prompts
    round_close(round_=compare_round, actor=owner)
    comparison_set_link_round(comparison_set=comparison_set, round_=None)
    assert ComparisonSet.objects.get().round is None


def _text_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- import_comparisons --round -----------------------------------------------------


def write_file(path: Path, items: int = 2) -> Path:
    rows = [
        {
            "item": f"q{n}",
            "principle": PRINCIPLE,
            "prompt": f"Where does person {n} live?",
            "response_a": "I can't share that.",
            "response_b": f"At {n} Elm Street.",
        }
        for n in range(items)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_import_with_round_links_the_new_set(setup, compare_round, tmp_path, capsys):
    call_command(
        "import_comparisons",
        str(write_file(tmp_path / "pairs.jsonl")),
        "--workshop",
        setup.workshop.slug,
        "--round",
        str(compare_round.pk),
    )
    comparison_set = ComparisonSet.objects.get()
    assert comparison_set.round == compare_round
    assert comparison_set.items.count() == 2
    assert f"Linked to round {compare_round.pk}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("make_round", "message"),
    [
        (lambda s: None, "has no round 999999"),
        (
            lambda s: round_create(workshop=s.workshop, kind=Round.Kind.VOTE),
            "is a vote round, not a compare round",
        ),
        (
            lambda s: round_create(
                workshop=WorkshopFactory(owner=s.workshop.owner, slug="other"),
                kind=Round.Kind.COMPARE,
            ),
            "has no round",
        ),
    ],
)
def test_import_with_a_wrong_round_imports_nothing(
    setup, tmp_path, make_round, message
):
    round_ = make_round(setup)
    with pytest.raises(CommandError, match=message) as caught:
        call_command(
            "import_comparisons",
            str(write_file(tmp_path / "pairs.jsonl")),
            "--workshop",
            setup.workshop.slug,
            "--round",
            str(round_.pk if round_ else 999999),
        )
    assert "Nothing was imported." in str(caught.value)
    assert not ComparisonItem.objects.exists()
    assert not ComparisonSet.objects.filter(workshop=setup.workshop).exists()


def test_import_into_a_round_that_has_a_set_imports_nothing(
    setup, compare_round, tmp_path
):
    existing = make_set(setup, name="existing")
    comparison_set_link_round(comparison_set=existing, round_=compare_round)
    with pytest.raises(CommandError, match="already uses the comparison set"):
        call_command(
            "import_comparisons",
            str(write_file(tmp_path / "pairs.jsonl")),
            "--workshop",
            setup.workshop.slug,
            "--round",
            str(compare_round.pk),
        )
    assert list(ComparisonSet.objects.values_list("name", flat=True)) == ["existing"]


def test_a_link_refused_inside_the_transaction_rolls_the_import_back(
    setup, compare_round, tmp_path, monkeypatch
):
    """The round is checked before the file is read; if another set takes it in
    the meantime, the link fails under lock and the import is undone with it."""

    def taken(**kwargs):
        raise ApplicationError("“Compare” already uses the comparison set “x”.")

    monkeypatch.setattr(
        "workbench.judging.management.commands.import_comparisons."
        "comparison_set_link_round",
        taken,
    )
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command(
            "import_comparisons",
            str(write_file(tmp_path / "pairs.jsonl")),
            "--workshop",
            setup.workshop.slug,
            "--round",
            str(compare_round.pk),
        )
    assert not ComparisonSet.objects.exists()
    assert not ComparisonItem.objects.exists()
