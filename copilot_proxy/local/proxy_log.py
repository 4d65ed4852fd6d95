"""The proxy's log on the console: its request lines, and the line that says why it died."""

from __future__ import annotations

import re
from pathlib import Path

from copilot_proxy.litellm.request_line import LOGGER_NAME

# LiteLLM colours its start-up lines; a log tail on the console shows them plain.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ERROR = re.compile(r"error|exception|fatal|denied|not found|refused|errno", re.IGNORECASE)
_LONGEST = 300


def plain(text: str) -> str:
    """`text` without terminal colour codes."""
    return _ANSI.sub("", text)


def error_line(tail: str) -> str:
    """The line of a log tail that says why the process ended ('' when none does).

    A Python traceback ends with the exception's line; uvicorn and LiteLLM put
    ERROR in theirs. The last such line wins.
    """
    lines = [line.strip() for line in plain(tail).splitlines() if line.strip()]
    for line in reversed(lines):
        if _ERROR.search(line) and not line.startswith(("File ", "Traceback ")):
            return line if len(line) <= _LONGEST else line[: _LONGEST - 1] + "…"
    return ""


class RequestLines:
    """Follows the proxy's log file; `read()` gives the request and cooldown lines written
    since last time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""

    def read(self) -> list[str]:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        marker = f" {LOGGER_NAME} "
        found = []
        for line in (raw.decode(errors="replace") for raw in lines):
            if marker in line:
                text = line.split(marker, 1)[1].strip()  # a request, or a model's cooldown
                found.append(text if text.startswith("cooldown:") else f"request: {text}")
        return found
