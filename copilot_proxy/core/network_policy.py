"""The proxy pods' NetworkPolicy (pure): who may call a proxy, and where it may call out.

On by default with the Helm chart (`COPILOT_PROXY_NETWORK_POLICY`, JSON, from the
values `networkPolicy`); without that variable the operator makes none (it could
not assume the RBAC). Ingress: the proxy port, from the peers the administrator
lists, by default the pods of the proxy's own namespace (`kubectl port-forward`
is not subject to NetworkPolicies), and from the metrics scrapers (`metricsFrom`:
the chart's networkPolicy.metricsIngressFrom while serviceMonitor.proxies is on;
/metrics/ answers without a key, the API still asks for it). Egress: DNS; 443 for
GitHub and Copilot (hosts on the internet: a NetworkPolicy cannot name them, only
ports); the ports of the MCP servers the spec lists (the bridge's, for a server
the operator runs). Kubelet probes are always allowed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from copilot_proxy.core import manifests, mcp_config, names
from copilot_proxy.core.spec import ProxySpec

POLICY_ENV = "COPILOT_PROXY_NETWORK_POLICY"
SAME_NAMESPACE: list[dict[str, Any]] = [{"podSelector": {}}]

Obj = dict[str, Any]


class NetworkPolicyConfigError(ValueError):
    """COPILOT_PROXY_NETWORK_POLICY is malformed (the administrator's mistake)."""


@dataclass(frozen=True)
class PolicyConfig:
    """Peers allowed to call the proxies, and to scrape them (NetworkPolicyPeer objects,
    as Kubernetes has them)."""

    ingress_from: tuple[Obj, ...] = field(default_factory=lambda: tuple(SAME_NAMESPACE))
    metrics_from: tuple[Obj, ...] = ()


def parse_config(text: str) -> PolicyConfig | None:
    """None (no NetworkPolicies) for '' or `{"enabled": false}`; else the peers."""
    if not text.strip():
        return None
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise NetworkPolicyConfigError(f"{POLICY_ENV} is not JSON: {error}") from None
    if not isinstance(raw, dict) or set(raw) - {"enabled", "ingressFrom", "metricsFrom"}:
        raise NetworkPolicyConfigError(
            f"{POLICY_ENV}: expected {{enabled, ingressFrom, metricsFrom}}"
        )
    if raw.get("enabled", True) is False:
        return None
    return PolicyConfig(
        ingress_from=_peers(raw.get("ingressFrom") or SAME_NAMESPACE, "ingressFrom"),
        metrics_from=_peers(raw.get("metricsFrom") or [], "metricsFrom"),
    )


def _peers(peers: Any, key: str) -> tuple[Obj, ...]:
    if not isinstance(peers, list) or not all(isinstance(p, dict) and p for p in peers):
        raise NetworkPolicyConfigError(f"{POLICY_ENV}: {key} must list NetworkPolicy peers")
    return tuple(peers)


def name(proxy: str) -> str:
    return names.deployment(proxy)


def mcp_ports(spec: ProxySpec) -> list[int]:
    """The TCP ports of the MCP servers the proxy connects to."""
    ports = set()
    for server in spec.mcp_servers:
        url = urlsplit(mcp_config.endpoint(spec, server))
        ports.add(url.port or (443 if url.scheme == "https" else 80))
    return sorted(ports)


def network_policy(spec: ProxySpec, config: PolicyConfig, owner: Obj | None) -> Obj:
    tcp = [443, *(p for p in mcp_ports(spec) if p != 443)]
    proxy_port = {"port": names.PORT, "protocol": "TCP"}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": manifests.metadata(name(spec.name), spec, owner),
        "spec": {
            "podSelector": {"matchLabels": names.selector(spec.name)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {"from": [dict(peer) for peer in peers], "ports": [proxy_port]}
                for peers in (config.ingress_from, config.metrics_from)
                if peers
            ],
            "egress": [
                {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
                {"ports": [{"port": port, "protocol": "TCP"} for port in tcp]},
            ],
        },
    }
