"""The proxy's cost counters, on its `/metrics` (Prometheus text format).

Per proxy pod, labelled by the CopilotProxy's namespace and name and by the
Copilot model that served (a fallback's model, not the one asked for):
- `copilot_proxy_requests_total{initiator}`: requests served; those with
  `initiator="user"` are what Copilot counts as premium requests;
- `copilot_proxy_tokens_total{kind}`: `input` (uncached), `cached_input`, `output`;
- `copilot_proxy_ai_credits_total`: what Copilot's answers said they cost.
Counters live in prometheus_client's default registry, which the `/metrics`
mount serves (internals.mount_metrics), next to LiteLLM's own metrics when its
`prometheus` callback is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter

from copilot_proxy.litellm.usage import Usage

LABELS = ("namespace", "proxy", "model")

REQUESTS = Counter(
    "copilot_proxy_requests",
    "Requests served, by who started them (initiator=user: a premium request).",
    [*LABELS, "initiator"],
)
TOKENS = Counter(
    "copilot_proxy_tokens",
    "Tokens of the requests served: input (uncached), cached_input, output.",
    [*LABELS, "kind"],
)
CREDITS = Counter(
    "copilot_proxy_ai_credits",
    "AI credits the requests served cost, as Copilot's answers said (1 credit = $0.01).",
    LABELS,
)


def record(proxy: Mapping[str, Any], model: str, initiator: str, usage: Usage) -> None:
    """Count a served request; `proxy` is the settings' `proxy:` (namespace, name)."""
    labels = {
        "namespace": str(proxy.get("namespace") or ""),
        "proxy": str(proxy.get("name") or ""),
        "model": model,
    }
    REQUESTS.labels(**labels, initiator=initiator).inc()
    for kind, count in (
        ("input", usage.input_tokens),
        ("cached_input", usage.cached_tokens),
        ("output", usage.output_tokens),
    ):
        TOKENS.labels(**labels, kind=kind).inc(count)
    if usage.credits is not None:
        CREDITS.labels(**labels).inc(usage.credits)
