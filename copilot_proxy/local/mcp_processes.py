"""The MCP servers of the manifest, run as child processes the way their pods run them.

Each preset or command server is `supergateway` with the pod's own arguments
(core/mcp_workloads.py) on a loopback port, from the locked npm packages of
npm/node_modules (`make npm`), so the proxy reaches it over streamable HTTP
exactly as in a cluster; LiteLLM never spawns anything. What a machine has
instead of a pod:
- the volume: a folder. A claim `X` is `<state>/volumes/X` unless
  `--mcp-volume X=DIR` names another; an emptyDir is `<state>/mcp/<server>`,
  emptied at each start (as a new pod's). A filesystem server's listed paths
  are created in it, as the kubelet creates a missing subPath. Read-only is
  enforced by the proxy (only the read tools are offered), not by a mount;
- a Secret's value: the variable of the same name in the environment of
  `copilot-proxy run` (the person running it owns their secrets);
- the environment: PATH (npm/node_modules/.bin first), HOME and the
  declaration's, nothing else of the caller's.
`localize` gives every run server its loopback URL (the rendered config then
points there); `sync` starts, restarts (declaration changed, or it died) and
stops processes to match; `stop` ends them all.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from copilot_proxy.core import mcp_workloads
from copilot_proxy.core.mcp_config import PATH
from copilot_proxy.core.mcp_spec import McpServer
from copilot_proxy.core.spec import ProxySpec
from copilot_proxy.local import proxy_process as pp

HOST = "127.0.0.1"
BRIDGE = "supergateway"
NPM_BIN_ENV = "COPILOT_PROXY_NPM_BIN"  # a folder holding supergateway and the MCP servers
REPO_NPM_BIN = Path(__file__).resolve().parents[2] / "npm" / "node_modules" / ".bin"
RETRY = 5.0  # seconds before a server that died is started again


class McpError(Exception):
    """A server that cannot run on this machine; the message says what to do."""


def npm_bin(environ: Mapping[str, str]) -> Path:
    """Where supergateway and the servers are: $COPILOT_PROXY_NPM_BIN, npm/, or PATH."""
    for candidate in (environ.get(NPM_BIN_ENV), REPO_NPM_BIN):
        if candidate and (Path(candidate) / BRIDGE).exists():
            return Path(candidate)
    found = shutil.which(BRIDGE, path=environ.get("PATH"))
    if found:
        return Path(found).parent
    raise McpError(
        f"{BRIDGE} (the stdio-to-HTTP bridge) is not installed: run `make npm` (the locked"
        f" MCP servers and bridge into npm/node_modules) or set {NPM_BIN_ENV}"
    )


def free_port(host: str = HOST) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class _Running:
    server: McpServer
    process: pp.ProxyProcess
    ready: bool = False


class McpProcesses:
    def __init__(
        self,
        root: Path,
        volumes: Mapping[str, Path] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.volumes = dict(volumes or {})
        self.environ = dict(os.environ if environ is None else environ)
        self.ports: dict[str, int] = {}  # kept for the whole run: the config stays the same
        self.declared: dict[str, McpServer] = {}
        self.running: dict[str, _Running] = {}
        self.retry_at: dict[str, float] = {}  # after a crash
        self.blocked: dict[str, McpServer] = {}  # declarations that cannot run here

    # -- the spec the proxy is rendered from ------------------------------------------

    def localize(self, spec: ProxySpec) -> ProxySpec:
        """`spec` with each run server's `url` on its loopback port (what the proxy reaches)."""
        self.declared = {s.name: s for s in spec.mcp_servers if s.runs}
        servers = tuple(
            dataclasses.replace(s, url=self.url(s.name)) if s.runs else s for s in spec.mcp_servers
        )
        return dataclasses.replace(spec, mcp_servers=servers)

    def url(self, name: str) -> str:
        port = self.ports.setdefault(name, free_port())
        return f"{pp.local_url(HOST, port)}{PATH}"

    # -- the processes ------------------------------------------------------------------

    def sync(self, now: float | None = None) -> list[str]:
        """Make the processes match the declarations; what happened, for the console."""
        now = time.monotonic() if now is None else now
        said: list[str] = []
        for name in [n for n in self.running if n not in self.declared]:
            self._stop(name)
            said.append(f"MCP server {name} stopped (no longer declared).")
        for name, server in self.declared.items():
            running = self.running.get(name)
            if running is not None:
                if running.server == server and running.process.exited() is None:
                    said += self._announce(name, running)
                    continue
                if running.server == server:
                    said.append(f"MCP server {name} stopped by itself; see {self.log(name)}")
                    self.retry_at[name] = now + RETRY
                else:
                    said.append(f"MCP server {name}: declaration changed, restarting.")
                    self.retry_at.pop(name, None)
                self._stop(name)
            if self.blocked.get(name) == server or now < self.retry_at.get(name, 0.0):
                continue
            said.append(self._start(server))
        return said

    def _start(self, server: McpServer) -> str:
        try:
            argv, env = self.launch(server)
        except McpError as error:
            self.blocked[server.name] = server  # until its declaration changes
            return f"MCP server {server.name} not started: {error}"
        process = pp.ProxyProcess(
            argv=argv,
            env=env,
            url=pp.local_url(HOST, self.ports[server.name]),
            log_path=self.log(server.name),
            cwd=self.root,
            probe_path=mcp_workloads.HEALTH_PATH,
        )
        process.start()
        self.running[server.name] = _Running(server, process)
        self.blocked.pop(server.name, None)
        return f"MCP server {server.name} ({server.kind}) starting on {self.url(server.name)}"

    def _announce(self, name: str, running: _Running) -> list[str]:
        """Once per start: the server answers its health probe."""
        if running.ready or not running.process.is_live():
            return []
        running.ready = True
        return [f"MCP server {name} ready: {self.url(name)}"]

    def launch(self, server: McpServer) -> tuple[list[str], dict[str, str]]:
        """The bridge's command line and environment for `server` (raises McpError)."""
        bin_dir = npm_bin(self.environ)
        data = self.data_dir(server)
        port = self.ports.setdefault(server.name, free_port())
        argv = [str(bin_dir / BRIDGE), *mcp_workloads.bridge_args(server, port, str(data))]
        home = self.root / "home"
        home.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.pathsep.join([str(bin_dir), self.environ.get("PATH", os.defpath)]),
            "HOME": str(home),
            **mcp_workloads.preset_env(server, str(data)),
        }
        for var in server.env:
            if not var.secret:
                env[var.name] = var.value
            elif var.name in self.environ:
                env[var.name] = self.environ[var.name]
            else:
                raise McpError(
                    f"{var.name} comes from Secret {var.secret} (key {var.key}) in a cluster;"
                    f" here, set {var.name} in the environment of `copilot-proxy run`"
                )
        return argv, env

    def data_dir(self, server: McpServer) -> Path:
        """The folder standing for the server's volume at /data (made, emptied if scratch)."""
        volume = server.volume
        if volume is not None and volume.claim:
            data = self.volumes.get(volume.claim) or self.root / "volumes" / volume.claim
            data.mkdir(parents=True, exist_ok=True)
        else:
            data = self.root / "scratch" / server.name
            shutil.rmtree(data, ignore_errors=True)  # an emptyDir starts empty
            data.mkdir(parents=True)
        for path in server.paths:
            (data / path).mkdir(parents=True, exist_ok=True)
        return data

    def log(self, name: str) -> Path:
        return self.root / f"{name}.log"

    def wait_live(self, timeout: float = 30.0) -> bool:
        """True once every running server answers its health probe."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(r.ready or r.process.is_live() for r in self.running.values()):
                return True
            time.sleep(0.1)
        return False

    def _stop(self, name: str) -> None:
        running = self.running.pop(name, None)
        if running is not None:
            running.process.stop()

    def stop(self) -> None:
        for name in list(self.running):
            self._stop(name)
        self.retry_at.clear()
        self.blocked.clear()
