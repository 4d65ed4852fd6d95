"""What Copilot models cost in AI credits, and which model of a chain is the cheapest (pure).

Monthly Copilot plans bill AI credits since 2026-06-01: 1 credit = $0.01,
priced per million input, cached-input and output tokens per model. The table
is github/docs `data/tables/copilot/models-and-pricing.yml` (default tier,
December 2026) under Copilot's model ids; see docs/upstream.md ("Copilot:
billing"). The proxy never computes a bill from it (Copilot's answers carry
the credits they cost, litellm/usage.py reads them): it only picks the
default `spec.smallModel`, the chain's cheapest model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class Price(NamedTuple):
    """US dollars per million tokens."""

    input: float
    cached_input: float
    output: float
    cache_write: float | None = None  # Anthropic models (and GPT-5.6+) charge cache writes

    @property
    def per_agent_request(self) -> float:
        """Dollars for ten million input and one million output tokens: the mix of an
        agent's request (long prompts, short answers), by which "cheapest" is judged."""
        return 10 * self.input + self.output


PRICES: dict[str, Price] = {
    # OpenAI
    "gpt-5-mini": Price(0.25, 0.025, 2.00),
    "gpt-5.3-codex": Price(1.75, 0.175, 14.00),
    "gpt-5.4": Price(2.50, 0.25, 15.00),
    "gpt-5.4-mini": Price(0.75, 0.075, 4.50),
    "gpt-5.4-nano": Price(0.20, 0.02, 1.25),
    "gpt-5.5": Price(5.00, 0.50, 30.00),
    "gpt-5.6-luna": Price(0.20, 0.02, 1.20, 0.25),
    "gpt-5.6-sol": Price(5.00, 0.50, 30.00, 6.25),
    "gpt-5.6-terra": Price(2.00, 0.20, 12.00, 2.50),
    # Anthropic
    "claude-haiku-4.5": Price(1.00, 0.10, 5.00, 1.25),
    "claude-sonnet-4": Price(3.00, 0.30, 15.00, 3.75),
    "claude-sonnet-4.5": Price(3.00, 0.30, 15.00, 3.75),
    "claude-sonnet-4.6": Price(3.00, 0.30, 15.00, 3.75),
    "claude-sonnet-5": Price(2.00, 0.20, 10.00, 2.50),
    "claude-opus-4.5": Price(5.00, 0.50, 25.00, 6.25),
    "claude-opus-4.6": Price(5.00, 0.50, 25.00, 6.25),
    "claude-opus-4.7": Price(5.00, 0.50, 25.00, 6.25),
    "claude-opus-4.8": Price(5.00, 0.50, 25.00, 6.25),
    "claude-opus-4.8-fast": Price(10.00, 1.00, 50.00, 12.50),
    "claude-opus-5": Price(5.00, 0.50, 25.00, 6.25),
    "claude-fable-5": Price(10.00, 1.00, 50.00, 12.50),
    # Google. Gemini 3 Pro has left the table (retired); assumed priced like its
    # successor 3.1 Pro, whose Copilot id is not confirmed.
    "gemini-3-pro-preview": Price(2.00, 0.20, 12.00),
    # xAI, Microsoft, open-weight
    "grok-4.5": Price(2.00, 0.50, 6.00),
    "grok-4.6": Price(2.00, 0.50, 6.00),
    "mai-code-1.1-flash": Price(0.20, 0.02, 1.20),
    "kimi-k3": Price(3.00, 0.30, 15.00),
}


def price(model: str) -> Price | None:
    """The model's price, None when the table does not know it."""
    return PRICES.get(model)


def cheapest(models: Sequence[str]) -> str:
    """The model of `models` with the lowest price for an agent's request (earliest on a
    tie); the last model (a chain's last resort) when no price is known."""
    priced = [(p.per_agent_request, i, m) for i, m in enumerate(models) if (p := price(m))]
    if priced:
        return min(priced)[2]
    return models[-1]
