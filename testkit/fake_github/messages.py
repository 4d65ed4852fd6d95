"""Copilot's Anthropic-style endpoint for Claude: `/v1/messages` (whole or streamed, with
thinking and tool use) and `/v1/messages/count_tokens`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from testkit.fake_github.copilot_gate import model_gate, sse
from testkit.fake_github.replies import anthropic_as_openai, pieces, tool_call
from testkit.fake_github.state import GitHubState
from testkit.fake_github.tokens import prompt_tokens

Event = tuple[str | None, Any]
OUTPUT_TOKENS = 5  # what the fake model says is about that long


def anthropic_error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"type": "error", "error": {"type": "invalid_request_error", "message": message}},
        status=status,
    )


async def messages(gh: GitHubState, request: web.Request) -> web.StreamResponse:
    rec, fail, sw = await model_gate(gh, request, "/v1/messages")
    if fail is not None:
        return fail
    body: dict[str, Any] = rec.body
    model = str(body["model"])
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int):
        return anthropic_error(400, "max_tokens: Field required")
    thinking = body.get("thinking") or {}
    thinking_on = thinking.get("type") == "enabled"
    if thinking_on and int(thinking.get("budget_tokens", 0)) >= max_tokens:
        return anthropic_error(400, "`max_tokens` must be greater than `thinking.budget_tokens`")
    with gh.lock:
        args = dict(gh.tool_args)
    blocks = _blocks(body, model, thinking_on, args)
    stop = "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn"
    with gh.lock:
        tokens = gh.prompt_cache.anthropic(body, gh.models[model].vendor, OUTPUT_TOKENS)
    usage = {
        "input_tokens": tokens.uncached,
        "cache_creation_input_tokens": tokens.written,
        "cache_read_input_tokens": tokens.read,
        "output_tokens": tokens.output,
    }
    cost = gh.charge(rec, model, tokens)
    message = {
        "id": "msg_" + uuid.uuid4().hex[:24],
        "type": "message",
        "role": "assistant",
        "model": model,
    }
    if not body.get("stream"):
        return web.json_response(
            {
                **message,
                "content": blocks,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": usage,
                "copilot_usage": cost,
            }
        )
    return await sse(request, _stream(message, blocks, stop, usage, cost), sw)


def _blocks(
    body: dict[str, Any], model: str, thinking_on: bool, args: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The answer's content blocks: thinking (when asked for), then a tool call or the text."""
    tools = [
        {
            "type": "function",
            "function": {"name": t["name"], "parameters": t.get("input_schema", {})},
        }
        for t in body.get("tools") or []
        if isinstance(t, dict) and "name" in t
    ]
    choice = body.get("tool_choice") or {}
    forced: Any = {"none": "none", "any": "any", "tool": choice}.get(str(choice.get("type")))
    call = tool_call(tools, forced, anthropic_as_openai(body.get("messages")), args)
    blocks: list[dict[str, Any]] = []
    if thinking_on:
        blocks.append(
            {
                "type": "thinking",
                "thinking": "Thinking it over.",
                "signature": "sig-" + uuid.uuid4().hex,
            }
        )
    if call:
        blocks.append(
            {
                "type": "tool_use",
                "id": "toolu_" + uuid.uuid4().hex[:24],
                "name": call["function"]["name"],
                "input": json.loads(call["function"]["arguments"]),
            }
        )
    else:
        blocks.append({"type": "text", "text": f"Hello from {model}."})
    return blocks


def _stream(
    message: dict[str, Any],
    blocks: list[dict[str, Any]],
    stop: str,
    usage: dict[str, int],
    cost: dict[str, Any],
) -> list[Event]:
    """The streamed answer, event by event, as Anthropic sends it; Copilot's cost rides on
    the final `message_delta`."""
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},
    }
    events: list[Event] = [
        ("message_start", {"type": "message_start", "message": start}),
        ("ping", {"type": "ping"}),
    ]
    for i, block in enumerate(blocks):
        events += _block_events(i, block)
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
                "copilot_usage": cost,
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _block_events(i: int, block: dict[str, Any]) -> list[Event]:
    """One content block streamed: its start (empty), its deltas, its stop."""
    kind = block["type"]
    start = (
        {**block, "thinking": ""}
        if kind == "thinking"
        else ({**block, "input": {}} if kind == "tool_use" else {**block, "text": ""})
    )
    if kind == "thinking":
        start.pop("signature", None)
    events: list[Event] = [
        ("content_block_start", {"type": "content_block_start", "index": i, "content_block": start})
    ]
    deltas: list[dict[str, Any]]
    if kind == "thinking":
        deltas = [
            {"type": "thinking_delta", "thinking": block["thinking"]},
            {"type": "signature_delta", "signature": block["signature"]},
        ]
    elif kind == "tool_use":
        args = json.dumps(block["input"])
        deltas = [
            {"type": "input_json_delta", "partial_json": p}
            for p in (args[: len(args) // 2], args[len(args) // 2 :])
        ]
    else:
        deltas = [{"type": "text_delta", "text": p} for p in pieces(block["text"])]
    for d in deltas:
        events.append(
            ("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d})
        )
    events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    return events


async def count_message_tokens(gh: GitHubState, request: web.Request) -> web.Response:
    rec, fail, _ = await model_gate(gh, request, "/v1/messages", check_size=False)
    if fail is not None:
        return fail
    vendor = gh.models[str(rec.model)].vendor
    return web.json_response({"input_tokens": prompt_tokens(vendor, rec.body)})


ROUTES = [
    ("POST", "/v1/messages", messages),
    ("POST", "/v1/messages/count_tokens", count_message_tokens),
]
