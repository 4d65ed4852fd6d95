"""What every Copilot API call goes through: the Copilot key, the editor header, the model's
switches (failures, delays, dropped streams), and how Copilot spells its errors and streams.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from testkit.fake_github.state import GitHubState, Recorded, Switch
from testkit.fake_github.tokens import prompt_tokens

# Copilot error codes by HTTP status, as Copilot spells them.
ERROR_CODES = {
    400: "model_not_supported",
    401: "unauthorized",
    402: "quota_exceeded",
    403: "forbidden",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}
ERROR_MESSAGES = {
    "model_not_supported": "The requested model is not supported.",
    "quota_exceeded": "You have no quota left for this model. It resets on the first of the month.",
    "rate_limited": "Sorry, you have been rate-limited. Please wait a moment before trying again.",
    # The session (5-hour) and weekly limits put the wait in the text, not in a header:
    # microsoft/vscode#325598, github/copilot-cli#2769.
    "user_global_rate_limited": (
        "Sorry, you've exceeded your rate limits. Please retry after {seconds} seconds."
    ),
    "user_weekly_rate_limited": (
        "Sorry, you've hit a rate limit that restricts the number of Copilot model requests you"
        " can make within a specific time period. Please try again in {hours} hours."
    ),
    "internal_error": "Internal server error.",
    "service_unavailable": "Service temporarily unavailable.",
    "unauthorized": "unauthorized: token expired",
    "forbidden": "Forbidden.",
    "unsupported_api_for_model": "This model does not support this API.",
    "model_max_prompt_tokens_exceeded": "prompt token count exceeds the limit",
}


def copilot_error(
    status: int, code: str, message: str | None = None, retry_after: int | None = None
) -> web.Response:
    """Copilot's error body. A plain 429 says when to retry in `Retry-After`; the session and
    weekly limits say it in the message; a 402 says nothing (anomalyco/opencode#48330)."""
    wait = retry_after if retry_after is not None else 60
    text = message or ERROR_MESSAGES.get(code, code)
    text = text.format(seconds=wait, hours=-(-wait // 3600))
    headers = {"retry-after": str(wait)} if status == 429 and code == "rate_limited" else None
    body = {
        "error": {
            "message": text,
            "code": code,
            "param": "model" if code == "model_not_supported" else None,
            "type": "invalid_request_error" if status == 400 else code,
        }
    }
    return web.json_response(body, status=status, headers=headers)


def copilot_auth(gh: GitHubState, request: web.Request) -> web.Response | None:
    """None when the Bearer Copilot key is valid, else the 401 Copilot answers."""
    auth = request.headers.get("authorization", "")
    scheme, _, key = auth.partition(" ")
    with gh.lock:
        entry = gh.keys.get(key.strip()) if scheme.lower() == "bearer" else None
    if entry is None:
        return web.json_response(
            {
                "error": {
                    "message": "unauthorized: missing or invalid token",
                    "code": "unauthorized",
                }
            },
            status=401,
        )
    if entry[0] <= time.time():
        return web.json_response(
            {"error": {"message": "unauthorized: token expired", "code": "token_expired"}},
            status=401,
        )
    if gh.require_editor_version and not request.headers.get("editor-version"):
        # What api.githubcopilot.com answers a client that does not say which IDE it is.
        return web.Response(
            status=400, text="bad request: missing Editor-Version header for IDE auth"
        )
    return None


async def model_gate(
    gh: GitHubState, request: web.Request, path: str, check_size: bool = True
) -> tuple[Recorded, web.Response | None, Switch]:
    """Record, auth, model checks and per-model switches shared by every Copilot API call.

    `check_size`: refuse a prompt over the model's `max_prompt_tokens`, as Copilot does.

    The request as recorded, Copilot's error answer (None to go on), the model's switch.
    """
    rec = await gh.record(request)
    denied = copilot_auth(gh, request)
    if denied is not None:
        return rec, denied, Switch()
    model = rec.model or ""
    with gh.lock:
        info = gh.models.get(model)
        sw = gh.switches.get(model)
        snapshot = Switch(delay=sw.delay, drop_after=sw.drop_after, gap=sw.gap) if sw else Switch()
        failing: tuple[int, str, int | None] | None = None
        if sw is not None and sw.status is not None and (sw.times is None or sw.times > 0):
            if sw.times is not None:
                sw.times -= 1
            failing = (sw.status, sw.code or ERROR_CODES.get(sw.status, "error"), sw.retry_after)
    if snapshot.delay:
        await asyncio.sleep(snapshot.delay)
    if failing is not None:
        status, code, wait = failing
        return rec, copilot_error(status, code, retry_after=wait), snapshot
    if info is None or not info.enabled:  # unknown, or not enabled in the account's settings
        return rec, copilot_error(400, "model_not_supported"), snapshot
    if path not in info.endpoints:
        return rec, copilot_error(400, "unsupported_api_for_model"), snapshot
    if check_size and path != "/embeddings":
        tokens = prompt_tokens(info.vendor, rec.body)
        if tokens > info.max_prompt_tokens:  # ericc-ch/copilot-api#210 quotes this message
            message = (
                f"prompt token count of {tokens} exceeds the limit of {info.max_prompt_tokens}"
            )
            return rec, copilot_error(400, "model_max_prompt_tokens_exceeded", message), snapshot
    return rec, None, snapshot


async def sse(
    request: web.Request,
    events: list[tuple[str | None, Any]],
    sw: Switch,
) -> web.StreamResponse:
    """Stream `events` (name, data) as server-sent events; drop the connection as `sw` says."""
    resp = web.StreamResponse(
        headers={"content-type": "text/event-stream", "cache-control": "no-cache"}
    )
    await resp.prepare(request)
    for n, (name, data) in enumerate(events):
        if n and sw.gap:
            await asyncio.sleep(sw.gap)
        if sw.drop_after is not None and n >= sw.drop_after:
            # Cut the TCP connection mid-stream, as a dying upstream does.
            if request.transport is not None:
                request.transport.abort()
            return resp
        payload = data if isinstance(data, str) else json.dumps(data)
        line = (f"event: {name}\n" if name else "") + f"data: {payload}\n\n"
        await resp.write(line.encode())
    await resp.write_eof()
    return resp
