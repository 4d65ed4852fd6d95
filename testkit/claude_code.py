"""The real Claude Code CLI, run against a proxy: `claude -p` and the interactive UI in tmux.

The CLI is the npm package `@anthropic-ai/claude-code` pinned in npm/package.json
(`make npm` installs it into npm/node_modules); `CLAUDE_CODE_BIN=/path/to/claude`
points elsewhere. Every run gets a fresh HOME (onboarding and folder trust
already accepted) and an environment without the developer's ANTHROPIC_* or
CLAUDE_* variables; the prompt's tool runs for real in `cwd`.

    cli = binary()
    run = run_print(cli, "Use Bash to ...", proxy.url, proxy.master_key, cwd=tmp_path)
    with Interactive(cli, proxy.url, proxy.master_key, cwd=tmp_path) as ui:
        ui.send("Use Bash to ..."); ui.wait_for("Hello from")
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BIN_ENV = "CLAUDE_CODE_BIN"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CLI = ROOT / "npm" / "node_modules" / ".bin" / "claude"
PROMPT_MARK = "\N{HEAVY RIGHT-POINTING ANGLE QUOTATION MARK ORNAMENT}"  # the input line


def binary() -> Path | None:
    """The Claude Code CLI to run, None when it is not installed."""
    path = Path(os.environ.get(BIN_ENV) or DEFAULT_CLI)
    return path if path.is_file() and os.access(path, os.X_OK) else None


def environment(base_url: str, key: str, home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """What Claude Code sees: the README's two settings, a clean HOME, no telemetry."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_AUTH_TOKEN": key,
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
    }
    env.update(extra)
    return env


def fresh_home(cwd: Path) -> Path:
    """A HOME whose Claude Code has finished onboarding and trusts `cwd`."""
    home = Path(tempfile.mkdtemp(prefix="claude-home-"))
    state = {
        "hasCompletedOnboarding": True,
        "numStartups": 1,
        "theme": "dark",
        "projects": {str(cwd): {"hasTrustDialogAccepted": True}},
    }
    (home / ".claude.json").write_text(json.dumps(state))
    return home


@dataclass(frozen=True)
class Printed:
    returncode: int
    stdout: str
    stderr: str


def run_print(
    cli: Path,
    prompt: str,
    base_url: str,
    key: str,
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    allowed_tools: str = "Bash",
    timeout: float = 120,
) -> Printed:
    """`claude -p PROMPT --allowedTools TOOLS` (as root it refuses to skip permissions)."""
    home = fresh_home(cwd)
    try:
        done = subprocess.run(
            [str(cli), "-p", prompt, "--allowedTools", allowed_tools],
            env=environment(base_url, key, home, env or {}),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return Printed(done.returncode, done.stdout, done.stderr)


class Interactive:
    """The interactive UI in a detached tmux session (160x50)."""

    def __init__(
        self,
        cli: Path,
        base_url: str,
        key: str,
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        allowed_tools: str = "Bash",
    ) -> None:
        self.home = fresh_home(cwd)
        self.name = f"claude-{os.getpid()}-{time.monotonic_ns()}"
        command = shlex.join([str(cli), "--allowedTools", allowed_tools])
        variables = environment(base_url, key, self.home, env or {})
        settings = [arg for k, v in variables.items() for arg in ("-e", f"{k}={v}")]
        session = ["new-session", "-d", "-s", self.name, "-x", "160", "-y", "50", "-c", str(cwd)]
        shell = ["sh", "-c", f"{command}; sleep 600"]  # the screen stays readable after exit
        subprocess.run(["tmux", *session, *settings, *shell], check=True)

    def screen(self) -> str:
        done = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return done.stdout

    def wait_for(self, pattern: str, timeout: float = 90) -> str:
        """The screen once `pattern` (a regex) shows on it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.screen()
            if re.search(pattern, seen):
                return seen
            time.sleep(0.2)
        raise TimeoutError(f"{pattern!r} not on screen after {timeout} s:\n{self.screen()}")

    def send(self, text: str) -> None:
        """Type a prompt and press Enter."""
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)
        time.sleep(0.3)  # the UI takes the Enter as a newline while the paste settles
        subprocess.run(["tmux", "send-keys", "-t", self.name, "Enter"], check=True)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Interactive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
