"""Clients that send to a running proxy without pause, and count what failed.

Five threads (openai and anthropic SDKs, no retries): chat completions streamed twice,
/v1/messages streamed, plain chat completions twice. Tests of token rotation run them
across rotations and assert that nothing failed (tests/proxy/test_github_app.py, the
local mode; tests/operator/test_app_pod.py, the operator's Secret through a kubelet).

`proxy_key_exchanges(gh)` tells which GitHub tokens the proxy itself (LiteLLM, by its
editor-version) brought to the fake's Copilot key exchange: the operator and the local
run check tokens there too, under their own names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anthropic
import openai

from testkit.fake_github import FakeGitHub

LITELLM_EDITOR = "vscode/1.85.1"  # LiteLLM's editor-version: the proxy's own key exchanges


@dataclass
class Tally:
    ok: int = 0
    failed: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, error: str | None) -> None:
        with self.lock:
            if error is None:
                self.ok += 1
            else:
                self.failed.append(error)


def clients(
    base: str, key: str, models: Sequence[str], stop: threading.Event, tally: Tally
) -> list[threading.Thread]:
    """Threads (not started) that call the proxy at `base` until `stop`; `models[0]` streams,
    `models[1]` answers plain chat completions."""
    oai = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=30)
    ant = anthropic.Anthropic(base_url=base, api_key=key, max_retries=0, timeout=30)
    hello: Any = [{"role": "user", "content": "Say hello"}]

    def chat_stream() -> None:
        stream = oai.chat.completions.create(model=models[0], messages=hello, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    def messages_stream() -> None:
        with ant.messages.stream(model=models[0], max_tokens=50, messages=hello) as s:
            assert s.get_final_text()

    def chat() -> None:
        answer = oai.chat.completions.create(model=models[1], messages=hello)
        assert answer.choices[0].message.content

    def loop(call: Callable[[], None]) -> None:
        while not stop.is_set():
            try:
                call()
                tally.add(None)
            except Exception as error:  # counted, and shown when the test fails
                tally.add(f"{time.strftime('%H:%M:%S')} {type(error).__name__}: {error}"[:300])

    calls = [chat_stream, messages_stream, chat, chat_stream, chat]
    return [threading.Thread(target=loop, args=(c,), daemon=True) for c in calls]


class Load:
    """The clients running in the background: `with Load(...) as load:` ... `load.tally`."""

    def __init__(self, base: str, key: str, models: Sequence[str]) -> None:
        self.stop = threading.Event()
        self.tally = Tally()
        self.threads = clients(base, key, models, self.stop, self.tally)

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)


def load(base: str, key: str, models: Sequence[str], seconds: float) -> Tally:
    """Run the clients for `seconds`; what they counted."""
    with Load(base, key, models) as running:
        time.sleep(seconds)
    return running.tally


def proxy_key_exchanges(gh: FakeGitHub) -> list[str]:
    """The GitHub tokens the proxy (LiteLLM) sent to the Copilot key exchange, in order."""
    return [
        r.headers.get("authorization", "").partition(" ")[2]
        for r in gh.requests
        if r.path == "/copilot_internal/v2/token"
        and r.headers.get("editor-version") == LITELLM_EDITOR
    ]
