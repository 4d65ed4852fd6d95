"""Claude Code's model names -> the chain's models, and the settings given to Claude Code."""

from __future__ import annotations

import pytest

from copilot_proxy.core.claude_code import (
    ClaudeId,
    anthropic_id,
    client_settings,
    parse_id,
    serving_model,
)
from copilot_proxy.core.spec import parse_spec

# The model groups a proxy of this chain serves (render.py): plain and prefixed names,
# a route and its hop group, the catch-all.
CHAIN = ["claude-opus-4.6", "claude-sonnet-4.5", "gemini-3-pro-preview", "gpt-5-mini"]
SERVED = {*CHAIN, *(f"github_copilot/{m}" for m in CHAIN), "fast", "fast#gpt-5-mini", "*"}


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("claude-opus-4-6", ClaudeId("opus", (4, 6), "")),
        ("claude-opus-4.6", ClaudeId("opus", (4, 6), "")),
        ("claude-sonnet-4-5-20250929", ClaudeId("sonnet", (4, 5), "")),
        ("claude-3-5-haiku-20241022", ClaudeId("haiku", (3, 5), "")),
        ("claude-3-opus-latest", ClaudeId("opus", (3,), "")),
        ("claude-opus-4-6[1m]", ClaudeId("opus", (4, 6), "")),
        ("Claude-Opus-4-8-fast", ClaudeId("opus", (4, 8), "-fast")),
        ("claude-sonnet-4", ClaudeId("sonnet", (4,), "")),
        ("opus", ClaudeId("opus", (), "")),
        ("gpt-5-mini", None),
        ("claude-instant", None),
        ("github_copilot/claude-opus-4.6", None),
    ],
)
def test_claude_ids_in_every_spelling(name: str, parsed: ClaudeId | None) -> None:
    assert parse_id(name) == parsed


@pytest.mark.parametrize(
    ("anthropic", "copilot"),
    [
        ("claude-opus-4-6", "claude-opus-4.6"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4.5"),
        ("claude-opus-4-0", "claude-opus-4"),  # Copilot writes no minor 0
        ("claude-opus-4-8-fast", "claude-opus-4.8-fast"),
        ("claude-3-5-haiku-20241022", "claude-haiku-3.5"),
    ],
)
def test_copilot_spelling(anthropic: str, copilot: str) -> None:
    parsed = parse_id(anthropic)
    assert parsed is not None and parsed.copilot == copilot


@pytest.mark.parametrize(
    ("asked", "served"),
    [
        ("claude-opus-4-6", "claude-opus-4.6"),  # the same model, Anthropic's spelling
        ("claude-opus-4-6-20260105", "claude-opus-4.6"),  # dated
        ("claude-opus-4-6[1m]", "claude-opus-4.6"),
        ("claude-opus-5-5", "claude-opus-4.6"),  # Claude Code 2.1.332's default: the family
        ("opus", "claude-opus-4.6"),
        ("claude-sonnet-4-6", "claude-sonnet-4.5"),  # not the primary: the chain's sonnet
        ("sonnet", "claude-sonnet-4.5"),
        ("claude-haiku-4-5-20251001", "gpt-5-mini"),  # haiku-class: the small model
        ("claude-3-5-haiku-20241022", "gpt-5-mini"),
        ("haiku", "gpt-5-mini"),
        ("claude-fable-5-2", None),  # a family the chain lacks: the catch-all
        ("some-model", None),
        ("claude-opus-4.6", None),  # served names are never changed
        ("fast", None),
        ("github_copilot/claude-sonnet-4.5", None),
    ],
)
def test_serving_model(asked: str, served: str | None) -> None:
    assert serving_model(asked, SERVED, small_model="gpt-5-mini") == served


def test_the_newest_model_of_a_family_serves_it() -> None:
    served = {"claude-opus-4.5", "claude-opus-4.8", "claude-opus-4.6", "*"}
    assert serving_model("claude-opus-4-7", served) == "claude-opus-4.8"
    assert serving_model("claude-opus-4-5", served) == "claude-opus-4.5"  # exact first


def test_a_haiku_model_in_the_chain_serves_haiku_names_only_as_small_model() -> None:
    served = {"claude-opus-4.6", "claude-haiku-4.5", "gpt-5-mini", "*"}
    assert serving_model("claude-haiku-4-5", served, small_model="gpt-5-mini") == "gpt-5-mini"
    assert serving_model("claude-haiku-4-5", served, small_model="claude-haiku-4.5") == (
        "claude-haiku-4.5"
    )
    # A config without the setting (an older operator) maps by name.
    assert serving_model("claude-haiku-4-5", served) == "claude-haiku-4.5"


def test_anthropic_spelling_for_claude_code() -> None:
    assert anthropic_id("claude-opus-4.6") == "claude-opus-4-6"
    assert anthropic_id("claude-sonnet-4") == "claude-sonnet-4"
    assert anthropic_id("claude-opus-4.8-fast") == "claude-opus-4-8-fast"
    assert anthropic_id("gpt-5-mini") == "gpt-5-mini"


def test_client_settings_name_the_chains_models_in_claude_codes_spelling() -> None:
    spec = parse_spec("p", "ns", {"models": [{"name": m} for m in CHAIN]})
    assert client_settings(spec) == [
        ("ANTHROPIC_MODEL", "opus"),
        ("ANTHROPIC_DEFAULT_OPUS_MODEL", "claude-opus-4-6"),
        ("ANTHROPIC_DEFAULT_SONNET_MODEL", "claude-sonnet-4-5"),
        ("ANTHROPIC_DEFAULT_HAIKU_MODEL", "claude-haiku-4-5"),
    ]
    # Every name the settings give lands on the model they promise.
    names = dict(client_settings(spec))
    assert serving_model(names["ANTHROPIC_DEFAULT_OPUS_MODEL"], SERVED) == "claude-opus-4.6"
    assert serving_model(names["ANTHROPIC_DEFAULT_HAIKU_MODEL"], SERVED, spec.small_model) == (
        "gpt-5-mini"
    )


def test_client_settings_without_claude_models() -> None:
    spec = parse_spec("p", "ns", {"models": [{"name": "gpt-5.4"}, {"name": "gpt-5-mini"}]})
    names = dict(client_settings(spec))
    assert names["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "gpt-5.4"
    assert names["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "gpt-5.4"
