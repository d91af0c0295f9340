"""Encoding-gap metrics against the reference libraries (krippendorff, scikit-learn,
scipy, statsmodels) and against plain-Python re-implementations, on seeded random
data."""

from __future__ import annotations

import math
from collections import Counter

import krippendorff
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from workbench.judging.metrics import (
    benjamini_hochberg,
    brier_score,
    cluster_bootstrap,
    cohen_kappa,
    human_ceiling,
    js_distance,
    js_noise_floor,
    judge_agreement,
    kendall_tau,
    krippendorff_alpha,
    principle_report,
    wilson_interval,
)

CODES = {"a": 0, "b": 1, "tie": 2}


def random_data(seed, *, n_items=40, n_raters=7, labels=("a", "b", "tie"), missing=0.2):
    rng = np.random.default_rng(seed)
    rows = []
    for item in range(n_items):
        lean = rng.random()
        for r in range(n_raters):
            if rng.random() < missing:
                continue
            if len(labels) == 3 and rng.random() < 0.15:
                label = "tie"
            else:
                label = "a" if rng.random() < lean else "b"
            rows.append((item, f"r{r}", "g1" if r % 2 else "g2", label))
    frame = pd.DataFrame(rows, columns=["item", "rater", "group", "label"])
    verdict_rows = []
    for item in range(n_items):
        choice = rng.choice(["a", "b", "a", "na"])
        other = choice if rng.random() < 0.8 else rng.choice(["a", "b"])
        verdict_rows.append((item, choice, other, rng.random(), rng.random()))
    verdicts = pd.DataFrame(
        verdict_rows, columns=["item", "label_ab", "label_ba", "p_a_ab", "p_a_ba"]
    )
    return frame, verdicts


def brute_force(labels, verdicts):
    """Leave-one-out ceiling and judge agreement by plain loops, expected tie-break."""
    judge = {}
    for row in verdicts.itertuples():
        ok = {row.label_ab, row.label_ba} <= set(CODES)
        judge[row.item] = (
            (row.label_ab if row.label_ab == row.label_ba else "tie") if ok else None
        )
    hits = judge_hits = n = judged = 0.0
    for item, block in labels[labels["label"] != "na"].groupby("item"):
        own = block["label"].tolist()
        if len(own) < 2:
            continue
        for i, label in enumerate(own):
            counts = Counter(own[:i] + own[i + 1 :])
            top = max(counts.values())
            modes = [k for k, v in counts.items() if v == top]
            hits += (label in modes) / len(modes)
            n += 1
            if judge.get(item) is not None:
                judge_hits += (judge[item] in modes) / len(modes)
                judged += 1
    return hits / n, judge_hits / judged


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ceiling_and_agreement_match_brute_force(seed):
    labels, verdicts = random_data(seed)
    ceiling, agreement = brute_force(labels, verdicts)
    assert human_ceiling(labels, tie_break="expected").value == pytest.approx(ceiling)
    assert judge_agreement(
        labels, verdicts, tie_break="expected"
    ).value == pytest.approx(agreement)


@pytest.mark.parametrize("seed", [4, 5])
def test_random_tie_break_is_close_to_its_expectation(seed):
    labels, _ = random_data(seed, n_items=200)
    expected = human_ceiling(labels, tie_break="expected").value
    drawn = np.mean([human_ceiling(labels, seed=s).value for s in range(20)])
    assert drawn == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("seed", [6, 7])
def test_kappa_matches_sklearn_and_statsmodels(seed):
    # An odd number of raters, no ties and no gaps: the majority is unique.
    labels, verdicts = random_data(seed, n_raters=5, labels=("a", "b"), missing=0.0)
    majority = labels.groupby("item")["label"].agg(lambda s: s.value_counts().idxmax())
    combined = verdicts.set_index("item")
    both = combined[combined["label_ab"].isin(CODES) & combined["label_ba"].isin(CODES)]
    j = np.where(both["label_ab"] == both["label_ba"], both["label_ab"], "tie")
    m = majority.reindex(both.index).to_numpy()
    expected = cohen_kappa_score(j, m)
    assert cohen_kappa(labels, verdicts).value == pytest.approx(expected)
    table = np.zeros((3, 3))
    np.add.at(table, ([CODES[x] for x in j], [CODES[x] for x in m]), 1)
    assert cohen_kappa(labels, verdicts).value == pytest.approx(
        inter_rater.cohens_kappa(table, return_results=False)
    )
    p_o = float(np.mean(j == m))
    assert cohen_kappa(labels, verdicts, variant="half").value == pytest.approx(
        2 * p_o - 1
    )


@pytest.mark.parametrize("seed", [8, 9, 10])
def test_alpha_matches_krippendorff_reliability_data(seed):
    labels, verdicts = random_data(seed)
    counted = labels.groupby("item").size()
    kept = labels[labels["item"].isin(counted[counted >= 2].index)]
    matrix = kept.pivot(index="rater", columns="item", values="label")
    data = matrix.apply(lambda col: col.map(CODES)).to_numpy(dtype=float)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert krippendorff_alpha(labels).value == pytest.approx(expected)
    combined = verdicts.set_index("item").reindex(matrix.columns)
    ok = combined["label_ab"].isin(CODES) & combined["label_ba"].isin(CODES)
    j = np.where(
        combined["label_ab"] == combined["label_ba"], combined["label_ab"], "tie"
    )
    judge_row = np.where(ok, pd.Series(j).map(CODES), np.nan)
    with_judge = krippendorff.alpha(
        reliability_data=np.vstack([data, judge_row]), level_of_measurement="nominal"
    )
    assert krippendorff_alpha(labels, verdicts).value == pytest.approx(with_judge)


@pytest.mark.parametrize("seed", [11, 12])
def test_js_distance_and_brier_match_scipy_loop(seed):
    labels, verdicts = random_data(seed)
    distances, squares = [], []
    for item, block in labels.groupby("item"):
        if len(block) < 2:
            continue
        row = verdicts.set_index("item").loc[item]
        if not ({row["label_ab"], row["label_ba"]} <= set(CODES)):
            continue
        s = (sum(block["label"] == "a") + 0.5 * sum(block["label"] == "tie")) / len(
            block
        )
        p = (row["p_a_ab"] + row["p_a_ba"]) / 2
        distances.append(jensenshannon([s, 1 - s], [p, 1 - p], base=2))
        squares.append((p - s) ** 2)
    assert js_distance(labels, verdicts).value == pytest.approx(np.mean(distances))
    assert brier_score(labels, verdicts).value == pytest.approx(np.mean(squares))


def test_noise_floor_reproducible_and_zero_for_unanimous_raters():
    labels, _ = random_data(13)
    floor = js_noise_floor(labels, seed=3, repeats=50)
    assert floor == js_noise_floor(labels, seed=3, repeats=50)
    assert 0 < floor.value < 1
    unanimous = labels.assign(label="a")
    assert js_noise_floor(unanimous, repeats=10).value == pytest.approx(0.0)


def test_noise_floor_halves_by_hand():
    # One item, raters a a b b: a split is {a, a}|{b, b} (s 1 vs 0, distance 1) with
    # probability 2/6, else {a, b}|{a, b} (distance 0): the floor tends to 1/3.
    labels = pd.DataFrame(
        {"item": 1, "rater": ["r1", "r2", "r3", "r4"], "label": ["a", "a", "b", "b"]}
    )
    assert js_noise_floor(labels, repeats=6000, seed=1).value == pytest.approx(
        1 / 3, abs=0.02
    )


def test_wilson_and_benjamini_hochberg_match_statsmodels():
    assert wilson_interval(37, 50) == pytest.approx(
        proportion_confint(37, 50, method="wilson")
    )
    assert wilson_interval(0, 0) is None
    p_values = [0.001, 0.04, None, 0.03, 0.5, math.nan]
    reject, adjusted = benjamini_hochberg(p_values)
    ref_reject, ref_q, _, _ = multipletests([0.001, 0.04, 0.03, 0.5], method="fdr_bh")
    assert [adjusted[i] for i in (0, 1, 3, 4)] == pytest.approx(list(ref_q))
    assert [reject[i] for i in (0, 1, 3, 4)] == list(ref_reject)
    assert adjusted[2] is None
    assert reject[5] is None


def test_cluster_bootstrap_equals_scipy_on_item_values():
    values = np.random.default_rng(14).normal(size=30)
    ours = cluster_bootstrap(lambda idx: np.stack([values[idx].mean(-1)]), 30, seed=5)
    ref = stats.bootstrap(
        (values,), np.mean, n_resamples=2000, method="BCa", rng=np.random.default_rng(5)
    )
    assert ours[0] == pytest.approx(
        (ref.confidence_interval.low, ref.confidence_interval.high)
    )


def test_kendall_tau_matches_scipy_per_prompt():
    rng = np.random.default_rng(15)
    rows, judge = [], []
    for prompt in range(5):
        for rater in range(4):
            for rank, response in enumerate(rng.permutation(4), start=1):
                rows.append((prompt, rater, response, rank))
        judge += [(prompt, response, rng.random()) for response in range(4)]
    rankings = pd.DataFrame(rows, columns=["prompt", "rater", "response", "rank"])
    scores = pd.DataFrame(judge, columns=["prompt", "response", "score"])
    taus = []
    for prompt in range(5):
        block = rankings[rankings["prompt"] == prompt]
        borda = block.assign(b=4 - block["rank"]).groupby("response")["b"].sum()
        own = scores[scores["prompt"] == prompt].set_index("response")["score"]
        taus.append(
            stats.kendalltau(own.loc[borda.index], borda, variant="b").statistic
        )
    assert kendall_tau(rankings, scores).value == pytest.approx(np.mean(taus))


def test_report_matches_the_single_functions():
    labels, verdicts = random_data(16)
    report = principle_report(labels, verdicts, rng_seed=2, n_resamples=300)
    assert report["human_ceiling"] == pytest.approx(human_ceiling(labels, seed=2).value)
    assert report["judge_agreement"] == pytest.approx(
        judge_agreement(labels, verdicts, seed=2).value
    )
    assert report["kappa"] == pytest.approx(cohen_kappa(labels, verdicts, seed=2).value)
    assert report["alpha_humans"] == pytest.approx(krippendorff_alpha(labels).value)
    assert report["js_distance"] == pytest.approx(js_distance(labels, verdicts).value)
    for name, interval in report["ci"].items():
        if interval is None:
            continue
        low, high = interval
        assert low <= report[name] + 1e-9
        assert report[name] <= high + 1e-9
    # Per group: the same figures on that group's labels only.
    g1 = labels[labels["group"] == "g1"]
    assert report["per_group"]["g1"]["human_ceiling"] == pytest.approx(
        human_ceiling(g1, seed=2).value
    )
    assert report["per_group"]["g1"]["js_distance"] == pytest.approx(
        js_distance(g1, verdicts).value
    )
    assert 0 < report["group_disparity_p"] <= 1
    # Reproducible.
    assert principle_report(labels, verdicts, rng_seed=2, n_resamples=300) == report


def test_groups_mapping_overrides_the_column():
    labels, verdicts = random_data(17)
    opinion = {f"r{r}": "o1" if r < 3 else "o2" for r in range(7)}
    report = principle_report(labels, verdicts, groups=opinion, n_resamples=200)
    assert set(report["per_group"]) == {"o1", "o2"}


@pytest.mark.parametrize("seed", [18, 19])
def test_bootstrap_statistic_on_the_original_sample_equals_the_figures(seed):
    # The vectorised replicate (kappa from the confusion table, ratios of item sums)
    # must give the library-computed point estimates on the unresampled items.
    from workbench.judging.metrics._data import (
        combine_verdicts,
        item_sums,
        normalise_labels,
        prepare,
    )
    from workbench.judging.metrics.report import BOOTSTRAPPED, _bootstrap_statistic

    labels, verdicts = random_data(seed)
    prep = prepare(normalise_labels(labels), combine_verdicts(verdicts))
    sums = item_sums(prep, prep.item_idx, prep.label_idx, tie_break="random", seed=4)
    values = _bootstrap_statistic(prep, sums)(np.arange(prep.n_items)[None, :])[:, 0]
    report = principle_report(labels, verdicts, rng_seed=4, n_resamples=100)
    for name, value in zip(BOOTSTRAPPED, values, strict=True):
        assert value == pytest.approx(report[name]), name
