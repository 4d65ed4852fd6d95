"""How the fake Copilot bills (2026): prompt caching, AI credits, premium requests. Pure.

- Prices: GitHub's per-model table (copilot_proxy/core/prices.py, from github/docs
  `models-and-pricing.yml`), plus assumed prices for the older models this fake
  still offers. An answer carries `copilot_usage.total_nano_aiu`: its cost,
  1 AI credit ($0.01) = 1e9 nano AIU (docs/upstream.md, "Copilot: billing").
- Prompt caching: Anthropic-style on `/v1/messages` (a prefix up to a
  `cache_control` breakpoint is written, then read by later requests that
  repeat it), automatic on the OpenAI APIs (the longest prefix of tools and
  messages seen before is read). Prefixes under 1024 tokens are not cached,
  as with the real models.
- Premium requests: a request counts as one unless its `X-Initiator` is
  `agent` (missing means `user`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from copilot_proxy.core.prices import PRICES, Price
from testkit.fake_github.tokens import part_tokens, prompt_tokens

NANO_AIU_PER_DOLLAR = 1e11  # 100 credits a dollar, 1e9 nano AIU a credit
MIN_CACHED_TOKENS = 1024
# Models of the fake's catalogue that GitHub's 2026 table no longer lists: their
# vendors' list prices (assumed).
OLDER: dict[str, Price] = {
    "claude-opus-4.1": Price(15.00, 1.50, 75.00, 18.75),
    "gemini-2.5-pro": Price(1.25, 0.125, 10.00),
    "gpt-5": Price(1.25, 0.125, 10.00),
    "gpt-4.1": Price(2.00, 0.50, 8.00),
    "gpt-4o": Price(2.50, 1.25, 10.00),
    "text-embedding-3-small": Price(0.02, 0.02, 0.0),
}
FALLBACK = Price(1.00, 0.10, 5.00)  # a model the test added without a price


@dataclass(frozen=True)
class Tokens:
    uncached: int  # input tokens neither read from nor written to the cache
    read: int  # read from the cache
    written: int  # written to the cache (Anthropic)
    output: int

    @property
    def prompt(self) -> int:
        return self.uncached + self.read + self.written


@dataclass(frozen=True)
class Bill:
    """One answered Copilot request, as GitHub would bill it."""

    model: str
    initiator: str  # the X-Initiator it carried ("" when none: counted as user)
    tokens: Tokens
    nano_aiu: int
    payer: str = ""  # the account billed: the user's login, or an App installation's org
    app_id: int | None = None  # the App whose installation token asked, if one did
    installation_id: int | None = None

    @property
    def premium(self) -> bool:
        return self.initiator.lower() != "agent"


def price_of(model: str) -> Price:
    return PRICES.get(model) or OLDER.get(model) or FALLBACK


def nano_aiu(model: str, tokens: Tokens) -> int:
    p = price_of(model)
    dollars = (
        tokens.uncached * p.input
        + tokens.read * p.cached_input
        + tokens.written * (p.cache_write if p.cache_write is not None else p.input)
        + tokens.output * p.output
    ) / 1e6
    return round(dollars * NANO_AIU_PER_DOLLAR)


class PromptCache:
    """The prompt prefixes this fake has cached (by hash), across all requests.

    A prompt's tokens are the fake's one count (tokens.prompt_tokens, also its usage,
    count_tokens and prompt-limit check, by the model's vendor); its prefixes are sized a
    part at a time (tokens.part_tokens), never more than the whole.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def anthropic(self, body: dict[str, Any], vendor: str, output: int) -> Tokens:
        """A /v1/messages request: what it reads and writes at its `cache_control` marks."""
        parts = _anthropic_parts(body)
        total = prompt_tokens(vendor, body)
        size = _sizes(parts, vendor, total)
        marks = [i + 1 for i, p in enumerate(parts) if _marked(p)]
        prefixes = {n: digest for n, digest in _prefix_digests(parts) if n in marks}
        cacheable = [n for n in marks if size[n] >= MIN_CACHED_TOKENS]
        hits = [n for n in cacheable if prefixes[n] in self._seen]
        read = size[max(hits)] if hits else 0
        last = max(cacheable) if cacheable else 0
        written = size[last] - read if last and last not in hits else 0
        self._seen.update(prefixes[n] for n in cacheable)
        return Tokens(max(total - read - written, 0), read, max(written, 0), output)

    def openai(
        self, body: dict[str, Any], parts: Sequence[Any], vendor: str, output: int
    ) -> Tokens:
        """A chat or responses request (`parts`: its tools, instructions and messages or
        input items, in order): it reads the longest prefix seen before."""
        items = list(parts)
        total = prompt_tokens(vendor, body)
        size = _sizes(items, vendor, total)
        read = 0
        for n, digest in _prefix_digests(items):
            if size[n] < MIN_CACHED_TOKENS:
                continue
            if digest in self._seen:
                read = size[n]
            self._seen.add(digest)
        return Tokens(max(total - read, 0), read, 0, output)


def _sizes(parts: Sequence[Any], vendor: str, total: int) -> list[int]:
    """size[n]: the tokens of parts[:n], at most `total`."""
    counts = (part_tokens(vendor, p) for p in parts)
    return [min(n, total) for n in accumulate(counts, initial=0)]


def _anthropic_parts(body: dict[str, Any]) -> list[Any]:
    """Tools, system blocks, then every message's blocks: the order Anthropic caches in."""
    system = body.get("system")
    blocks = [{"type": "text", "text": system}] if isinstance(system, str) else system or []
    parts: list[Any] = [*(body.get("tools") or []), *blocks]
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else [content]:
            parts.append({"role": message.get("role"), "block": block})
    return parts


def _marked(part: Any) -> bool:
    block = part.get("block", part) if isinstance(part, dict) else None
    return isinstance(block, dict) and bool(block.get("cache_control"))


def _prefix_digests(parts: Sequence[Any]) -> list[tuple[int, str]]:
    """(n, digest of parts[:n]) for every n, in one pass."""
    running = hashlib.sha256()
    out = []
    for n, part in enumerate(parts, start=1):
        running.update(json.dumps(part, sort_keys=True).encode())
        out.append((n, running.copy().hexdigest()))
    return out
