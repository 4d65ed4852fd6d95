"""Console lines for people: short, timestamped, flushed at once (a pipe must see them too)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Console:
    def __init__(self, out: TextIO | None = None, clock: bool = True) -> None:
        self.out = out or sys.stdout
        self.clock = clock

    def say(self, text: str) -> None:
        """One event; its continuation lines are indented under the first."""
        first, *rest = text.splitlines() or [""]
        stamp = time.strftime("%H:%M:%S ") if self.clock else ""
        pad = " " * len(stamp)
        lines = [stamp + first, *(pad + line if line else "" for line in rest)]
        self.print("\n".join(lines))

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()
