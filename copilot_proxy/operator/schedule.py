"""When each proxy is reconciled again without an event: the resync period, or sooner
when its reconcile asked for it (a GitHub App token's renewal time).

A loop of our own rather than a kopf timer: kopf puts a finalizer on every object
with a timer, and then `kubectl delete` hangs while the operator is down. The loop
looks often (TICK) and runs a proxy when its last run is a resync period old or its
wake-up time has come, so a token that lives seconds (tests) is renewed on time and
one that lives an hour costs one reconcile at its half life.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from kopf._core.engines import posting  # where kopf.event finds its queue

log = logging.getLogger(__name__)

Key = tuple[str, str]
TICK = 0.25  # seconds between looks for wake-up times; a look only compares times
RESYNC_TICK = 2.0  # seconds between looks for proxies a resync period old


# kopf.event posts through context variables kopf sets in the tasks it runs handlers in;
# the resync loop is not such a task, so it borrows them from the last handler kopf ran
# (one queue and loop per operator run). Without them its events would be lost.
_POSTING_VARS: tuple[ContextVar[Any], ...] = (
    posting.settings_var,
    posting.event_queue_var,
    posting.event_queue_loop_var,
)
_posting: dict[ContextVar[Any], Any] = {}


def forget_posting() -> None:
    _posting.clear()


def remember_posting() -> None:
    """In a kopf handler: keep what kopf.event needs, for the resync loop."""
    for var in _POSTING_VARS:
        with contextlib.suppress(LookupError):
            _posting[var] = var.get()


def borrow_posting() -> None:
    """In a resync run's thread: kopf.event works as in a handler."""
    for var, value in list(_posting.items()):
        var.set(value)  # in this thread's copy of the context only


class Schedule:
    """Every known proxy -> its last reconcile, and the time it asked to run again."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._last: dict[Key, float] = {}
        self._wake: dict[Key, float] = {}

    def clear(self) -> None:
        with self._guard:
            self._last.clear()
            self._wake.clear()

    def know(self, key: Key) -> None:
        """A proxy the resync visits (first seen now, unless it ran already)."""
        with self._guard:
            self._last.setdefault(key, time.monotonic())

    def ran(self, key: Key, wake_in: float | None) -> None:
        """It ran now; `wake_in` seconds: run it again then (None: at the resync period)."""
        now = time.monotonic()
        with self._guard:
            self._last[key] = now
            if wake_in is None:
                self._wake.pop(key, None)
            else:
                self._wake[key] = now + max(0.0, wake_in)

    def forget(self, key: Key) -> None:
        with self._guard:
            self._last.pop(key, None)
            self._wake.pop(key, None)

    def due(self, period: float | None) -> list[Key]:
        """The proxies to run now: their wake-up time has come, or (unless `period` is None)
        a period has passed since their last run."""
        now = time.monotonic()
        with self._guard:
            late = set()
            if period is not None:
                late = {k for k, t in self._last.items() if t <= now - period}
            woken = {k for k, t in self._wake.items() if t <= now}
            for key in woken:
                self._wake.pop(key, None)  # one run per wake-up; the run sets the next
            return sorted(late | woken)


async def run_forever(
    schedule: Schedule, period: Callable[[], float], run: Callable[[str, str], None]
) -> None:
    """Run the due proxies, one at a time, forever; `run` raising must not end the loop."""
    looked = time.monotonic()
    while True:
        await asyncio.sleep(TICK)
        resync = time.monotonic() - looked >= RESYNC_TICK
        if resync:
            looked = time.monotonic()
        for namespace, name in schedule.due(period() if resync else None):
            try:
                await asyncio.to_thread(run, namespace, name)
            except Exception:  # a bug must not end the loop for every other proxy
                log.exception("resync of %s/%s failed", namespace, name)
