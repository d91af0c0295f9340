"""A small per-model price table for cost ESTIMATES.

Prices are list prices in US dollars per million tokens (input, output) as published
by the providers in 2025; they change, discounts and batch prices are ignored, and
self-hosted OpenAI-compatible servers cost nothing per token here. Treat every figure
as an estimate for planning, never as a bill. Unknown models give None.
"""

from __future__ import annotations

from typing import Final

# Longest matching prefix wins, so "gpt-4o-mini-2024-07-18" prices as "gpt-4o-mini".
PRICES_PER_MILLION: Final[dict[str, tuple[float, float]]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-haiku": (0.25, 1.25),
    "claude-haiku-4": (1.00, 5.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4": (15.00, 75.00),
}


def estimate_cost(
    provider: str, model: str, input_tokens: int | None, output_tokens: int | None
) -> float | None:
    """Estimated US dollars for one call, or None if the model or usage is unknown."""
    if input_tokens is None or output_tokens is None:
        return None
    if provider == "openai-compatible":
        return 0.0
    matches = [p for p in PRICES_PER_MILLION if model.startswith(p)]
    if not matches:
        return None
    price_in, price_out = PRICES_PER_MILLION[max(matches, key=len)]
    return (input_tokens * price_in + output_tokens * price_out) / 1_000_000
