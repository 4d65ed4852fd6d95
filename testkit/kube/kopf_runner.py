"""Run the real kopf operator for a test, in a thread with its own event loop.

Why not a task in the test's loop: on exit, kopf cancels every task created
after it started (it assumes they are its own), which includes pytest-asyncio's
teardown and the test itself. In a thread, every task is kopf's; tests (sync or
async) and the emulator's thread stay out of its way.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
import traceback
from typing import Any

import kopf


class KopfOperator:
    """`kopf.operator(...)`; `start`, `stop` (as on SIGTERM) and `restart` against the same API.

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
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[Any] | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> KopfOperator:
        assert not self.running, "the operator is already running"
        self._stop = threading.Event()
        ready = threading.Event()
        scope: dict[str, Any] = (
            {"namespaces": self.namespaces} if self.namespaces else {"clusterwide": True}
        )

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._main = asyncio.current_task()
            await kopf.operator(
                registry=self.registry,
                standalone=True,
                stop_flag=self._stop,
                ready_flag=ready,
                **scope,
                **self.options,
            )

        def run() -> None:
            try:
                asyncio.run(main())
            except BaseException as error:  # reported by start/stop in the test's thread
                self.error = error

        self.error = None
        self._thread = threading.Thread(target=run, name=f"kopf-{self.starts}", daemon=True)
        self.starts += 1
        self._thread.start()
        if not ready.wait(timeout):
            raise AssertionError(f"kopf did not become ready within {timeout}s: {self.error!r}")
        return self

    def stop(self, grace: float = 0.3, timeout: float = 10.0) -> None:
        """Stop as on SIGTERM, and wait until kopf has exited.

        A timer spawned while kopf was stopping sleeps its interval (so does a
        discovery scan in its retry backoff), and kopf waits 5 s for such tasks
        before cancelling them; after `grace` seconds, cancel them as kopf would.
        (Cancelling kopf itself is no faster: it can hang in asyncio.run's cleanup.)
        """
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(grace)
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and self._loop is not None and time.monotonic() < deadline:
            # Again and again: a timer may be spawned after the previous round.
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(_cancel_hung, self._loop, self._main)
            self._thread.join(0.1)
        alive = self._thread.is_alive()
        self._thread = None
        if alive:
            raise AssertionError(
                f"kopf did not stop within {grace + timeout}s\n{_stacks(self._loop)}"
            )
        if self.error is not None:
            raise AssertionError(f"kopf exited with {self.error!r}") from self.error

    def restart(self) -> KopfOperator:
        self.stop()
        return self.start()

    def __enter__(self) -> KopfOperator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def _cancel_hung(loop: asyncio.AbstractEventLoop, main: asyncio.Task[Any] | None) -> None:
    """Cancel what kopf would cancel after 5 s: timer and daemon runners, stray sub-tasks.

    kopf names its root tasks and workers; the unnamed ones ("Task-N") are
    sub-tasks such as a discovery scan sleeping in its retry backoff.
    """
    for task in asyncio.all_tasks(loop):
        name = task.get_name()
        if task is not main and (name.startswith("runner of ") or name.startswith("Task-")):
            task.cancel()


def _stacks(loop: asyncio.AbstractEventLoop | None) -> str:
    """Where kopf's tasks and every other thread are: what keeps kopf from exiting."""
    frames = sys._current_frames()
    names = {t.ident: t.name for t in threading.enumerate()}
    threads = [
        f"--- thread {names.get(ident, ident)}\n" + "".join(traceback.format_stack(frame))
        for ident, frame in frames.items()
        if ident != threading.get_ident()
    ]
    tasks = []
    for task in asyncio.all_tasks(loop) if loop is not None else ():
        stack = "".join(traceback.format_list(traceback.extract_stack(task.get_stack()[-1])))
        tasks.append(f"--- task {task.get_name()}\n{stack}")
    return "\n".join(tasks + threads)
