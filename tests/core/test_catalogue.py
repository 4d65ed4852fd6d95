"""The account's Copilot catalogue, parsed and kept (core/catalogue.py), without any server."""

from __future__ import annotations

from typing import Any

from copilot_proxy.core.catalogue import (
    AVAILABLE,
    MISSING,
    NOT_ENABLED,
    ModelFacts,
    describe_unavailable,
    from_status,
    observe,
    parse_models,
    to_status,
    unavailable,
)
from testkit.fake_github.catalog import default_models

ANSWER: dict[str, Any] = {
    "object": "list",
    "data": [m.listing() for m in default_models().values()],
}


def test_parse_reads_limits_endpoints_type_and_policy() -> None:
    models = parse_models(ANSWER)
    opus = models["claude-opus-4.6"]
    assert (opus.max_prompt_tokens, opus.max_output_tokens) == (128000, 64000)
    assert opus.state == AVAILABLE and not opus.responses_only
    assert models["gpt-5.3-codex"].responses_only
    assert not models["gpt-5-mini"].responses_only  # no policy field: needs no opt-in
    assert models["gpt-5-mini"].state == AVAILABLE
    assert models["grok-code-fast-1"].state == NOT_ENABLED
    assert models["text-embedding-3-small"].kind == "embeddings"


def test_parse_is_defensive() -> None:
    odd = {
        "data": [
            "junk",
            {"id": 7},
            {"id": "bare"},
            {"id": "window", "capabilities": {"limits": {"max_context_window_tokens": 9000}}},
            {"id": "bad", "capabilities": {"limits": {"max_prompt_tokens": "many"}}},
            {"id": "off", "policy": {"state": "disabled"}},
        ]
    }
    models = parse_models(odd)
    assert set(models) == {"bare", "window", "bad", "off"}
    assert models["bare"] == ModelFacts("bare")
    assert models["window"].max_prompt_tokens == 9000  # VS Code falls back to the window too
    assert models["bad"].max_prompt_tokens is None
    assert models["off"].state == NOT_ENABLED
    assert parse_models(None) == {} and parse_models({"data": "x"}) == {}


def test_observe_keeps_the_served_models_and_marks_missing_ones() -> None:
    seen = observe(parse_models(ANSWER), ["claude-opus-4.6", "gpt-9", "grok-code-fast-1"], "t")
    assert list(seen.models) == ["claude-opus-4.6", "gpt-9", "grok-code-fast-1"]
    assert seen.models["gpt-9"].state == MISSING
    names = [f.name for f in unavailable(seen, ["grok-code-fast-1", "claude-opus-4.6", "gpt-9"])]
    assert names == ["grok-code-fast-1", "gpt-9"]


def test_unavailable_models_say_where_to_enable_them() -> None:
    seen = observe(parse_models(ANSWER), ["grok-code-fast-1", "gpt-9"], "t")
    text = describe_unavailable(
        unavailable(seen, ["grok-code-fast-1", "gpt-9"]), "https://acme.ghe.com"
    )
    assert text == (
        "grok-code-fast-1 is not enabled for this account: enable it at"
        " https://acme.ghe.com/settings/copilot/features; gpt-9 is not offered to this account"
        " (plan or organisation policy); see https://acme.ghe.com/settings/copilot/features"
        " or pick another model"
    )


def test_status_keeps_an_observation_whole() -> None:
    seen = observe(
        parse_models(ANSWER),
        ["claude-opus-4.6", "gpt-5.3-codex", "nope"],
        "2026-12-01T00:00:00Z",
        "2027-01-01",
    )
    assert from_status(to_status(seen)) == seen
    assert from_status({}) is None and from_status(None) is None
