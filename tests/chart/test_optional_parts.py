"""PodDisruptionBudgets and the ServiceMonitor when switched on; NetworkPolicies (on by
default: issue 11's least privilege)."""

from __future__ import annotations

import json

from .conftest import NAMESPACE, Helm, Obj, Rendered, containers


def selected(rendered: Rendered, selector: dict[str, str]) -> list[str]:
    return [
        d["metadata"]["name"]
        for d in rendered.workloads()
        if selector.items() <= pod_labels(d).items()
    ]


def pod_labels(obj: Obj) -> dict[str, str]:
    meta = obj["spec"]["template"]["metadata"] if obj["kind"] == "Deployment" else obj["metadata"]
    labels: dict[str, str] = meta["labels"]
    return labels


def test_optional_parts_are_off_by_default(default_render: Rendered) -> None:
    for kind in ("PodDisruptionBudget", "ServiceMonitor", "CopilotProxy"):
        assert default_render.all(kind) == [], kind


def test_network_policies_are_on_by_default_for_the_chart_and_the_proxies(
    default_render: Rendered,
) -> None:
    names = sorted(p["metadata"]["name"] for p in default_render.all("NetworkPolicy"))
    assert names == ["copilot-auth", "copilot-operator", "copilot-test"]
    (operator,) = containers(default_render.one("Deployment", "copilot-operator", NAMESPACE))
    env = {e["name"]: e.get("value") for e in operator["env"]}
    assert json.loads(env["COPILOT_PROXY_NETWORK_POLICY"]) == {
        "ingressFrom": [],
        "metricsFrom": [],
    }


def test_disruption_budgets_never_block_a_drain(full_render: Rendered) -> None:
    budgets = full_render.all("PodDisruptionBudget")
    covered = sorted(
        n for b in budgets for n in selected(full_render, b["spec"]["selector"]["matchLabels"])
    )
    assert covered == ["cpx-auth", "cpx-operator"]
    assert all(b["spec"]["maxUnavailable"] == 1 for b in budgets)


def test_network_policies_isolate_both_components(full_render: Rendered) -> None:
    policies = {p["metadata"]["name"]: p for p in full_render.all("NetworkPolicy")}
    for name, port in (("cpx-operator", "metrics"), ("cpx-auth", "http")):
        policy = policies[name]
        assert selected(full_render, policy["spec"]["podSelector"]["matchLabels"]) == [name]
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
        (ingress,) = policy["spec"]["ingress"]
        (container,) = containers(full_render.one("Deployment", name, NAMESPACE))
        assert [p["port"] for p in ingress["ports"]] == [port]
        assert port in {p["name"] for p in container["ports"]}
        egress_ports = {
            (p["port"], p["protocol"]) for rule in policy["spec"]["egress"] for p in rule["ports"]
        }
        assert egress_ports == {(53, "UDP"), (53, "TCP"), (443, "TCP"), (6443, "TCP")}


def test_restricted_login_page_still_lets_helm_test_in(full_render: Rendered) -> None:
    policy = full_render.one("NetworkPolicy", "cpx-auth", NAMESPACE)
    (ingress,) = policy["spec"]["ingress"]
    peers = ingress["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ai"}}} in peers
    test_pods = [p["podSelector"]["matchLabels"] for p in peers if "podSelector" in p]
    (hook,) = full_render.all("Pod")
    assert any(labels.items() <= hook["metadata"]["labels"].items() for labels in test_pods)


def test_no_ingress_but_helm_test_when_no_peers_are_given(default_render: Rendered) -> None:
    """`kubectl port-forward` is not subject to NetworkPolicies: the default admits no pod
    but the `helm test` one, to the two ports it checks; that pod may go nowhere else."""
    (hook,) = default_render.all("Pod")
    for name in ("copilot-operator", "copilot-auth"):
        policy = default_render.one("NetworkPolicy", name, NAMESPACE)
        (ingress,) = policy["spec"]["ingress"]
        (peer,) = ingress["from"]
        assert peer["podSelector"]["matchLabels"].items() <= hook["metadata"]["labels"].items()
    test = default_render.one("NetworkPolicy", "copilot-test", NAMESPACE)["spec"]
    assert test["ingress"] == []
    assert [r["ports"][0]["port"] for r in test["egress"]] == [53, 8080, 4001]


def test_network_policies_can_be_switched_off(helm: Helm) -> None:
    rendered = helm.template(set_values=["networkPolicy.enabled=false"])
    assert rendered.all("NetworkPolicy") == []
    (operator,) = containers(rendered.one("Deployment", "copilot-operator", NAMESPACE))
    env = {e["name"]: e.get("value") for e in operator["env"]}
    assert json.loads(env["COPILOT_PROXY_NETWORK_POLICY"]) == {"enabled": False}


def test_a_service_monitor_needs_its_prometheus_let_in(helm: Helm) -> None:
    error = helm.template_error("serviceMonitor.enabled=true")
    assert "networkPolicy.metricsIngressFrom" in error
