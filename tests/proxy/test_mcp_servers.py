"""The original setup's MCP servers, for real, through the proxy's /mcp.

The `memory` and `filesystem` presets run as their pods run them: the locked
npm packages (npm/package-lock.json) behind `supergateway` with the pod's own
arguments (core/mcp_workloads.py), started by the local mode's launcher
(local/mcp_processes.py) on loopback ports; the real LiteLLM proxy is rendered
from the spec and reaches them over streamable HTTP. A real MCP client (the
`mcp` package) talks to the proxy's /mcp with the proxy's key, as Claude Code
or an agent would.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from copilot_proxy.core.spec import ProxySpec, parse_spec
from copilot_proxy.local.mcp_processes import McpProcesses
from testkit import claude_code
from testkit.fake_github import FakeGitHub
from testkit.proxy_harness import LiteLLMProxy
from tests.tooling.test_npm_tools import NPM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (NPM / "node_modules" / ".installed").exists(),
        reason="the npm packages are not installed: run `make npm` (make test does)",
    ),
]

SERVERS = {
    "memory": {"preset": "memory", "description": "A knowledge graph"},
    "files": {
        "preset": "filesystem",
        "volume": {"persistentVolumeClaim": {"claimName": "team-docs"}},
        "paths": ["shared"],
    },
}


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The claim team-docs: a shared folder the server may read, a private one it may not."""
    root = tmp_path_factory.mktemp("team-docs")
    (root / "shared").mkdir()
    (root / "shared" / "handbook.md").write_text("Deploys happen on Tuesdays.\n")
    (root / "private").mkdir()
    (root / "private" / "salaries.txt").write_text("not for the model\n")
    return root


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, docs: Path) -> Iterator[McpProcesses]:
    running = McpProcesses(tmp_path_factory.mktemp("mcp"), volumes={"team-docs": docs})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def proxy_spec(servers: McpProcesses) -> ProxySpec:
    spec = servers.localize(
        parse_spec("test", "default", {"models": [{"name": "gpt-5-mini"}], "mcpServers": SERVERS})
    )
    said = servers.sync()
    assert all(" starting on http://127.0.0.1:" in line for line in said), said
    assert servers.wait_live(), said
    return spec


ADA = {"name": "Ada", "entityType": "person", "observations": ["wrote the first program"]}


@pytest.fixture(scope="module")
def session(proxy: LiteLLMProxy, docs: Path) -> dict[str, Any]:
    """One MCP session with the proxy, as an agent would hold it: each step's result by name.

    One session for all (each opens upstream sessions too): the tests read its results.
    """
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("listed", "list", {}),
        ("created", "memory-create_entities", {"entities": [ADA]}),
        ("opened", "memory-open_nodes", {"names": ["Ada"]}),
        ("allowed", "files-read_text_file", {"path": str(docs / "shared" / "handbook.md")}),
        ("outside", "files-read_text_file", {"path": str(docs / "private" / "salaries.txt")}),
        ("write", "files-write_file", {"path": str(docs / "shared" / "x.md"), "content": "x"}),
    ]

    async def run() -> dict[str, Any]:
        results: dict[str, Any] = {}
        async with (
            httpx2.AsyncClient(headers=proxy.auth_headers, timeout=60) as http,
            streamable_http_client(f"{proxy.url}/mcp/", http_client=http) as streams,
            ClientSession(streams[0], streams[1]) as mcp,
        ):
            await mcp.initialize()
            for key, tool, arguments in steps:
                if tool == "list":
                    results[key] = await mcp.list_tools()
                else:
                    results[key] = await mcp.call_tool(tool, arguments)
        return results

    return asyncio.run(run())


def text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "text", None))


def test_the_proxy_lists_both_servers_tools_and_no_write_tool_of_a_read_only_one(
    session: dict[str, Any],
) -> None:
    names = {t.name for t in session["listed"].tools}
    assert {"memory-create_entities", "memory-open_nodes", "memory-read_graph"} <= names
    assert {"files-read_text_file", "files-list_directory"} <= names
    assert not {"files-write_file", "files-edit_file", "files-move_file"} & names


def test_memory_keeps_an_entity_and_reads_it_back(
    session: dict[str, Any], servers: McpProcesses
) -> None:
    created, opened = session["created"], session["opened"]
    assert not created.is_error, text(created)
    assert not opened.is_error, text(opened)
    assert json.loads(text(opened))["entities"] == [ADA]
    # The graph is in the server's volume, where the pod keeps /data/memory.jsonl.
    graph = servers.root / "scratch" / "memory" / "memory.jsonl"
    assert "wrote the first program" in graph.read_text()


def test_filesystem_reads_the_listed_path_and_refuses_the_rest(
    session: dict[str, Any], docs: Path
) -> None:
    allowed, outside, write = session["allowed"], session["outside"], session["write"]
    assert not allowed.is_error and text(allowed) == "Deploys happen on Tuesdays.\n"
    assert outside.is_error and "not for the model" not in text(outside)
    assert "outside allowed directories" in text(outside)
    # Read-only: the proxy does not even call the server's write tool.
    assert write.is_error and not (docs / "shared" / "x.md").exists()


async def test_mcp_needs_the_proxys_key(proxy: LiteLLMProxy) -> None:
    async with httpx2.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{proxy.url}/mcp/",
            headers={"Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
    assert answer.status_code == 401


def test_without_the_semantic_filter_every_mcp_tool_is_offered(
    proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    body = {
        "model": "gpt-5-mini",
        "messages": [{"role": "user", "content": "Search the knowledge graph for Ada"}],
        "tools": [{"type": "mcp", "server_url": "litellm_proxy", "require_approval": "never"}],
    }
    answer = httpx.post(
        f"{proxy.url}/v1/chat/completions", headers=proxy.auth_headers, json=body, timeout=120
    )
    assert answer.status_code == 200, answer.text
    assert "x-litellm-semantic-filter" not in answer.headers  # off by default
    (sent,) = upstream.copilot_requests("/chat/completions")
    # 9 memory tools and the 10 read tools of the read-only filesystem server.
    assert len(sent.body["tools"]) == 19


def test_claude_code_lists_the_servers_tools_through_the_proxy(
    proxy: LiteLLMProxy, tmp_path: Path
) -> None:
    """The real CLI: `claude mcp add --transport http` to the proxy's /mcp with its key, then
    `claude -p "/context"` (no model turn) lists the tools it got.

    MCP_CONNECTION_NONBLOCKING=false: without it `-p` (2.1.332) answers before an HTTP
    MCP server has connected ("1 connecting"), and /context shows no MCP tools.
    CLAUDE_CODE_MCP_STARTUP_WAIT_MS: it waits 5 s for the server's tools by default
    ("1/1 not ready after 5000ms"), less than the proxy's first listing takes on a
    busy machine.
    """
    cli = claude_code.binary()
    if cli is None:
        pytest.skip("the Claude Code CLI is not installed: run `make npm`")
    home = claude_code.fresh_home(tmp_path)
    env = claude_code.environment(
        proxy.url,
        proxy.master_key,
        home,
        {"MCP_CONNECTION_NONBLOCKING": "false", "CLAUDE_CODE_MCP_STARTUP_WAIT_MS": "60000"},
    )

    def claude(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(cli), *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )

    try:
        header = f"Authorization: Bearer {proxy.master_key}"
        url = f"{proxy.url}/mcp/"
        added = claude("mcp", "add", "--transport", "http", "copilot", url, "--header", header)
        assert added.returncode == 0, added.stderr
        assert proxy.master_key not in added.stdout  # shown as [REDACTED]
        context = claude("-p", "/context")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert context.returncode == 0, context.stderr
    # "| mcp__copilot__memory-create_entities | copilot | 75 |" in its "MCP Tools" table
    tools = set(re.findall(r"^\| (mcp__copilot__\S+) \| copilot \|", context.stdout, re.M))
    assert {"mcp__copilot__memory-create_entities", "mcp__copilot__memory-read_graph"} <= tools, (
        context.stdout + context.stderr
    )
    assert len([t for t in tools if t.startswith("mcp__copilot__memory-")]) == 9
    assert "mcp__copilot__files-read_text_file" in tools
    assert "mcp__copilot__files-write_file" not in tools  # read-only
