"""What the account's catalogue changes for clients: limits in the model listings, the
Responses-only models for chat and messages clients, prompt windows checked before any
upstream call, Copilot's own token count, and embeddings that reach /embeddings.

One real `litellm` proxy for the module, rendered (as the operator does) with the
catalogue read from the fake Copilot, whose Claude and codex windows are made small.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from copilot_proxy.core.render import render_config
from copilot_proxy.core.spec import parse_spec
from copilot_proxy.operator.catalogue import github_reader
from testkit.fake_github import FakeGitHub
from testkit.fake_github.tokens import prompt_tokens
from testkit.proxy_harness import LiteLLMProxy

CHAIN = ["claude-opus-4.6", "gpt-5.1-codex", "gpt-5-mini"]
WINDOWS = {"claude-opus-4.6": 2000, "gpt-5.1-codex": 3000}
WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
OPENAI_WEATHER: Any = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": WEATHER["input_schema"]},
}


def small_windows(gh: FakeGitHub) -> FakeGitHub:
    for model, tokens in WINDOWS.items():
        gh.models[model].max_prompt_tokens = tokens
    return gh


@pytest.fixture(scope="module")
def proxy(proxy_upstream: FakeGitHub) -> Iterator[LiteLLMProxy]:
    gh = small_windows(proxy_upstream)
    spec = parse_spec("test", "default", {"models": [{"name": m} for m in CHAIN]})
    catalogue = github_reader(gh.env())(spec, gh.default_token, "2026-12-01T00:00:00Z")
    config = render_config(spec, catalogue)
    with LiteLLMProxy(spec, upstream=gh.url, token=gh.default_token, config=config) as running:
        yield running


@pytest.fixture
def gh(upstream: FakeGitHub) -> FakeGitHub:
    return small_windows(upstream)


@pytest.fixture
def oai(proxy: LiteLLMProxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=proxy.master_key, max_retries=0)


@pytest.fixture
def claude(proxy: LiteLLMProxy) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)


# ----- limits in the listings -------------------------------------------------------------


def test_models_and_model_info_show_the_catalogues_limits(
    oai: openai.OpenAI, proxy: LiteLLMProxy
) -> None:
    listed = {m.id: m.model_extra or {} for m in oai.models.list()}
    assert listed["claude-opus-4.6"]["max_input_tokens"] == 2000
    assert listed["claude-opus-4.6"]["max_output_tokens"] == 64000
    assert listed["gpt-5-mini"]["max_input_tokens"] == 128000
    assert listed["gpt-5.1-codex"]["mode"] == "responses"
    info = httpx.get(f"{proxy.url}/model/info", headers=proxy.auth_headers).json()["data"]
    windows = {
        e["model_name"]: e["model_info"]["max_input_tokens"]
        for e in info
        if e["litellm_params"]["model"] == "github_copilot/claude-opus-4.6"
    }
    assert windows == dict.fromkeys(
        ["claude-opus-4.6", "github_copilot/claude-opus-4.6", "*"], 2000
    )


# ----- a Responses-only model for every client --------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_chat_clients_reach_a_responses_only_model(
    oai: openai.OpenAI, gh: FakeGitHub, stream: bool
) -> None:
    ask: Any = [{"role": "user", "content": "use get_weather for Paris"}]
    if stream:
        chunks = list(oai.chat.completions.create(
            model="gpt-5.1-codex", messages=ask, tools=[OPENAI_WEATHER], stream=True))  # fmt: skip
        calls = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or []) if c.choices]
        name = "".join(tc.function.name or "" for tc in calls if tc.function)
        args = "".join(tc.function.arguments or "" for tc in calls if tc.function)
    else:
        reply = oai.chat.completions.create(
            model="gpt-5.1-codex", messages=ask, tools=[OPENAI_WEATHER]
        )
        made: Any = reply.choices[0].message.tool_calls
        name, args = made[0].function.name, made[0].function.arguments
    assert (name, json.loads(args)) == ("get_weather", {"city": "Paris"})
    assert [r.path for r in gh.copilot_requests()] == ["/responses"]
    hi: Any = [{"role": "user", "content": "hi"}]
    text = oai.chat.completions.create(model="gpt-5.1-codex", messages=hi)
    assert text.choices[0].message.content == "Hello from gpt-5.1-codex."


def test_messages_clients_reach_a_responses_only_model_and_claude_stays_native(
    claude: anthropic.Anthropic, gh: FakeGitHub
) -> None:
    ask: Any = [{"role": "user", "content": "use get_weather for Paris"}]
    with claude.messages.stream(
        model="gpt-5.1-codex",
        max_tokens=200,
        messages=ask,
        tools=[WEATHER],  # type: ignore[list-item]
    ) as s:
        final = s.get_final_message()
    use = next(b for b in final.content if b.type == "tool_use")
    assert (use.name, use.input) == ("get_weather", {"city": "Paris"})
    hi: Any = [{"role": "user", "content": "hi"}]
    reply = claude.messages.create(model="claude-opus-4.6", max_tokens=50, messages=hi)
    assert reply.content[0].text == "Hello from claude-opus-4.6."  # type: ignore[union-attr]
    assert [r.path for r in gh.copilot_requests()] == ["/responses", "/v1/messages"]


# ----- prompt windows ---------------------------------------------------------------------


def test_a_prompt_too_big_for_claude_goes_to_the_next_model_that_fits(
    claude: anthropic.Anthropic, gh: FakeGitHub
) -> None:
    body: Any = [{"role": "user", "content": "word " * 1800}]  # 9000 chars: ~2600 Claude tokens
    assert prompt_tokens("Anthropic", {"messages": body}) > WINDOWS["claude-opus-4.6"]
    raw = claude.messages.with_raw_response.create(
        model="claude-opus-4.6", max_tokens=50, messages=body
    )
    assert raw.headers["x-litellm-model-group"] == "gpt-5.1-codex"
    assert gh.models_tried() == ["gpt-5.1-codex"]  # never a wasted call to claude-opus-4.6


def test_a_prompt_no_model_takes_fails_at_once_naming_each_window(
    claude: anthropic.Anthropic, oai: openai.OpenAI, gh: FakeGitHub, proxy: LiteLLMProxy
) -> None:
    huge = "word " * 150_000
    with pytest.raises(anthropic.BadRequestError) as refused:
        claude.messages.create(
            model="claude-opus-4.6", max_tokens=50, messages=[{"role": "user", "content": huge}]
        )
    text = str(refused.value.message)
    assert "prompt is too long: " in text and " tokens > 128000 maximum" in text
    assert "claude-opus-4.6 2000, gpt-5.1-codex 3000, gpt-5-mini 128000" in text
    assert "Fallback" not in text and "#" not in text  # none of LiteLLM's internals
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(
            model="gpt-5-mini", messages=[{"role": "user", "content": huge}]
        )
    assert gh.models_tried() == []


# ----- token counting ---------------------------------------------------------------------


def test_count_tokens_for_claude_is_copilots_own(
    claude: anthropic.Anthropic, gh: FakeGitHub
) -> None:
    messages: Any = [{"role": "user", "content": "How many tokens is this? " * 40}]
    raw = claude.messages.with_raw_response.count_tokens(
        model="claude-opus-4.6",
        messages=messages,
        tools=[WEATHER],  # type: ignore[list-item]
    )
    counted = raw.parse().input_tokens
    fake = prompt_tokens("Anthropic", {"messages": messages, "tools": [WEATHER]})
    assert (counted, raw.headers["x-copilot-proxy-count-source"]) == (fake, "copilot")
    assert gh.copilot_requests("/v1/messages/count_tokens")[0].model == "claude-opus-4.6"
    # Claude Code's dated ids count with the model that would serve them.
    dated = claude.messages.count_tokens(model="claude-sonnet-4-5-20250929", messages=messages)
    assert dated.input_tokens == prompt_tokens("Anthropic", {"messages": messages})


def test_count_tokens_for_other_models_is_the_calibrated_estimate(
    claude: anthropic.Anthropic, gh: FakeGitHub
) -> None:
    messages: Any = [{"role": "user", "content": "How many tokens is this? " * 40}]
    raw = claude.messages.with_raw_response.count_tokens(model="gpt-5-mini", messages=messages)
    counted = raw.parse().input_tokens
    assert raw.headers["x-copilot-proxy-count-source"] == "estimate"
    fake = prompt_tokens("Azure OpenAI", {"messages": messages})
    assert abs(counted / fake - 1) < 0.15
    # Claude Code's haiku ids are served by spec.smallModel (gpt-5-mini here): counted as it.
    haiku = claude.messages.with_raw_response.count_tokens(
        model="claude-haiku-4-5-20251001", messages=messages
    )
    assert (haiku.parse().input_tokens, haiku.headers["x-copilot-proxy-count-source"]) == (
        counted,
        "estimate",
    )
    assert gh.copilot_requests() == []


# ----- embeddings -------------------------------------------------------------------------


def test_embeddings_reach_copilots_embeddings_with_their_model(
    oai: openai.OpenAI, gh: FakeGitHub
) -> None:
    reply = oai.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert len(reply.data) == 2
    assert gh.models_tried("/embeddings") == ["text-embedding-3-small"]


def test_an_unknown_embedding_model_is_a_clear_400_without_upstream_calls(
    oai: openai.OpenAI, gh: FakeGitHub, proxy: LiteLLMProxy
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        oai.embeddings.create(model="text-embedding-ada-002", input="a")
    assert "Embedding model 'text-embedding-ada-002' is not served by this proxy" in str(
        refused.value
    )
    out = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", f"{proxy.url}/v1/embeddings",
         "-H", f"Authorization: Bearer {proxy.master_key}", "-H", "Content-Type: application/json",
         "-d", json.dumps({"model": "text-embedding-ada-002", "input": "a"})],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    body, status = out.stdout.rsplit("\n", 1)
    assert status == "400" and "spec.embeddingModels" in json.loads(body)["error"]["message"]
    assert gh.copilot_requests() == []
