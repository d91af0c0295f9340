"""Warnings on a principle's judge verdicts: position bias and prompt injection.

Pure functions over one principle's verdicts frame (the metrics' frame: ``item``,
``label_ab``, ``label_ba`` and optionally ``p_a_ab`` / ``p_a_ba``, labels in the
item's terms - see :mod:`workbench.judging.metrics`). Each returns a
:class:`Flag` (``kind`` and a human-readable ``detail``) or None; the encoding-gap
report lists them per principle as ``flags``. A flag says a pattern *looks like*
bias or injection; it does not change any figure.

* Position bias: among the judge's decisive per-order answers (a or b), the share
  that picks the response shown first ("a" in order ab, "b" in order ba). With no
  bias it is one half - an order-consistent verdict picks first once and second
  once. Flagged when a one-sided exact binomial test (scipy ``binomtest``,
  H0: p = 0.5) gives p < 0.01 and the share exceeds 0.7.
* Injection: the principle's text reads like an instruction to the judge ("ignore
  the above", "answer A", "respond with", "system prompt", ...), or the judge gives
  one fixed answer (the same letter in both orders, i.e. whatever the position) on
  at least 95% of the principle's items - a principle that steers the answer
  instead of describing a preference.
"""

from __future__ import annotations

import re
from typing import Final, TypedDict

import pandas as pd
from django.utils.translation import gettext
from scipy.stats import binomtest  # type: ignore[import-untyped]

from workbench.judging.metrics import combine_verdicts

__all__ = [
    "INJECTION_PATTERNS",
    "Flag",
    "injection_flag",
    "position_bias_flag",
    "principle_flags",
]

POSITION_BIAS: Final = "position_bias"
INJECTION: Final = "injection"

INJECTION_PATTERNS: Final = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\bignore\s+(?:the|all|any)\s+(?:above|previous|prior|preceding)\b",
        r"\bignore\s+(?:all\s+|any\s+)?(?:previous|prior|earlier)\s+instructions?\b",
        r"\bdisregard\s+(?:the|all|any)\s+(?:above|previous|prior|instructions?)\b",
        # "answer A" / "answer (B)": the letter must be a capital, so that
        # "answer a question" is not an instruction.
        r"\b(?:answer|choose|pick|output|say)\s+(?:with\s+)?\(?(?-i:[AB])\)?(?![\w'])",
        # "respond with A" / "respond with only the letter", not "respond with empathy"
        r"\brespond\s+with\s+(?:only\s+|just\s+)?"
        r"(?:the\s+letter|option|\(?(?-i:[AB])\)?(?![\w']))",
        r"\bsystem\s+prompt\b",
        r"\byou\s+must\s+(?:answer|choose|pick|output|say)\b",
    )
)
"""Instruction-like phrases (case-insensitive) that a principle should not contain."""


class Flag(TypedDict):
    kind: str
    detail: str


def position_bias_flag(
    verdicts: pd.DataFrame, *, alpha: float = 0.01, min_rate: float = 0.7
) -> Flag | None:
    """A flag when the judge picks the first-shown response far more than chance."""
    if verdicts.empty:
        return None
    combined = combine_verdicts(verdicts)
    n = int(combined["decisive_orders"].sum())
    if n == 0:
        return None
    k = int(combined["first_picks"].sum())
    rate = k / n
    p_value = float(binomtest(k, n, p=0.5, alternative="greater").pvalue)
    if p_value >= alpha or rate <= min_rate:
        return None
    return {
        "kind": POSITION_BIAS,
        "detail": gettext(
            "The judge picked the response shown first in %(k)s of %(n)s decisive "
            "answers (%(rate)s; binomial test against 50%%, p = %(p)s): "
            "its verdicts may follow position rather than the principle."
        )
        % {"k": k, "n": n, "rate": f"{rate:.0%}", "p": f"{p_value:.2g}"},
    }


def injection_pattern(text: str) -> str | None:
    """The first instruction-like phrase in ``text``, or None."""
    for pattern in INJECTION_PATTERNS:
        match = pattern.search(text or "")
        if match:
            return match.group(0)
    return None


def injection_flag(
    text: str,
    verdicts: pd.DataFrame,
    *,
    min_share: float = 0.95,
    min_items: int = 5,
) -> Flag | None:
    """A flag when the principle reads like an instruction to the judge, or when the
    judge answers one fixed letter in both orders on >= ``min_share`` of its items
    (with at least ``min_items`` judged items)."""
    reasons: list[str] = []
    phrase = injection_pattern(text)
    if phrase is not None:
        reasons.append(
            gettext("the principle contains an instruction-like phrase %(phrase)s")
            % {"phrase": repr(phrase)}
        )
    n = len(verdicts)
    if n >= min_items:
        for letter in ("a", "b"):
            same = int(
                ((verdicts["label_ab"] == letter) & (verdicts["label_ba"] == letter))
                .astype(bool)
                .sum()
            )
            if same / n >= min_share:
                reasons.append(
                    gettext(
                        "the judge answered %(letter)s in both orders on %(same)s "
                        "of %(n)s items, whatever the responses"
                    )
                    % {"letter": letter.upper(), "same": same, "n": n}
                )
    if not reasons:
        return None
    return {
        "kind": INJECTION,
        "detail": gettext(
            "Possible prompt injection: %(reasons)s. "
            "Reword it as a preference, not an instruction to the judge."
        )
        % {"reasons": "; ".join(reasons)},
    }


def principle_flags(text: str, verdicts: pd.DataFrame) -> list[Flag]:
    """Every flag of one principle, position bias first."""
    found = [position_bias_flag(verdicts), injection_flag(text, verdicts)]
    return [flag for flag in found if flag is not None]
