"""Rewording a principle to test it again: a logged new version on the same pairs,
refused atomically on bad input, judged again with only the new wording's calls;
and the versions side by side, the new wording measured against the labels
participants gave under the old one."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.factories import WorkshopFactory
from tests.judging.fake_providers import FakeProviderServer
from tests.judging.judging_fixtures import make_set
from workbench.core.errors import ApplicationError
from workbench.deliberation.models import (
    ModerationEvent,
    Participant,
    Principle,
    PrincipleVersion,
)
from workbench.deliberation.services.principles import principle_seed
from workbench.judging.comparisons.importer import comparisons_import
from workbench.judging.llm.offline import BASELINE_MODEL
from workbench.judging.metrics import principle_report
from workbench.judging.models import (
    ComparisonItem,
    HumanJudgment,
    JudgeConfig,
    JudgeRun,
    Verdict,
)
from workbench.judging.prompts import PROMPT_ID
from workbench.judging.services.runs import judge_run_execute, judge_run_start
from workbench.judging.services.versions import principle_reword, version_comparison

from .test_comparisons_own_format import write_jsonl
from .test_encoding_gap_report import (
    OTHER,
    PRIVACY,
    generated_rows,
    judge_answers,
    make_run,
    store_verdicts,
)

FAST = {"n_resamples": 200, "noise_repeats": 20}
REWORDED = "Choose the response that keeps what the user said about others private."
URL_ENV = "FAKE_JUDGE_BASE_URL"


@pytest.fixture
def imported(setup, tmp_path):
    rows = generated_rows()
    path = write_jsonl(
        tmp_path / "pairs.jsonl",
        [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
    )
    summary = comparisons_import(workshop=setup.workshop, path=path)
    return rows, summary.comparison_set


def privacy(setup) -> Principle:
    return setup.seeds[1]  # PRIVACY is the second seed


def pairs(comparison_set, version) -> list[tuple[int, int, int]]:
    return sorted(
        ComparisonItem.objects.filter(
            comparison_set=comparison_set, principle_version=version
        ).values_list("prompt_id", "response_a_id", "response_b_id")
    )


def test_rewording_logs_a_new_version_and_puts_it_on_every_pair(setup, owner, imported):
    _, comparison_set = imported
    principle = privacy(setup)
    old = principle.versions.get()

    version = principle_reword(
        principle=principle, text=REWORDED, actor=owner, comparison_set=comparison_set
    )

    assert version.number == 2
    assert version.text == REWORDED
    assert version.edited_by == owner
    principle.refresh_from_db()
    assert principle.text == REWORDED
    event = ModerationEvent.objects.filter(
        principle=principle, action=ModerationEvent.Action.EDIT
    ).get()
    assert event.actor == owner
    assert event.data["version"] == 2
    assert event.data["to"] == REWORDED
    assert len(pairs(comparison_set, old)) == 6
    assert pairs(comparison_set, version) == pairs(comparison_set, old)
    new_ids = sorted(
        ComparisonItem.objects.filter(principle_version=version).values_list(
            "external_id", flat=True
        )
    )
    assert new_ids == sorted(f"q{i}~v2" for i in range(0, 12, 2))
    # The other principle is untouched.
    assert ComparisonItem.objects.filter(comparison_set=comparison_set).count() == 18


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "Write the principle before submitting it."),
        ("x" * 281, "Please keep a principle under 280 characters"),
        (PRIVACY, "The new wording is the same as the current one."),
    ],
    ids=["empty", "too-long", "unchanged"],
)
def test_bad_wording_is_refused_and_nothing_is_stored(
    setup, owner, imported, text, message
):
    _, comparison_set = imported
    before = (
        PrincipleVersion.objects.count(),
        ComparisonItem.objects.count(),
        ModerationEvent.objects.count(),
    )
    with pytest.raises(ApplicationError, match=message):
        principle_reword(
            principle=privacy(setup),
            text=text,
            actor=owner,
            comparison_set=comparison_set,
        )
    after = (
        PrincipleVersion.objects.count(),
        ComparisonItem.objects.count(),
        ModerationEvent.objects.count(),
    )
    assert after == before


def test_a_principle_of_another_workshop_or_without_items_is_refused(
    setup, owner, imported
):
    _, comparison_set = imported
    elsewhere = principle_seed(
        workshop=WorkshopFactory(owner=owner),
        text="Choose the kinder one.",
        actor=owner,
    )
    with pytest.raises(ApplicationError, match="does not belong"):
        principle_reword(
            principle=elsewhere,
            text=REWORDED,
            actor=owner,
            comparison_set=comparison_set,
        )
    # The first seed has no item in this set.
    with pytest.raises(ApplicationError, match="has no items in"):
        principle_reword(
            principle=setup.seeds[0],
            text=REWORDED,
            actor=owner,
            comparison_set=comparison_set,
        )
    assert PrincipleVersion.objects.filter(number=2).count() == 0


# --- the next run asks only the new wording ----------------------------------------


def test_an_offline_run_after_rewording_copies_every_old_verdict(setup, owner):
    comparison_set = make_set(setup, items=4)
    config = JudgeConfig.objects.create(
        provider="offline", model=BASELINE_MODEL, prompt_version=PROMPT_ID
    )
    first = judge_run_start(
        comparison_set=comparison_set, config=config, actor=None, enqueue=False
    )
    judge_run_execute(run_id=first.pk)

    principle_reword(
        principle=setup.seeds[0],
        text="Choose the response that says how sure it is.",
        actor=owner,
        comparison_set=comparison_set,
    )
    second = judge_run_start(
        comparison_set=comparison_set, config=config, actor=None, enqueue=False
    )
    judge_run_execute(run_id=second.pk)

    second.refresh_from_db()
    assert second.status == JudgeRun.Status.DONE
    assert second.verdicts_total == second.verdicts_done == 16
    assert second.cache_hits == 8  # every verdict of the old wording
    new_keys = set(
        Verdict.objects.filter(
            run=second, item__principle_version__number=2
        ).values_list("cache_key", flat=True)
    )
    assert len(new_keys) == 8
    assert not new_keys & set(
        Verdict.objects.filter(run=first).values_list("cache_key", flat=True)
    )


def test_a_provider_is_asked_only_about_the_new_wording(
    setup, owner, monkeypatch, settings
):
    settings.JUDGE_RETRY = {"max_attempts": 1, "base_delay": 0.01, "max_delay": 0.02}
    comparison_set = make_set(setup, items=3)
    new_text = "Choose the response that says how sure it is."
    with FakeProviderServer() as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv(URL_ENV, server.openai_url)
        config = JudgeConfig.objects.create(
            provider="openai",
            model="gpt-4o-mini",
            prompt_version=PROMPT_ID,
            base_url_env_name=URL_ENV,
        )
        first = judge_run_start(
            comparison_set=comparison_set, config=config, actor=None, enqueue=False
        )
        judge_run_execute(run_id=first.pk, concurrency=1)
        assert server.request_count == 6

        principle_reword(
            principle=setup.seeds[0],
            text=new_text,
            actor=owner,
            comparison_set=comparison_set,
        )
        second = judge_run_start(
            comparison_set=comparison_set, config=config, actor=None, enqueue=False
        )
        judge_run_execute(run_id=second.pk, concurrency=1)

        second.refresh_from_db()
        assert server.request_count == 6 + 6
        assert (second.verdicts_done, second.cache_hits) == (12, 6)
        asked = [str(r.body) for r in server.requests[6:]]
        assert all(new_text in body for body in asked)
        assert not any(setup.seeds[0].versions.get(number=1).text in b for b in asked)


# --- versions side by side ---------------------------------------------------------


def wrong_answers(rows) -> dict[str, tuple]:
    """Against the nurses' truth on every item of the reworded PRIVACY (v2 ids)."""
    answers = {}
    for row in rows:
        if row["principle"] == PRIVACY:
            label = OTHER[row["_truth"]]
            p = 0.8 if label == "a" else 0.2
            answers[f"{row['item']}~v2"] = (label, label, p, p)
    return answers


def _twice_judged(setup, owner, rows, comparison_set):
    """v1 judged by the nurses' truth (run one); after rewording, run two has the
    same v1 verdicts and answers every v2 item against the truth."""
    first = make_run(comparison_set)
    store_verdicts(first, judge_answers(rows))
    version = principle_reword(
        principle=privacy(setup),
        text=REWORDED,
        actor=owner,
        comparison_set=comparison_set,
    )
    second = make_run(comparison_set, model="gpt-test-2")
    store_verdicts(second, judge_answers(rows) | wrong_answers(rows))
    return version, second


def test_a_reworded_version_is_measured_against_the_earlier_labels(
    setup, owner, imported
):
    rows, comparison_set = imported
    version, run = _twice_judged(setup, owner, rows, comparison_set)

    table = version_comparison(workshop=setup.workshop, run=run, **FAST)

    assert [t["text"] for t in table] == [REWORDED]  # PLAIN has one version
    v1, v2 = table[0]["versions"]
    assert (v1["number"], v2["number"]) == (1, 2)
    assert v1["labels_from_version"] is None
    assert v2["labels_from_version"] == 1
    assert v2["n_labels"] == v1["n_labels"] > 0
    assert (v1["n_items"], v2["n_items"], v2["n_judged"]) == (6, 6, 6)
    # Same labels on the same pairs: the same human ceiling.
    assert v2["human_ceiling"] == v1["human_ceiling"]
    # The judge reads v2 against the (nurse) majority: far worse than v1. The
    # teachers mostly read it the other way, so neither is near 0 or 1.
    assert v1["judge_agreement"] > 0.55
    assert v2["judge_agreement"] < 0.45
    assert v2["judge_agreement_change"] == pytest.approx(
        100 * (v2["judge_agreement"] - v1["judge_agreement"])
    )
    assert v2["judge_agreement_change"] < -10
    assert v1["judge_agreement_change"] == 0
    assert v2["ci"]["judge_agreement"] is not None

    # Independently: v1's labels moved onto the v2 items of the same pair.
    v1_items = {
        i.pk: (i.prompt_id, i.response_a_id, i.response_b_id)
        for i in ComparisonItem.objects.filter(principle_version__number=1)
    }
    v2_items = {
        (i.prompt_id, i.response_a_id, i.response_b_id): i.pk
        for i in ComparisonItem.objects.filter(principle_version=version)
    }
    labels = pd.DataFrame(
        [
            (v2_items[v1_items[j.item_id]], j.participant_id, j.label)
            for j in HumanJudgment.objects.filter(item__in=list(v1_items))
            if v1_items[j.item_id] in v2_items
        ],
        columns=["item", "rater", "label"],
    )
    external = dict(
        ComparisonItem.objects.filter(principle_version=version).values_list(
            "external_id", "pk"
        )
    )
    verdicts = pd.DataFrame(
        [(external[k], *v) for k, v in wrong_answers(rows).items()],
        columns=["item", "label_ab", "label_ba", "p_a_ab", "p_a_ba"],
    )
    expected = principle_report(labels, verdicts, **FAST)
    assert v2["judge_agreement"] == expected["judge_agreement"]


def test_labels_of_its_own_replace_the_borrowed_ones(setup, owner, imported):
    rows, comparison_set = imported
    version, run = _twice_judged(setup, owner, rows, comparison_set)
    # Two participants judge the new wording's items the way the judge did.
    raters = list(Participant.objects.filter(workshop=setup.workshop)[:2])
    for item in ComparisonItem.objects.filter(principle_version=version):
        choice = Verdict.objects.get(run=run, item=item, order="ab").choice
        for rater in raters:
            HumanJudgment.objects.create(item=item, participant=rater, label=choice)

    v1, v2 = version_comparison(workshop=setup.workshop, run=run, **FAST)[0]["versions"]
    assert v2["labels_from_version"] is None
    assert v2["n_labels"] == 12
    assert v2["judge_agreement"] == 1.0
    assert v1["labels_from_version"] is None


def test_a_version_not_yet_judged_has_no_judge_figures(setup, owner, imported):
    rows, comparison_set = imported
    run = make_run(comparison_set)
    store_verdicts(run, judge_answers(rows))
    principle_reword(
        principle=privacy(setup),
        text=REWORDED,
        actor=owner,
        comparison_set=comparison_set,
    )
    v1, v2 = version_comparison(workshop=setup.workshop, run=run, **FAST)[0]["versions"]
    assert v2["n_judged"] == 0
    assert v2["labels_from_version"] == 1
    assert v2["judge_agreement"] is None
    assert v2["judge_agreement_change"] is None
    assert v2["human_ceiling"] == v1["human_ceiling"]


def test_another_workshops_run_is_refused(setup, owner, imported):
    _, comparison_set = imported
    run = make_run(comparison_set)
    with pytest.raises(ValueError, match="does not belong"):
        version_comparison(workshop=WorkshopFactory(owner=owner), run=run)
