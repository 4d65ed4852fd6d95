"""`KubeCluster`: the emulated API server (server.py) on 127.0.0.1:<free port>, in a thread with
its own event loop, so any client works against it, sync or async (kopf, the `kubernetes`
package, httpx); sync helpers (client.py) and fault injection for tests.
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp.web
import yaml

from testkit.kube.client import KubeClient
from testkit.kube.faults import Fault
from testkit.kube.kmock_adapter import KubernetesError
from testkit.kube.server import ClusterEmulator

ROOT = Path(__file__).resolve().parents[2]
CRD_PATH = ROOT / "crds" / "copilotproxies.copilot-proxy.dev.yaml"

Obj = dict[str, Any]
T = TypeVar("T")


class KubeCluster(KubeClient):
    """A `ClusterEmulator` served over HTTP from a thread; sync helpers for tests.

    `url` is the API server (http, no auth). The helpers name resources by kind
    (`"Deployment"`) or by 'group/version/plural'. Reads and writes go through
    HTTP, so watchers see every change a test makes, as with `kubectl`.
    """

    def __init__(
        self,
        crds: Iterable[Path | Obj] | None = None,
        namespaces: Iterable[str] = ("default",),
    ) -> None:
        """`crds`: CRD files or dicts to serve; default: the project's CRD file."""
        super().__init__()
        crds = (CRD_PATH,) if crds is None else crds
        self._crds = [yaml.safe_load(c.read_text()) if isinstance(c, Path) else c for c in crds]
        self._namespaces = list(namespaces)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: aiohttp.web.ServerRunner | None = None
        self.emulator: ClusterEmulator

    # -- life cycle ----------------------------------------------------------

    def start(self) -> KubeCluster:
        logging.getLogger("httpx").addFilter(self._quiet)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="kube-emulator", daemon=True
        )
        self._thread.start()
        self._run(self._astart())
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        bugs = self.internal_errors()
        self._run(self._astop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = None
        self.http.close()
        logging.getLogger("httpx").removeFilter(self._quiet)
        assert not bugs, f"the emulator failed on requests: {bugs!r}"

    def internal_errors(self) -> builtins.list[BaseException]:
        """Exceptions in the emulator itself (not the API errors it answers on purpose)."""
        return [e for e in self.emulator.errors if not isinstance(e, KubernetesError)]

    def _quiet(self, record: logging.LogRecord) -> bool:
        """Keep the helpers' own requests out of the captured log tests read."""
        return not (self.url and self.url in str(record.args))

    def __enter__(self) -> KubeCluster:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _run(self, coro: Awaitable[T], timeout: float = 10) -> T:
        assert self._loop is not None, "the cluster is not started"
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(
            coro,  # type: ignore[arg-type]
            self._loop,
        )
        return future.result(timeout)

    async def _astart(self) -> None:
        self.emulator = ClusterEmulator()
        await self.emulator.__aenter__()
        self.emulator.declare_builtins()
        for crd in self._crds:
            self.emulator.declare_crd(crd)
        self.kinds = self.emulator.kinds()
        for ns in self._namespaces:
            self.emulator.declare_namespace(ns)
        # Handlers are cancelled when their client goes (kopf's watches), and no
        # access log: the operator's log is what tests read.
        server = aiohttp.web.Server(self.emulator, handler_cancellation=True, access_log=None)
        self._runner = aiohttp.web.ServerRunner(server, shutdown_timeout=1.0)
        await self._runner.setup()
        site = aiohttp.web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def _astop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self.emulator.__aexit__(None, None, None)

    # -- history, faults -----------------------------------------------------

    def history(self, kind: str, namespace: str | None, name: str) -> builtins.list[Obj | None]:
        """Every stored version of an object (None: deleted), oldest first."""
        return self._run(self.emulator.history(self.resource(kind), namespace, name))

    def fail(
        self,
        action: str | None = None,
        kind: str | None = None,
        *,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
        status: int | None = 500,
        delay: float = 0.0,
        times: int | None = 1,
        commit: bool = False,
        message: str = "injected fault",
        agent: str | None = None,
    ) -> Fault:
        """Make matching requests fail: `status` (None: only slow by `delay`), `times` times.

        `action`: list, watch, fetch, create, update (PATCH), delete. With
        `commit`, the change is stored and then the error is answered, as when an
        answer is lost on the way. `agent`: only clients whose User-Agent holds
        it (kopf says 'kopf', the `kubernetes` package 'OpenAPI-Generator'). The
        helpers' own requests never fail. `Fault.hits` tells how often it struck.
        """
        fault = Fault(
            action=action,
            resource=self.resource(kind) if kind else None,
            namespace=namespace,
            name=name,
            subresource=subresource,
            status=status,
            delay=delay,
            times=times,
            commit=commit,
            message=message,
            agent=agent,
        )
        return self.emulator.faults.add(fault)

    def clear_faults(self) -> None:
        self.emulator.faults.clear()
