"""The AI-credit price table and the chain's cheapest model (the default spec.smallModel)."""

from __future__ import annotations

import pytest

from copilot_proxy.core.prices import PRICES, Price, cheapest, price


def test_prices_are_githubs_for_the_models_of_the_default_chain() -> None:
    # github/docs data/tables/copilot/models-and-pricing.yml, per million tokens.
    assert price("claude-opus-4.6") == Price(5.00, 0.50, 25.00, 6.25)
    assert price("gpt-5-mini") == Price(0.25, 0.025, 2.00)
    assert price("no-such-model") is None


def test_cached_input_costs_a_tenth_of_input() -> None:
    for model, p in PRICES.items():
        if not model.startswith("grok"):  # xAI's cached input costs a quarter
            assert p.cached_input == pytest.approx(p.input / 10), model


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        (["claude-opus-4.6", "gemini-3-pro-preview", "gpt-5-mini"], "gpt-5-mini"),
        (["gpt-5-mini", "claude-haiku-4.5"], "gpt-5-mini"),
        (["claude-opus-4.6", "claude-sonnet-4.5", "claude-haiku-4.5"], "claude-haiku-4.5"),
        (["gpt-5.4-nano", "gpt-5.6-luna"], "gpt-5.6-luna"),  # the same input: cheaper output
        (["claude-opus-4.5", "claude-opus-4.6"], "claude-opus-4.5"),  # a tie: the first
        (["unknown-a", "gpt-5.4", "unknown-b"], "gpt-5.4"),  # unknown prices never win
        (["unknown-a", "unknown-b"], "unknown-b"),  # nothing known: the last resort
    ],
)
def test_cheapest_model_of_a_chain(chain: list[str], expected: str) -> None:
    assert cheapest(chain) == expected
