"""Copilot's OpenAI-style endpoints: `/chat/completions` (whole or streamed), `/embeddings`,
`/models`. Replies name the model that served them: "Hello from <model>."
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from aiohttp import web

from testkit.fake_github.copilot_gate import (
    ERROR_CODES,
    copilot_auth,
    copilot_error,
    model_gate,
    sse,
)
from testkit.fake_github.replies import pieces, tool_call, vector
from testkit.fake_github.state import GitHubState


async def list_models(gh: GitHubState, request: web.Request) -> web.Response:
    await gh.record(request)
    denied = copilot_auth(gh, request)
    if denied is not None:
        return denied
    with gh.lock:
        data = [m.listing() for m in gh.models.values()]
        gh.catalogue_calls += 1
        failing = gh.catalogue_error
    if failing is not None:
        return copilot_error(failing, ERROR_CODES.get(failing, "error"))
    return web.json_response({"object": "list", "data": data})


async def chat_completions(gh: GitHubState, request: web.Request) -> web.StreamResponse:
    rec, fail, sw = await model_gate(gh, request, "/chat/completions")
    if fail is not None:
        return fail
    body: dict[str, Any] = rec.body
    model = str(body["model"])
    if "thinking" in body and not gh.models[model].is_claude:
        # Copilot's OpenAI-style backends reject parameters they do not know.
        return copilot_error(
            400, "invalid_request_body", "Unrecognized request argument supplied: thinking"
        )
    text = f"Hello from {model}."
    with gh.lock:
        args = dict(gh.tool_args)
    call = tool_call(body.get("tools"), body.get("tool_choice"), body.get("messages"), args)
    parts = [*(body.get("tools") or []), *body["messages"]]
    with gh.lock:
        tokens = gh.prompt_cache.openai(body, parts, gh.models[model].vendor, 5)
    usage = {
        "prompt_tokens": tokens.prompt,
        "completion_tokens": tokens.output,
        "total_tokens": tokens.prompt + tokens.output,
        "prompt_tokens_details": {"cached_tokens": tokens.read},
    }
    cost = {"copilot_usage": gh.charge(rec, model, tokens)}
    head = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": model}
    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": None if call else text}
        if call:
            message["tool_calls"] = [call]
        finish = "tool_calls" if call else "stop"
        return web.json_response(
            {
                "id": head["id"],
                "object": "chat.completion",
                "created": head["created"],
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": usage,
                **cost,
            }
        )
    events = _chunks(head, text, call)
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**_chunk(head, {}), "choices": [], "usage": usage})
    events[-1] = {**events[-1], **cost}  # the cost rides on the last chunk
    stream: list[tuple[str | None, Any]] = [(None, e) for e in events]
    return await sse(request, [*stream, (None, "[DONE]")], sw)


def _chunk(
    head: dict[str, Any], delta: dict[str, Any], finish: str | None = None
) -> dict[str, Any]:
    return {
        "id": head["id"],
        "object": "chat.completion.chunk",
        "created": head["created"],
        "model": head["model"],
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _chunks(head: dict[str, Any], text: str, call: dict[str, Any] | None) -> list[Any]:
    """The streamed answer: the text word by word, or the tool call's arguments in two halves."""
    events: list[Any] = [_chunk(head, {"role": "assistant", "content": ""})]
    if call:
        fn = call["function"]
        tool = {"index": 0, "id": call["id"], "type": "function"}
        events.append(
            _chunk(
                head, {"tool_calls": [{**tool, "function": {"name": fn["name"], "arguments": ""}}]}
            )
        )
        args = fn["arguments"]
        half = len(args) // 2
        for part in (args[:half], args[half:]):
            events.append(
                _chunk(head, {"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
            )
        events.append(_chunk(head, {}, "tool_calls"))
    else:
        for word in pieces(text):
            events.append(_chunk(head, {"content": word}))
        events.append(_chunk(head, {}, "stop"))
    return events


async def embeddings(gh: GitHubState, request: web.Request) -> web.Response:
    rec, fail, _ = await model_gate(gh, request, "/embeddings")
    if fail is not None:
        return fail
    body: dict[str, Any] = rec.body
    inputs = body.get("input")
    items = inputs if isinstance(inputs, list) else [inputs]
    data = [
        {"object": "embedding", "index": i, "embedding": vector(str(text))}
        for i, text in enumerate(items)
    ]
    tokens = sum(len(str(t).split()) for t in items)
    return web.json_response(
        {
            "object": "list",
            "data": data,
            "model": body.get("model"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


ROUTES = [
    ("POST", "/chat/completions", chat_completions),
    ("POST", "/embeddings", embeddings),
    ("GET", "/models", list_models),
]
