"""Compare rounds: balanced assignment, the shown order, storing answers once, and the
participant page over HTTP."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import participant_client
from tests.factories import ParticipantFactory
from workbench.core.errors import ApplicationError, NotAvailableError
from workbench.deliberation.models import Round
from workbench.deliberation.services.rounds import round_close, round_create, round_open
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.models import ComparisonSet, HumanJudgment, Label, Order
from workbench.judging.selectors_compare import compare_coverage
from workbench.judging.services.compare import (
    REASON_MAX_LENGTH,
    compare_label_in_item_terms,
    compare_next_item,
    compare_shown_order,
    compare_submit,
)

PRINCIPLE = "Choose the response that admits what it does not know."


def make_set(workshop, tmp_path: Path, k: int, name: str = "pairs", **texts):
    rows = [
        {
            "item": f"{name}-{i}",
            "principle": texts.get("principle", PRINCIPLE),
            "prompt": texts.get("prompt", f"Question {i}?"),
            "response_a": texts.get("response_a", f"Answer A{i}"),
            "response_b": texts.get("response_b", f"Answer B{i}"),
            "label": "",
            "annotator": "",
            "group": "",
            "reason": "",
        }
        for i in range(k)
    ]
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return comparisons_import(workshop=workshop, path=path, name=name).comparison_set


def compare_round(setup, owner, comparison_set, **kwargs) -> Round:
    round_ = round_create(workshop=setup.workshop, kind=Round.Kind.COMPARE, **kwargs)
    comparison_set.round = round_
    comparison_set.save(update_fields=["round"])
    return round_open(round_=round_, actor=owner)


def judge_next(participant, round_, shown_label="1", reason=""):
    assigned = compare_next_item(participant=participant, round_=round_)
    assert assigned is not None
    item, shown_order = assigned
    return compare_submit(
        participant=participant,
        round_=round_,
        item=item,
        shown_label=shown_label,
        reason=reason,
        shown_order=shown_order,
    )


def participant_with_order(group, item, order):
    for _ in range(200):
        participant = ParticipantFactory(group=group)
        if compare_shown_order(participant=participant, item_id=item.pk) == order:
            return participant
    raise AssertionError("no participant with that order")  # pragma: no cover


def group_counts(comparison_set: ComparisonSet, group) -> list[int]:
    return [
        item.judgments.filter(participant__group=group).count()
        for item in comparison_set.items.order_by("id")
    ]


# Assignment


def test_each_item_gets_a_judgment_from_each_group_before_a_second(
    setup, owner, tmp_path
):
    k = 4
    comparison_set = make_set(setup.workshop, tmp_path, k)
    round_ = compare_round(setup, owner, comparison_set)
    groups = [setup.group_a, setup.group_b]
    people = {g.pk: [ParticipantFactory(group=g) for _ in range(4)] for g in groups}
    # Interleaved, each participant judging one pair in turn, then a second one.
    for turn in range(2):
        for i in range(4):
            for group in groups:
                judge_next(people[group.pk][i], round_)
                for g in groups:
                    counts = group_counts(comparison_set, g)
                    if max(counts) >= 2:
                        assert min(counts) >= 1, (turn, i, g.name, counts)
        if turn == 0:
            # k participants per group, one pair each: exactly one per item per group.
            assert group_counts(comparison_set, setup.group_a) == [1] * k
            assert group_counts(comparison_set, setup.group_b) == [1] * k
            coverage = compare_coverage(round_=round_)
            assert [g.name for g in coverage.groups] == ["Nurses", "Teachers"]
            assert [row.per_group for row in coverage.rows] == [[1, 1]] * k
            assert [row.total for row in coverage.rows] == [2] * k
            assert coverage.minimum_per_group == [1, 1]
    # A participant never judges an item twice, so the second pass can be forced
    # onto items that already have more: balanced "where possible".
    for group in groups:
        counts = group_counts(comparison_set, group)
        assert sum(counts) == 2 * k
        assert min(counts) >= 1


def test_first_of_a_group_prefers_the_least_judged_items_overall(
    setup, owner, tmp_path
):
    comparison_set = make_set(setup.workshop, tmp_path, 3)
    round_ = compare_round(setup, owner, comparison_set)
    first_a = judge_next(ParticipantFactory(group=setup.group_a), round_)
    # Nobody in the Teachers has judged anything: they get an item nobody judged.
    item, _ = compare_next_item(
        participant=ParticipantFactory(group=setup.group_b), round_=round_
    )
    assert item.pk != first_a.item_id


def test_a_participant_judges_every_item_once_then_is_done(setup, owner, tmp_path):
    comparison_set = make_set(setup.workshop, tmp_path, 3)
    round_ = compare_round(setup, owner, comparison_set)
    participant = ParticipantFactory(group=setup.group_a)
    seen = {judge_next(participant, round_).item_id for _ in range(3)}
    assert seen == set(comparison_set.items.values_list("pk", flat=True))
    assert compare_next_item(participant=participant, round_=round_) is None


def test_a_round_without_a_comparison_set_has_nothing_to_judge(setup, owner):
    round_ = round_open(
        round_=round_create(workshop=setup.workshop, kind=Round.Kind.COMPARE),
        actor=owner,
    )
    participant = ParticipantFactory(group=setup.group_a)
    assert compare_next_item(participant=participant, round_=round_) is None


# The shown order


def test_shown_order_differs_across_participants_but_is_stable(setup, owner, tmp_path):
    comparison_set = make_set(setup.workshop, tmp_path, 1)
    round_ = compare_round(setup, owner, comparison_set)
    item = comparison_set.items.get()
    people = [ParticipantFactory(group=setup.group_a) for _ in range(24)]
    orders = [compare_shown_order(participant=p, item_id=item.pk) for p in people]
    assert set(orders) == {Order.AB, Order.BA}
    for participant, order in zip(people, orders, strict=True):
        assert compare_next_item(participant=participant, round_=round_) == (
            item,
            order,
        )
        assert compare_next_item(participant=participant, round_=round_) == (
            item,
            order,
        )


@pytest.mark.parametrize(
    ("order", "clicked", "expected"),
    [
        (Order.AB, "1", Label.A),
        (Order.AB, "2", Label.B),
        (Order.BA, "1", Label.B),
        (Order.BA, "2", Label.A),
        (Order.AB, "tie", Label.TIE),
        (Order.BA, "tie", Label.TIE),
        (Order.BA, "na", Label.NOT_APPLICABLE),
    ],
)
def test_the_clicked_label_maps_back_to_the_items_terms(order, clicked, expected):
    assert (
        compare_label_in_item_terms(shown_label=clicked, shown_order=order) == expected
    )


@pytest.mark.parametrize("order", [Order.AB, Order.BA])
def test_the_stored_judgment_is_in_item_terms_with_its_order(
    setup, owner, tmp_path, order
):
    comparison_set = make_set(setup.workshop, tmp_path, 1)
    round_ = compare_round(setup, owner, comparison_set)
    item = comparison_set.items.get()
    participant = participant_with_order(setup.group_a, item, order)
    judgment = judge_next(participant, round_, shown_label="1")
    judgment.refresh_from_db()
    assert judgment.shown_order == order
    assert judgment.label == (Label.A if order == Order.AB else Label.B)


def test_a_tampered_order_or_label_is_refused(setup, owner, tmp_path):
    comparison_set = make_set(setup.workshop, tmp_path, 1)
    round_ = compare_round(setup, owner, comparison_set)
    item = comparison_set.items.get()
    participant = ParticipantFactory(group=setup.group_a)
    real = compare_shown_order(participant=participant, item_id=item.pk)
    wrong = Order.BA if real == Order.AB else Order.AB
    for shown_label, shown_order in [("1", wrong), ("a", real), ("1", "xx")]:
        with pytest.raises(ApplicationError):
            compare_submit(
                participant=participant,
                round_=round_,
                item=item,
                shown_label=shown_label,
                reason="",
                shown_order=shown_order,
            )
    with pytest.raises(ApplicationError, match="under"):
        compare_submit(
            participant=participant,
            round_=round_,
            item=item,
            shown_label="1",
            reason="x" * (REASON_MAX_LENGTH + 1),
            shown_order=real,
        )
    assert HumanJudgment.objects.count() == 0


# Storing


def test_a_double_submission_is_stored_once(setup, owner, tmp_path):
    comparison_set = make_set(setup.workshop, tmp_path, 2)
    round_ = compare_round(setup, owner, comparison_set)
    participant = ParticipantFactory(group=setup.group_a)
    item, order = compare_next_item(participant=participant, round_=round_)
    kwargs = {
        "participant": participant,
        "round_": round_,
        "item": item,
        "shown_order": order,
    }
    first = compare_submit(**kwargs, shown_label="1", reason="  clearer  ")
    again = compare_submit(**kwargs, shown_label="na", reason="changed my mind")
    assert again.pk == first.pk
    stored = HumanJudgment.objects.get()
    assert (stored.label, stored.reason) == (first.label, "clearer")


def test_a_closed_round_refuses_and_stores_nothing(setup, owner, tmp_path):
    comparison_set = make_set(setup.workshop, tmp_path, 2)
    round_ = compare_round(setup, owner, comparison_set)
    participant = ParticipantFactory(group=setup.group_a)
    item, order = compare_next_item(participant=participant, round_=round_)
    round_close(round_=round_, actor=owner)
    with pytest.raises(ApplicationError, match="not open"):
        compare_submit(
            participant=participant,
            round_=round_,
            item=item,
            shown_label="1",
            reason="",
            shown_order=order,
        )
    client = participant_client(participant)
    url = reverse(
        "deliberation:participant-compare",
        kwargs={"slug": setup.workshop.slug, "pk": round_.pk},
    )
    response = client.post(
        url, {"item": item.pk, "shown_order": order, "choice": "1"}, follow=True
    )
    assert response.redirect_chain == [(url, 303)]
    assert "not open" in response.content.decode()
    assert "compare-principle" not in response.content.decode()
    assert HumanJudgment.objects.count() == 0


def test_another_groups_round_is_404(setup, owner, tmp_path):
    comparison_set = make_set(setup.workshop, tmp_path, 1)
    round_ = compare_round(
        setup, owner, comparison_set, scope=Round.Scope.GROUP, group=setup.group_a
    )
    outsider = ParticipantFactory(group=setup.group_b)
    item = comparison_set.items.get()
    order = compare_shown_order(participant=outsider, item_id=item.pk)
    client = participant_client(outsider)
    url = reverse(
        "deliberation:participant-compare",
        kwargs={"slug": setup.workshop.slug, "pk": round_.pk},
    )
    assert client.get(url).status_code == 404
    post = {"item": item.pk, "shown_order": order, "choice": "1"}
    assert client.post(url, post).status_code == 404
    with pytest.raises(NotAvailableError):
        compare_submit(
            participant=outsider,
            round_=round_,
            item=item,
            shown_label="1",
            reason="",
            shown_order=order,
        )
    assert HumanJudgment.objects.count() == 0
    # The coverage of a group round counts only its group.
    assert [g.name for g in compare_coverage(round_=round_).groups] == ["Nurses"]


def test_an_item_of_another_set_is_404(setup, owner, tmp_path):
    round_ = compare_round(setup, owner, make_set(setup.workshop, tmp_path, 1))
    other = make_set(setup.workshop, tmp_path, 1, name="other").items.get()
    participant = ParticipantFactory(group=setup.group_a)
    client = participant_client(participant)
    url = reverse(
        "deliberation:participant-compare",
        kwargs={"slug": setup.workshop.slug, "pk": round_.pk},
    )
    order = compare_shown_order(participant=participant, item_id=other.pk)
    post = {"item": other.pk, "shown_order": order, "choice": "1"}
    assert client.post(url, post).status_code == 404
    assert HumanJudgment.objects.count() == 0


# The page


def test_participant_text_is_escaped(setup, owner, tmp_path):
    comparison_set = make_set(
        setup.workshop,
        tmp_path,
        1,
        principle="<script>alert('p')</script> be honest",
        prompt="<script>alert('q')</script>",
        response_a="<b>bold A</b>",
        response_b="<img src=x onerror=alert(1)>",
    )
    round_ = compare_round(setup, owner, comparison_set)
    participant = ParticipantFactory(group=setup.group_a)
    url = reverse(
        "deliberation:participant-compare",
        kwargs={"slug": setup.workshop.slug, "pk": round_.pk},
    )
    html = participant_client(participant).get(url).content.decode()
    assert "<script>alert(" not in html
    assert "<b>bold A</b>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;q&#x27;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold A&lt;/b&gt;" in html


def test_the_page_flow_to_the_done_state(setup, owner, tmp_path):
    comparison_set = make_set(setup.workshop, tmp_path, 3)
    round_ = compare_round(setup, owner, comparison_set, title="Compare pairs")
    participant = ParticipantFactory(group=setup.group_a)
    client = participant_client(participant)
    home = client.get(
        reverse("deliberation:participant-home", kwargs={"slug": setup.workshop.slug})
    ).content.decode()
    url = reverse(
        "deliberation:participant-compare",
        kwargs={"slug": setup.workshop.slug, "pk": round_.pk},
    )
    assert f'href="{url}"' in home
    for done, choice in enumerate(["1", "2", "na"]):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert f"You have compared {done} of 3 pairs." in html
        assert PRINCIPLE in html
        item = re.search(r'name="item" value="(\d+)"', html).group(1)
        order = re.search(r'name="shown_order" value="(\w+)"', html).group(1)
        response = client.post(
            url,
            {"item": item, "shown_order": order, "choice": choice, "reason": "why"},
        )
        assert response.status_code == 303
        assert response["Location"] == url
    html = client.get(url).content.decode()
    assert "You have compared every pair. Thank you!" in html
    assert "You have compared 3 of 3 pairs." in html
    judgments = HumanJudgment.objects.filter(participant=participant)
    assert judgments.count() == 3
    assert set(judgments.values_list("reason", flat=True)) == {"why"}
    # A vote round's page is not a compare page.
    vote = round_open(
        round_=round_create(workshop=setup.workshop, kind=Round.Kind.VOTE), actor=owner
    )
    wrong = reverse(
        "deliberation:participant-compare",
        kwargs={"slug": setup.workshop.slug, "pk": vote.pk},
    )
    assert client.get(wrong).status_code == 404
