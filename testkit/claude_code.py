"""Run the real Claude Code CLI (npm `@anthropic-ai/claude-code`, locked in npm/) against a
proxy, the way a user does: `claude -p PROMPT` with ANTHROPIC_BASE_URL and the proxy's key.

The binary is `npm/node_modules/.bin/claude` (`make npm`), or CLAUDE_CODE_BIN. Each run
gets a fresh HOME, no telemetry, no auto-update, and nothing but the proxy to talk to.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN_ENV = "CLAUDE_CODE_BIN"


def binary() -> Path | None:
    """The CLI to run, or None when it is not installed."""
    for candidate in (os.environ.get(BIN_ENV), ROOT / "npm" / "node_modules" / ".bin" / "claude"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@dataclass(frozen=True)
class Run:
    code: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    seconds: float


def run(
    prompt: str,
    base_url: str,
    key: str,
    model: str,
    timeout: float = 60,
    args: tuple[str, ...] = (),
) -> Run:
    """`claude -p PROMPT --model MODEL` against `base_url` (the proxy root, without /v1)."""
    cli = binary()
    if cli is None:
        raise FileNotFoundError(f"no Claude Code CLI: run `make npm` or set {BIN_ENV}")
    with tempfile.TemporaryDirectory(prefix="claude-home-") as home:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "LANG": "C.UTF-8",
            "ANTHROPIC_BASE_URL": base_url,
            "ANTHROPIC_AUTH_TOKEN": key,
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        }
        argv = [str(cli), "-p", prompt, "--model", model, *args]
        started = time.monotonic()
        try:
            done = subprocess.run(
                argv, env=env, cwd=home, capture_output=True, text=True, timeout=timeout,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
            code, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as expired:
            code, out, err = None, _text(expired.stdout), _text(expired.stderr)
        return Run(code, out, err, time.monotonic() - started)


def _text(value: str | bytes | None) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else (value or "")
