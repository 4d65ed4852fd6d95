"""Run a real kopf operator as a task of the test's event loop, and stop it cleanly."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import kopf


class OperatorTask:
    """`kopf.operator(...)` in a task; `start`, `stop`, `restart` against the same API server.

    Cluster-wide unless `namespaces` is given; standalone (no peering). The
    registry's own `@kopf.on.login` decides which API server it talks to.
    """

    def __init__(
        self,
        registry: kopf.OperatorRegistry,
        *,
        namespaces: list[str] | None = None,
        **options: Any,
    ) -> None:
        self.registry = registry
        self.namespaces = namespaces
        self.options = options
        self.starts = 0
        self._task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self, timeout: float = 10.0) -> None:
        assert not self.running, "the operator is already running"
        self._stop = asyncio.Event()
        ready = asyncio.Event()
        scope: dict[str, Any] = (
            {"namespaces": self.namespaces} if self.namespaces else {"clusterwide": True}
        )
        self._task = asyncio.create_task(
            kopf.operator(
                registry=self.registry,
                standalone=True,
                stop_flag=self._stop,
                ready_flag=ready,
                **scope,
                **self.options,
            ),
            name=f"kopf-operator-{self.starts}",
        )
        self.starts += 1
        ready_wait = asyncio.ensure_future(ready.wait())
        done, _ = await asyncio.wait(
            {ready_wait, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready_wait not in done:
            ready_wait.cancel()
            if self._task in done:
                self._task.result()  # raise the reason it exited
            raise AssertionError(f"kopf did not become ready within {timeout}s")

    async def stop(self, timeout: float = 15.0) -> None:
        """Ask kopf to stop (as on SIGTERM) and wait for it; cancel it if it hangs."""
        if self._task is None or self._stop is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            raise AssertionError(f"kopf did not stop within {timeout}s") from None
        finally:
            self._task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()
