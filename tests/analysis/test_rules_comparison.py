"""Rules side by side: adopted sets, disagreements, Jaccard agreement and the
groups each outcome favours."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.analysis.comparison import RuleSettings, compare_rules, jaccard
from workbench.analysis.thresholds import CCAI_SWEEP, ccai_rule, overall_threshold_rule

# Principles "p1".."p4" x groups "a", "b".
AGREE = np.array([[9, 9], [10, 2], [8, 7], [1, 1]])
TOTAL = np.array([[10, 10], [10, 10], [10, 10], [10, 10]])
PRINCIPLES = ["p1", "p2", "p3", "p4"]
GROUPS = ["a", "b"]


def _outcome(comparison, rule):
    return next(o for o in comparison.outcomes if o.rule == rule)


def test_each_threshold_rule_adopts_what_its_function_adopts():
    c = compare_rules(AGREE, TOTAL, principles=PRINCIPLES, groups=GROUPS)
    ccai = ccai_rule(AGREE, TOTAL, threshold=0.7)
    overall = overall_threshold_rule(AGREE, TOTAL, threshold=0.7)
    assert _outcome(c, "ccai").adopted == [
        p for p, a in zip(PRINCIPLES, ccai, strict=True) if a
    ]
    assert _outcome(c, "overall").adopted == [
        p for p, a in zip(PRINCIPLES, overall, strict=True) if a
    ]
    assert _outcome(c, "ccai").adopted == ["p1", "p3"]
    assert _outcome(c, "overall").adopted == ["p1", "p3"]


def test_per_group_share_of_the_adopted_set_by_hand():
    settings = RuleSettings(overall_threshold=0.6)
    c = compare_rules(
        AGREE, TOTAL, principles=PRINCIPLES, groups=GROUPS, settings=settings
    )
    overall = _outcome(c, "overall")
    # overall share >= 0.6 adopts p1, p2, p3: group a (9+10+8)/30, b (9+2+7)/30.
    assert overall.adopted == ["p1", "p2", "p3"]
    assert overall.group_agree_share == pytest.approx([27 / 30, 18 / 30])
    assert overall.favoured_group == "a"
    assert overall.spread == pytest.approx(9 / 30)
    assert overall.overall_agree_share == pytest.approx(45 / 60)


def test_disagreements_and_jaccard():
    settings = RuleSettings(overall_threshold=0.6)
    c = compare_rules(
        AGREE, TOTAL, principles=PRINCIPLES, groups=GROUPS, settings=settings
    )
    split = {d.principle: d for d in c.disagreements}
    assert "p2" in split
    assert "overall" in split["p2"].adopted_by
    assert "ccai" in split["p2"].rejected_by
    assert "p4" not in split
    assert c.agreement["ccai"]["overall"] == pytest.approx(2 / 3)
    assert c.agreement["overall"]["ccai"] == c.agreement["ccai"]["overall"]


def test_jaccard_of_two_empty_sets_is_one():
    empty = np.zeros(3, dtype=bool)
    assert jaccard(empty, empty) == 1.0
    assert jaccard(np.array([True, False]), np.array([False, True])) == 0.0


def test_given_gac_vector_drives_the_gac_rules():
    gac = np.array([0.1, 0.95, 0.1, 0.1])
    c = compare_rules(AGREE, TOTAL, principles=PRINCIPLES, gac=gac)
    assert _outcome(c, "group_aware_consensus").adopted == ["p2"]
    assert _outcome(c, "size_adaptive").adopted == ["p2"]


def test_ballot_rules_join_the_comparison():
    ballots = (
        [["p2", "p1", "p3"]] * 3 + [["p1", "p3", "p2"]] * 2 + [["p3", "p1", "p2"]] * 2
    )
    c = compare_rules(
        AGREE, TOTAL, principles=PRINCIPLES, groups=GROUPS, ballots=ballots
    )
    assert _outcome(c, "plurality").adopted == ["p2"]
    assert _outcome(c, "borda").adopted == ["p1"]
    top2 = compare_rules(
        AGREE,
        TOTAL,
        principles=PRINCIPLES,
        ballots=ballots,
        settings=RuleSettings(ballot_k=2),
    )
    # Borda: p1 9, p2 6, p3 6; the tie at the cut takes in the whole tier.
    assert _outcome(top2, "borda").adopted == ["p1", "p2", "p3"]
    assert _outcome(top2, "copeland").adopted == ["p1", "p3"]
    assert "ranked_pairs" not in {o.rule for o in top2.outcomes}


def test_welfare_of_each_outcome_with_votes():
    votes = np.array([[1, -1, 1, -1], [1, 1, 0, -1], [1, -1, 1, np.nan]], dtype=float)
    c = compare_rules(AGREE, TOTAL, principles=PRINCIPLES, votes=votes)
    ccai = _outcome(c, "ccai")  # p1, p3: utilities 1, 3/4, 1
    assert ccai.welfare is not None
    assert ccai.welfare["0.0"] == pytest.approx((1 + 0.75 + 1) / 3)
    assert ccai.welfare["inf"] == pytest.approx(0.75)


def test_result_serialises_to_json():
    ballots = [["p2", "p1"], ["p1", "p2"]]
    votes = np.ones((2, 4))
    c = compare_rules(
        AGREE, TOTAL, principles=PRINCIPLES, groups=GROUPS, ballots=ballots, votes=votes
    )
    decoded = json.loads(json.dumps(c.as_dict()))
    assert decoded["principles"] == PRINCIPLES
    assert {o["rule"] for o in decoded["outcomes"]} >= {"ccai", "borda", "schulze"}
    # a two-way tie is reported as two winners
    assert _outcome(c, "borda").adopted == ["p1", "p2"]


@pytest.mark.parametrize(
    ("agree", "total"),
    [
        (np.zeros((0, 2)), np.zeros((0, 2))),  # no principles
        (np.zeros((3, 0)), np.zeros((3, 0))),  # no groups
        (np.zeros((2, 2)), np.zeros((2, 2))),  # no votes
        (np.array([[1]]), np.array([[1]])),  # one principle, one voter
        (np.array([[5, 1]]), np.array([[5, 1]])),  # everyone agrees, one-member group
        (np.zeros((2, 2)), np.full((2, 2), 4)),  # all passes
    ],
)
def test_degenerate_counts_give_a_result(agree, total):
    c = compare_rules(agree, total)
    assert json.loads(json.dumps(c.as_dict()))["outcomes"]
    for outcome in c.outcomes:
        assert outcome.spread is None or outcome.spread >= 0


def test_everyone_agreeing_is_adopted_by_every_threshold_rule_but_gac():
    c = compare_rules(np.array([[5, 1]]), np.array([[5, 1]]))
    assert _outcome(c, "ccai").adopted == [0]
    assert _outcome(c, "overall").adopted == [0]
    # GAC = 6/7 * 2/3 = 0.571: the one-member group keeps it under 0.6
    assert _outcome(c, "group_aware_consensus").adopted == []


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match="same shape"):
        compare_rules(np.zeros((2, 2)), np.zeros((3, 2)))


def test_ccai_sweep_counts_what_the_ccai_rule_adopts_at_each_threshold():
    rng = np.random.default_rng(11)
    total = rng.integers(0, 30, size=(40, 3)).astype(float)
    agree = np.floor(total * rng.uniform(0.3, 1.0, size=total.shape))
    sweep = compare_rules(agree, total).ccai_sweep
    assert list(sweep) == [f"{t:.2f}" for t in CCAI_SWEEP]
    for key, count in sweep.items():
        settings = RuleSettings(ccai_threshold=float(key))
        ccai = next(
            o
            for o in compare_rules(agree, total, settings=settings).outcomes
            if o.rule == "ccai"
        )
        assert count == len(ccai.adopted)
    assert list(sweep.values()) == sorted(sweep.values(), reverse=True)
