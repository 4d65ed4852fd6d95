"""GitHub's OAuth device flow (RFC 8628): ask for a code, then poll for the token.

`parse_*` are pure: an HTTP status and body in, a typed answer out. The two
async functions only add the HTTP call. github.com answers OAuth errors with
200 and an `error` field, JSON when asked for it, form-encoded otherwise
(docs/upstream.md, "GitHub: the OAuth device flow").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from copilot_proxy.github.endpoints import GitHubEndpoints

SCOPE = "read:user"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
# RFC 8628: a client that is not told an interval waits 5 s; slow_down adds 5 s.
DEFAULT_INTERVAL = 5
SLOW_DOWN_STEP = 5
HEADERS = {"accept": "application/json", "user-agent": "copilot-proxy-auth/0.1"}


class GitHubUnreachable(Exception):
    """No answer from GitHub (connection refused, DNS, timeout)."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} did not answer")
        self.host = host


class DeviceFlowError(Exception):
    """GitHub answered, but not with a device code; the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DeviceCode:
    # Whoever holds the device code can collect the token: it stays on the server.
    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class Pending:
    pass


@dataclass(frozen=True)
class SlowDown:
    interval: int


@dataclass(frozen=True)
class Expired:
    pass


@dataclass(frozen=True)
class Denied:
    pass


@dataclass(frozen=True)
class BadClient:
    pass


@dataclass(frozen=True)
class Granted:
    token: str = field(repr=False)


@dataclass(frozen=True)
class Unexpected:
    """An answer the flow cannot continue from; `detail` never carries a token."""

    detail: str


PollResult = Pending | SlowDown | Expired | Denied | BadClient | Granted | Unexpected


def decode_body(content: bytes) -> dict[str, Any]:
    """JSON, or the form encoding github.com falls back to; {} for anything else."""
    text = content.decode("utf-8", errors="replace").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return dict(parse_qsl(text))
    return data if isinstance(data, dict) else {}


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def parse_device_code(status: int, body: Mapping[str, Any]) -> DeviceCode:
    error = str(body.get("error") or "")
    if error == "incorrect_client_credentials":
        raise DeviceFlowError(
            "bad_client",
            "GitHub does not know the OAuth client id; check GITHUB_OAUTH_CLIENT_ID.",
        )
    if status == 404:
        raise DeviceFlowError(
            "device_flow_disabled",
            "GitHub answered 404: the device flow is not enabled for this OAuth client.",
        )
    if status >= 400 or error or not body.get("device_code") or not body.get("user_code"):
        what = error or f"HTTP {status}"
        raise DeviceFlowError("unexpected", f"GitHub did not hand out a device code ({what}).")
    uri = str(body.get("verification_uri") or "")
    # The page links to it: nothing but a web address (no javascript: or data: URLs).
    if urlsplit(uri).scheme not in ("https", "http"):
        uri = "https://github.com/login/device"
    return DeviceCode(
        device_code=str(body["device_code"]),
        user_code=str(body["user_code"]),
        verification_uri=uri,
        expires_in=_int(body.get("expires_in"), 900),
        interval=_int(body.get("interval"), DEFAULT_INTERVAL),
    )


def parse_poll(status: int, body: Mapping[str, Any], interval: int) -> PollResult:
    """One answer of the token endpoint; `interval` is the one in force (for slow_down)."""
    token = body.get("access_token")
    if isinstance(token, str) and token:
        return Granted(token)
    error = str(body.get("error") or "")
    if error == "authorization_pending":
        return Pending()
    if error == "slow_down":
        # GitHub names the new interval; without it, add the RFC's 5 s.
        return SlowDown(_int(body.get("interval"), interval + SLOW_DOWN_STEP))
    if error == "expired_token":
        return Expired()
    if error == "access_denied":
        return Denied()
    if error == "incorrect_client_credentials":
        return BadClient()
    if status >= 500:
        return Unexpected(f"GitHub answered HTTP {status}")
    return Unexpected(error or f"GitHub answered HTTP {status} without a token")


async def _post(
    http: httpx.AsyncClient, ep: GitHubEndpoints, url: str, data: dict[str, str]
) -> httpx.Response:
    try:
        return await http.post(url, data={"client_id": ep.client_id, **data}, headers=HEADERS)
    except httpx.TransportError:
        raise GitHubUnreachable(ep.login_host) from None


async def request_device_code(http: httpx.AsyncClient, ep: GitHubEndpoints) -> DeviceCode:
    response = await _post(http, ep, ep.device_code_url, {"scope": SCOPE})
    return parse_device_code(response.status_code, decode_body(response.content))


async def poll_token(
    http: httpx.AsyncClient, ep: GitHubEndpoints, device_code: str, interval: int
) -> PollResult:
    data = {"device_code": device_code, "grant_type": GRANT_TYPE}
    response = await _post(http, ep, ep.access_token_url, data)
    return parse_poll(response.status_code, decode_body(response.content), interval)
