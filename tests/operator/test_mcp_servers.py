"""The MCP servers a CopilotProxy declares, run by the operator (against the emulator): each
preset or command server gets a Deployment, a Service and a NetworkPolicy owned by the proxy,
valid for the Kubernetes versions the chart supports; a Secret or claim nobody marked for the
proxy is never used; a changed declaration or Secret rolls the server; a removed one goes."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
from kubernetes_validate.utils import latest_version

from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.waiting import wait_for
from tests.chart.test_kubernetes_schemas import oldest_supported
from tests.operator.conftest import CPX, b64, proxy, reasons, rendered, settled

NS = "default"
MCP_IMAGE = "registry.test/copilot-proxy-mcp:test"
KINDS = ("Deployment", "Service", "NetworkPolicy")
SERVERS: dict[str, Any] = {
    "memory": {"preset": "memory"},
    "docs": {
        "preset": "filesystem",
        "volume": {"persistentVolumeClaim": {"claimName": "team-docs"}},
        "paths": ["handbook"],
    },
    "weather": {
        "command": "mcp-weather",
        "env": [{"name": "API_KEY", "secretKeyRef": {"name": "weather", "key": "token"}}],
    },
}


def server_objects(cluster: KubeCluster, name: str) -> dict[str, Any]:
    return {kind: cluster.get(kind, NS, f"team-mcp-{name}") for kind in KINDS}


def status_of(cluster: KubeCluster) -> dict[str, dict[str, Any]]:
    live = cluster.get(CPX, NS, "team") or {}
    return {e["name"]: e for e in (live.get("status") or {}).get("mcpServers") or []}


def served(cluster: KubeCluster) -> set[str] | None:
    """The MCP servers the proxy's config offers; None before the config exists."""
    configmap = cluster.get("ConfigMap", NS, "team-litellm-config")
    return None if configmap is None else set(rendered(configmap).get("mcp_servers") or {})


def template(cluster: KubeCluster, name: str) -> dict[str, Any]:
    deployment = cluster.get("Deployment", NS, f"team-mcp-{name}")
    assert deployment is not None
    found: dict[str, Any] = deployment["spec"]["template"]
    return found


def pvc(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }


def mark_for_team(cluster: KubeCluster, kind: str, name: str) -> None:
    """`kubectl annotate <kind> <name> copilot-proxy.dev/mcp-for=team`"""
    patch = {"metadata": {"annotations": {"copilot-proxy.dev/mcp-for": "team"}}}
    cluster.patch(kind, NS, name, patch)


async def test_presets_and_commands_run_as_owned_locked_down_workloads(
    cluster: KubeCluster, operator: KopfOperator, monkeypatch: Any
) -> None:
    monkeypatch.setenv("COPILOT_PROXY_MCP_IMAGE", MCP_IMAGE)
    cluster.create(pvc("team-docs"))
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "weather"}}
    cluster.create({**secret, "data": {"token": b64("first-key")}}, NS)
    cpx = cluster.create(proxy("team", mcpServers=SERVERS))
    await settled(cluster, NS, "team")

    # memory needs nothing of the namespace: it runs at once, owned by the proxy.
    await wait_for(lambda: all(server_objects(cluster, "memory").values()), message="memory")
    for kind, obj in server_objects(cluster, "memory").items():
        refs = obj["metadata"]["ownerReferences"]
        assert [(r["kind"], r["uid"], r["controller"]) for r in refs] == [
            (CPX, cpx["metadata"]["uid"], True)
        ], kind
    assert template(cluster, "memory")["spec"]["containers"][0]["image"] == MCP_IMAGE
    await wait_for(lambda: "memory" in (served(cluster) or ()), message="memory offered")
    config = rendered(cluster.get("ConfigMap", NS, "team-litellm-config"))
    assert config["mcp_servers"]["memory"]["url"] == "http://team-mcp-memory.default.svc:8000/mcp"

    # The claim and the Secret are nobody's gift to this proxy yet: not used, and said so.
    await wait_for(lambda: {"docs", "weather"} <= set(status_of(cluster)), message="status")
    entries = status_of(cluster)
    assert entries["docs"]["reason"] == "VolumeNotAllowed"
    assert (
        "kubectl annotate --overwrite pvc team-docs copilot-proxy.dev/mcp-for=team"
        in (entries["docs"]["message"])
    )
    assert entries["weather"]["reason"] == "SecretNotAllowed"
    assert not any(server_objects(cluster, "docs").values())
    assert not any(server_objects(cluster, "weather").values())
    # What cannot run is not offered (the config is written after the servers' step).
    await wait_for(lambda: served(cluster) == {"memory"}, message="only memory offered")
    await wait_for(lambda: "SecretNotAllowed" in reasons(cluster, NS, "team"))

    # Marked for the proxy, they are used (the operator watches marked objects).
    mark_for_team(cluster, "PersistentVolumeClaim", "team-docs")
    mark_for_team(cluster, "Secret", "weather")

    def running(name: str) -> bool:
        return all(server_objects(cluster, name).values())

    await wait_for(lambda: running("docs") and running("weather"), message="docs and weather")
    await wait_for(lambda: served(cluster) == {"docs", "memory", "weather"}, message="offered")
    made = [o for n in SERVERS for o in server_objects(cluster, n).values()]
    for version in (oldest_supported(), latest_version()):
        for obj in made:
            kubernetes_validate.validate(_as_applied(obj), version, strict=True)

    # A rotated Secret rolls the server that reads it (its value never shows).
    first = template(cluster, "weather")["metadata"]["annotations"]
    cluster.patch("Secret", NS, "weather", {"data": {"token": b64("second-key")}})
    await wait_for(
        lambda: template(cluster, "weather")["metadata"]["annotations"] != first,
        message="rolled on the new Secret value",
    )
    assert "second-key" not in str(cluster.get(CPX, NS, "team"))

    # A ready pod shows in status.
    cluster.set_deployment_ready(NS, "team-mcp-memory", 1)
    await wait_for(lambda: status_of(cluster)["memory"]["ready"] is True, message="ready")

    # A changed declaration rolls the server; a removed one goes, with its objects.
    servers = {**SERVERS, "docs": {**SERVERS["docs"], "paths": ["handbook", "specs"]}}
    del servers["memory"]
    cluster.patch(CPX, NS, "team", {"spec": {"mcpServers": {**servers, "memory": None}}})
    await wait_for(
        lambda: "/data/specs" in template(cluster, "docs")["spec"]["containers"][0]["args"][1],
        message="docs rolled",
    )
    await wait_for(lambda: not any(server_objects(cluster, "memory").values()), message="gone")
    await wait_for(lambda: set(status_of(cluster)) == {"docs", "weather"}, message="status")


async def test_an_object_of_the_same_name_that_is_not_the_proxys_is_left_alone(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    theirs = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "team-mcp-memory", "namespace": NS, "labels": {"app": "theirs"}},
        "spec": {"ports": [{"port": 80}], "selector": {"app": "theirs"}},
    }
    cluster.create(theirs)
    cluster.create(proxy("team", mcpServers={"memory": {"preset": "memory"}}))
    await wait_for(lambda: "memory" in status_of(cluster), message="status")
    assert status_of(cluster)["memory"]["reason"] == "NameConflict"
    service = cluster.get("Service", NS, "team-mcp-memory")
    assert service is not None and service["metadata"]["labels"] == {"app": "theirs"}
    assert cluster.get("Deployment", NS, "team-mcp-memory") is None
    # The proxy is not pointed at their Service: its tool calls would go there.
    await settled(cluster, NS, "team")
    assert served(cluster) == set()


def _as_applied(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as `kubectl get -o yaml` minus the fields the server adds."""
    kept = ("name", "namespace", "labels", "annotations", "ownerReferences")
    meta = {k: v for k, v in obj["metadata"].items() if k in kept}
    return {k: v for k, v in obj.items() if k != "status"} | {"metadata": meta}
