"""What a session costs through the proxy: X-Initiator on every upstream attempt, prompt
caching, tokens and AI credits in the log line and on /metrics, system prompts, names.

One real proxy for the module. It tolerates 100 failures a minute before it
cools a model down, so a model made to fail once is tried again by the next
test; a 429 that states a wait cools its model down at once for that long, so
the 429s here say `Retry-After: 0`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import anthropic
import httpx
import openai
import pytest

from testkit.fake_github import FakeGitHub, Recorded
from testkit.proxy_harness import LiteLLMProxy
from testkit.waiting import wait_for_sync

CHAIN = ["claude-opus-4.6", "claude-sonnet-4.5", "gemini-3-pro-preview", "gpt-5-mini"]
CODEX = "gpt-5.3-codex"  # served on /responses only
LONG = "You are Claude Code. Follow the rules of this repository. " * 200  # cached (>1024)


@pytest.fixture(scope="module")
def proxy_spec() -> dict[str, Any]:
    return {
        "models": [{"name": m} for m in [*CHAIN, CODEX]],
        "router": {"allowedFails": 100},
    }


@pytest.fixture
def claude(proxy: LiteLLMProxy) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)


@pytest.fixture
def oai(proxy: LiteLLMProxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)


def _post(proxy: LiteLLMProxy, path: str, body: dict[str, Any]) -> str:
    """Send a request (streamed or not) and read the whole answer."""
    with httpx.stream(
        "POST", f"{proxy.url}{path}", json=body, headers=proxy.auth_headers, timeout=60
    ) as r:
        text = r.read().decode()
    assert r.status_code == 200, text
    return text


def assert_copilot_headers(sent: list[Recorded]) -> None:
    """LiteLLM's Copilot headers survive ours on every attempt; each has its own request id."""
    for r in sent:
        h = r.headers
        assert h["authorization"].startswith("Bearer tid="), r.path
        assert h["editor-version"] == "vscode/1.95.0", r.path
        assert h["copilot-integration-id"] == "vscode-chat", r.path
        assert h["user-agent"].startswith("GitHubCopilotChat/"), r.path
        assert h["openai-intent"] and h["x-github-api-version"], r.path
        assert list(h).count("x-initiator") == 1
    ids = [r.headers["x-request-id"] for r in sent]
    assert len(set(ids)) == len(ids)


# ----- X-Initiator, per route, per turn kind, per hop -------------------------------

ASK = {"role": "user", "content": "Use get_weather: weather in Paris?"}
CHAT_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
CALL = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
CHAT_LOOP = [
    ASK,
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
]
ANTHROPIC_TOOL = {"name": "get_weather", "input_schema": {"type": "object"}}
USE = {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}
ANTHROPIC_LOOP = [
    ASK,
    {"role": "assistant", "content": [USE]},
    {"role": "user", "content": [RESULT]},
]
RESPONSES_LOOP = [
    ASK,
    {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
]
FUNCTION = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}


def _chat(model: str, messages: list[Any]) -> tuple[str, dict[str, Any]]:
    return "/v1/chat/completions", {"model": model, "messages": messages, "tools": [CHAT_TOOL]}


def _messages(model: str, messages: list[Any]) -> tuple[str, dict[str, Any]]:
    body = {"model": model, "max_tokens": 200, "messages": messages, "tools": [ANTHROPIC_TOOL]}
    return "/v1/messages", body


def _responses(model: str, items: list[Any]) -> tuple[str, dict[str, Any]]:
    return "/v1/responses", {"model": model, "input": items, "tools": [FUNCTION]}


ROUTES: dict[str, tuple[Any, str, list[Any], list[Any]]] = {
    "chat": (_chat, "gpt-5-mini", [ASK], CHAT_LOOP),
    "chat-to-responses": (_chat, CODEX, [ASK], CHAT_LOOP),
    "messages-native": (_messages, "claude-opus-4.6", [ASK], ANTHROPIC_LOOP),
    "messages-to-chat": (_messages, "gemini-3-pro-preview", [ASK], ANTHROPIC_LOOP),
    "messages-to-responses": (_messages, CODEX, [ASK], ANTHROPIC_LOOP),
    "responses-native": (_responses, CODEX, [ASK], RESPONSES_LOOP),
    "responses-to-chat": (_responses, "gpt-5-mini", [ASK], RESPONSES_LOOP),
}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("route", list(ROUTES))
def test_x_initiator_on_every_route(
    proxy: LiteLLMProxy, upstream: FakeGitHub, route: str, stream: bool
) -> None:
    build, model, human, loop = ROUTES[route]
    for messages, expected in ((human, "user"), (loop, "agent")):
        upstream.reset()
        path, body = build(model, messages)
        _post(proxy, path, {**body, "stream": stream})
        sent = upstream.copilot_requests()
        assert [(r.model, r.initiator) for r in sent] == [(model, expected)]
        assert_copilot_headers(sent)


@pytest.mark.parametrize(
    ("build", "loop"), [(_chat, CHAT_LOOP), (_messages, ANTHROPIC_LOOP)], ids=["chat", "messages"]
)
def test_every_fallback_hop_sends_the_requests_initiator(
    proxy: LiteLLMProxy, upstream: FakeGitHub, build: Any, loop: list[Any]
) -> None:
    for messages, expected in (([ASK], "user"), (loop, "agent")):
        upstream.reset()
        upstream.fail(CHAIN[0], 402, times=1)
        upstream.fail(CHAIN[1], 429, times=1, retry_after=0)
        path, body = build(CHAIN[0], messages)
        _post(proxy, path, body)
        sent = upstream.copilot_requests()
        assert [r.model for r in sent] == CHAIN[:3]  # Claude natively, then Gemini on chat
        assert {r.initiator for r in sent} == {expected}
        assert_copilot_headers(sent)
        assert upstream.premium_requests() == (1 if expected == "user" else 0)


# ----- prompt caching, tokens and credits ---------------------------------------------


def _cached_question(claude: anthropic.Anthropic, question: str) -> Any:
    return claude.messages.create(
        model="claude-opus-4.6",
        max_tokens=200,
        system=[{"type": "text", "text": LONG, "cache_control": {"type": "ephemeral"}}],
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": question, "cache_control": {"type": "ephemeral"}}
                ],
            }
        ],
    )


def test_cache_control_reaches_copilot_untouched_and_cached_input_costs_less(
    claude: anthropic.Anthropic, proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    _cached_question(claude, "What is rule one?")
    second = _cached_question(claude, "And rule two?")
    sent = upstream.copilot_requests("/v1/messages")[-1].body
    assert sent["system"] == [
        {"type": "text", "text": LONG, "cache_control": {"type": "ephemeral"}}
    ]
    assert sent["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert second.usage.cache_read_input_tokens and second.usage.cache_read_input_tokens > 1024
    first_bill, second_bill = upstream.bills
    assert second_bill.nano_aiu < first_bill.nano_aiu / 5
    # The line is written after the answer: wait for this request's own.
    line = proxy.request_log_line(f"cached={second.usage.cache_read_input_tokens} ")
    assert "asked=claude-opus-4.6 " in line
    assert f"credits={second_bill.nano_aiu / 1e9:.4f}" in line


STREAMS: dict[
    str, tuple[str, dict[str, Any]]
] = {  # where LiteLLM drops copilot_usage on its way to the client
    "chat-stream": ("/v1/chat/completions", {"model": "gpt-5-mini", "messages": [ASK]}),
    "messages-to-chat-stream": (
        "/v1/messages",
        {"model": "gemini-3-pro-preview", "max_tokens": 100, "messages": [ASK]},
    ),
    "messages-stream": (
        "/v1/messages",
        {"model": "claude-sonnet-4.5", "max_tokens": 100, "messages": [ASK]},
    ),
    "responses-stream": ("/v1/responses", {"model": CODEX, "input": "hi"}),
}


def _metric(proxy: LiteLLMProxy, name: str, **labels: str) -> float:
    """A counter's value on the proxy's /metrics, read as Prometheus does: without a key."""
    text = httpx.get(f"{proxy.url}/metrics/", timeout=10).text
    wanted = {"namespace": "default", "proxy": "test", **labels}
    total = 0.0
    for match in re.finditer(rf"^{name}\{{([^}}]*)\}} (\S+)$", text, re.M):
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if all(found.get(k) == v for k, v in wanted.items()):
            total += float(match.group(2))
    return total


@pytest.mark.parametrize("case", list(STREAMS))
def test_streams_are_billed_in_the_log_line_and_on_metrics(
    proxy: LiteLLMProxy, upstream: FakeGitHub, case: str
) -> None:
    path, body = STREAMS[case]
    model = body["model"]
    credits_before = _metric(proxy, "copilot_proxy_ai_credits_total", model=model)
    user_before = _metric(proxy, "copilot_proxy_requests_total", model=model, initiator="user")
    _post(proxy, path, {**body, "stream": True})
    (bill,) = upstream.bills
    line = proxy.request_log_line(f"credits={bill.nano_aiu / 1e9:.4f}")
    assert f"asked={model} " in line and " initiator=user " in line
    assert f"out={bill.tokens.output}" in line
    credits = _metric(proxy, "copilot_proxy_ai_credits_total", model=model) - credits_before
    assert credits == pytest.approx(bill.nano_aiu / 1e9)
    users = _metric(proxy, "copilot_proxy_requests_total", model=model, initiator="user")
    assert users - user_before == 1
    assert _metric(proxy, "copilot_proxy_tokens_total", model=model, kind="output") > 0


def test_metrics_hold_no_secret(proxy: LiteLLMProxy) -> None:
    r = httpx.get(f"{proxy.url}/metrics", timeout=10, follow_redirects=True)
    assert r.status_code == 200 and "copilot_proxy_requests_total" in r.text
    assert proxy.master_key not in r.text


# ----- system prompts reach every model as system ------------------------------------


def test_claude_codes_system_prompt_reaches_gemini_and_gpt_fallbacks_as_system(
    claude: anthropic.Anthropic, upstream: FakeGitHub
) -> None:
    upstream.fail(CHAIN[1], 402, times=1)
    upstream.fail(CHAIN[2], 429, times=1, retry_after=0)
    claude.messages.create(
        model=CHAIN[1],
        max_tokens=100,
        system=[{"type": "text", "text": "You are Claude Code, Anthropic's official CLI."}],
        messages=[{"role": "user", "content": "hi"}],
    )
    gemini, gpt = upstream.copilot_requests("/chat/completions")
    assert gpt.model == "gpt-5-mini"
    for sent in (gemini, gpt):
        first = sent.body["messages"][0]
        assert first["role"] == "system", json.dumps(sent.body["messages"])[:300]
        assert "You are Claude Code" in json.dumps(first["content"])


def test_a_chat_clients_system_message_stays_system(
    oai: openai.OpenAI, upstream: FakeGitHub
) -> None:
    oai.chat.completions.create(
        model="gemini-3-pro-preview",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
    )
    (sent,) = upstream.copilot_requests()
    assert [m["role"] for m in sent.body["messages"]] == ["system", "user"]


# ----- Claude Code's model names --------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "tried"),
    [
        # the chain's sonnet serves it, the chain after sonnet is its fallback
        ("claude-sonnet-4-5-20250929", ["claude-sonnet-4.5", "gemini-3-pro-preview"]),
        # haiku-class: spec.smallModel (the cheapest: gpt-5-mini), then what follows it
        ("claude-haiku-4-5-20251001", ["gpt-5-mini", CODEX]),
        # a family the chain lacks: the catch-all, the whole chain
        ("claude-fable-5-2", ["claude-opus-4.6", "claude-sonnet-4.5"]),
    ],
)
def test_a_mapped_name_falls_back_along_the_rest_of_its_chain(
    claude: anthropic.Anthropic, proxy: LiteLLMProxy, upstream: FakeGitHub, asked: str, tried: Any
) -> None:
    upstream.fail(tried[0], 402, times=1)
    reply = claude.messages.create(
        model=asked, max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.content[0].text == f"Hello from {tried[1]}."  # type: ignore[union-attr]
    assert upstream.models_tried() == tried
    line = proxy.request_log_line(f"asked={asked} ")
    assert f"upstream={tried[1]} failed={tried[0]} " in line


def test_a_mapped_name_whose_models_all_cool_down_is_answered_at_once(
    claude: anthropic.Anthropic, upstream: FakeGitHub
) -> None:
    """A haiku id is served by gpt-5-mini, then the codex model: with both limited, the one
    immediate answer names them, though the catch-all's chain could still answer."""
    haiku, hi = "claude-haiku-4-5-20251001", [{"role": "user", "content": "hi"}]
    for model in ("gpt-5-mini", CODEX):  # "Please retry after 4 seconds": cooling 4 s
        upstream.fail(model, 429, times=1, code="user_global_rate_limited", retry_after=4)
    with pytest.raises(anthropic.APIStatusError):  # the request that finds both limited
        claude.messages.create(model=haiku, max_tokens=100, messages=hi)  # type: ignore[arg-type]
    upstream.reset()
    with pytest.raises(anthropic.APIStatusError) as refused:
        claude.messages.create(model=haiku, max_tokens=100, messages=hi)  # type: ignore[arg-type]
    assert refused.value.status_code == 402
    assert refused.value.response.headers["x-should-retry"] == "false"
    message = refused.value.message
    assert f"No model can answer '{haiku}' now. gpt-5-mini: " in message
    assert f"; {CODEX}: " in message and "claude-opus-4.6" not in message
    assert upstream.copilot_requests() == []

    def served() -> bool:  # the models are back after their 4 s (for the next tests)
        try:
            claude.messages.create(model=haiku, max_tokens=100, messages=hi)  # type: ignore[arg-type]
        except anthropic.APIStatusError:
            return False
        return True

    wait_for_sync(served, timeout=15, message="gpt-5-mini back")
