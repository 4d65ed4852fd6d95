"""What the fake Copilot offers: its models (and the endpoints each serves), the quota it shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ModelInfo:
    id: str
    vendor: str = "OpenAI"
    kind: str = "chat"  # chat | embeddings
    endpoints: tuple[str, ...] = ("/chat/completions",)

    @property
    def is_claude(self) -> bool:
        return self.id.startswith("claude")


def default_models() -> dict[str, ModelInfo]:
    claude = ("/chat/completions", "/v1/messages")
    gpt5 = ("/chat/completions", "/responses")
    models = [
        ModelInfo("claude-opus-4.6", "Anthropic", endpoints=claude),
        ModelInfo("claude-opus-4.5", "Anthropic", endpoints=claude),
        ModelInfo("claude-opus-4.1", "Anthropic", endpoints=claude),
        ModelInfo("claude-sonnet-4.5", "Anthropic", endpoints=claude),
        ModelInfo("claude-sonnet-4", "Anthropic", endpoints=claude),
        ModelInfo("claude-haiku-4.5", "Anthropic", endpoints=claude),
        ModelInfo("gemini-3-pro-preview", "Google"),
        ModelInfo("gemini-2.5-pro", "Google"),
        ModelInfo("gpt-5-mini", endpoints=gpt5),
        ModelInfo("gpt-5", endpoints=gpt5),
        ModelInfo("gpt-5.3-codex", endpoints=("/responses",)),
        ModelInfo("gpt-4.1"),
        ModelInfo("gpt-4o"),
        ModelInfo("text-embedding-3-small", kind="embeddings", endpoints=("/embeddings",)),
    ]
    return {m.id: m for m in models}


def default_quota() -> dict[str, dict[str, Any]]:
    def snap(entitlement: int, remaining: int, unlimited: bool = False) -> dict[str, Any]:
        pct = 100.0 if unlimited else round(100.0 * remaining / entitlement, 1)
        return {
            "entitlement": entitlement,
            "remaining": remaining,
            "percent_remaining": pct,
            "unlimited": unlimited,
            "overage_count": 0,
            "overage_permitted": False,
        }

    return {
        "chat": snap(0, 0, unlimited=True),
        "completions": snap(0, 0, unlimited=True),
        "premium_interactions": snap(300, 240),
    }
