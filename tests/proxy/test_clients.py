"""The rendered proxy serves the clients people use: openai, anthropic, litellm, curl, Claude Code.

One real `litellm` proxy for the module, rendered from the spec below, against
the fake Copilot. Nothing fails upstream here (see test_fallback.py for that).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from typing import Any

import anthropic
import httpx
import litellm
import openai
import pytest

from testkit.fake_github import FakeGitHub
from testkit.proxy_harness import LiteLLMProxy

CHAIN = ["claude-opus-4.6", "gemini-3-pro-preview", "gpt-5-mini"]
EXTRA = ["gpt-5.3-codex", "text-embedding-3-small"]

WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture(scope="module")
def proxy_spec() -> dict[str, Any]:
    return {
        "models": [{"name": m} for m in CHAIN + EXTRA],
        "routes": [{"name": "fast", "models": ["gpt-5-mini"]}],
    }


@pytest.fixture
def oai(proxy: LiteLLMProxy) -> openai.OpenAI:
    # max_retries=0: the SDK's own retries would hide what the proxy did.
    return openai.OpenAI(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)


@pytest.fixture
def claude(proxy: LiteLLMProxy) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)


def _hello(model: str) -> str:
    return f"Hello from {model}."


# ----- OpenAI chat completions --------------------------------------------------


def test_chat_completion(oai: openai.OpenAI, upstream: FakeGitHub) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model="gemini-3-pro-preview", messages=[{"role": "user", "content": "hi"}]
    )
    reply = raw.parse()
    assert reply.choices[0].message.content == _hello("gemini-3-pro-preview")
    assert raw.headers["x-litellm-model-group"] == "gemini-3-pro-preview"
    assert upstream.models_tried() == ["gemini-3-pro-preview"]
    sent = upstream.copilot_requests("/chat/completions")[0]
    # The provider authenticates with the Copilot key from the token endpoint.
    assert sent.headers["authorization"].startswith("Bearer tid=")
    assert sent.headers["copilot-integration-id"] == "vscode-chat"


def test_chat_completion_streams(oai: openai.OpenAI, upstream: FakeGitHub) -> None:
    stream = oai.chat.completions.create(
        model="claude-opus-4.6", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert len([p for p in pieces if p]) > 1, "answer arrives in several chunks"
    assert "".join(pieces) == _hello("claude-opus-4.6")
    assert upstream.copilot_requests()[0].body["stream"] is True


@pytest.mark.parametrize("stream", [False, True])
def test_chat_tool_calls(oai: openai.OpenAI, upstream: FakeGitHub, stream: bool) -> None:
    messages: list[Any] = [{"role": "user", "content": "Use get_weather: weather in Paris?"}]
    if stream:
        calls: dict[int, dict[str, str]] = {}
        for chunk in oai.chat.completions.create(
            model="gpt-5-mini", messages=messages, tools=[WEATHER_TOOL], stream=True
        ):
            for tc in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
                call = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                call["id"] += tc.id or ""
                call["name"] += (tc.function.name or "") if tc.function else ""
                call["arguments"] += (tc.function.arguments or "") if tc.function else ""
        call = calls[0]
    else:
        reply = oai.chat.completions.create(
            model="gpt-5-mini", messages=messages, tools=[WEATHER_TOOL]
        )
        assert reply.choices[0].finish_reason == "tool_calls"
        made: Any = reply.choices[0].message.tool_calls
        fn = made[0].function
        call = {"id": made[0].id, "name": fn.name, "arguments": fn.arguments}
    assert call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "Paris"}
    assert upstream.copilot_requests()[0].body["tools"][0]["function"]["name"] == "get_weather"

    # The tool result goes back and the model answers in text.
    messages += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21 C"},
    ]
    final = oai.chat.completions.create(model="gpt-5-mini", messages=messages, tools=[WEATHER_TOOL])
    assert final.choices[0].message.content == _hello("gpt-5-mini")


def test_models_lists_the_names_of_the_copilotproxy(oai: openai.OpenAI) -> None:
    names = {m.id for m in oai.models.list()}
    models = CHAIN + EXTRA
    assert names == {*models, *(f"github_copilot/{m}" for m in models), "fast"}


def test_route_serves_its_model(oai: openai.OpenAI, upstream: FakeGitHub) -> None:
    reply = oai.chat.completions.create(model="fast", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == _hello("gpt-5-mini")


def test_unknown_model_name_goes_to_the_primary(oai: openai.OpenAI, upstream: FakeGitHub) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model="some-model-nobody-configured", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.parse().choices[0].message.content == _hello(CHAIN[0])
    assert upstream.models_tried() == [CHAIN[0]]


# ----- other OpenAI endpoints ---------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-5.3-codex", "gpt-5-mini"])
def test_responses_api(oai: openai.OpenAI, upstream: FakeGitHub, model: str) -> None:
    reply = oai.responses.create(model=model, input="hi")
    assert reply.output_text == _hello(model)
    assert upstream.models_tried() == [model]


def test_responses_api_streams(oai: openai.OpenAI, upstream: FakeGitHub) -> None:
    events = list(oai.responses.create(model="gpt-5.3-codex", input="hi", stream=True))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == _hello("gpt-5.3-codex")
    assert events[-1].type == "response.completed"


def test_embeddings(oai: openai.OpenAI, upstream: FakeGitHub) -> None:
    reply = oai.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert [d.index for d in reply.data] == [0, 1]
    assert len(reply.data[0].embedding) == 1536  # text-embedding-3-small's size
    assert upstream.copilot_requests("/embeddings")[0].body["input"] == ["a", "b"]


# ----- the original README's clients --------------------------------------------


def test_litellm_sdk_through_litellm_proxy(proxy: LiteLLMProxy, upstream: FakeGitHub) -> None:
    reply = litellm.completion(
        model="litellm_proxy/github_copilot/claude-opus-4.6",
        messages=[{"role": "user", "content": "Explain quantum computing in simple terms."}],
        api_base=proxy.url,
        api_key=proxy.master_key,
    )
    assert reply.choices[0].message.content == _hello("claude-opus-4.6")


def test_curl(proxy: LiteLLMProxy, upstream: FakeGitHub) -> None:
    body = {
        "model": "github_copilot/claude-opus-4.6",
        "messages": [{"role": "user", "content": "Explain quantum computing in simple terms."}],
    }
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "-X",
            "POST",
            f"{proxy.url}/v1/chat/completions",
            "-H",
            f"Authorization: Bearer {proxy.master_key}",
            "-H",
            "Content-Type: application/json",
            "-d",
            json.dumps(body),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(out.stdout)["choices"][0]["message"]["content"] == _hello("claude-opus-4.6")


# ----- Anthropic Messages API ---------------------------------------------------

THINKING: Any = {"type": "enabled", "budget_tokens": 2048}


def test_messages_with_thinking_reach_claude(
    claude: anthropic.Anthropic, upstream: FakeGitHub
) -> None:
    reply = claude.messages.create(
        model="claude-opus-4.6",
        max_tokens=4096,
        thinking=THINKING,
        messages=[{"role": "user", "content": "hi"}],
    )
    assert [b.type for b in reply.content] == ["thinking", "text"]
    assert reply.content[1].text == _hello("claude-opus-4.6")  # type: ignore[union-attr]
    sent = upstream.copilot_requests("/v1/messages")
    assert [r.body["thinking"] for r in sent] == [THINKING]


def test_messages_stream_with_thinking_reach_claude(
    claude: anthropic.Anthropic, upstream: FakeGitHub
) -> None:
    with claude.messages.stream(
        model="claude-opus-4.6",
        max_tokens=4096,
        thinking=THINKING,
        messages=[{"role": "user", "content": "hi"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == _hello("claude-opus-4.6")
    assert final.content[0].type == "thinking"
    assert upstream.copilot_requests("/v1/messages")[0].body["thinking"] == THINKING


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", ["gpt-5-mini", "gemini-3-pro-preview"])
def test_messages_with_thinking_to_other_models(
    claude: anthropic.Anthropic, upstream: FakeGitHub, model: str, stream: bool
) -> None:
    """No UnsupportedParamsError: `thinking` is dropped, or mapped to reasoning_effort."""
    kwargs: dict[str, Any] = {
        "model": model,
        "max_tokens": 4096,
        "thinking": THINKING,
        "messages": [{"role": "user", "content": "hi"}],
    }
    if stream:
        with claude.messages.stream(**kwargs) as s:
            text = "".join(s.text_stream)
    else:
        reply = claude.messages.create(**kwargs)
        text = "".join(b.text for b in reply.content if b.type == "text")
    assert text == _hello(model)
    sent = upstream.copilot_requests()
    assert [r.path for r in sent] == ["/chat/completions"]
    assert "thinking" not in sent[0].body


def test_messages_tool_use(claude: anthropic.Anthropic, upstream: FakeGitHub) -> None:
    reply = claude.messages.create(
        model="claude-opus-4.6",
        max_tokens=1024,
        tools=[
            {
                "name": "get_weather",
                "description": "Current weather in a city",
                "input_schema": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            }
        ],
        messages=[{"role": "user", "content": "Use get_weather: weather in Paris?"}],
    )
    assert reply.stop_reason == "tool_use"
    use = next(b for b in reply.content if b.type == "tool_use")
    assert (use.name, use.input) == ("get_weather", {"city": "Paris"})


@pytest.mark.parametrize("model", ["claude-opus-4.6", "gpt-5-mini"])
def test_count_tokens(claude: anthropic.Anthropic, upstream: FakeGitHub, model: str) -> None:
    counted = claude.messages.count_tokens(
        model=model, messages=[{"role": "user", "content": "How many tokens is this?"}]
    )
    assert counted.input_tokens > 0


# ----- Claude Code --------------------------------------------------------------

# What Claude Code sends for a one-line prompt: /v1/messages?beta=true, streaming,
# thinking, a system prompt with cache control and a dozen tools.
CLAUDE_CODE_TOOLS = [
    {
        "name": name,
        "description": f"The {name} tool",
        "input_schema": {
            "type": "object",
            "properties": {"arg": {"type": "string"}},
            "required": [],
        },
    }
    for name in (
        "Task",
        "Bash",
        "Glob",
        "Grep",
        "LS",
        "ExitPlanMode",
        "Read",
        "Edit",
        "MultiEdit",
        "Write",
        "NotebookEdit",
        "WebFetch",
        "TodoWrite",
    )
]
CLAUDE_CODE_BETAS = [
    "claude-code-20250219",
    "interleaved-thinking-2025-05-14",
    "fine-grained-tool-streaming-2025-05-14",
]


def _claude_code_client(
    monkeypatch: pytest.MonkeyPatch, base_url: str, key: str, key_var: str
) -> anthropic.Anthropic:
    # Configured the way the README tells Claude Code users: environment only.
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", base_url)
    monkeypatch.setenv(key_var, key)
    return anthropic.Anthropic(max_retries=0)


def _claude_code_turn(client: anthropic.Anthropic, model: str) -> tuple[str, Mapping[str, str]]:
    with client.beta.messages.stream(
        model=model,
        max_tokens=32000,
        thinking={"type": "enabled", "budget_tokens": 31999},
        system=[
            {
                "type": "text",
                "text": "You are Claude Code, Anthropic's official CLI for Claude.",
                "cache_control": {"type": "ephemeral"},
            }
        ],
        tools=CLAUDE_CODE_TOOLS,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": [{"type": "text", "text": "say hi"}]}],
        metadata={"user_id": "user_abc_account__session_123"},
        betas=CLAUDE_CODE_BETAS,
    ) as stream:
        headers = stream.response.headers
        text = "".join(stream.text_stream)
    return text, headers


@pytest.mark.parametrize(
    ("model", "served"),
    [
        ("claude-opus-4.6", CHAIN[0]),
        ("github_copilot/claude-opus-4.6", CHAIN[0]),  # the original README's ANTHROPIC_MODEL
        ("claude-opus-4-6", CHAIN[0]),  # Claude Code's spelling of the chain's model
        ("claude-sonnet-4-5-20250929", CHAIN[0]),  # no sonnet in the chain: the catch-all
        ("claude-opus-4-1-20250805", CHAIN[0]),  # an older opus: the chain's opus
        # Claude Code's small/fast model: spec.smallModel, by default the cheapest model
        ("claude-3-5-haiku-20241022", "gpt-5-mini"),
        ("claude-haiku-4-5-20251001", "gpt-5-mini"),
    ],
)
@pytest.mark.parametrize("key_var", ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"])
def test_claude_code_settings_are_served(
    proxy: LiteLLMProxy,
    upstream: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    model: str,
    served: str,
    key_var: str,
) -> None:
    client = _claude_code_client(monkeypatch, proxy.url, proxy.master_key, key_var)
    text, headers = _claude_code_turn(client, model)
    assert text == _hello(served)
    assert headers["x-litellm-model-name"] == f"github_copilot/{served}"
    sent = upstream.copilot_requests()
    assert len(sent) == 1
    assert sent[0].model == served
    if served.startswith("claude"):
        assert sent[0].body["thinking"]["type"] == "enabled"
    assert len(sent[0].body["tools"]) == len(CLAUDE_CODE_TOOLS)
    assert sent[0].query.get("beta") is None, "the upstream URL is Copilot's own"
    assert proxy.request_log_line(f"asked={model} ")


def test_claude_code_base_url_with_v1_is_wrong(
    proxy: LiteLLMProxy, upstream: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the README says the proxy root: with /v1, Claude Code posts to /v1/v1/messages."""
    client = _claude_code_client(
        monkeypatch, f"{proxy.url}/v1", proxy.master_key, "ANTHROPIC_API_KEY"
    )
    with pytest.raises(anthropic.NotFoundError):
        _claude_code_turn(client, "claude-opus-4.6")
    assert upstream.copilot_requests() == []


# ----- keys ---------------------------------------------------------------------


@pytest.mark.parametrize("key", ["sk-not-the-key", None])
def test_wrong_or_missing_key_is_401(
    proxy: LiteLLMProxy, upstream: FakeGitHub, key: str | None
) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    r = httpx.post(
        f"{proxy.url}/v1/chat/completions",
        json={"model": "gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]},
        headers=headers,
        timeout=30,
    )
    assert r.status_code == 401
    message = r.json()["error"]["message"]
    assert ("Invalid API key" in message) if key else ("No api key passed in" in message)
    assert upstream.copilot_requests() == []


def test_wrong_key_with_sdks(proxy: LiteLLMProxy, upstream: FakeGitHub) -> None:
    bad_openai = openai.OpenAI(base_url=proxy.url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="Invalid API key"):
        bad_openai.chat.completions.create(
            model="gpt-5-mini", messages=[{"role": "user", "content": "hi"}]
        )
    bad_claude = anthropic.Anthropic(base_url=proxy.url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError, match="Invalid API key"):
        bad_claude.messages.create(
            model="claude-opus-4.6", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )


# ----- the request log ----------------------------------------------------------


def test_request_log_line_names_asked_and_serving_model(
    oai: openai.OpenAI, proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    oai.chat.completions.create(model="fast", messages=[{"role": "user", "content": "hi"}])
    line = proxy.request_log_line("asked=fast ")
    assert "served=fast upstream=gpt-5-mini failed=- status=200" in line
    assert proxy.master_key not in proxy.log_text()
    assert upstream.default_token not in proxy.log_text()
