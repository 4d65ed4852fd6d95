"""Console lines for people: short, timestamped, flushed at once (a pipe must see them too)."""

from __future__ import annotations

import sys
import time


class Console:
    def say(self, text: str) -> None:
        """One event; its continuation lines are indented under the first."""
        first, *rest = text.splitlines() or [""]
        stamp = time.strftime("%H:%M:%S ")
        pad = " " * len(stamp)
        lines = [stamp + first, *(pad + line if line else "" for line in rest)]
        self.print("\n".join(lines))

    def print(self, text: str = "") -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
