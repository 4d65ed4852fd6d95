"""What every request must pass before any route sees it: the outermost ASGI layer.

- A Host the service answers to (security.host_allowed): a page on another
  site that rebinds its DNS name to this address reads nothing, not even the
  unauthenticated `GET /api/proxies` and `/metrics`.
- A body of at most `max_body` bytes: announced larger (Content-Length), it
  answers 413 before a byte is read; streamed without a length, as soon as it
  passes the limit. Never more than the limit is held, so an unauthenticated
  100 MB body costs no memory (the pod's limit is 256Mi).

The body is read here whole (it is small) and handed on to the app as one message.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from copilot_proxy.auth.config import ALLOWED_HOSTS_ENV
from copilot_proxy.auth.errors import error_response
from copilot_proxy.auth.security import SECURITY_HEADERS, host_allowed


class Admission:
    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str], max_body: int) -> None:
        self.app = app
        self.allowed_hosts = tuple(allowed_hosts)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if not host_allowed(host, self.allowed_hosts):
            await _refuse(scope, receive, send, 400, "unknown_host", _unknown_host(host))
            return
        if _declared_length(headers) > self.max_body:
            await self._too_large(scope, receive, send)
            return
        body = await _read_at_most(receive, self.max_body)
        if body is None:
            await self._too_large(scope, receive, send)
        elif body is not _GONE:
            await self.app(scope, _replay(body, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"The request body is over {self.max_body} bytes; nothing was read."
        await _refuse(scope, receive, send, 413, "body_too_large", message)


_GONE = b"<client gone>"  # sentinel: the client left before its body was complete


def _declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:  # the HTTP server refuses these before us
        return 0


async def _read_at_most(receive: Receive, limit: int) -> bytes | None:
    """The whole body; None once it passes `limit` bytes (what arrived after is not read)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return _GONE
        part = message.get("body", b"")
        size += len(part)
        if size > limit:
            return None
        parts.append(part)
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message, then the client's own messages (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _unknown_host(host: str) -> str:
    shown = host[:100] or "(none)"
    return (
        f"This service does not answer to the host {shown!r}. If that is how you reach it, "
        f"add the name to {ALLOWED_HOSTS_ENV} (Helm value authService.allowedHosts)."
    )


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str
) -> None:
    response = error_response(status, code, message, {**SECURITY_HEADERS, "connection": "close"})
    await response(scope, receive, send)
