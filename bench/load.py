"""A closed-loop HTTP load generator: `concurrency` clients, each sending the next request
when its answer is in (what a handful of coding agents do), over kept-alive connections."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

TIMEOUT = 0  # the status recorded for a request that got no answer in time


@dataclass(frozen=True)
class Target:
    """Where requests go: the upstream itself ("direct") or a proxy in front of it."""

    name: str
    url: str  # the full chat completions URL
    headers: dict[str, str]
    pid: int | None = None  # the proxy process, for its CPU time


@dataclass
class Block:
    latencies: list[float] = field(default_factory=list)  # seconds, one per request
    errors: dict[int, int] = field(default_factory=dict)  # status -> count
    elapsed: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


def chat_body(model: str, stream: bool = False) -> dict[str, Any]:
    # A short coding-agent style turn; the fake answers "Hello from <model>."
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a careful coding assistant."},
            {"role": "user", "content": "Say hello in one short sentence."},
        ],
        "max_tokens": 64,
        "stream": stream,
    }


class Client:
    """One aiohttp session per target, so each keeps its own warm connections."""

    def __init__(self, concurrency: int = 16, timeout: float = 120.0) -> None:
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self.concurrency = concurrency
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def session(self, target: Target) -> aiohttp.ClientSession:
        if target.url not in self._sessions:
            connector = aiohttp.TCPConnector(limit=self.concurrency, force_close=False)
            self._sessions[target.url] = aiohttp.ClientSession(
                connector=connector, timeout=self.timeout
            )
        return self._sessions[target.url]

    async def close(self) -> None:
        for s in self._sessions.values():
            await s.close()
        self._sessions.clear()

    async def request(self, target: Target, body: dict[str, Any]) -> tuple[float, int]:
        """One non-streaming request: (seconds, status); status 0 for a timeout."""
        began = time.perf_counter()
        try:
            async with self.session(target).post(
                target.url, json=body, headers=target.headers
            ) as answer:
                await answer.read()
                return time.perf_counter() - began, answer.status
        except (TimeoutError, aiohttp.ClientError):
            return time.perf_counter() - began, TIMEOUT

    async def first_token(self, target: Target, body: dict[str, Any]) -> tuple[float, int]:
        """A streaming request: seconds to the first chunk that carries text, and the status."""
        began = time.perf_counter()
        seen: float | None = None
        try:
            async with self.session(target).post(
                target.url, json=body, headers=target.headers
            ) as answer:
                if answer.status != 200:
                    await answer.read()
                    return time.perf_counter() - began, answer.status
                async for raw in answer.content:
                    if seen is None and _has_text(raw):
                        seen = time.perf_counter() - began
                # Read to the end: the connection goes back to the pool for the next request.
        except (TimeoutError, aiohttp.ClientError):
            return time.perf_counter() - began, TIMEOUT
        return (seen if seen is not None else time.perf_counter() - began), answer.status

    async def block(
        self,
        target: Target,
        body: dict[str, Any],
        requests: int,
        concurrency: int,
        streaming: bool = False,
    ) -> Block:
        """`requests` requests spread over `concurrency` closed-loop clients."""
        result = Block()
        todo = iter(range(requests))
        call = self.first_token if streaming else self.request

        async def worker() -> None:
            for _ in todo:
                seconds, status = await call(target, body)
                if status == 200:
                    result.latencies.append(seconds)
                else:
                    result.errors[status] = result.errors.get(status, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - began
        return result

    async def alternate(
        self,
        calls: Sequence[tuple[Target, dict[str, Any]]],
        requests: int,
        streaming: bool = False,
    ) -> list[Block]:
        """One client sending one request to each call in turn (A B C, B C A, ...).

        Request-level interleaving: a burst of load from elsewhere on the machine
        hits every call alike, so their ratio holds even when absolute times drift.
        """
        blocks = [Block() for _ in calls]
        send = self.first_token if streaming else self.request
        began = time.perf_counter()
        for i in range(requests):
            for j in range(len(calls)):
                k = (i + j) % len(calls)
                target, body = calls[k]
                seconds, status = await send(target, body)
                if status == 200:
                    blocks[k].latencies.append(seconds)
                else:
                    blocks[k].errors[status] = blocks[k].errors.get(status, 0) + 1
        for b in blocks:
            b.elapsed = time.perf_counter() - began
        return blocks


def _has_text(raw: bytes) -> bool:
    line = raw.strip()
    if not line.startswith(b"data:") or line.endswith(b"[DONE]"):
        return False
    try:
        chunk = json.loads(line[5:])
    except ValueError:
        return False
    return any((c.get("delta") or {}).get("content") for c in chunk.get("choices") or ())
