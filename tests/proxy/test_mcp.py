"""MCP servers declared in a CopilotProxy reach the proxy: its /mcp lists and calls their tools.

A real MCP server (the `mcp` package's streamable HTTP server) runs on
loopback; the proxy is rendered with it under `spec.mcpServers`; a real MCP
client talks to the proxy's `/mcp` with the proxy's key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import uvicorn
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer

from testkit.ports import free_port
from testkit.proxy_harness import LiteLLMProxy


def _notes_server() -> MCPServer:
    server = MCPServer("notes")
    notes: list[str] = []

    @server.tool()
    def add_note(text: str) -> str:
        """Store a note."""
        notes.append(text)
        return f"stored: {text}"

    @server.tool()
    def list_notes() -> list[str]:
        """Every note stored so far."""
        return list(notes)

    return server


@pytest.fixture(scope="module")
def mcp_url() -> Iterator[str]:
    port = free_port()
    app = _notes_server().streamable_http_app(stateless_http=True, json_response=True)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="mcp-notes", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "MCP server did not start"
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def proxy_spec(mcp_url: str) -> dict[str, Any]:
    return {
        "models": [{"name": "gpt-5-mini"}],
        "mcpServers": {"notes": {"url": mcp_url, "transport": "http", "description": "Notes"}},
    }


async def _session_call(proxy: LiteLLMProxy, key: str, action: str) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(f"{proxy.url}/mcp/", http_client=http) as streams,
        ClientSession(streams[0], streams[1]) as session,
    ):
        await session.initialize()
        if action == "list":
            return await session.list_tools()
        return await session.call_tool("notes-add_note", {"text": "buy milk"})


async def test_proxy_mcp_lists_the_declared_servers_tools(proxy: LiteLLMProxy) -> None:
    listed = await _session_call(proxy, proxy.master_key, "list")
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == {"notes-add_note", "notes-list_notes"}
    assert tools["notes-add_note"].description == "Store a note."


async def test_proxy_mcp_calls_a_tool(proxy: LiteLLMProxy) -> None:
    result = await _session_call(proxy, proxy.master_key, "call")
    assert not result.is_error
    assert [c.text for c in result.content] == ["stored: buy milk"]
    assert "mcp=notes-add_note status=200" in proxy.request_log_line("mcp=notes-add_note")


async def test_proxy_mcp_needs_the_key(proxy: LiteLLMProxy) -> None:
    async with httpx2.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{proxy.url}/mcp/",
            headers={"Authorization": "Bearer sk-wrong", "Accept": "application/json"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
    assert answer.status_code == 401
