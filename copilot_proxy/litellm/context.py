"""Prompt sizes against Copilot's prompt windows, before any upstream call (pure).

The rendered config gives each model the `max_input_tokens` of the account's
catalogue (core/render.py). The hook counts a request once with LiteLLM's own
counter (tiktoken cl100k_base: what LiteLLM's pre-call checks use) and scales it by
the model's family, since Copilot counts with each vendor's tokenizer:

    Copilot tokens ~= cl100k tokens x FACTORS[family]

The factors were measured against the fake Copilot's counts (testkit/fake_github/
tokens.py: o200k for GPT, Anthropic's 3.5 and Google's 4 characters per token) on 22
request bodies of the real Claude Code CLI 2.1.332: within -3.3% .. +2.0% there for
Claude, where cl100k alone is 27% low (docs/upstream.md, "Copilot: prompt limits and
token counts"). A model whose window is too small for the
request is dropped from the candidates; when none is left LiteLLM falls back to the
next model of the chain, and when no model fits the client gets one 400 in Anthropic's
words ("prompt is too long: N tokens > M maximum"), which Claude Code reads to trim.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

FACTORS = {"claude": 1.36, "gemini": 1.19}  # Copilot tokens per cl100k token
DEFAULT_FACTOR = 1.07  # GPT (o200k) and others
TOO_LONG_STATUS = 400
REASON = "context_window_exceeded"
MAX_TRACKED = 4096


def family(model: str) -> str:
    name = model.removeprefix("github_copilot/")
    return next((f for f in FACTORS if name.startswith(f)), "")


def estimate(cl100k: int, model: str) -> int:
    """The prompt tokens Copilot will likely count for `model`."""
    return math.ceil(cl100k * FACTORS.get(family(model), DEFAULT_FACTOR))


def limit_of(deployment: Mapping[str, Any]) -> int | None:
    """A deployment's prompt window, from its `model_info` (the catalogue's limit)."""
    info = deployment.get("model_info")
    value = info.get("max_input_tokens") if isinstance(info, Mapping) else None
    return value if isinstance(value, int) and value > 0 else None


@dataclass(frozen=True)
class Refusal:
    """A model skipped because the request is larger than its prompt window."""

    model: str
    limit: int
    tokens: int


def fit(
    deployments: Sequence[Mapping[str, Any]], cl100k: int, model_of: Any
) -> tuple[list[Mapping[str, Any]], list[Refusal]]:
    """The deployments whose window takes the request, and a Refusal for each other one.

    `model_of(deployment)` is the Copilot model a deployment calls.
    """
    keep: list[Mapping[str, Any]] = []
    refused: list[Refusal] = []
    for deployment in deployments:
        limit, model = limit_of(deployment), str(model_of(deployment))
        tokens = estimate(cl100k, model)
        if limit is None or tokens <= limit:
            keep.append(deployment)
        else:
            refused.append(Refusal(model, limit, tokens))
    return keep, refused


def too_long(asked: str, refusals: Sequence[Refusal]) -> str:
    """The error when no model of the chain takes the request: Anthropic's wording first
    (Claude Code parses it), then each model's window."""
    models = list({r.model: r for r in refusals}.values())
    tokens, biggest = max(r.tokens for r in models), max(r.limit for r in models)
    each = ", ".join(f"{r.model} {r.limit}" for r in models)
    return (
        f"prompt is too long: {tokens} tokens > {biggest} maximum. No model for '{asked}'"
        f" takes a prompt this large (prompt tokens each accepts: {each}; the request's size"
        " is copilot-proxy's estimate of Copilot's count). Shorten the conversation"
        " (Claude Code: /compact)."
    )


class Counts:
    """The cl100k count of each running request (once per request, not per hop)."""

    def __init__(self, limit: int = MAX_TRACKED) -> None:
        self.limit = limit
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._refused: dict[str, list[Refusal]] = {}

    def get(self, call_id: str) -> int | None:
        return self._counts.get(call_id)

    def put(self, call_id: str, count: int) -> None:
        self._counts[call_id] = count
        self._counts.move_to_end(call_id)
        while len(self._counts) > self.limit:
            old, _ = self._counts.popitem(last=False)
            self._refused.pop(old, None)

    def refuse(self, call_id: str, refusals: Sequence[Refusal]) -> None:
        self._refused.setdefault(call_id, []).extend(refusals)

    def pop(self, call_id: object) -> list[Refusal]:
        """The refusals of a request that ended, forgotten now with its count."""
        if not isinstance(call_id, str):
            return []
        self._counts.pop(call_id, None)
        return self._refused.pop(call_id, [])
