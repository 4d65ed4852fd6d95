"""What a request cost: its tokens, and the AI credits Copilot says it cost. Pure.

Copilot's answers carry `copilot_usage.total_nano_aiu` (1 AI credit = 1e9
nano AIU; on streams in the final event; docs/upstream.md, "Copilot:
billing"). LiteLLM drops that field on chat streams and on bridged routes, so
internals/copilot.py reads it off the bytes of every upstream answer as they pass
(`scan`), keyed by the `x-request-id` the hook sent with that attempt
(`Ledger`). Tokens come from LiteLLM's own record of the request.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NANO_AIU_PER_CREDIT = 1e9
MAX_TRACKED = 4096
TAIL = 4096  # bytes kept between chunks: a field split across two chunks is still found
# The field inside `copilot_usage` (which may hold objects one level deep), its number
# complete (followed by `,` `}` or `]`: not cut by the end of a chunk).
_NANO_AIU = re.compile(
    rb'"copilot_usage"\s*:\s*\{(?:[^{}]|\{[^{}]*\})*?"total_nano_aiu"\s*:\s*'
    rb"([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)(?=\s*[,}\]])"
)


@dataclass(frozen=True)
class Usage:
    input_tokens: int  # prompt tokens not read from the cache (cache writes included)
    cached_tokens: int  # prompt tokens read from the cache (a tenth of the price)
    output_tokens: int
    nano_aiu: float | None  # what Copilot said the request cost; None when it did not say

    @property
    def credits(self) -> float | None:
        return None if self.nano_aiu is None else self.nano_aiu / NANO_AIU_PER_CREDIT

    def describe(self) -> str:
        """The log line's part: `in=.. cached=.. out=.. credits=..` (`-` when unknown)."""
        credits = "-" if self.credits is None else f"{self.credits:.4f}"
        return (
            f"in={self.input_tokens} cached={self.cached_tokens} out={self.output_tokens}"
            f" credits={credits}"
        )


def tokens(logged: Mapping[str, Any]) -> tuple[int, int, int]:
    """(uncached input, cached input, output) from LiteLLM's standard logging object.

    Its `prompt_tokens` counts the cached tokens too (for Anthropic models also the
    cache writes), its usage object says how many were cached.
    """
    prompt = _int(logged.get("prompt_tokens"))
    output = _int(logged.get("completion_tokens"))
    meta = logged.get("metadata")
    used = meta.get("usage_object") if isinstance(meta, Mapping) else None
    cached = 0
    if isinstance(used, Mapping):
        details = used.get("prompt_tokens_details")
        cached = _int(details.get("cached_tokens")) if isinstance(details, Mapping) else 0
        cached = cached or _int(used.get("cache_read_input_tokens"))
    cached = min(cached, prompt)
    return prompt - cached, cached, output


def scan(data: bytes, after: int = 0) -> list[float]:
    """Every `copilot_usage.total_nano_aiu` in a piece of an answer's body that ends past
    byte `after` (the bytes before it were scanned already)."""
    return [float(m.group(1)) for m in _NANO_AIU.finditer(data) if m.end() > after]


class Ledger:
    """The nano AIU of the upstream attempts of each client request still running.

    `attempt` ties an attempt's `x-request-id` to its request (LiteLLM call id);
    `charged` adds what an answer said it cost; `settle` ends the request. A
    request that never ends is forgotten after `limit` newer ones.
    """

    def __init__(self, limit: int = MAX_TRACKED) -> None:
        self.limit = limit
        self._calls: OrderedDict[str, list[str]] = OrderedDict()  # call id -> its request ids
        self._call_of: dict[str, str] = {}  # x-request-id -> call id
        self._nano: dict[str, float] = {}  # call id -> nano AIU charged so far

    def attempt(self, call_id: str, request_id: str) -> None:
        self._calls.setdefault(call_id, []).append(request_id)
        self._calls.move_to_end(call_id)
        self._call_of[request_id] = call_id
        while len(self._calls) > self.limit:
            self._forget(next(iter(self._calls)))

    def charged(self, request_id: str, nano_aiu: float) -> None:
        call_id = self._call_of.get(request_id)
        if call_id is not None:
            self._nano[call_id] = self._nano.get(call_id, 0.0) + nano_aiu

    def settle(self, call_id: object) -> float | None:
        """The nano AIU a finished request cost (None: no answer said); forgotten now."""
        return self._forget(call_id) if isinstance(call_id, str) else None

    def _forget(self, call_id: str) -> float | None:
        for request_id in self._calls.pop(call_id, []):
            self._call_of.pop(request_id, None)
        return self._nano.pop(call_id, None)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
