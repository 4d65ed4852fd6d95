"""Falling through the chain: 402, 429, errors, slow and dropped answers, expiring Copilot keys.

One real proxy for the module. A model that answers 402/429 stays skipped for
the cooldown (60 s) for the rest of the module, so each test uses models of
its own, through routes declared in the spec.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import anthropic
import httpx
import openai
import pytest

from testkit.fake_github import FakeGitHub
from testkit.proxy_harness import LiteLLMProxy

ROUTES = {
    "quota": ["claude-opus-4.5", "gpt-4.1"],
    "ratelimit": ["claude-sonnet-4.5", "gpt-4o"],
    "stream-limit": ["claude-haiku-4.5", "gemini-2.5-pro"],
    "allfail": ["claude-sonnet-4", "gpt-5"],
    "keys": ["gemini-3-pro-preview", "gpt-5-mini"],
    "slow": ["gpt-5-mini", "gemini-3-pro-preview"],
    "drop-claude": ["claude-opus-4.1", "gpt-5-mini"],
}
CHAIN = [
    "claude-opus-4.6",
    "gemini-3-pro-preview",
    "gpt-5-mini",
    "claude-opus-4.5",
    "gpt-4.1",
    "claude-sonnet-4.5",
    "gpt-4o",
    "claude-haiku-4.5",
    "gemini-2.5-pro",
    "claude-sonnet-4",
    "claude-opus-4.1",
    "gpt-5",
]
TIMEOUT = 2  # router.timeoutSeconds: a slower answer falls through


@pytest.fixture(scope="module")
def proxy_spec() -> dict[str, Any]:
    return {
        "models": [{"name": m} for m in CHAIN],
        "routes": [{"name": k, "models": v} for k, v in ROUTES.items()],
        "router": {"timeoutSeconds": TIMEOUT},
    }


@pytest.fixture
def oai(proxy: LiteLLMProxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)


def _ask(oai: openai.OpenAI, model: str, **kwargs: Any) -> tuple[str, dict[str, str], float]:
    began = time.monotonic()
    raw = oai.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "hi"}], **kwargs
    )
    reply = raw.parse()
    elapsed = time.monotonic() - began
    return str(reply.choices[0].message.content), dict(raw.headers), elapsed


def test_quota_exceeded_falls_through_at_once_then_is_skipped(
    oai: openai.OpenAI, proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    _ask(oai, "gpt-4.1")  # warm: the first request through a new path costs more
    upstream.reset()
    upstream.fail("claude-opus-4.5", 402)
    text, headers, elapsed = _ask(oai, "quota")
    assert text == "Hello from gpt-4.1."
    assert headers["x-litellm-model-group"] == "gpt-4.1"
    assert headers["x-litellm-attempted-fallbacks"] == "1"
    assert headers["x-litellm-attempted-retries"] == "0"
    assert upstream.models_tried() == ["claude-opus-4.5", "gpt-4.1"]
    assert elapsed < 1.5, "no retry sleeps before falling back"
    line = proxy.request_log_line("asked=quota ")
    assert "served=gpt-4.1 upstream=gpt-4.1 failed=claude-opus-4.5 status=200" in line

    # Cooled down: later requests, under any name of that model, skip it.
    for name in ("quota", "claude-opus-4.5", "github_copilot/claude-opus-4.5"):
        upstream.reset()
        text, headers, _ = _ask(oai, name)
        assert text == "Hello from gpt-4.1.", name
        assert upstream.models_tried() == ["gpt-4.1"], name
    assert "failed=claude-opus-4.5" in proxy.request_log_line(
        "asked=github_copilot/claude-opus-4.5 "
    )


def test_rate_limited_falls_through_then_is_skipped(
    oai: openai.OpenAI, upstream: FakeGitHub
) -> None:
    _ask(oai, "gpt-4o")
    upstream.reset()
    upstream.fail("claude-sonnet-4.5", 429)
    text, headers, elapsed = _ask(oai, "ratelimit")
    assert (text, headers["x-litellm-model-group"]) == ("Hello from gpt-4o.", "gpt-4o")
    assert elapsed < 1.5, "no wait for the retry-after of the 429"
    upstream.reset()
    assert _ask(oai, "ratelimit")[0] == "Hello from gpt-4o."
    assert upstream.models_tried() == ["gpt-4o"]


def test_claude_code_stream_falls_through_to_a_non_claude_model(
    proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    upstream.fail("claude-haiku-4.5", 429)
    client = anthropic.Anthropic(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)
    with client.beta.messages.stream(
        model="stream-limit",
        max_tokens=8000,
        thinking={"type": "enabled", "budget_tokens": 4000},
        messages=[{"role": "user", "content": "hi"}],
    ) as stream:
        served = stream.response.headers["x-litellm-model-group"]
        text = "".join(stream.text_stream)
    assert (served, text) == ("gemini-2.5-pro", "Hello from gemini-2.5-pro.")
    assert [(r.path, r.model) for r in upstream.copilot_requests()] == [
        ("/v1/messages", "claude-haiku-4.5"),
        ("/chat/completions", "gemini-2.5-pro"),
    ]


def test_every_model_failing_gives_one_error_naming_them(
    oai: openai.OpenAI, proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    upstream.fail("claude-sonnet-4", 402)
    upstream.fail("gpt-5", 500)
    with pytest.raises(openai.APIStatusError) as failed:
        _ask(oai, "allfail")
    message = str(failed.value)
    assert "Every model for 'allfail' failed" in message
    assert "claude-sonnet-4: 402 quota_exceeded" in message
    assert "gpt-5: 500 upstream_error" in message
    assert "status=402" in proxy.request_log_line("asked=allfail ")

    # Again, through the Anthropic API: the quota-less model is now skipped.
    upstream.reset()
    upstream.fail("gpt-5", 500)
    client = anthropic.Anthropic(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as again:
        client.messages.create(
            model="allfail", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        )
    assert "claude-sonnet-4: 402 quota_exceeded, skipped for" in str(again.value)
    assert "gpt-5: 500 upstream_error" in str(again.value)
    assert upstream.models_tried() == ["gpt-5"]


def test_unknown_model_names_route_through_the_chain(
    oai: openai.OpenAI, upstream: FakeGitHub
) -> None:
    upstream.fail(CHAIN[0], 402)
    # A Claude Code id of a family the chain lacks (Fable) maps to no model of the chain.
    text, headers, _ = _ask(oai, "claude-fable-5-2")
    assert text == f"Hello from {CHAIN[1]}."
    assert headers["x-litellm-model-group"] == CHAIN[1]
    assert upstream.models_tried() == CHAIN[:2]


def test_slow_model_falls_through_after_the_timeout(
    oai: openai.OpenAI, upstream: FakeGitHub
) -> None:
    upstream.delay("gpt-5-mini", TIMEOUT + 3)
    text, _, elapsed = _ask(oai, "slow")
    assert text == "Hello from gemini-3-pro-preview."
    assert TIMEOUT - 0.5 < elapsed < TIMEOUT + 2.5


def test_stream_dropped_after_content_ends_in_an_error_not_a_hang(
    oai: openai.OpenAI, upstream: FakeGitHub
) -> None:
    upstream.drop_stream("gpt-5-mini", after=3)  # the role chunk and two words
    began = time.monotonic()
    received: list[str] = []
    with pytest.raises(openai.APIError, match="Connection error"):
        for chunk in oai.chat.completions.create(
            model="gpt-5-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            received.extend(c.delta.content or "" for c in chunk.choices)
    assert "".join(received) == "Hello from ", "what was sent is not taken back"
    assert upstream.models_tried() == ["gpt-5-mini"], "no second answer glued on"
    assert time.monotonic() - began < 10


def test_stream_dropped_before_content_falls_through(
    oai: openai.OpenAI, proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    upstream.drop_stream("gpt-5-mini", after=0)
    stream = oai.chat.completions.create(
        model="slow", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    text = "".join(c.delta.content or "" for chunk in stream for c in chunk.choices)
    assert text == "Hello from gemini-3-pro-preview."

    upstream.reset()
    upstream.drop_stream("claude-opus-4.1", after=3)  # before the first text delta
    client = anthropic.Anthropic(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)
    with client.messages.stream(
        model="drop-claude", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as s:
        assert "".join(s.text_stream) == "Hello from gpt-5-mini."
    assert upstream.models_tried() == ["claude-opus-4.1", "gpt-5-mini"]


def test_copilot_key_expiring_mid_run_is_refreshed(
    oai: openai.OpenAI, upstream: FakeGitHub
) -> None:
    # Copilot stops accepting the proxy's key before the expires_at it was given.
    upstream.key_ttl = 3
    upstream.expire_keys()
    calls = upstream.token_calls
    text, _, _ = _ask(oai, "keys")
    assert text == "Hello from gpt-5-mini."
    assert upstream.token_calls == calls + 1
    assert upstream.models_tried() == ["gemini-3-pro-preview", "gpt-5-mini"]

    # The new key expires by its expires_at: refreshed before the next call.
    time.sleep(upstream.key_ttl + 0.5)
    upstream.reset()
    assert _ask(oai, "keys")[0] == "Hello from gemini-3-pro-preview."
    assert upstream.token_calls == 1
    assert upstream.models_tried() == ["gemini-3-pro-preview"]


def test_a_route_keeps_to_its_own_chain(oai: openai.OpenAI, upstream: FakeGitHub) -> None:
    # drop-claude is [claude-opus-4.1, gpt-5-mini]; in the main chain gpt-5-mini is
    # followed by nine more models, none of which this route may use.
    upstream.fail("claude-opus-4.1", 500)
    upstream.fail("gpt-5-mini", 500)
    with pytest.raises(openai.APIStatusError) as failed:
        _ask(oai, "drop-claude")
    assert upstream.models_tried() == ["claude-opus-4.1", "gpt-5-mini"]
    assert "Every model for 'drop-claude' failed" in str(failed.value)

    # The main chain still goes on past gpt-5-mini (to the next model not cooling down).
    upstream.reset()
    upstream.fail("gpt-5-mini", 500)
    text, headers, _ = _ask(oai, "gpt-5-mini")
    first, served = upstream.models_tried()
    assert first == "gpt-5-mini" and served in CHAIN[CHAIN.index(first) + 1 :]
    assert (text, headers["x-litellm-model-group"]) == (f"Hello from {served}.", served)


def test_a_route_hop_is_named_by_its_model(
    oai: openai.OpenAI, proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    upstream.fail("claude-opus-4.1", 500)
    with oai.chat.completions.with_streaming_response.create(
        model="drop-claude", messages=[{"role": "user", "content": "hi"}], stream=True
    ) as response:
        chunks = list(response.parse())
        assert response.headers["x-litellm-model-group"] == "gpt-5-mini"
    assert {c.model for c in chunks} == {"gpt-5-mini"}
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "Hello from gpt-5-mini."
    )
    line = proxy.request_log_line("asked=drop-claude ")
    assert "served=gpt-5-mini upstream=gpt-5-mini failed=claude-opus-4.1 status=200" in line


def test_models_lists_routes_but_not_their_hops(oai: openai.OpenAI, proxy: LiteLLMProxy) -> None:
    listed = {m.id for m in oai.models.list()}
    embedding = {"text-embedding-3-small", "github_copilot/text-embedding-3-small"}
    assert listed == {*CHAIN, *(f"github_copilot/{m}" for m in CHAIN), *ROUTES, *embedding}
    hop = "drop-claude#gpt-5-mini"  # render.py's name for the route's second model
    answer = httpx.get(f"{proxy.url}/v1/models/{quote(hop, safe='')}", headers=proxy.auth_headers)
    assert answer.status_code == 404
    groups = httpx.get(f"{proxy.url}/model_group/info", headers=proxy.auth_headers).json()
    assert not [g["model_group"] for g in groups["data"] if "#" in g["model_group"]]


def test_a_hop_cannot_be_asked_for_by_name(oai: openai.OpenAI, upstream: FakeGitHub) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        _ask(oai, "drop-claude#gpt-5-mini")
    assert "ask for 'drop-claude'" in str(refused.value)
    assert upstream.models_tried() == []
