"""Copilot's OpenAI Responses endpoint: `/responses` (whole or streamed, text or a function
call), for the GPT-5 models, and the only endpoint of the codex models."""

from __future__ import annotations

import time
import uuid
from typing import Any

from aiohttp import web

from testkit.fake_github.copilot_gate import model_gate, sse
from testkit.fake_github.replies import pieces, tool_call
from testkit.fake_github.state import GitHubState


async def responses(gh: GitHubState, request: web.Request) -> web.StreamResponse:
    rec, fail, sw = await model_gate(gh, request, "/responses")
    if fail is not None:
        return fail
    body: dict[str, Any] = rec.body
    model = str(body["model"])
    text = f"Hello from {model}."
    head = {"id": "resp_" + uuid.uuid4().hex, "model": model}
    items = body.get("input")
    parts = [*(body.get("tools") or []), body.get("instructions") or "", *_listed(items)]
    with gh.lock:
        tokens = gh.prompt_cache.openai(body, parts, gh.models[model].vendor, 5)
    usage = {
        "input_tokens": tokens.prompt,
        "output_tokens": tokens.output,
        "total_tokens": tokens.prompt + tokens.output,
        "input_tokens_details": {"cached_tokens": tokens.read},
        "output_tokens_details": {"reasoning_tokens": 0},
    }
    cost = {"copilot_usage": gh.charge(rec, model, tokens)}
    with gh.lock:
        args = dict(gh.tool_args)
    call = _function_call(body, args)
    if call is not None:
        raw = _call_stream(head, call, usage)
        output: dict[str, Any] = call
    else:
        part = {"type": "output_text", "text": text, "annotations": []}
        output = {
            "type": "message",
            "id": "msg_" + uuid.uuid4().hex,
            "status": "completed",
            "role": "assistant",
            "content": [part],
        }
        raw = _stream(head, output, part, usage)
    if not body.get("stream"):
        return web.json_response({**_response(head, "completed", [output], usage), **cost})
    raw[-1] = {**raw[-1], **cost}  # next to `response` in response.completed
    events = [(e["type"], {**e, "sequence_number": n}) for n, e in enumerate(raw)]
    return await sse(request, events, sw)


def _function_call(body: dict[str, Any], args: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The function call the fake model makes (replies.tool_call, with the arguments a test
    scripted), as a Responses item."""
    tools = [
        {"function": {"name": t.get("name"), "parameters": t.get("parameters") or {}}}
        for t in body.get("tools") or []
        if isinstance(t, dict) and t.get("type") == "function"
    ]
    items = body.get("input")
    messages: list[dict[str, Any]] = (
        [{"role": "user", "content": items}] if isinstance(items, str) else []
    )
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("type") == "function_call_output":
            messages.append({"role": "tool"})
        elif isinstance(item, dict) and item.get("role"):
            messages.append({"role": item["role"], "content": item.get("content")})
    choice = body.get("tool_choice")
    call = tool_call(tools, choice if isinstance(choice, str | dict) else None, messages, args)
    if call is None:
        return None
    return {
        "type": "function_call",
        "id": "fc_" + uuid.uuid4().hex[:24],
        "call_id": call["id"],
        "name": call["function"]["name"],
        "arguments": call["function"]["arguments"],
        "status": "completed",
    }


def _response(head: dict[str, Any], status: str, output: list[Any], usage: Any) -> dict[str, Any]:
    return {
        "id": head["id"],
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": head["model"],
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": usage,
    }


def _stream(
    head: dict[str, Any], item: dict[str, Any], part: dict[str, Any], usage: dict[str, Any]
) -> list[dict[str, Any]]:
    """The streamed answer's events, in the order OpenAI sends them (numbered by the caller)."""
    item_id, text = item["id"], part["text"]
    at = {"item_id": item_id, "output_index": 0, "content_index": 0}
    raw: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response(head, "in_progress", [], None)},
        {"type": "response.in_progress", "response": _response(head, "in_progress", [], None)},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "status": "in_progress", "content": []},
        },
        {"type": "response.content_part.added", **at, "part": {**part, "text": ""}},
    ]
    for p in pieces(text):
        raw.append({"type": "response.output_text.delta", **at, "delta": p})
    raw += [
        {"type": "response.output_text.done", **at, "text": text},
        {"type": "response.content_part.done", **at, "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": _response(head, "completed", [item], usage)},
    ]
    return raw


def _call_stream(
    head: dict[str, Any], call: dict[str, Any], usage: dict[str, Any]
) -> list[dict[str, Any]]:
    """A streamed function call: the item, its arguments in two halves, the end."""
    args = call["arguments"]
    at = {"item_id": call["id"], "output_index": 0}
    raw: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response(head, "in_progress", [], None)},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**call, "arguments": "", "status": "in_progress"},
        },
    ]
    for part in (args[: len(args) // 2], args[len(args) // 2 :]):
        raw.append({"type": "response.function_call_arguments.delta", **at, "delta": part})
    raw += [
        {"type": "response.function_call_arguments.done", **at, "arguments": args},
        {"type": "response.output_item.done", "output_index": 0, "item": call},
        {"type": "response.completed", "response": _response(head, "completed", [call], usage)},
    ]
    return raw


def _listed(items: Any) -> list[Any]:
    return items if isinstance(items, list) else [items]


ROUTES = [("POST", "/responses", responses)]
