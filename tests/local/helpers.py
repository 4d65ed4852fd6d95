"""Run `copilot-proxy run` as a user would: a real process, its console read line by line."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from testkit.fake_github import FakeGitHub

CLI = str(Path(sys.executable).with_name("copilot-proxy"))


def write_manifest(path: Path, models: list[str], name: str = "copilot", **spec: Any) -> None:
    doc = {
        "apiVersion": "copilot-proxy.dev/v1alpha1",
        "kind": "CopilotProxy",
        "metadata": {"name": name},
        "spec": {"models": [{"name": m} for m in models], **spec},
    }
    # Replace, as editors do: the watcher must not read a half-written file.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(doc))
    tmp.replace(path)


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    """The pids still alive after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class LocalRun:
    """`copilot-proxy run -f MANIFEST ...` in a subprocess; console lines in `.lines`.

    `command` (with `cwd`) runs something else that runs it, e.g. `make run`, in a
    process group of its own, as a terminal runs a command (`interrupt_group`).
    """

    def __init__(
        self,
        manifest: Path | None,
        state_dir: Path | None,
        *,
        proxy_port: int,
        auth_port: int,
        env: dict[str, str],
        command: list[str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.proxy_port, self.auth_port = proxy_port, auth_port
        self.lines: list[str] = []
        self._cond = threading.Condition()
        if command is None:
            command = [
                *(CLI, "run", "-f", str(manifest), "--state-dir", str(state_dir)),
                *("--proxy-port", str(proxy_port), "--auth-port", str(auth_port)),
            ]
        self.proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=command[0] != CLI,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    @property
    def output(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, after: int = 0, timeout: float = 60.0) -> int:
        """The index of the first console line from `after` on that matches `pattern`."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(after, len(self.lines)):
                    if regex.search(self.lines[i]):
                        return i
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no line matching {pattern!r}; console:\n{self.output}")
                self._cond.wait(min(left, 0.5))

    def interrupt(self, timeout: float = 30.0) -> int:
        """Ctrl-C: SIGINT to the process; its exit code."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def interrupt_group(self, timeout: float = 30.0) -> int:
        """Ctrl-C in a terminal: SIGINT to the whole process group; the exit code."""
        os.killpg(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        """Clean-up after a failed test: the process and everything below it."""
        if self.proc.poll() is None:
            below = descendants(self.proc.pid)
            self.proc.kill()
            for pid in below:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.wait(10)


def sign_in(gh: FakeGitHub, auth_port: int, master_key: str, login: str) -> str:
    """Sign in through the login service's JSON API and approve on the fake GitHub.

    Returns the GitHub token the fake issued.
    """
    base = f"http://127.0.0.1:{auth_port}"
    headers = {"Authorization": f"Bearer {master_key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        started = client.post("/api/proxies/local/copilot/login")
        assert started.status_code == 202, started.text
        token = gh.approve(started.json()["userCode"], login=login)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            view = client.get(f"/api/logins/{started.json()['id']}").json()
            if view["phase"] not in ("waiting", "verifying"):
                assert view["phase"] == "connected", view
                return token
            time.sleep(0.2)
    raise AssertionError("the sign-in did not finish")
