"""What the operator leaves behind: no secrets in sight, its own state names, its metrics."""

from __future__ import annotations

import json
import logging

import httpx
import prometheus_client
import pytest

from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.ports import free_port
from testkit.waiting import wait_for
from tests.operator.conftest import (
    CPX,
    OTHER_TOKEN,
    TOKEN,
    b64,
    condition,
    fill_token,
    master_key,
    proxy,
    reasons,
    reconciles,
    settled,
)

NS = "default"


def sample(name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    total = 0.0
    for metric in prometheus_client.REGISTRY.collect():
        for s in metric.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


async def test_no_secret_material_in_events_status_or_log(
    cluster: KubeCluster, operator: KopfOperator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # everything the operator and kopf could say
    cluster.create(proxy("copilot", replicas=2))
    await settled(cluster, NS, "copilot")
    fill_token(cluster, NS, "copilot-github-token", TOKEN)
    await wait_for(
        lambda: condition(cluster.get(CPX, NS, "copilot"), "TokenReady")["status"] == "True"
    )
    cluster.set_deployment_ready(NS, "copilot-litellm")
    fill_token(cluster, NS, "copilot-github-token", OTHER_TOKEN)  # a new login
    await wait_for(lambda: "TokenReplaced" in reasons(cluster, NS, "copilot"))
    cluster.patch(CPX, NS, "copilot", {"spec": {"models": [{"name": "gpt-5-mini"}]}})
    await settled(cluster, NS, "copilot")
    cluster.delete("Secret", NS, "copilot-master-key")  # drift: a new key is generated
    await wait_for(lambda: cluster.get("Secret", NS, "copilot-master-key"))
    operator.restart()
    await settled(cluster, NS, "copilot")

    key = master_key(cluster, NS, "copilot")
    secrets = [TOKEN, OTHER_TOKEN, key]
    secrets += [b64(s) for s in secrets]

    events = json.dumps(cluster.events(NS))
    cpx = json.dumps(cluster.get(CPX, NS, "copilot"))
    pods = json.dumps(cluster.get("Deployment", NS, "copilot-litellm"))
    config = json.dumps(cluster.get("ConfigMap", NS, "copilot-litellm-config"))
    log = caplog.text
    assert (
        "Ready" in events and "TokenPresent" in cpx and "copilot" in log
    )  # looked at the right things
    for secret in secrets:
        assert secret not in events, "a secret in an event"
        assert secret not in cpx, "a secret in the CopilotProxy (status or annotations)"
        assert secret not in pods, "a secret in the pod template: use secretKeyRef"
        assert secret not in config, "a secret in the ConfigMap"
        assert secret not in log, "a secret in the operator's log"


async def test_kopf_state_lives_under_the_project_prefix(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    cluster.create(proxy("copilot"))
    await settled(cluster, NS, "copilot")
    cluster.patch(CPX, NS, "copilot", {"spec": {"replicas": 2}})
    await settled(cluster, NS, "copilot")

    cpx = cluster.get(CPX, NS, "copilot")
    assert cpx is not None
    annotations = cpx["metadata"].get("annotations") or {}
    assert "copilot-proxy.dev/last-handled-configuration" in annotations
    # No finalizer: `kubectl delete cpx` must not hang while the operator is down.
    assert not cpx["metadata"].get("finalizers")
    for kind in ("CopilotProxy", "ConfigMap", "Secret", "Deployment", "Service"):
        for obj in cluster.list(kind):
            meta = obj["metadata"]
            keys = [*(meta.get("annotations") or {}), *(meta.get("finalizers") or [])]
            foreign = [k for k in keys if "kopf" in k.split("/")[0] or "zalando" in k]
            assert not foreign, (kind, meta["name"], foreign)


async def test_reconciles_and_conditions_are_counted(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    before = reconciles()
    errors_before = sample("copilot_proxy_reconcile_errors_total")
    durations_before = sample("copilot_proxy_reconcile_duration_seconds_count")
    cluster.create(proxy("counted"))
    await settled(cluster, NS, "counted")
    await wait_for(lambda: sample("copilot_proxy_proxies", condition="Ready", status="False") >= 1)
    assert reconciles() > before
    assert sample("copilot_proxy_reconcile_duration_seconds_count") > durations_before

    # A failing API shows as errors; the next trigger (a login) converges everything.
    fault = cluster.fail("fetch", "CopilotProxy", status=403, times=1)
    cluster.patch(CPX, NS, "counted", {"spec": {"replicas": 2}})
    await wait_for(lambda: fault.hits == 1)
    await wait_for(lambda: sample("copilot_proxy_reconcile_errors_total") > errors_before)
    fill_token(cluster, NS, "counted-github-token", TOKEN)
    await settled(cluster, NS, "counted")
    await wait_for(
        lambda: (cluster.get("Deployment", NS, "counted-litellm") or {})["spec"]["replicas"] == 2
    )
    cluster.set_deployment_ready(NS, "counted-litellm")
    await wait_for(lambda: sample("copilot_proxy_proxies", condition="Ready", status="True") >= 1)


async def test_metrics_are_served_on_the_metrics_port(
    cluster: KubeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copilot_proxy.operator.handlers import registry

    # The operator's own HTTP server (prometheus_client's thread outlives the test, on a free port).
    port = free_port()
    monkeypatch.setenv("COPILOT_PROXY_METRICS_PORT", str(port))
    cluster.create(proxy("scraped"))
    with KopfOperator(registry):
        await settled(cluster, NS, "scraped")
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    assert "copilot_proxy_reconciles_total" in text
    assert 'copilot_proxy_proxies{condition="Ready",status="False"}' in text
