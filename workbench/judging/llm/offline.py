"""The offline similarity baseline: NOT an LLM.

It needs no network and no model download. It scores each response by the TF-IDF
cosine similarity (numpy) between the principle and the response text, picks the more
similar response, and answers "the principle does not apply" when neither response is
similar enough. It reads words, not meaning, so it only knows whether a response talks
about what the principle names. Its answers carry ``is_llm=False`` and the name
``offline-similarity-baseline`` so no report can present its figures as an LLM's.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Mapping
from typing import Final

import numpy as np

from workbench.judging.llm.base import JudgeAnswer, JudgeRequest
from workbench.judging.prompts import PROMPT_ID, Choice

BASELINE_NAME: Final = "offline-similarity-baseline"
BASELINE_MODEL: Final = "tfidf-cosine-v1"

# Function words plus the vocabulary principles use to talk about responses
# ("prefer the response that mentions ..."), so only the subject is compared.
_STOPWORDS: Final = frozenset(
    {
        "a",
        "about",
        "an",
        "and",
        "answer",
        "are",
        "as",
        "at",
        "be",
        "been",
        "best",
        "better",
        "but",
        "by",
        "can",
        "choose",
        "could",
        "did",
        "discuss",
        "discusses",
        "do",
        "does",
        "favor",
        "favour",
        "follow",
        "follows",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "like",
        "me",
        "mention",
        "mentioned",
        "mentions",
        "more",
        "most",
        "must",
        "my",
        "no",
        "not",
        "of",
        "on",
        "one",
        "or",
        "our",
        "over",
        "pick",
        "prefer",
        "preferred",
        "principle",
        "response",
        "responses",
        "select",
        "she",
        "should",
        "so",
        "talk",
        "talks",
        "text",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "under",
        "up",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "will",
        "with",
        "would",
        "you",
        "your",
    }
)
_WORD: Final = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> list[str]:
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS or len(word) < 2:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            out.append(word[:-1])  # crude plural folding: cats -> cat
        else:
            out.append(word)
    return out


def tfidf_similarities(query: str, documents: list[str]) -> list[float]:
    """Cosine similarity of ``query`` to each document, TF-IDF fitted on all of them
    (smoothed idf: ln((1 + n) / (1 + df)) + 1, l2-normalised rows)."""
    docs = [_tokens(query), *(_tokens(d) for d in documents)]
    vocab = sorted({t for d in docs for t in d})
    if not vocab:
        return [0.0] * len(documents)
    index = {t: i for i, t in enumerate(vocab)}
    counts = np.zeros((len(docs), len(vocab)))
    for row, doc in enumerate(docs):
        for term, n in Counter(doc).items():
            counts[row, index[term]] = n
    df = (counts > 0).sum(axis=0)
    idf = np.log((1 + len(docs)) / (1 + df)) + 1.0
    weights = counts * idf
    norms = np.linalg.norm(weights, axis=1)
    norms[norms == 0] = 1.0
    unit = weights / norms[:, None]
    return [float(x) for x in unit[1:] @ unit[0]]


class SimilarityBaseline:
    """A lexical baseline judge (``is_llm = False``)."""

    is_llm: Final = False

    def __init__(self, *, threshold: float = 0.02, tie_margin: float = 0.0) -> None:
        self.threshold = threshold
        self.tie_margin = tie_margin

    @property
    def name(self) -> str:
        return BASELINE_NAME

    @property
    def model(self) -> str:
        return BASELINE_MODEL

    def __repr__(self) -> str:
        return (
            f"<SimilarityBaseline (not an LLM) threshold={self.threshold} "
            f"tie_margin={self.tie_margin}>"
        )

    def fingerprint(self) -> Mapping[str, object]:
        return {
            "provider": BASELINE_NAME,
            "model": BASELINE_MODEL,
            "threshold": self.threshold,
            "tie_margin": self.tie_margin,
            "prompt_id": PROMPT_ID,
        }

    def judge(self, request: JudgeRequest) -> JudgeAnswer:
        started = time.monotonic()
        prob_a: float | None = None
        if request.principle is None:
            choice: Choice = "tie"
            prob_a = 0.5
            text = "no principle: the similarity baseline has no taste of its own"
        else:
            sim_a, sim_b = tfidf_similarities(
                request.principle, [request.response_a, request.response_b]
            )
            text = f"similarity A={sim_a:.4f} B={sim_b:.4f}"
            if max(sim_a, sim_b) < self.threshold:
                choice = "na"
            elif abs(sim_a - sim_b) <= self.tie_margin:
                choice = "tie" if request.allow_tie else "na"
                prob_a = 0.5
            else:
                choice = "a" if sim_a > sim_b else "b"
                prob_a = sim_a / (sim_a + sim_b)
        if prob_a is not None and not math.isfinite(prob_a):
            prob_a = None
        return JudgeAnswer(
            provider=BASELINE_NAME,
            model=BASELINE_MODEL,
            is_llm=False,
            prompt_id=PROMPT_ID,
            choice=choice,
            prob_a=prob_a,
            raw_text=text,
            input_tokens=0,
            output_tokens=0,
            latency_s=time.monotonic() - started,
            cost_usd=0.0,
        )
