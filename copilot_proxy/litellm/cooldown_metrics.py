"""The proxy's cooldowns as Prometheus metrics, on LiteLLM's `/metrics` (served when the
config enables LiteLLM's `prometheus` callback; it exposes the default registry).

- `copilot_proxy_model_cooldown_seconds{model,reason}`: seconds until a cooling model is
  tried again (computed at scrape time; absent when it is not cooling);
- `copilot_proxy_model_cooldown_until_timestamp_seconds{model,reason}`: when (Unix time);
- `copilot_proxy_model_cooldowns_total{model,reason}`: cooldowns started.
Per proxy process: each replica has its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from copilot_proxy.litellm.cooldowns import Cooldowns

STARTED = Counter(
    "copilot_proxy_model_cooldowns",
    "Cooldowns started, by Copilot model and reason (quota_exceeded, user_weekly_rate_limited...).",
    ["model", "reason"],
)


class CooldownCollector(Collector):
    def __init__(self, cooldowns: Cooldowns, clock: Callable[[], float] = time.monotonic) -> None:
        self.cooldowns = cooldowns
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        left = GaugeMetricFamily(
            "copilot_proxy_model_cooldown_seconds",
            "Seconds until a cooling Copilot model is tried again.",
            labels=["model", "reason"],
        )
        until = GaugeMetricFamily(
            "copilot_proxy_model_cooldown_until_timestamp_seconds",
            "When a cooling Copilot model is tried again (Unix time).",
            labels=["model", "reason"],
        )
        for model, cooling in sorted(self.cooldowns.active(self.clock()).items()):
            labels = [model, cooling.failure.reason]
            left.add_metric(labels, round(cooling.seconds, 3))
            until.add_metric(labels, round(cooling.until_wall, 3))
        yield left
        yield until


_registered: list[CooldownCollector] = []


def register(cooldowns: Cooldowns) -> None:
    """Expose `cooldowns` on the default registry (once per process)."""
    if not _registered:
        collector = CooldownCollector(cooldowns)
        REGISTRY.register(collector)
        _registered.append(collector)


def started(model: str, reason: str) -> None:
    STARTED.labels(model=model, reason=reason).inc()
