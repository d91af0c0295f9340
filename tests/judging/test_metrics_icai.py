"""ICAI synthetic preferences (Findeis et al., arXiv 2406.06560) at the metric level.

Each file holds three blocks of ten pairs, each decided by one known principle
(shared/data/preferences/icai_synthetic/README.md). For principle k we simulate five
raters who give the data's label on block k (90% of the time, seeded) and "does
not apply" elsewhere, and a judge that follows principle k: it answers the data's
label on block k in both orders and "does not apply" elsewhere. It must be relevant
exactly on its block and agree highly there; with the labels flipped (the paper's
"unaligned" set) its agreement must fall to near zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.shared_data import icai_data_dir
from workbench.judging.metrics import principle_report

ICAI = icai_data_dir()
FILES = ["synthetic_data_orthogonal_adcbg.csv", "synthetic_data_aligned_vqvtb.csv"]
BLOCK = 10
RATERS = 5

pytestmark = pytest.mark.skipif(not ICAI.is_dir(), reason="ICAI data not present")


def load(name: str) -> pd.DataFrame:
    frame = pd.read_csv(ICAI / name, index_col=0)
    assert list(frame.columns) == ["text_a", "text_b", "preferred_text"]
    frame["label"] = np.where(frame["preferred_text"] == "text_a", "a", "b")
    frame["block"] = frame.index // BLOCK
    return frame


def simulate(frame: pd.DataFrame, block: int, *, flipped: bool, seed: int):
    rng = np.random.default_rng(seed)
    other = {"a": "b", "b": "a"}
    rows = []
    for item, row in frame.iterrows():
        truth = row["label"]
        for r in range(RATERS):
            if row["block"] != block:
                label = "na"
            else:
                label = truth if rng.random() < 0.9 else other[truth]
                if flipped:
                    label = other[label]
            rows.append((item, f"r{r}", "g1" if r < 3 else "g2", label))
    labels = pd.DataFrame(rows, columns=["item", "rater", "group", "label"])
    own = frame["block"] == block
    verdict = np.where(own, frame["label"], "na")
    p_a = np.where(own, np.where(frame["label"] == "a", 0.9, 0.1), np.nan)
    verdicts = pd.DataFrame(
        {
            "item": frame.index,
            "label_ab": verdict,
            "label_ba": verdict,
            "p_a_ab": p_a,
            "p_a_ba": p_a,
        }
    )
    return labels, verdicts


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("block", [0, 1, 2])
def test_principle_judge_agrees_on_its_block(name, block):
    frame = load(name)
    assert len(frame) == 3 * BLOCK
    labels, verdicts = simulate(frame, block, flipped=False, seed=block)
    report = principle_report(labels, verdicts, rng_seed=1, n_resamples=500)
    # Relevant exactly on its own ten pairs, "does not apply" on the other twenty.
    assert report["relevance"] == pytest.approx(1 / 3)
    assert report["order_consistency"] == 1.0
    assert report["n_eligible_items"] == BLOCK
    assert report["judge_agreement_all_raters"] >= 0.9
    assert report["judge_agreement"] >= 0.85
    assert report["normalized_agreement"] >= 0.8
    # Aligned block 2 prefers B on all ten pairs: judge and majority then use one
    # label and kappa is 0/0 (undefined, with a reason) - the kappa paradox.
    if report["kappa"] is None:
        assert "single label" in report["reasons"]["kappa"]
    else:
        assert report["kappa"] >= 0.7
    assert report["kappa_half"] >= 0.8
    # p_J = 0.9 against shares near 1: close, though not identical.
    assert report["js_distance"] <= 0.35
    low, high = report["ci"]["judge_agreement"]
    assert low <= report["judge_agreement"] <= high


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("block", [0, 1, 2])
def test_flipped_labels_drive_agreement_to_near_zero(name, block):
    frame = load(name)
    labels, verdicts = simulate(frame, block, flipped=True, seed=block)
    report = principle_report(labels, verdicts, rng_seed=1, n_resamples=500)
    assert report["relevance"] == pytest.approx(1 / 3)
    assert report["judge_agreement_all_raters"] <= 0.1
    assert report["judge_agreement"] <= 0.15
    assert report["normalized_agreement"] < 0
    assert report["gap"] >= 0.6
    assert report["kappa"] is None or report["kappa"] <= 0
    assert report["kappa_half"] <= -0.8
    assert report["js_distance"] >= 0.6


def test_mixed_file_is_aligned_then_orthogonal():
    mixed = load("synthetic_data_mixed_vqvtb_adcbg.csv")
    parts = pd.concat([load(FILES[1]), load(FILES[0])], ignore_index=True)
    assert mixed["label"].tolist() == parts["label"].tolist()
