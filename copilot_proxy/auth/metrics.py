"""Prometheus metrics of the login service: token state and Copilot quota per proxy.

One registry per app (tests build several). Labels name proxies and quota
kinds, never a login or a token.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from copilot_proxy.auth.stores.protocol import ProxyInfo
from copilot_proxy.core.timestamps import parse_rfc3339
from copilot_proxy.github.copilot import Usage

PROXY = ["namespace", "proxy"]
QUOTA = [*PROXY, "quota"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # The per-proxy gauges, replaced as a whole by observe().
        self._gauges: list[Gauge] = []

        def gauge(name: str, doc: str, labels: list[str]) -> Gauge:
            g = Gauge(name, doc, labels, registry=self.registry)
            self._gauges.append(g)
            return g

        def counter(name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
            return Counter(name, doc, labels, registry=self.registry)

        self.token_present = gauge(
            "copilot_auth_token_present", "1 when the proxy has a GitHub token.", PROXY
        )
        self.token_age = gauge(
            "copilot_auth_token_age_seconds",
            "Seconds since the login service last stored the proxy's token.",
            PROXY,
        )
        self.remaining = gauge(
            "copilot_auth_quota_remaining",
            "Copilot quota left in this period (copilot_internal/user).",
            QUOTA,
        )
        self.entitlement = gauge(
            "copilot_auth_quota_entitlement", "Copilot quota per period.", QUOTA
        )
        self.percent = gauge(
            "copilot_auth_quota_percent_remaining", "Copilot quota left, in percent.", QUOTA
        )
        self.unlimited = gauge(
            "copilot_auth_quota_unlimited", "1 when the quota is unlimited.", QUOTA
        )
        self.reset = gauge(
            "copilot_auth_quota_reset_timestamp_seconds",
            "When the Copilot quota resets (Unix time).",
            PROXY,
        )
        self.logins_started = counter(
            "copilot_auth_logins_started_total", "Device-flow logins started.", PROXY
        )
        self.logins_finished = counter(
            "copilot_auth_logins_finished_total",
            "Device-flow logins finished, by result (connected, expired, denied, ...).",
            [*PROXY, "result"],
        )
        self.rate_limited = counter(
            "copilot_auth_rate_limited_total",
            "Requests refused by a rate limit, by limit (client, global, credential).",
            ["limit"],
        )
        self.credential_failures = counter(
            "copilot_auth_credential_failures_total", "Admin credentials that unlocked nothing."
        )

    def observe(self, proxies: Sequence[tuple[ProxyInfo, Usage | None]], now: float) -> None:
        """Replace the per-proxy gauges with the current state (proxies come and go)."""
        for g in self._gauges:
            g.clear()
        for info, usage in proxies:
            labels = (info.ref.namespace, info.ref.name)
            self.token_present.labels(*labels).set(1 if info.token.present else 0)
            age = info.token.age(now)
            if age is not None:
                self.token_age.labels(*labels).set(age)
            if usage is None:
                continue
            reset = parse_rfc3339(usage.reset_date) if usage.reset_date else None
            if reset is not None:
                self.reset.labels(*labels).set(reset.timestamp())
            for q in usage.quotas:
                ql = (*labels, q.kind)
                self.unlimited.labels(*ql).set(1 if q.unlimited else 0)
                for gauge, value in (
                    (self.remaining, q.remaining),
                    (self.entitlement, q.entitlement),
                    (self.percent, q.percent_remaining),
                ):
                    if value is not None:
                        gauge.labels(*ql).set(value)

    def render(self) -> bytes:
        return generate_latest(self.registry)
