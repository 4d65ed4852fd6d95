"""GitHub's OAuth device flow: the device code, the token poll and the verification page.

github.com answers these endpoints with 200 even for errors, form-encoded
unless the client sends `Accept: application/json`. How a code answers is set
by its script (`GitHubState.device_script`, `script()`), else by
`approve()`/`deny()` and its age.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from testkit.fake_github.state import Device, GitHubState

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

_DESCRIPTIONS = {
    "authorization_pending": "The authorization request is still pending.",
    "slow_down": "Too many requests have been made in the same timeframe.",
    "expired_token": "The `device_code` has expired.",
    "access_denied": "The authorization request was denied.",
    "incorrect_client_credentials": "The client_id is not valid.",
    "incorrect_device_code": "The device_code provided is not valid.",
    "unsupported_grant_type": "The grant type is not supported.",
}
# Script steps that end a poll with an error, and the error GitHub answers.
_STEP_ERRORS = {
    "pending": "authorization_pending",
    "expired": "expired_token",
    "denied": "access_denied",
    "bad_client": "incorrect_client_credentials",
    "unsupported_grant": "unsupported_grant_type",
}


def _wants_json(request: web.Request) -> bool:
    return "json" in request.headers.get("accept", "")


def _oauth_answer(request: web.Request, data: Mapping[str, Any]) -> web.Response:
    if _wants_json(request):
        return web.json_response(dict(data))
    return web.Response(
        text=urlencode({k: str(v) for k, v in data.items()}),
        content_type="application/x-www-form-urlencoded",
    )


def _oauth_error(request: web.Request, error: str, **extra: Any) -> web.Response:
    return _oauth_answer(
        request,
        {
            "error": error,
            "error_description": _DESCRIPTIONS.get(error, error),
            "error_uri": "https://docs.github.com/developers/apps/authorizing-oauth-apps",
            **extra,
        },
    )


async def device_code(gh: GitHubState, request: web.Request) -> web.Response:
    rec = await gh.record(request)
    body = rec.body if isinstance(rec.body, dict) else {}
    client_id = str(body.get("client_id") or request.query.get("client_id") or "")
    with gh.lock:
        if client_id != gh.client_id:
            return _oauth_error(request, "incorrect_client_credentials")
        while True:
            letters = "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(4))
            user_code = f"{letters}-{secrets.randbelow(10000):04d}"
            if all(d.user_code != user_code for d in gh.devices.values()):
                break
        device = Device(
            device_code=secrets.token_hex(20),
            user_code=user_code,
            client_id=client_id,
            scope=str(body.get("scope") or ""),
            created=time.time(),
            expires_in=gh.device_expires_in,
            interval=gh.device_interval,
            script=list(gh.device_script),
        )
        gh.devices[device.device_code] = device
    return _oauth_answer(
        request,
        {
            "device_code": device.device_code,
            "user_code": device.user_code,
            "verification_uri": f"{gh.url}/login/device",
            "expires_in": device.expires_in,
            "interval": device.interval,
        },
    )


async def access_token(gh: GitHubState, request: web.Request) -> web.Response:
    rec = await gh.record(request)
    body = rec.body if isinstance(rec.body, dict) else {}
    body = {**dict(request.query), **body}
    if body.get("client_id") != gh.client_id:
        return _oauth_error(request, "incorrect_client_credentials")
    if body.get("grant_type") != DEVICE_GRANT:
        return _oauth_error(request, "unsupported_grant_type")
    with gh.lock:
        d = gh.devices.get(str(body.get("device_code")))
        if d is None:
            return _oauth_error(request, "incorrect_device_code")
        step = _next_step(gh, d)
        if step == "slow_down":
            d.interval += 5
            return _oauth_error(request, "slow_down", interval=d.interval)
        if step == "ok":
            if not d.token:
                d.token = gh.add_account(login=d.login)
                d.state = "approved"
            return _oauth_answer(
                request, {"access_token": d.token, "token_type": "bearer", "scope": d.scope}
            )
    return _oauth_error(request, _STEP_ERRORS.get(step, step))


def _next_step(gh: GitHubState, d: Device) -> str:
    """What this poll of `d` answers: its script's next step, else its state (lock held)."""
    now = time.time()
    too_fast = gh.enforce_interval and d.polls and now - d.last_poll < d.interval
    d.polls += 1
    d.last_poll = now
    step = d.script.pop(0) if d.script else None
    if step == "ok" and not d.script:
        d.script = ["ok"]  # a finished login keeps answering with its token
    if step is None and too_fast:
        step = "slow_down"
    if step is None:
        if now > d.created + d.expires_in:
            step = "expired"
        else:
            step = {"approved": "ok", "denied": "denied"}.get(d.state, "pending")
    return step


async def device_page(gh: GitHubState, request: web.Request) -> web.Response:
    html = (
        "<!doctype html><title>Device Activation</title><h1>Device Activation</h1>"
        '<form method="post" action="/login/device">'
        '<label>Code <input name="user_code" autocomplete="off"></label>'
        '<button name="action" value="authorize">Authorize</button>'
        '<button name="action" value="cancel">Cancel</button></form>'
    )
    return web.Response(text=html, content_type="text/html")


async def device_page_submit(gh: GitHubState, request: web.Request) -> web.Response:
    form = await request.post()
    code = str(form.get("user_code", "")).strip().upper()
    try:
        if form.get("action") == "cancel":
            gh.deny(code)
            text = "Authorization cancelled."
        else:
            gh.approve(code)
            text = "Congratulations, you're all set! Your device is now connected."
    except KeyError:
        return web.Response(text="Invalid code.", status=404, content_type="text/html")
    return web.Response(text=f"<!doctype html><p>{text}</p>", content_type="text/html")


ROUTES = [
    ("POST", "/login/device/code", device_code),
    ("POST", "/login/oauth/access_token", access_token),
    ("GET", "/login/device", device_page),
    ("POST", "/login/device", device_page_submit),
]
