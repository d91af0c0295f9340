"""The pluralism measures, worked by hand."""

import math

import pytest

from workbench.cards.pluralism import (
    measurement_agreement,
    origin_pluralism,
    rule_agreement,
    rule_set_agreement,
)


def test_equal_support_in_every_group_is_fully_plural():
    # Rates 0.5 and 0.5 (group sizes differ): p = (1/2, 1/2), H = ln 2, / ln 2 = 1.
    assert origin_pluralism({"A": (5, 10), "B": (20, 40)}).value == 1.0


def test_support_from_one_group_alone_is_not_plural():
    assert origin_pluralism({"A": (8, 10), "B": (0, 10)}).value == 0.0


def test_origin_pluralism_worked_example():
    # Rates 0.9 and 0.3 -> p = (0.75, 0.25); H = -(.75 ln .75 + .25 ln .25) = 0.5623;
    # / ln 2 = 0.8113.
    value = origin_pluralism({"A": (9, 10), "B": (3, 10)}).value
    expected = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(2)
    assert value == pytest.approx(expected, abs=1e-6)
    assert value == pytest.approx(0.811278, abs=1e-6)


def test_origin_pluralism_needs_two_voting_groups():
    measure = origin_pluralism({"A": (3, 4), "B": (0, 0)})
    assert measure.value is None
    assert measure.reason == "fewer than two groups voted"


def test_rule_agreement():
    assert rule_agreement({"a": True, "b": True, "c": True}).value == 1.0
    # 3 of 4 decide alike: (3/4 - 1/2) * 2 = 0.5.
    assert rule_agreement({"a": True, "b": True, "c": True, "d": False}).value == 0.5
    assert rule_agreement({"a": True, "b": False}).value == 0.0
    assert rule_agreement({"a": True}).value is None


def test_rule_set_agreement_is_mean_pairwise_jaccard():
    # J(a,b) = 1/3 ({1} over {1,2,3}), J(a,c) = 2/3, J(b,c) = 2/3 -> mean 5/9.
    measure = rule_set_agreement(
        {"a": ["1", "2"], "b": ["1", "3"], "c": ["1", "2", "3"]}
    )
    assert measure.value == pytest.approx(5 / 9, abs=1e-6)
    assert rule_set_agreement({"a": [], "b": []}).value == 1.0


def test_measurement_agreement_counts_available_measures():
    assert measurement_agreement(
        {"votes": True, "ranking": True, "judge": False}
    ).value == pytest.approx(2 / 3, abs=1e-6)
    assert (
        measurement_agreement({"votes": True, "ranking": None, "judge": True}).value
        == 1.0
    )
    missing = measurement_agreement({"votes": True, "ranking": None, "judge": None})
    assert missing.value is None
    assert missing.reason == "fewer than two independent measures"
