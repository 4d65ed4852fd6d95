"""The fake Copilot bills as Copilot does in 2026: X-Initiator, AI credits, prompt caching.

Straight HTTP against the fake (no proxy): what it records, what its answers
say they cost, on every endpoint, whole and streamed.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from testkit.fake_github import FakeGitHub
from testkit.fake_github.billing import NANO_AIU_PER_DOLLAR, Tokens, nano_aiu

LONG = "Follow the house rules. " * 400  # ~2.4k tokens: long enough to be cached


# The fake's first bill imports its tokenizer (LiteLLM's tiktoken files): seconds on a busy
# machine, past httpx's 5 s default.
TIMEOUT = 60.0


@pytest.fixture
def gh(fake_github: FakeGitHub) -> FakeGitHub:
    return fake_github


def _headers(gh: FakeGitHub, initiator: str | None = None) -> dict[str, str]:
    r = httpx.get(
        f"{gh.url}/copilot_internal/v2/token",
        headers={"authorization": f"token {gh.default_token}"},
    )
    headers = {"authorization": f"Bearer {r.json()['token']}", "editor-version": "vscode/1.95.0"}
    return headers | ({"X-Initiator": initiator} if initiator else {})


def _post(gh: FakeGitHub, path: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    r = httpx.post(f"{gh.url}{path}", json=body, headers=_headers(gh) | headers, timeout=TIMEOUT)
    r.raise_for_status()
    answer: dict[str, Any] = r.json()
    return answer


def _events(gh: FakeGitHub, path: str, body: dict[str, Any]) -> list[Any]:
    with httpx.stream(
        "POST",
        f"{gh.url}{path}",
        json={**body, "stream": True},
        headers=_headers(gh),
        timeout=TIMEOUT,
    ) as r:
        lines = [ln.removeprefix("data: ") for ln in r.iter_lines() if ln.startswith("data: ")]
    return [json.loads(ln) for ln in lines if ln != "[DONE]"]


CHAT = {"model": "gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {
    "model": "claude-opus-4.6",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "hi"}],
}
RESPONSES = {"model": "gpt-5.3-codex", "input": "hi"}


def test_price_of_a_request_in_nano_aiu() -> None:
    # GPT-5 mini: $0.25 in, $0.025 cached, $2 out per million tokens; 1 credit = $0.01.
    tokens = Tokens(uncached=1_000_000, read=1_000_000, written=0, output=1_000_000)
    assert nano_aiu("gpt-5-mini", tokens) == round(2.275 * NANO_AIU_PER_DOLLAR)
    # Claude writes to the cache at $6.25 (Opus 4.6).
    assert nano_aiu("claude-opus-4.6", Tokens(0, 0, 1000, 0)) == round(6.25e-3 * 1e11)


@pytest.mark.parametrize(
    ("path", "body", "cost"),
    [
        ("/chat/completions", CHAT, lambda a: a["copilot_usage"]),
        ("/v1/messages", MESSAGES, lambda a: a["copilot_usage"]),
        ("/responses", RESPONSES, lambda a: a["copilot_usage"]),
    ],
)
def test_every_answer_says_what_it_cost(gh: FakeGitHub, path: str, body: Any, cost: Any) -> None:
    answer = _post(gh, path, body)
    (bill,) = gh.bills
    assert cost(answer) == {"total_nano_aiu": bill.nano_aiu}
    assert bill.nano_aiu == nano_aiu(bill.model, bill.tokens) > 0
    assert gh.credits() == pytest.approx(bill.nano_aiu / 1e9)


def test_streams_say_it_in_their_final_event(gh: FakeGitHub) -> None:
    chat = _events(gh, "/chat/completions", {**CHAT, "stream_options": {"include_usage": True}})
    assert "copilot_usage" in chat[-1] and chat[-1]["usage"]["prompt_tokens"] > 0
    assert not any("copilot_usage" in e for e in chat[:-1])
    plain_chat = _events(gh, "/chat/completions", CHAT)  # no usage chunk asked for
    assert "copilot_usage" in plain_chat[-1] and plain_chat[-1]["choices"][0]["finish_reason"]
    messages = _events(gh, "/v1/messages", MESSAGES)
    delta = next(e for e in messages if e["type"] == "message_delta")
    assert "copilot_usage" in delta
    responses = _events(gh, "/responses", RESPONSES)
    assert responses[-1]["type"] == "response.completed" and "copilot_usage" in responses[-1]
    costs = [e["copilot_usage"]["total_nano_aiu"] for e in (chat[-1], plain_chat[-1], delta)]
    costs.append(responses[-1]["copilot_usage"]["total_nano_aiu"])
    assert costs == [b.nano_aiu for b in gh.bills]


def test_x_initiator_decides_premium_requests(gh: FakeGitHub) -> None:
    _post(gh, "/chat/completions", CHAT)  # none: Copilot counts it as user
    _post(gh, "/chat/completions", CHAT, **{"X-Initiator": "user"})
    _post(gh, "/chat/completions", CHAT, **{"X-Initiator": "agent"})
    _post(gh, "/v1/messages", MESSAGES, **{"x-initiator": "agent"})
    assert [r.initiator for r in gh.copilot_requests()] == [None, "user", "agent", "agent"]
    assert gh.copilot_requests("/v1/messages")[0].interaction_type is None
    assert gh.premium_requests() == 2
    gh.fail("gpt-5-mini", 402, times=1)
    with pytest.raises(httpx.HTTPStatusError):
        _post(gh, "/chat/completions", CHAT)
    assert gh.premium_requests() == 2, "a refused request is not billed"


def _cached_turn(gh: FakeGitHub, question: str) -> dict[str, Any]:
    body = {
        "model": "claude-opus-4.6",
        "max_tokens": 100,
        "system": [{"type": "text", "text": LONG, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": question}],
    }
    return _post(gh, "/v1/messages", body)


def test_anthropic_cache_control_writes_then_reads_the_prefix(gh: FakeGitHub) -> None:
    first = _cached_turn(gh, "What is rule one?")["usage"]
    assert first["cache_creation_input_tokens"] > 1024 and first["cache_read_input_tokens"] == 0
    second = _cached_turn(gh, "And rule two?")["usage"]
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert second["cache_creation_input_tokens"] == 0
    written, read = gh.bills
    assert read.nano_aiu < written.nano_aiu / 5  # cached input costs a tenth


def test_openai_prompts_are_cached_by_prefix(gh: FakeGitHub) -> None:
    history = [{"role": "system", "content": LONG}, {"role": "user", "content": "one"}]
    first = _post(gh, "/chat/completions", {"model": "gpt-5-mini", "messages": history})
    assert first["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    longer = [*history, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "2"}]
    second = _post(gh, "/chat/completions", {"model": "gpt-5-mini", "messages": longer})
    cached = second["usage"]["prompt_tokens_details"]["cached_tokens"]
    assert 1024 < cached < second["usage"]["prompt_tokens"]
    short = _post(gh, "/chat/completions", CHAT)
    assert short["usage"]["prompt_tokens_details"]["cached_tokens"] == 0


def test_tool_arguments_can_be_scripted(gh: FakeGitHub) -> None:
    gh.tool_args["Bash"] = {"command": "echo ran > marker.txt"}
    tools = [
        {"name": n, "input_schema": {"type": "object", "properties": {}}} for n in ("Read", "Bash")
    ]
    body = {
        "model": "claude-opus-4.6",
        "max_tokens": 100,
        "tools": tools,
        # Claude Code mentions other tools in its reminders and appends a system message.
        "messages": [
            {"role": "user", "content": "<system-reminder>Read files.</system-reminder> Use Bash."},
            {"role": "system", "content": "# Environment"},
        ],
    }
    block = _post(gh, "/v1/messages", body)["content"][-1]
    assert (block["type"], block["name"]) == ("tool_use", "Bash")
    assert block["input"] == {"command": "echo ran > marker.txt"}
