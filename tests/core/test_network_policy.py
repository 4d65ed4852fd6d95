"""The proxy pods' NetworkPolicy: only the configured peers in, only DNS, GitHub and the
spec's MCP servers out; the configuration is the administrator's, never the resource's."""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import latest_version

from copilot_proxy.core import manifests, names
from copilot_proxy.core.network_policy import (
    NetworkPolicyConfigError,
    PolicyConfig,
    network_policy,
    parse_config,
)
from copilot_proxy.core.spec import ProxySpec, parse_spec

OWNER = manifests.owner_reference("copilot", "0b6e4c7a-1111-2222-3333-444455556666")


def parsed(**fields: Any) -> ProxySpec:
    return parse_spec("copilot", "team-a", {"models": [{"name": "gpt-5-mini"}], **fields})


def egress_ports(policy: dict[str, Any]) -> set[tuple[int, str]]:
    return {(p["port"], p["protocol"]) for rule in policy["spec"]["egress"] for p in rule["ports"]}


def test_only_the_proxy_pods_are_selected_and_the_proxy_owns_it() -> None:
    policy = network_policy(parsed(), PolicyConfig(), OWNER)
    assert policy["metadata"]["name"] == "copilot-litellm"
    assert policy["metadata"]["ownerReferences"] == [OWNER]
    assert policy["spec"]["podSelector"] == {"matchLabels": names.selector("copilot")}
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    kubernetes_validate.validate(policy, latest_version(), strict=True)


def test_by_default_only_the_proxys_own_namespace_may_call_it() -> None:
    (ingress,) = network_policy(parsed(), PolicyConfig(), OWNER)["spec"]["ingress"]
    assert ingress == {"from": [{"podSelector": {}}], "ports": [{"port": 4000, "protocol": "TCP"}]}


def test_out_only_dns_github_and_the_mcp_servers_ports() -> None:
    plain = network_policy(parsed(), PolicyConfig(), OWNER)
    assert egress_ports(plain) == {(53, "UDP"), (53, "TCP"), (443, "TCP")}
    mcp = {"a": {"url": "http://memory.ai.svc:8080/mcp"}, "b": {"url": "https://s.example/sse"}}
    with_mcp = network_policy(parsed(mcpServers=mcp), PolicyConfig(), OWNER)
    assert egress_ports(with_mcp) == {(53, "UDP"), (53, "TCP"), (443, "TCP"), (8080, "TCP")}


def test_a_server_the_operator_runs_is_reached_on_its_bridge_port() -> None:
    mcp = {"memory": {"preset": "memory"}}
    policy = network_policy(parsed(mcpServers=mcp), PolicyConfig(), OWNER)
    assert egress_ports(policy) == {(53, "UDP"), (53, "TCP"), (443, "TCP"), (8000, "TCP")}


def test_the_metrics_scrapers_reach_the_proxy_port_as_a_rule_of_their_own() -> None:
    scraper = {"namespaceSelector": {"matchLabels": {"team": "monitoring"}}}
    config = parse_config(json.dumps({"ingressFrom": [], "metricsFrom": [scraper]}))
    assert config is not None
    ingress = network_policy(parsed(), config, OWNER)["spec"]["ingress"]
    port = [{"port": 4000, "protocol": "TCP"}]
    assert ingress == [
        {"from": [{"podSelector": {}}], "ports": port},
        {"from": [scraper], "ports": port},
    ]


@pytest.mark.parametrize(
    ("text", "peers"),
    [
        ('{"ingressFrom": []}', [{"podSelector": {}}]),
        (
            '{"ingressFrom": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}]}',
            [{"namespaceSelector": {"matchLabels": {"team": "a"}}}],
        ),
    ],
)
def test_the_administrator_lists_the_peers(text: str, peers: list[dict[str, Any]]) -> None:
    config = parse_config(text)
    assert config is not None
    (ingress,) = network_policy(parsed(), config, OWNER)["spec"]["ingress"]
    assert ingress["from"] == peers


@pytest.mark.parametrize("text", ["", "  ", '{"enabled": false}'])
def test_none_without_configuration(text: str) -> None:
    assert parse_config(text) is None


@pytest.mark.parametrize(
    "text", ["{", "[]", '{"ingress": []}', '{"ingressFrom": [{}]}', '{"metricsFrom": [{}]}']
)
def test_a_malformed_configuration_is_refused(text: str) -> None:
    with pytest.raises(NetworkPolicyConfigError):
        parse_config(text)
