"""Process facts from /proc: CPU time and memory of a process and its children (Linux only).

CPU seconds per request are the least noisy figure on a shared machine: other
engineers' tests stretch wall-clock latency, much less the CPU a request costs.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def reap(proc: subprocess.Popen[Any], grace: float) -> None:
    """Wait `grace` seconds for a process that was asked to end, then SIGKILL it."""
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(grace)


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    return raw[raw.rindex(")") + 2 :].split()


def children(pid: int) -> list[int]:
    """Every descendant of `pid` (uvicorn's workers, multiprocessing helpers)."""
    by_parent: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                by_parent.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int, with_children: bool = True) -> float:
    """User + system CPU of the process (and its live descendants)."""
    total = 0.0
    for p in [pid, *(children(pid) if with_children else [])]:
        fields = _stat(p)
        if fields is not None:
            # utime, stime are fields 14 and 15 of stat; index 11, 12 after the name.
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


@dataclass(frozen=True)
class Memory:
    rss_mb: float  # now
    peak_mb: float  # VmHWM: the high-water mark since the process started


def memory(pid: int) -> Memory:
    values: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024  # kB -> MiB
    except OSError:
        return Memory(0.0, 0.0)
    return Memory(values.get("VmRSS", 0.0), values.get("VmHWM", 0.0))


def worker_memory(pid: int) -> list[Memory]:
    """RSS of each process serving requests: the process itself, or its workers.

    `litellm --num_workers N` (N > 1) starts a supervisor and N worker
    processes; with one worker the main process serves.
    """
    kids = [p for p in children(pid) if _is_python(p)]
    workers = [p for p in kids if memory(p).rss_mb > 100]  # not the small multiprocessing helpers
    return [memory(p) for p in workers] if workers else [memory(pid)]


def _is_python(pid: int) -> bool:
    try:
        return "python" in os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False
