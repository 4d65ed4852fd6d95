"""The operator's probes on its health port: `/healthz` (live: the event loop answers) and
`/readyz` (ready: kopf watches and has handed over every CopilotProxy that exists).

kopf calls event handlers only once every watched kind has been listed (its
indexes must be complete first), so a CopilotProxy that reached `proxy_event`
proves the watches run. Ready = the startup is done and every CopilotProxy the
API lists (in the served namespaces, with the operator's own RBAC) has reached
the handlers; with none to list, an answered list is the proof left. Once ready,
it stays so (liveness covers the rest): a proxy created a moment ago must not
turn a running operator unready.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from aiohttp import web

log = logging.getLogger(__name__)

Ref = tuple[str, str]  # (namespace, name)


class Readiness:
    def __init__(self) -> None:
        self.started = False
        self.ready = False
        self.seen: set[Ref] = set()

    def reset(self) -> None:
        """A new start (tests restart the operator in one process)."""
        self.started, self.ready = False, False
        self.seen.clear()

    def saw(self, namespace: str, name: str) -> None:
        self.seen.add((namespace, name))

    def judge(self, listed: Iterable[Ref]) -> bool:
        """Ready when started and every listed proxy was handed over; latched."""
        if not self.ready:
            missing = set(listed) - self.seen
            self.ready = self.started and not missing
        return self.ready


READINESS = Readiness()


async def serve(port: int, list_proxies: Callable[[], list[Ref]]) -> web.AppRunner:
    """Start the probes on `port`; `list_proxies` (blocking) lists what exists."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        if READINESS.ready:
            return web.json_response({"status": "ready"})
        try:
            listed = await asyncio.to_thread(list_proxies) if READINESS.started else []
        except Exception as error:  # the API is unreachable or refuses: not ready
            log.info("not ready: cannot list CopilotProxies (%s)", type(error).__name__)
            return web.json_response({"status": "cannot list CopilotProxies"}, status=503)
        if READINESS.judge(listed):
            return web.json_response({"status": "ready"})
        waiting = len(set(listed) - READINESS.seen)
        return web.json_response({"status": f"starting: {waiting} not watched yet"}, status=503)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()  # noqa: S104 - the pod's interface
    return runner
