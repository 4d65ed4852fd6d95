"""`copilot-proxy run` with the original setup's MCP servers: the `memory` and `filesystem`
presets run as child processes (the locked npm packages behind the same bridge as in a
cluster), start with the proxy, follow an edited manifest and stop with it; a claim is a
folder given by --mcp-volume. The proxy's /mcp serves both, with its key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from copilot_proxy.auth.stores.directory import DirectoryStore, write_private
from testkit.fake_github import FakeGitHub
from testkit.ports import free_port
from tests.local.helpers import CLI, LocalRun, descendants, wait_gone, write_manifest
from tests.local.test_run import run_env
from tests.tooling.test_npm_tools import NPM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (NPM / "node_modules" / ".installed").exists(),
        reason="the npm packages are not installed: run `make npm` (make test does)",
    ),
]
KEY = "sk-" + "m" * 48


def servers(paths: list[str]) -> dict[str, Any]:
    return {
        "memory": {"preset": "memory"},
        "files": {
            "preset": "filesystem",
            "volume": {"persistentVolumeClaim": {"claimName": "team-docs"}},
            "paths": paths,
        },
    }


async def session(port: int, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    results: list[Any] = []
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as http,
        streamable_http_client(f"http://127.0.0.1:{port}/mcp/", http_client=http) as streams,
        ClientSession(streams[0], streams[1]) as mcp,
    ):
        await mcp.initialize()
        for name, arguments in calls:
            listing = name == "list"
            results.append(await (mcp.list_tools() if listing else mcp.call_tool(name, arguments)))
    return results


def test_mcp_servers_start_follow_the_manifest_and_stop_with_the_proxy(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "handbook").mkdir(parents=True)
    (docs / "handbook" / "deploys.md").write_text("Tuesdays.\n")
    (docs / "specs").mkdir()
    (docs / "specs" / "api.md").write_text("v2\n")
    manifest, state = tmp_path / "cpx.yaml", tmp_path / "state"
    write_manifest(manifest, ["gpt-5-mini"], mcpServers=servers(["handbook"]))
    write_private(state / "master-key", KEY + "\n")
    with FakeGitHub() as gh:
        store = DirectoryStore.single(state, "copilot")
        store.write_token(
            store.list_proxies()[0].ref, gh.default_token, "octocat", datetime.now(UTC)
        )
        port = free_port()
        command = [
            *(CLI, "run", "-f", str(manifest), "--state-dir", str(state)),
            *("--proxy-port", str(port), "--auth-port", str(free_port())),
            *("--mcp-volume", f"team-docs={docs}"),
        ]
        run = LocalRun(None, None, proxy_port=port, auth_port=0, env=run_env(gh), command=command)
        try:
            run.wait_for(r"MCP server files \(filesystem\) starting on http://127\.0\.0\.1:\d+/mcp")
            run.wait_for(r"MCP server memory \(memory\) starting on http://127\.0\.0\.1:\d+/mcp")
            at = run.wait_for(r"Proxy ready: ", timeout=120)
            listed, read = asyncio.run(
                session(
                    port,
                    [
                        ("list", {}),
                        ("files-read_text_file", {"path": str(docs / "handbook" / "deploys.md")}),
                    ],
                )
            )
            names = {t.name for t in listed.tools}
            assert {"memory-create_entities", "files-read_text_file"} <= names
            assert read.content[0].text == "Tuesdays.\n"

            # An edited declaration restarts its server; the proxy's config is unchanged.
            write_manifest(manifest, ["gpt-5-mini"], mcpServers=servers(["handbook", "specs"]))
            run.wait_for(r"MCP server files: declaration changed, restarting", after=at)
            run.wait_for(r"MCP server files ready: http://127\.0\.0\.1:\d+/mcp", after=at)
            (api,) = asyncio.run(
                session(port, [("files-read_text_file", {"path": str(docs / "specs" / "api.md")})])
            )
            assert not api.is_error and api.content[0].text == "v2\n"

            running = descendants(run.proc.pid)
            assert running
            assert run.interrupt() == 0
            assert wait_gone(running) == []  # the bridges and their servers too
        finally:
            run.kill()
