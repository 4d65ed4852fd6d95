"""Rule 5 of issue 11, NetworkPolicies on by default: the chart isolates its own pods, and the
operator, configured as the chart configures it, gives every proxy one that admits callers
only from where the values allow (default: the proxy's namespace) and lets it out only to
DNS, GitHub and its MCP servers. A CopilotProxy's author cannot widen it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from copilot_proxy.core.network_policy import POLICY_ENV, network_policy, parse_config
from copilot_proxy.core.spec import parse_spec
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from tests.chart.conftest import NAMESPACE, Rendered, containers
from tests.security.harness import NS, proxy, real_helm, running_operator, settled


@pytest.fixture(scope="module")
def chart() -> Rendered:
    """The chart with its default values."""
    return real_helm().template(values=["default"])


@pytest.fixture
def operator(
    kube_api: KubeCluster, chart: Rendered, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KopfOperator]:
    """The operator with the NetworkPolicy configuration the chart gives it."""
    monkeypatch.setenv(POLICY_ENV, policy_env(chart))
    with running_operator(monkeypatch) as running:
        yield running


def policy_env(rendered: Rendered, operator: str = "copilot-operator") -> str:
    """COPILOT_PROXY_NETWORK_POLICY as the chart hands it to the operator."""
    (container,) = containers(rendered.one("Deployment", operator, NAMESPACE))
    return str(next(e["value"] for e in container["env"] if e["name"] == POLICY_ENV))


def ports(rules: list[dict[str, Any]]) -> set[int]:
    return {p["port"] for rule in rules for p in rule.get("ports", [])}


def test_the_chart_isolates_its_own_pods_by_default(chart: Rendered) -> None:
    policies = {p["metadata"]["name"]: p["spec"] for p in chart.all("NetworkPolicy")}
    assert set(policies) == {"copilot-operator", "copilot-auth", "copilot-test"}
    for name in ("copilot-operator", "copilot-auth"):
        (ingress,) = policies[name]["ingress"]
        assert len(ingress["from"]) == 1  # only `helm test` (port-forward is not affected)
        assert ports(policies[name]["egress"]) == {53, 443, 6443}
    assert policies["copilot-test"]["ingress"] == []
    for spec in policies.values():
        assert spec["policyTypes"] == ["Ingress", "Egress"]


async def test_every_proxy_gets_a_policy_its_author_cannot_widen(
    kube_api: KubeCluster, operator: KopfOperator
) -> None:
    mcp = {"memory": {"url": "http://memory.team-a.svc:8080/mcp"}}
    cpx = kube_api.create(proxy("team", mcpServers=mcp))
    await settled(kube_api, "team")
    policy = kube_api.get("NetworkPolicy", NS, "team-litellm")
    assert policy is not None, "no NetworkPolicy for the proxy"
    assert policy["metadata"]["ownerReferences"][0]["uid"] == cpx["metadata"]["uid"]
    spec = policy["spec"]
    assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "team"
    assert spec["ingress"] == [
        {"from": [{"podSelector": {}}], "ports": [{"port": 4000, "protocol": "TCP"}]}
    ]
    assert ports(spec["egress"]) == {53, 443, 8080}
    # Someone widening it by hand: the operator puts it back.
    kube_api.patch("NetworkPolicy", NS, "team-litellm", {"spec": {"ingress": [{}]}})
    kube_api.patch("CopilotProxy", NS, "team", {"spec": {"replicas": 2}})
    await settled(kube_api, "team")
    healed = kube_api.get("NetworkPolicy", NS, "team-litellm")
    assert healed is not None and healed["spec"]["ingress"] == spec["ingress"]


@pytest.mark.parametrize("proxies", [True, False])
def test_the_metrics_scraper_reaches_every_proxys_metrics(proxies: bool) -> None:
    """The proxies' /metrics/ is scraped without a key (serviceMonitor.proxies): the peers
    of networkPolicy.metricsIngressFrom (ci/full-values.yaml: the namespace monitoring)
    reach port 4000 of every proxy, and only then."""
    rendered = real_helm().template(
        values=["full"], set_values=[f"serviceMonitor.proxies={str(proxies).lower()}"]
    )
    config = parse_config(policy_env(rendered, "cpx-operator"))
    assert config is not None
    spec = parse_spec("team", NS, {"models": [{"name": "gpt-5-mini"}]})
    ingress = network_policy(spec, config, None)["spec"]["ingress"]
    port = [{"port": 4000, "protocol": "TCP"}]
    apps = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}}
    monitoring = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    }
    callers = {"from": [apps], "ports": port}
    scrapers = {"from": [monitoring], "ports": port}
    assert ingress == ([callers, scrapers] if proxies else [callers])
