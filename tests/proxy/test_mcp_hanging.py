"""A failing or slow MCP server never blocks chat requests that do not use it.

The proxy declares an MCP server that accepts connections and never answers
(the worst case: a refused connection fails at once). The proxy starts as
usual, and chat requests, with or without tools of their own, are answered
while that server hangs. Only requests that use MCP wait, up to LiteLLM's
tool-listing timeout (30 s, LITELLM_MCP_TOOL_LISTING_TIMEOUT).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testkit.proxy_harness import LiteLLMProxy

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hanging_url() -> Iterator[str]:
    """An MCP endpoint that accepts every connection and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, name="mcp-hanging", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/mcp"
    stop.set()
    server.close()
    for conn in held:
        conn.close()
    thread.join(5)


@pytest.fixture(scope="module")
def proxy_spec(hanging_url: str) -> dict[str, Any]:
    return {"models": [{"name": "gpt-5-mini"}], "mcpServers": {"stuck": {"url": hanging_url}}}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]},
        {"stream": True},
    ],
    ids=["plain", "own-tools", "stream"],
)
def test_chat_is_answered_while_an_mcp_server_hangs(
    proxy: LiteLLMProxy, extra: dict[str, Any]
) -> None:
    body = {"model": "gpt-5-mini", "messages": [{"role": "user", "content": "Hello"}], **extra}
    # Far below the 30 s a request that used the stuck server would wait for it.
    answer = httpx.post(
        f"{proxy.url}/v1/chat/completions", headers=proxy.auth_headers, json=body, timeout=20
    )
    assert answer.status_code == 200, answer.text
    assert "gpt-5-mini" in answer.text and ("[DONE]" in answer.text) == bool(extra.get("stream"))
