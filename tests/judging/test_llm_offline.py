"""The offline similarity baseline (not an LLM) on ICAI's synthetic data, the
both-orders combination, cache keys, retry arithmetic and the price table."""

from __future__ import annotations

import csv
import random

import pytest

from tests.shared_data import icai_data_dir
from workbench.judging.llm import (
    BASELINE_NAME,
    JudgeAnswer,
    JudgeRequest,
    RetryPolicy,
    SimilarityBaseline,
    combine_orders,
    estimate_cost,
    judge_both_orders,
    request_cache_key,
)
from workbench.judging.llm.offline import tfidf_similarities
from workbench.judging.llm.retry import (
    ProviderCallError,
    call_with_retries,
    parse_retry_after,
)
from workbench.judging.prompts import Choice

DATA = icai_data_dir()

# The orthogonal file's three 10-row blocks, each phrased as the subject the preferred
# response mentions. The README says rows 10-19 prefer green over blue; the labels
# prefer blue (every preferred text there mentions blue and none mentions green).
ORTHOGONAL = [
    "Prefer the response about cats.",
    "Prefer the response that mentions blue.",
    "Prefer the response about lemon ice cream.",
]


def _split(text: str) -> tuple[str, str]:
    instruction, output = text.split("\n\nOutput:", 1)
    return instruction.removeprefix("Instruction:").strip(), output.strip()


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


def _requests(principle: str, rows: list[dict[str, str]]) -> list[JudgeRequest]:
    out = []
    for row in rows:
        conversation, response_a = _split(row["text_a"])
        _, response_b = _split(row["text_b"])
        out.append(JudgeRequest(principle, conversation, response_a, response_b))
    return out


def test_baseline_is_labelled_as_not_an_llm():
    judge = SimilarityBaseline()
    answer = judge.judge(JudgeRequest("cats", "c", "a cat", "a dog"))
    assert judge.is_llm is False
    assert answer.is_llm is False
    assert answer.provider == BASELINE_NAME == "offline-similarity-baseline"
    assert "not an LLM" in repr(judge)
    assert answer.cost_usd == 0.0


@pytest.mark.skipif(not DATA.exists(), reason="shared ICAI data not present")
@pytest.mark.parametrize("block", [0, 1, 2])
def test_baseline_follows_each_orthogonal_block_and_abstains_elsewhere(block):
    rows = _rows("synthetic_data_orthogonal_adcbg.csv")
    assert len(rows) == 30
    judge = SimilarityBaseline()
    own_agree, own_total, other_na, other_total = 0, 0, 0, 0
    for index, request in enumerate(_requests(ORTHOGONAL[block], rows)):
        _, _, combined = judge_both_orders(judge, request)
        gold = "a" if rows[index]["preferred_text"] == "text_a" else "b"
        if index // 10 == block:
            own_total += 1
            own_agree += combined.choice == gold
            assert combined.order_consistent
        else:
            other_total += 1
            other_na += combined.choice == "na"
    assert own_agree / own_total >= 0.9
    assert other_na / other_total >= 0.9


@pytest.mark.skipif(not DATA.exists(), reason="shared ICAI data not present")
def test_flipped_labels_drive_agreement_to_zero():
    rows = _rows("synthetic_data_orthogonal_adcbg.csv")[:10]
    judge = SimilarityBaseline()
    agree = 0
    for row, request in zip(rows, _requests(ORTHOGONAL[0], rows), strict=True):
        flipped = "b" if row["preferred_text"] == "text_a" else "a"
        agree += judge_both_orders(judge, request)[2].choice == flipped
    assert agree <= 1


@pytest.mark.skipif(not DATA.exists(), reason="shared ICAI data not present")
def test_baseline_abstains_on_principles_it_cannot_read():
    # Truthfulness, helpfulness and politeness are not words in the responses: a
    # lexical baseline must say "does not apply", not guess.
    rows = _rows("synthetic_data_aligned_vqvtb.csv")
    judge = SimilarityBaseline()
    for principle in ("Prefer the truthful response.", "Prefer the polite response."):
        answers = [judge.judge(r).choice for r in _requests(principle, rows)]
        assert answers.count("na") >= 27


def test_baseline_tie_and_control():
    judge = SimilarityBaseline()
    same = JudgeRequest("cats", "c", "a cat", "a cat", allow_tie=True)
    assert judge.judge(same).choice == "tie"
    assert judge.judge(JudgeRequest("cats", "c", "a cat", "a cat")).choice == "na"
    control = judge.judge(JudgeRequest(None, "c", "a cat", "a dog"))
    assert (control.choice, control.prob_a) == ("tie", 0.5)


def test_tfidf_similarities():
    sims = tfidf_similarities("cats", ["my cat sleeps", "my dog runs", ""])
    assert sims[0] > 0
    assert sims[1] == sims[2] == 0.0
    assert tfidf_similarities("the of", ["the"]) == [0.0]


# --- both orders ---------------------------------------------------------------------


def _answer(choice: Choice | None, prob_a: float | None = None) -> JudgeAnswer:
    return JudgeAnswer(
        provider="t",
        model="m",
        is_llm=True,
        prompt_id="p",
        choice=choice,
        prob_a=prob_a,
    )


@pytest.mark.parametrize(
    ("ab", "ba", "choice", "consistent"),
    [
        ("a", "b", "a", True),
        ("b", "a", "b", True),
        ("a", "a", "tie", False),  # position bias: split verdict is a tie
        ("na", "na", "na", True),
        ("na", "a", "tie", False),
        ("tie", "tie", "tie", True),
        (None, "a", None, None),
    ],
)
def test_combine_orders(ab, ba, choice, consistent):
    combined = combine_orders(_answer(ab), _answer(ba))
    assert combined.choice == choice
    assert combined.order_consistent is consistent


def test_combined_probability_flips_the_swapped_order():
    combined = combine_orders(_answer("a", 0.9), _answer("b", 0.2))
    assert combined.prob_a == pytest.approx((0.9 + 0.8) / 2)
    assert combine_orders(_answer("a", 0.9), _answer("b")).prob_a is None


class _Recorder:
    name = "rec"
    is_llm = True
    model = "m"

    def __init__(self) -> None:
        self.seen: list[JudgeRequest] = []

    def fingerprint(self):
        return {"provider": "rec"}

    def judge(self, request):
        self.seen.append(request)
        return _answer("a" if "cat" in request.response_a else "b")


def test_judge_both_orders_swaps_the_responses():
    judge = _Recorder()
    request = JudgeRequest("p", "c", "cat", "dog")
    ab, ba, combined = judge_both_orders(judge, request)
    assert [(r.response_a, r.response_b) for r in judge.seen] == [
        ("cat", "dog"),
        ("dog", "cat"),
    ]
    assert (ab.choice, ba.choice, combined.choice) == ("a", "b", "a")


def test_cache_key_covers_order_principle_and_judge():
    judge = SimilarityBaseline()
    request = JudgeRequest("p", "c", "x", "y")
    key = request_cache_key(judge, request)
    assert key == request_cache_key(judge, JudgeRequest("p", "c", "x", "y"))
    assert key != request_cache_key(judge, request.swapped())
    assert key != request_cache_key(judge, JudgeRequest(None, "c", "x", "y"))
    assert key != request_cache_key(judge, request, sample=1)
    assert key != request_cache_key(SimilarityBaseline(threshold=0.5), request)


# --- retry arithmetic (no sleeping) ------------------------------------------------


class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_backoff_is_exponential_with_jitter_and_capped():
    clock = _FakeClock()
    policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=8.0, deadline=1e6)

    def call(timeout):
        raise ProviderCallError("server_error", "boom", status=500)

    outcome = call_with_retries(
        call,
        policy=policy,
        label="t",
        sleep=clock.sleep,
        clock=clock.clock,
        rng=random.Random(1),
    )
    assert outcome.error_kind == "server_error"
    assert len(outcome.attempts) == 6
    for n, slept in enumerate(clock.sleeps, start=1):
        full = min(8.0, 2.0 ** (n - 1))
        assert full / 2 <= slept <= full
    assert len(set(clock.sleeps)) == len(clock.sleeps)  # jittered


def test_timeout_per_request_is_capped_by_the_deadline():
    clock = _FakeClock()
    timeouts = []

    def call(timeout):
        timeouts.append(timeout)
        clock.now += timeout
        raise ProviderCallError("timeout", "slow")

    policy = RetryPolicy(base_delay=0.5, request_timeout=4.0, deadline=5.0)
    outcome = call_with_retries(
        call, policy=policy, label="t", sleep=clock.sleep, clock=clock.clock
    )
    assert timeouts[0] == 4.0
    assert outcome.error_kind == "deadline"
    assert clock.now <= 5.0 + 1e-9


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2", 2.0), ("0.5", 0.5), ("-3", 0.0), (None, None), ("soon", None)],
)
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header) == seconds


def test_parse_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_cost_estimates():
    assert estimate_cost("openai", "gpt-4o-mini-2024-07-18", 1000, 10) == pytest.approx(
        (1000 * 0.15 + 10 * 0.60) / 1e6
    )
    assert estimate_cost("openai", "gpt-4o", 1000, 0) == pytest.approx(0.0025)
    assert estimate_cost("openai", "unknown-model", 10, 1) is None
    assert estimate_cost("openai", "gpt-4o", None, 1) is None
    assert estimate_cost("openai-compatible", "llama", 10, 1) == 0.0
