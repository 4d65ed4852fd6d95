"""Who started a request, per client format: `user` bills a premium request, `agent` does not.

The Claude Code shapes below are abbreviated from what Claude Code 2.1.332
sent (docs/billing.md): its requests append role-`system` messages, its title
request has no tools and asks for a JSON answer, its sub-agents send a header.
"""

from __future__ import annotations

from typing import Any

import pytest

from copilot_proxy.litellm.initiator import (
    AGENT,
    USER,
    of_chat,
    of_messages,
    of_request,
    of_responses,
)

CLAUDE_CODE = {"user-agent": "claude-cli/2.1.332 (external, cli)", "x-app": "cli"}
TOOLS = [{"name": "Bash", "input_schema": {"type": "object"}}]
REMINDER = {
    "type": "text",
    "text": "<system-reminder>\nToday's date is 2026-12-01.\n</system-reminder>",
}
ENVIRONMENT = {"role": "system", "content": [{"type": "text", "text": "# Environment"}]}
TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}
TOOL_RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.txt"}


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def text(words: str) -> dict[str, str]:
    return {"type": "text", "text": words}


HUMAN_TURN = [user(REMINDER, text("Run ls")), ENVIRONMENT]
TOOL_LOOP = [*HUMAN_TURN, {"role": "assistant", "content": [TOOL_USE]}, user(TOOL_RESULT)]


# ----- Anthropic messages ---------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "who"),
    [
        ([{"role": "user", "content": "hi"}], USER),
        (HUMAN_TURN, USER),  # Claude Code's trailing system message does not count
        (TOOL_LOOP, AGENT),
        ([*TOOL_LOOP[:-1], user(TOOL_RESULT, text("<system-reminder>x</system-reminder>"))], AGENT),
        ([*TOOL_LOOP, {"role": "assistant", "content": "Done."}, user(text("thanks"))], USER),
        ([user(text("hi")), {"role": "assistant", "content": "Hel"}], AGENT),  # a prefill
        ([], USER),  # unreadable: never under-bill
        (None, USER),
        ("hi", USER),
    ],
)
def test_anthropic_messages(messages: Any, who: str) -> None:
    assert of_messages(messages) == who


# ----- OpenAI chat ----------------------------------------------------------------

CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


@pytest.mark.parametrize(
    ("messages", "who"),
    [
        ([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}], USER),
        (
            [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None, "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            ],
            AGENT,
        ),
        (
            [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None, "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
                {"role": "assistant", "content": "Sunny."},
                {"role": "user", "content": "and tomorrow?"},
            ],
            USER,
        ),
        ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hel"}], AGENT),
        ([{"role": "user", "content": "hi"}, {"role": "system", "content": "note"}], USER),
        ([], USER),
    ],
)
def test_openai_chat(messages: Any, who: str) -> None:
    assert of_chat(messages) == who


# ----- Responses ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "who"),
    [
        ("hi", USER),
        ([{"role": "user", "content": "hi"}], USER),
        (
            [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "hi"}],
                }
            ],
            USER,
        ),
        (
            [
                {"role": "user", "content": "weather?"},
                {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
            ],
            AGENT,
        ),
        # with previous_response_id the input is the tool output alone
        ([{"type": "function_call_output", "call_id": "c1", "output": "sunny"}], AGENT),
        ([{"role": "user", "content": "hi"}, {"role": "developer", "content": "be brief"}], USER),
        ([{"role": "assistant", "content": "Hel"}], AGENT),
        ([], USER),
    ],
)
def test_responses(items: Any, who: str) -> None:
    assert of_responses(items) == who


# ----- by route, and Claude Code's own requests -----------------------------------


def test_each_route_reads_its_own_format() -> None:
    tool_loop = {"messages": TOOL_LOOP, "tools": TOOLS}
    assert of_request("anthropic_messages", tool_loop, {}) == AGENT
    chat = {"messages": [{"role": "tool", "tool_call_id": "c1", "content": "x"}]}
    assert of_request("acompletion", chat, {}) == AGENT
    responses = {"input": [{"type": "function_call_output", "call_id": "c", "output": "x"}]}
    assert of_request("aresponses", responses, {}) == AGENT
    assert of_request("aresponses", {"input": "hi"}, {}) == USER


TITLE = {  # the session title request of interactive Claude Code
    "model": "claude-opus-5-5",
    "tools": [],
    "output_config": {"effort": "medium", "format": {"type": "json_schema", "schema": {}}},
    "messages": [user(text("<session>\nRun ls\n</session>\n\nWrite the title..."))],
}


@pytest.mark.parametrize(
    ("body", "headers", "who"),
    [
        ({"messages": HUMAN_TURN, "tools": TOOLS}, {}, USER),
        ({"messages": TOOL_LOOP, "tools": TOOLS}, {}, AGENT),
        # a sub-agent's first request looks like a human turn but for its header
        ({"messages": HUMAN_TURN, "tools": TOOLS}, {"x-claude-code-agent-id": "a1"}, AGENT),
        (TITLE, {}, AGENT),
        # `claude --tools ""`: a human turn without tools and without a JSON answer
        ({"messages": HUMAN_TURN}, {}, USER),
        ({"messages": [user(text("quota"))], "max_tokens": 1}, {}, AGENT),  # a quota probe
        # a message the human typed while a tool ran rides with the tool results
        (
            {
                "messages": [
                    *TOOL_LOOP[:-1],
                    user(
                        TOOL_RESULT,
                        text("The user sent a new message while you were working:\nstop"),
                    ),
                ],
                "tools": TOOLS,
            },
            {},
            USER,
        ),
        (
            {
                "messages": [
                    user(
                        REMINDER,
                        text("This session is being continued from a previous conversation..."),
                    )
                ],
                "tools": TOOLS,
            },
            {},
            AGENT,
        ),
        (  # a background task's notification
            {
                "messages": [
                    *TOOL_LOOP,
                    {"role": "assistant", "content": "Started."},
                    user(text("<system-reminder>\n[SYSTEM NOTIFICATION]\n</system-reminder>")),
                ],
                "tools": TOOLS,
            },
            {},
            AGENT,
        ),
    ],
)
def test_claude_codes_requests(body: dict[str, Any], headers: dict[str, str], who: str) -> None:
    assert of_request("anthropic_messages", body, {**CLAUDE_CODE, **headers}) == who


def test_other_clients_asking_for_json_without_tools_start_a_turn() -> None:
    """Only Claude Code's requests are read for its side requests: an SDK user who asks
    for a JSON answer without tools is a human turn."""
    sdk = {"user-agent": "Anthropic/Python 2.14.0"}
    assert of_request("anthropic_messages", TITLE, sdk) == USER
    assert of_request("anthropic_messages", TITLE, {"User-Agent": CLAUDE_CODE["user-agent"]}) == (
        AGENT
    )
