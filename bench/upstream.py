"""The fake GitHub + Copilot of the tests (testkit.fake_github.FakeGitHub), in a process of its own.

Why a process: in the benchmark's own process the fake would share the GIL
with the load generator, and the "direct" baseline would measure their
contention instead of the upstream. Control goes over stdin as JSON lines
naming a FakeGitHub method, e.g. {"call": "fail", "args": ["gpt-5-mini", 402]}.

Run by `Upstream()`; `python -m bench.upstream` is the child's side.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from bench import procs

ROOT = Path(__file__).resolve().parent.parent


class Upstream:
    """Parent side: start, call FakeGitHub methods, stop."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.default_token = ""
        self._lock = threading.Lock()
        self._copilot_key = ""

    def start(self) -> Upstream:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.upstream"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        hello = self._read()
        self.url, self.default_token = hello["url"], hello["default_token"]
        return self

    def _read(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"fake upstream exited with {self.proc.poll()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"fake upstream: {answer['error']}")
        return answer

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        assert self.proc is not None and self.proc.stdin is not None
        with self._lock:
            self.proc.stdin.write(json.dumps({"call": method, "args": args, "kwargs": kwargs}))
            self.proc.stdin.write("\n")
            return self._read().get("result")

    def direct_headers(self) -> dict[str, str]:
        """What a Copilot client sends (Copilot answers 400 without an editor version)."""
        return {
            "authorization": f"Bearer {self.copilot_key()}",
            "editor-version": "vscode/1.95.0",
            "copilot-integration-id": "vscode-chat",
        }

    def copilot_key(self) -> str:
        """A Copilot API key for direct calls, as LiteLLM gets one."""
        if not self._copilot_key:
            answer = httpx.get(
                f"{self.url}/copilot_internal/v2/token",
                headers={"authorization": f"token {self.default_token}"},
            )
            answer.raise_for_status()
            self._copilot_key = str(answer.json()["token"])
        return self._copilot_key

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()  # the child's loop ends at EOF
        procs.reap(self.proc, 10)
        self.proc = None

    def __enter__(self) -> Upstream:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def _serve() -> None:
    from testkit.fake_github import FakeGitHub

    with FakeGitHub() as gh:
        gh.recording = False  # no per-request memory over thousands of requests
        print(json.dumps({"url": gh.url, "default_token": gh.default_token}), flush=True)
        for line in sys.stdin:
            try:
                request = json.loads(line)
                result = getattr(gh, request["call"])(*request["args"], **request["kwargs"])
                json.dumps(result)  # only answers that survive the trip
                print(json.dumps({"result": result}), flush=True)
            except Exception as error:  # reported to the caller, the server keeps running
                print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    _serve()
