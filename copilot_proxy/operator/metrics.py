"""The operator's own Prometheus metrics, served on its metrics port."""

from __future__ import annotations

import threading
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RECONCILES = Counter(
    "copilot_proxy_reconciles_total",
    "Reconciliations of CopilotProxies, by what triggered them and how they ended.",
    ["trigger", "result"],
)
ERRORS = Counter(
    "copilot_proxy_reconcile_errors_total",
    "Reconciliations that failed (API errors, bugs) and will be retried.",
    ["trigger"],
)
DURATION = Histogram(
    "copilot_proxy_reconcile_duration_seconds",
    "How long one reconciliation took.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ROLLOUTS = Counter(
    "copilot_proxy_rollouts_total", "Proxy pod rollouts started (config or token changed)."
)
PROXIES = Gauge(
    "copilot_proxy_proxies",
    "CopilotProxies by condition and its status.",
    ["condition", "status"],
)

_conditions: dict[tuple[str, str], dict[str, str]] = {}
_guard = threading.Lock()


def observe(namespace: str, name: str, status: dict[str, Any]) -> None:
    with _guard:
        _conditions[(namespace, name)] = {
            c["type"]: c["status"] for c in status.get("conditions") or []
        }
        _publish()


def forget(namespace: str, name: str) -> None:
    with _guard:
        _conditions.pop((namespace, name), None)
        _publish()


def _publish() -> None:
    counts: dict[tuple[str, str], int] = {}
    for conds in _conditions.values():
        for kind, value in conds.items():
            counts[(kind, value)] = counts.get((kind, value), 0) + 1
    PROXIES.clear()
    for (kind, value), count in counts.items():
        PROXIES.labels(condition=kind, status=value).set(count)


def serve(port: int) -> None:
    start_http_server(port)
