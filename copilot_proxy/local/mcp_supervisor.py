"""The local supervisor with the manifest's MCP servers: started and stopped with the proxy.

The manifest's preset and command servers run as child processes
(mcp_processes.py); the spec the supervisor renders has them at their loopback
URLs (main.py localizes every manifest it loads). They start just before the
proxy, follow their declarations while it runs (a changed declaration restarts
its server, a dead one is started again), and stop with it.
"""

from __future__ import annotations

from typing import Any

from copilot_proxy.local.mcp_processes import McpProcesses
from copilot_proxy.local.rule import Template
from copilot_proxy.local.supervisor import Supervisor


class McpSupervisor(Supervisor):
    def __init__(self, *, mcp: McpProcesses, **supervisor: Any) -> None:
        super().__init__(**supervisor)
        self.mcp = mcp

    def tick(self, now: float | None = None) -> None:
        super().tick(now)
        if self.proxy is not None:
            self._say(self.mcp.sync())

    def start_proxy(self, wanted: Template, now: float) -> None:
        self._say(self.mcp.sync())  # first: the proxy lists their tools as it starts
        super().start_proxy(wanted, now)
        if self.proxy is None:  # it waits for its port: so do they
            self.mcp.stop()

    def stop_proxy(self, drain: bool = True) -> None:
        super().stop_proxy(drain)
        self.mcp.stop()

    def _say(self, lines: list[str]) -> None:
        for line in lines:
            self.console.say(line)
