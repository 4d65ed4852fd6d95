"""Nothing is lost on a rollout: a proxy told to stop finishes the streams it serves.

Claude Code's answers stream for minutes. Stopping the proxy used to kill it
10 s after SIGTERM (local mode), cutting every stream in flight; in
Kubernetes, the pod's default 30 s grace did the same to longer ones.

Here the real `copilot-proxy run` serves two 20 s streams (a chat completion
and an Anthropic message, as Claude Code asks) from the fake Copilot when the
manifest changes: the supervisor SIGTERMs the real `litellm`, both streams
end complete, then the new proxy starts with the new chain. (The Deployment's
side, preStop and terminationGracePeriodSeconds from the router timeout, is
tests/core/test_manifests.py.)
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from copilot_proxy.auth.stores.directory import DirectoryStore, write_private
from testkit.fake_github import FakeGitHub
from testkit.ports import free_port
from tests.local.helpers import LocalRun, descendants, wait_gone, write_manifest

pytestmark = pytest.mark.slow

KEY = "sk-" + "d" * 48
HI = [{"role": "user", "content": "hi"}]
STREAM_SECONDS = 20.0
READY = r"Proxy ready: http://localhost:{port} "


@pytest.fixture(scope="module")
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


class Stream(threading.Thread):
    """One streamed request, read to its end in a thread: what arrived, and when."""

    def __init__(self, url: str, body: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.url, self.body = url, body
        self.events: list[str] = []
        self.first = threading.Event()
        self.error: BaseException | None = None
        self.ended_at = 0.0

    def run(self) -> None:
        headers = {"authorization": f"Bearer {KEY}"}
        try:
            with httpx.stream("POST", self.url, json=self.body, headers=headers, timeout=60) as r:
                r.raise_for_status()
                for line in r.iter_lines():
                    if line.startswith("data: "):
                        self.events.append(line[6:])
                        self.first.set()
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            self.ended_at = time.monotonic()
            self.first.set()

    def text(self) -> str:
        parts = []
        for event in self.events:
            if event == "[DONE]":
                continue
            data = json.loads(event)
            for choice in data.get("choices") or []:
                parts.append(choice["delta"].get("content") or "")
            parts.append((data.get("delta") or {}).get("text") or "")
        return "".join(parts)


def test_a_manifest_edit_restarts_the_proxy_after_its_streams_end(
    gh: FakeGitHub, tmp_path: Path
) -> None:
    state, manifest = tmp_path / "state", tmp_path / "copilot.yaml"
    write_private(state / "master-key", KEY + "\n")
    store = DirectoryStore.single(state, "copilot")
    store.write_token(store.list_proxies()[0].ref, gh.default_token, "octocat", datetime.now(UTC))
    write_manifest(manifest, ["claude-opus-4.6", "gpt-5-mini"])
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "LITELLM_"))}
    run = LocalRun(manifest, state, proxy_port=port, auth_port=free_port(), env={**env, **gh.env()})
    try:
        at = run.wait_for(READY.format(port=port), timeout=120)
        first = descendants(run.proc.pid)
        # Six chat events and eight message events, each spread over ~20 s.
        gh.pace("gpt-5-mini", STREAM_SECONDS / 5)
        gh.pace("claude-opus-4.6", STREAM_SECONDS / 7)
        base = f"http://127.0.0.1:{port}"
        chat = Stream(
            base + "/v1/chat/completions",
            {"model": "gpt-5-mini", "stream": True, "messages": HI},
        )
        message = Stream(
            base + "/v1/messages",
            {
                "model": "claude-opus-4.6",
                "max_tokens": 100,
                "stream": True,
                "messages": HI,
            },
        )
        for stream in (chat, message):
            stream.start()
            assert stream.first.wait(30) and stream.error is None, stream.error
        began = time.monotonic()

        write_manifest(manifest, ["gpt-5-mini", "claude-opus-4.6"])  # a new chain: a restart
        at = run.wait_for(r"Restarting the proxy \(the manifest changed\)", after=at)
        at = run.wait_for(r"The proxy finishes the requests in flight first", after=at)
        for stream in (chat, message):
            stream.join(60)
            assert stream.error is None, f"{stream.url}: {stream.error!r}\n{run.output}"
        assert chat.events[-1] == "[DONE]" and chat.text() == "Hello from gpt-5-mini."
        assert json.loads(message.events[-1])["type"] == "message_stop"
        assert message.text() == "Hello from claude-opus-4.6."
        assert min(chat.ended_at, message.ended_at) - began > STREAM_SECONDS / 2  # they lasted

        # Then the old proxy is gone and the new one serves the new chain.
        at = run.wait_for(READY.format(port=port), after=at, timeout=120)
        assert wait_gone(first) == []
        gh.clear()
        answer = httpx.post(
            base + "/v1/chat/completions",
            headers={"authorization": f"Bearer {KEY}"},
            json={"model": "claude-sonnet-4-5", "messages": HI},  # the catch-all: the chain
            timeout=30,
        )
        assert answer.json()["choices"][0]["message"]["content"] == "Hello from gpt-5-mini."
        assert run.interrupt() == 0
    finally:
        run.kill()
