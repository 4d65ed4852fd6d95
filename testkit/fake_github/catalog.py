"""What the fake Copilot offers: its models (endpoints, limits, policy), the quota it shows.

`ModelInfo.listing()` is one entry of `GET {endpoints.api}/models` as Copilot answers it in
2026 (docs/upstream.md, "Copilot: the catalogue"). The limits are claims (Copilot's real
numbers differ per model and move); what matters is that they are smaller than the vendors'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

CLAUDE = ("/chat/completions", "/v1/messages")
GPT5 = ("/chat/completions", "/responses")


@dataclass
class ModelInfo:
    id: str
    vendor: str = "Azure OpenAI"
    kind: str = "chat"  # chat | embeddings
    endpoints: tuple[str, ...] = ("/chat/completions",)
    max_prompt_tokens: int = 128000
    max_output_tokens: int = 16384
    # None: no policy field (the model needs no opt-in); else enabled | disabled | unconfigured
    policy: str | None = None
    preview: bool = False
    picker: bool = True  # model_picker_enabled

    @property
    def is_claude(self) -> bool:
        return self.id.startswith("claude")

    @property
    def enabled(self) -> bool:
        """A model with a policy answers 400 model_not_supported until it is enabled."""
        return self.policy in (None, "enabled")

    def listing(self) -> dict[str, Any]:
        limits: dict[str, Any]
        if self.kind == "embeddings":
            limits = {"max_inputs": 512}
        else:
            limits = {
                "max_prompt_tokens": self.max_prompt_tokens,
                "max_output_tokens": self.max_output_tokens,
                "max_context_window_tokens": self.max_prompt_tokens + self.max_output_tokens,
            }
        entry: dict[str, Any] = {
            "id": self.id,
            "object": "model",
            "name": self.id,
            "version": self.id,
            "vendor": self.vendor,
            "preview": self.preview,
            "model_picker_enabled": self.picker,
            "capabilities": {
                "object": "model_capabilities",
                "type": self.kind,
                "family": self.id,
                "tokenizer": "cl100k_base" if self.kind == "embeddings" else "o200k_base",
                "limits": limits,
                "supports": {"streaming": self.kind == "chat", "tool_calls": self.kind == "chat"},
            },
            "supported_endpoints": list(self.endpoints),
        }
        if self.policy is not None:
            entry["policy"] = {"state": self.policy, "terms": f"Enable access to {self.id}."}
        return entry


def default_models() -> dict[str, ModelInfo]:
    def claude(model: str, output: int = 32000) -> ModelInfo:
        return ModelInfo(
            model, "Anthropic", endpoints=CLAUDE, max_output_tokens=output, policy="enabled"
        )

    models = [
        claude("claude-opus-4.6", output=64000),
        claude("claude-opus-4.5"),
        claude("claude-opus-4.1"),
        claude("claude-sonnet-4.5"),
        claude("claude-sonnet-4"),
        claude("claude-haiku-4.5"),
        ModelInfo(
            "gemini-3-pro-preview",
            "Google",
            max_output_tokens=64000,
            policy="enabled",
            preview=True,
        ),
        ModelInfo("gemini-2.5-pro", "Google", max_output_tokens=64000, policy="enabled"),
        ModelInfo("gpt-5-mini", endpoints=GPT5, max_output_tokens=64000),
        ModelInfo("gpt-5", endpoints=GPT5, max_output_tokens=64000),
        # The codex models answer on /responses only (unsupported_api_for_model elsewhere);
        # LiteLLM 1.108.7's cost map knows gpt-5.3-codex is one, not gpt-5.1-codex.
        ModelInfo(
            "gpt-5.1-codex",
            endpoints=("/responses",),
            max_prompt_tokens=128000,
            max_output_tokens=128000,
        ),
        ModelInfo(
            "gpt-5.3-codex",
            endpoints=("/responses",),
            max_prompt_tokens=272000,
            max_output_tokens=128000,
        ),
        ModelInfo("gpt-4.1"),
        ModelInfo("gpt-4o", max_prompt_tokens=64000, max_output_tokens=4096),
        # Needs an opt-in the account has not given: listed, but model_not_supported on use.
        ModelInfo("grok-code-fast-1", "xAI", max_output_tokens=64000, policy="unconfigured"),
        ModelInfo(
            "text-embedding-3-small", kind="embeddings", endpoints=("/embeddings",), picker=False
        ),
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


def next_month(today: date | None = None) -> str:
    """The first day of next month: when a monthly Copilot quota resets (`quota_reset_date`)."""
    day = today or datetime.now(UTC).date()
    return date(day.year + day.month // 12, day.month % 12 + 1, 1).isoformat()
