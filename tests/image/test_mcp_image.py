"""The MCP image's install, run for real, then the memory pod's own container command from it.

The `mcp` stage's COPY lines into a folder, its RUN line there (`npm ci
--omit=dev ...` from the lock: what the image bakes in), then the command,
arguments and environment of the memory preset's Deployment
(core/mcp_workloads.py) with that folder's `.bin` first on PATH, a free port
and a local /data. A real MCP client lists the server's tools. So the image
holds what the operator's pods run, and nothing of the test tools."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from copilot_proxy.core import mcp_workloads
from copilot_proxy.core.spec import parse_spec
from testkit.ports import free_port

from .dockerfile import apply_copies, context_files, parse

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def memory_container() -> dict[str, Any]:
    raw = {"models": [{"name": "gpt-5-mini"}], "mcpServers": {"memory": {"preset": "memory"}}}
    spec = parse_spec("p", "ns", raw)
    deployment = mcp_workloads.deployment(
        spec, spec.mcp_servers[0], image="x", secret_hash="", owner=None
    )
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def test_the_mcp_image_runs_the_memory_pods_command(tmp_path: Path) -> None:
    (mcp,) = [s for s in parse((ROOT / "Dockerfile").read_text()) if s.name == "mcp"]
    files = context_files(ROOT, (ROOT / ".dockerignore").read_text())
    fs = tmp_path / "fs"
    apply_copies(mcp, ROOT, files, fs)
    (install,) = mcp.all("RUN")
    # The RUN line's folder: the stage's WORKDIR before it (a later one is for runtime).
    run_at = next(i for i, (ins, _) in enumerate(mcp.instructions) if ins == "RUN")
    (before, *_) = [a for ins, a in reversed(mcp.instructions[:run_at]) if ins == "WORKDIR"]
    workdir = fs / before.lstrip("/")
    done = subprocess.run(  # noqa: S602 - the Dockerfile's RUN line, run by a shell as Docker does
        install, shell=True, cwd=workdir, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    bin_dir = workdir / "node_modules" / ".bin"
    assert not (bin_dir / "claude").exists()  # the test tools stay out of the image

    container = memory_container()
    port, data = free_port(), tmp_path / "data"
    data.mkdir()
    args = list(container["args"])
    args[args.index("--port") + 1] = str(port)
    env = {e["name"]: e["value"].replace("/data", str(data)) for e in container["env"]}
    env["HOME"] = str(tmp_path)
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    command = [str(bin_dir / container["command"][0]), *args]
    bridge = subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert bridge.poll() is None and time.monotonic() < deadline, "the bridge did not start"
            time.sleep(0.2)
        assert "create_entities" in asyncio.run(tool_names(f"{url}/mcp"))
    finally:
        bridge.terminate()
        bridge.wait(15)


async def tool_names(url: str) -> set[str]:
    async with (
        httpx2.AsyncClient(timeout=30) as http,
        streamable_http_client(url, http_client=http) as streams,
        ClientSession(streams[0], streams[1]) as session,
    ):
        await session.initialize()
        return {t.name for t in (await session.list_tools()).tools}
