"""Waiting until something is true: `wait_for` in async tests, `wait_for_sync` in sync ones.

A predicate that raises LookupError or TypeError (an object not there yet)
counts as false; on timeout an AssertionError says what was awaited and what
the predicate last answered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class _Last:
    """What a polled predicate last answered, for the message when time runs out."""

    value: Any = None
    error: BaseException | None = None

    def timed_out(self, predicate: Callable[[], Any], timeout: float, message: str) -> Exception:
        what = message or getattr(predicate, "__name__", repr(predicate))
        detail = f"error {self.error!r}" if self.error else f"last value {self.value!r}"
        return AssertionError(f"not true within {timeout}s: {what}; {detail}")


async def wait_for(
    predicate: Callable[[], T | Awaitable[T]],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "",
) -> T:
    """Poll `predicate` until it returns something truthy; return that.

    A predicate that raises LookupError or TypeError (an object not there yet)
    counts as false. On timeout: AssertionError with the last value or error.
    """
    last = _Last()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            value = predicate()
            if asyncio.iscoroutine(value) or isinstance(value, Awaitable):
                value = await value
            last.value, last.error = value, None
            if value:
                return value
        except (LookupError, TypeError) as error:
            last.error = error
        if loop.time() >= deadline:
            raise last.timed_out(predicate, timeout, message)
        await asyncio.sleep(interval)


def wait_for_sync(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "",
) -> T:
    """`wait_for` for sync tests (the emulator runs in its own thread)."""
    last = _Last()
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
            last.value, last.error = value, None
            if value:
                return value
        except (LookupError, TypeError) as error:
            last.error = error
        if time.monotonic() >= deadline:
            raise last.timed_out(predicate, timeout, message)
        time.sleep(interval)
