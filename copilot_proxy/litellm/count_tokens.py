"""`POST /v1/messages/count_tokens` as close to Copilot's own count as we can make it.

LiteLLM 1.108 answers it with a local tiktoken cl100k count for `github_copilot/`
models (about 27% under the fake Copilot's count for Claude on Claude Code's requests)
and runs no hook there. The hook puts this route in front of LiteLLM's, behind the
same key check (internals.add_route_first):
- for a name served by a Claude model (Claude Code's names mapped as the hook maps
  them), it asks Copilot's own
  `{endpoints.api}/v1/messages/count_tokens` (peers forward there, docs/upstream.md;
  the headers and key are LiteLLM's for /v1/messages);
- otherwise, or when Copilot does not answer with a count, it answers the estimate the
  context-window check uses (context.py), and stops asking Copilot for a while.
The header `x-copilot-proxy-count-source` says which (`copilot` or `estimate`).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from copilot_proxy.core.claude_code import serving_model
from copilot_proxy.litellm import context, internals, routing, settings

PATH = "/v1/messages/count_tokens"
SOURCE_HEADER = "x-copilot-proxy-count-source"
COUNTED_FIELDS = ("messages", "system", "tools", "tool_choice", "thinking")
BACKOFF = 600.0  # seconds without asking Copilot after it did not count
TIMEOUT = 10.0

_quiet_until = 0.0


def copilot_model(asked: str) -> str | None:
    """The Copilot model that would serve `asked` first: a Claude Code name's model as the
    hook maps it (core/claude_code.py), else the chain's primary for unknown names."""
    view = internals.router_view()
    served = serving_model(asked, view.names, settings.small_model()) or asked
    chain = routing.chain(view, served)
    return chain[0] if chain else None


async def handle(request: Request) -> Response:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body.get("model") or not body.get("messages"):
        return JSONResponse(
            {"type": "error", "error": {"type": "invalid_request_error",
                                        "message": "model and messages are required"}},
            status_code=400,
        )  # fmt: skip
    model = copilot_model(str(body["model"])) or str(body["model"])
    counted = await _ask_copilot(model, body) if model.startswith("claude") else None
    if counted is not None:
        return JSONResponse({"input_tokens": counted}, headers={SOURCE_HEADER: "copilot"})
    router = internals.proxy_router()
    kwargs = {k: body[k] for k in ("system", "tools") if k in body}
    cl100k = await asyncio.to_thread(internals.count_prompt, router, body["messages"], kwargs)
    estimate = context.estimate(cl100k, model)
    return JSONResponse({"input_tokens": estimate}, headers={SOURCE_HEADER: "estimate"})


async def _ask_copilot(model: str, body: dict[str, Any]) -> int | None:
    global _quiet_until
    if time.monotonic() < _quiet_until:
        return None
    payload = {"model": model, **{k: body[k] for k in COUNTED_FIELDS if k in body}}
    try:
        headers, base = await asyncio.to_thread(internals.copilot_messages_endpoint, model)
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            answer = await http.post(f"{base}{PATH}", json=payload, headers=headers)
        tokens = answer.json().get("input_tokens") if answer.status_code == 200 else None
    except Exception:  # no answer, not JSON, or LiteLLM's key refresh failing: count locally
        tokens = None
    if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens > 0:
        return tokens
    _quiet_until = time.monotonic() + BACKOFF
    return None


def install() -> bool:
    return internals.add_route_first(PATH, handle)
