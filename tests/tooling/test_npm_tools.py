"""The npm packages of npm/package-lock.json, as `make npm` installs them, run.

The Claude Code CLI answers `--version` with the locked version; the two MCP
servers answer a real MCP client over stdio; `supergateway` serves the memory
server over streamable HTTP, as a CopilotProxy's `mcpServers` entry reaches it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from testkit.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
NPM = ROOT / "npm"
BIN = NPM / "node_modules" / ".bin"
PACKAGE = json.loads((NPM / "package.json").read_text())
# dependencies: what the MCP image bakes in; devDependencies: the test tools.
LOCKED = {**PACKAGE["dependencies"], **PACKAGE["devDependencies"]}

pytestmark = pytest.mark.skipif(
    not (NPM / "node_modules" / ".installed").exists(),
    reason="the npm packages are not installed: run `make npm` (make test does)",
)


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{path} missing: npm/package-lock.json no longer provides it"
    return str(path)


def test_claude_code_cli_runs_the_locked_version(tmp_path: Path) -> None:
    result = subprocess.run(
        [tool("claude"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},  # never the developer's ~/.claude
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{LOCKED['@anthropic-ai/claude-code']} (Claude Code)"


async def _tools_over_stdio(server: StdioServerParameters) -> set[str]:
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return {t.name for t in (await session.list_tools()).tools}


async def test_memory_server_answers_over_stdio(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "MEMORY_FILE_PATH": str(tmp_path / "memory.jsonl")}
    names = await _tools_over_stdio(
        StdioServerParameters(command=tool("mcp-server-memory"), env=env)
    )
    assert {"create_entities", "read_graph", "search_nodes"} <= names


async def test_filesystem_server_answers_over_stdio(tmp_path: Path) -> None:
    names = await _tools_over_stdio(
        StdioServerParameters(
            command=tool("mcp-server-filesystem"),
            args=[str(tmp_path)],
            env={"PATH": os.environ["PATH"]},
        )
    )
    assert {"read_text_file", "write_file", "list_directory"} <= names


@pytest.fixture
def memory_over_http(tmp_path: Path) -> Iterator[str]:
    """supergateway bridging the memory server to streamable HTTP; yields its /mcp URL."""
    port = free_port()
    log = (tmp_path / "supergateway.log").open("w")
    process = subprocess.Popen(
        [
            tool("supergateway"),
            "--stdio",
            tool("mcp-server-memory"),
            "--outputTransport",
            "streamableHttp",
            "--port",
            str(port),
            "--healthEndpoint",
            "/healthz",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "MEMORY_FILE_PATH": str(tmp_path / "memory.jsonl")},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "supergateway.log").read_text()
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "supergateway.log").read_text()
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


async def test_supergateway_serves_the_memory_server_over_streamable_http(
    memory_over_http: str,
) -> None:
    async with (
        httpx2.AsyncClient(timeout=30) as http,
        streamable_http_client(memory_over_http, http_client=http) as streams,
        ClientSession(streams[0], streams[1]) as session,
    ):
        initialized = await session.initialize()
        assert initialized.server_info.name == "memory-server"
        names = {t.name for t in (await session.list_tools()).tools}
        assert {"create_entities", "read_graph"} <= names
