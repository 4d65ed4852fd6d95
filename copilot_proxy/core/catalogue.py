"""The account's Copilot catalogue, as the proxy needs it (pure).

`GET {endpoints.api}/models` lists what a Copilot account may use: per model its
type, limits, supported endpoints and, for models that need an opt-in, a policy
(docs/upstream.md, "Copilot: the catalogue"). The operator and the local mode read
it (copilot_proxy/github/catalogue.py) and keep what concerns the models a proxy
serves: a `Catalogue`. It feeds the rendered config (context windows, the
Responses-only models) and the `ModelsAvailable` condition, and survives in the
CopilotProxy's status so a restart without GitHub renders the same config.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

AVAILABLE, NOT_ENABLED, MISSING = "Available", "NotEnabled", "Missing"
CHAT_ENDPOINTS = ("/chat/completions", "/v1/messages")


@dataclass(frozen=True)
class ModelFacts:
    """One model of the catalogue; `state` says whether the account may use it."""

    name: str
    state: str = AVAILABLE  # Available | NotEnabled (policy not enabled) | Missing (not listed)
    kind: str = "chat"  # chat | embeddings | completion
    max_prompt_tokens: int | None = None
    max_output_tokens: int | None = None
    endpoints: tuple[str, ...] = ()

    @property
    def responses_only(self) -> bool:
        """Served on /responses and not on chat completions or messages (the codex models)."""
        return "/responses" in self.endpoints and not set(CHAT_ENDPOINTS) & set(self.endpoints)


@dataclass(frozen=True)
class Catalogue:
    """What one observation of the catalogue says about the models a proxy serves."""

    models: Mapping[str, ModelFacts] = field(default_factory=dict)
    observed_at: str = ""  # RFC 3339, when GitHub answered
    quota_reset_date: str = ""  # copilot_internal/user's quota_reset_date, "" if unknown

    def facts(self, name: str) -> ModelFacts | None:
        return self.models.get(name)


def parse_models(body: Any) -> dict[str, ModelFacts]:
    """Every model of a `GET /models` answer; fields read defensively (they move)."""
    data = body.get("data") if isinstance(body, Mapping) else None
    models: dict[str, ModelFacts] = {}
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            continue
        caps = _mapping(item.get("capabilities"))
        limits = _mapping(caps.get("limits"))
        policy = item.get("policy")
        # Zed and CopilotChat.nvim: only a model with a policy needs an opt-in.
        state = _mapping(policy).get("state") if isinstance(policy, Mapping) else "enabled"
        endpoints = item.get("supported_endpoints")
        models[item["id"]] = ModelFacts(
            name=item["id"],
            state=AVAILABLE if state == "enabled" else NOT_ENABLED,
            kind=str(caps.get("type") or "chat"),
            max_prompt_tokens=_count(limits.get("max_prompt_tokens"))
            or _count(limits.get("max_context_window_tokens")),
            max_output_tokens=_count(limits.get("max_output_tokens")),
            endpoints=tuple(str(e) for e in endpoints) if isinstance(endpoints, list) else (),
        )
    return models


def observe(
    listed: Mapping[str, ModelFacts], names: Iterable[str], observed_at: str, reset: str = ""
) -> Catalogue:
    """The catalogue's facts about `names` (a model the account lacks is Missing)."""
    return Catalogue(
        models={n: listed.get(n) or ModelFacts(n, state=MISSING) for n in dict.fromkeys(names)},
        observed_at=observed_at,
        quota_reset_date=reset,
    )


def settings_url(web_base: str) -> str:
    """Where an account enables models: github.com or the GHE.com tenant (docs/upstream.md)."""
    return f"{web_base.rstrip('/')}/settings/copilot/features"


def unavailable(catalogue: Catalogue, chain: Iterable[str]) -> list[ModelFacts]:
    """The chain's models the account cannot use, in chain order."""
    return [f for n in chain if (f := catalogue.facts(n)) is not None and f.state != AVAILABLE]


def describe_unavailable(models: Iterable[ModelFacts], web_base: str) -> str:
    """One sentence per model, with where to fix it."""
    url = settings_url(web_base)
    parts = []
    for f in models:
        if f.state == NOT_ENABLED:
            parts.append(f"{f.name} is not enabled for this account: enable it at {url}")
        else:
            parts.append(
                f"{f.name} is not offered to this account (plan or organisation policy);"
                f" see {url} or pick another model"
            )
    return "; ".join(parts)


# ----- the status field that keeps the last good observation -------------------------


def to_status(catalogue: Catalogue) -> dict[str, Any]:
    models = []
    for f in catalogue.models.values():
        entry: dict[str, Any] = {"name": f.name, "state": f.state, "type": f.kind}
        if f.max_prompt_tokens:
            entry["maxPromptTokens"] = f.max_prompt_tokens
        if f.max_output_tokens:
            entry["maxOutputTokens"] = f.max_output_tokens
        if f.endpoints:
            entry["endpoints"] = list(f.endpoints)
        models.append(entry)
    out: dict[str, Any] = {"observedAt": catalogue.observed_at, "models": models}
    if catalogue.quota_reset_date:
        out["quotaResetDate"] = catalogue.quota_reset_date
    return out


def from_status(raw: Any) -> Catalogue | None:
    """The observation a status recorded (None when there is none)."""
    if not isinstance(raw, Mapping) or not raw.get("observedAt"):
        return None
    models: dict[str, ModelFacts] = {}
    for m in raw.get("models") or []:
        if isinstance(m, Mapping) and isinstance(m.get("name"), str):
            models[m["name"]] = ModelFacts(
                name=m["name"],
                state=str(m.get("state") or AVAILABLE),
                kind=str(m.get("type") or "chat"),
                max_prompt_tokens=_count(m.get("maxPromptTokens")),
                max_output_tokens=_count(m.get("maxOutputTokens")),
                endpoints=tuple(str(e) for e in m.get("endpoints") or ()),
            )
    return Catalogue(models, str(raw["observedAt"]), str(raw.get("quotaResetDate") or ""))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
