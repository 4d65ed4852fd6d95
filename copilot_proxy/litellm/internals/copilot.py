"""LiteLLM's github_copilot provider and its HTTP transport.

- drop_copilot_key: removes the Authenticator's `api_key_file` (a key Copilot refused
  would be reused until its `expires_at`);
- copilot_headers: `get_copilot_default_headers` (a request's `extra_headers` replace
  them on the chat path: ours must carry them all, with X-Initiator);
- copilot_messages_endpoint: `GithubCopilotAnthropicMessagesConfig` (headers and base
  of Copilot's /v1/messages, for count_tokens);
- tee_copilot_usage: wraps `handle_async_request` of LiteLLMAiohttpTransport and
  httpx.AsyncHTTPTransport (LiteLLM drops `copilot_usage` on streams and bridges).
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from copilot_proxy.litellm import usage

INITIATOR_HEADER = "X-Initiator"  # LiteLLM's own spelling (responses/transformation.py)
REQUEST_ID_HEADER = "x-request-id"


def drop_copilot_key() -> None:
    """Forget LiteLLM's cached Copilot key so the next call fetches a new one.

    LiteLLM refreshes the key (the Authenticator's `api_key_file`) only when the
    `expires_at` it stored has passed; a key Copilot stopped accepting earlier
    would fail every request until then.
    """
    from litellm.llms.github_copilot.authenticator import Authenticator

    with contextlib.suppress(OSError):
        os.remove(Authenticator().api_key_file)


def copilot_headers(initiator: str, request_id: str) -> dict[str, str]:
    """The headers of one upstream attempt: LiteLLM's own Copilot headers, this attempt's
    request id and `X-Initiator`.

    Why the whole set: on the chat path a request's `extra_headers` replace the Copilot
    headers LiteLLM merged (llms/openai/openai.py), and Copilot answers 400 without
    `editor-version`. Authorization stays out: each provider adds the Copilot key itself.
    """
    from litellm.llms.github_copilot.common_utils import get_copilot_default_headers

    own = get_copilot_default_headers("")
    kept = {k: v for k, v in own.items() if k.lower() != "authorization"}
    return {**kept, REQUEST_ID_HEADER: request_id, INITIATOR_HEADER: initiator}


def copilot_messages_endpoint(model: str) -> tuple[dict[str, str], str]:
    """Headers and API base LiteLLM uses for Copilot's /v1/messages (the Copilot key is in the
    headers; it may be refreshed here: blocking)."""
    from litellm.llms.github_copilot.messages.transformation import (
        GithubCopilotAnthropicMessagesConfig,
    )

    headers, base = GithubCopilotAnthropicMessagesConfig().validate_anthropic_messages_environment(
        headers={}, model=model, messages=[], optional_params={}, litellm_params={}
    )
    return {str(k): str(v) for k, v in headers.items()}, str(base)


def tee_copilot_usage(charged: Callable[[str, float], None]) -> None:
    """Read `copilot_usage.total_nano_aiu` off every upstream answer as its bytes pass.

    LiteLLM drops the field on chat streams and bridged routes. Both of its HTTP
    clients (its own and the OpenAI SDK's) send through LiteLLMAiohttpTransport
    (httpx.AsyncHTTPTransport when aiohttp is off): their `handle_async_request` is
    wrapped once, and an answer to a request carrying an x-request-id is scanned,
    unchanged, by `charged(request_id, nano_aiu)`.
    """
    from litellm.llms.custom_httpx.aiohttp_transport import LiteLLMAiohttpTransport

    for cls in (LiteLLMAiohttpTransport, httpx.AsyncHTTPTransport):
        if getattr(cls.handle_async_request, "_copilot_usage_tee", False):
            continue
        cls.handle_async_request = _teed(cls.handle_async_request, charged)  # type: ignore[method-assign]


def _teed(send: Any, charged: Callable[[str, float], None]) -> Any:
    async def handle_async_request(self: Any, request: Any) -> Any:
        response = await send(self, request)
        request_id = request.headers.get(REQUEST_ID_HEADER)
        if request_id:
            encoding = response.headers.get("content-encoding", "")
            response.stream = _UsageScan(response.stream, request_id, encoding, charged)
        return response

    handle_async_request._copilot_usage_tee = True  # type: ignore[attr-defined]
    return handle_async_request


class _UsageScan(httpx.AsyncByteStream):
    """An httpx async byte stream passing its bytes on unchanged, scanning a decoded copy."""

    def __init__(
        self, inner: Any, request_id: str, encoding: str, charged: Callable[[str, float], None]
    ) -> None:
        self._inner = inner
        self._request_id = request_id
        self._charged = charged
        # gzip or deflate answers are decoded for the scan only (the transport does not)
        packed = encoding.strip().lower() in ("gzip", "deflate")
        self._decoder = zlib.decompressobj(47) if packed else None
        self._readable = packed or not encoding.strip() or encoding.strip() == "identity"
        self._tail = b""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            if self._readable:
                self._scan(chunk)
            yield chunk

    def _scan(self, chunk: bytes) -> None:
        try:
            plain = self._decoder.decompress(chunk) if self._decoder else chunk
        except zlib.error:
            self._readable = False
            return
        data = self._tail + plain
        for nano in usage.scan(data, after=len(self._tail)):
            self._charged(self._request_id, nano)
        self._tail = data[-usage.TAIL :]

    async def aclose(self) -> None:
        await self._inner.aclose()
