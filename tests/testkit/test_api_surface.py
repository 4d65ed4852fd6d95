"""The emulator's kubectl-facing answers (testkit.kube: discovery, tables, fields, openapi).

tests/operator/test_kubectl.py runs the real kubectl against them; these pin
the rules that kubectl relies on without saying so, where a slip would show as
a confusing kubectl error rather than a failed assertion.
"""

from __future__ import annotations

import httpx
import pytest

from testkit.kube import KubeCluster
from testkit.kube.fields import field_selector
from testkit.kube.tables import human_duration, jsonpath

CPX = {
    "metadata": {"name": "a", "creationTimestamp": "2026-01-01T00:00:00Z"},
    "spec": {"models": [{"name": "m1"}, {"name": "m2"}]},
    "status": {"conditions": [{"type": "Token", "status": "x"}, {"type": "Ready", "status": "y"}]},
}


def test_jsonpath_as_printer_columns_write_it() -> None:
    assert jsonpath(CPX, ".spec.models[0].name") == ["m1"]
    assert jsonpath(CPX, ".spec.models[*].name") == ["m1", "m2"]
    assert jsonpath(CPX, '.status.conditions[?(@.type=="Ready")].status') == ["y"]
    assert jsonpath(CPX, ".status.missing") == []
    with pytest.raises(ValueError, match="unsupported JSONPath"):
        jsonpath(CPX, "status")


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(5, "5s"), (119, "119s"), (150, "2m30s"), (600, "10m"), (3 * 3600 + 60, "3h1m"),
     (30 * 3600, "30h"), (50 * 3600, "2d2h"), (400 * 86400, "400d"), (3 * 365 * 86400, "3y")],
)  # fmt: skip
def test_ages_read_as_kubectl_prints_them(seconds: int, shown: str) -> None:
    assert human_duration(seconds) == shown


def test_field_selectors() -> None:
    event = {"involvedObject": {"name": "a", "kind": "CopilotProxy"}, "type": "Normal"}
    assert field_selector("involvedObject.name=a,involvedObject.kind=CopilotProxy")(event)
    assert not field_selector("involvedObject.name=b")(event)
    assert field_selector("type!=Warning")(event)
    assert field_selector("metadata.name==")(event)  # absent reads as empty


def test_discovery_and_tables_over_http(kube_cluster: KubeCluster) -> None:
    get = httpx.Client(base_url=kube_cluster.url).get
    core = get("/api/v1").json()
    assert core["groupVersion"] == "v1"
    pods_status = next(r for r in core["resources"] if r["name"] == "pods/status")
    assert "shortNames" not in pods_status and pods_status["verbs"] == ["get", "patch", "update"]
    assert get("/apis/nothing.example").status_code == 404
    assert get("/version").json()["minor"] == "32"

    kube_cluster.create(
        {"apiVersion": "copilot-proxy.dev/v1alpha1", "kind": "CopilotProxy",
         "metadata": {"name": "a"}, "spec": {"models": [{"name": "m1"}]}},
        "default",
    )  # fmt: skip
    listed = get("/apis/copilot-proxy.dev/v1alpha1/namespaces/default/copilotproxies").json()
    assert (listed["kind"], listed["apiVersion"]) == (
        "CopilotProxyList",
        "copilot-proxy.dev/v1alpha1",
    )
    accept = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
    shown = get(
        "/apis/copilot-proxy.dev/v1alpha1/namespaces/default/copilotproxies/a", headers=accept
    ).json()
    assert shown["kind"] == "Table"
    names = [c["name"] for c in shown["columnDefinitions"]]
    assert names == [
        "Name", "Ready", "Primary", "Token", "Replicas", "Reason", "Endpoint", "Models",
        "Credential", "Account", "Age",
    ]  # fmt: skip
    assert shown["rows"][0]["cells"][:3] == ["a", None, "m1"]
    assert shown["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_openapi_v3_says_patches_take_field_validation(kube_cluster: KubeCluster) -> None:
    get = httpx.Client(base_url=kube_cluster.url).get
    where = get("/openapi/v3").json()["paths"]["apis/copilot-proxy.dev/v1alpha1"]
    doc = get(where["serverRelativeURL"]).json()
    path = "/apis/copilot-proxy.dev/v1alpha1/namespaces/{namespace}/copilotproxies/{name}"
    patch = doc["paths"][path]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "CopilotProxy"
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    schema = doc["components"]["schemas"]["dev.copilot-proxy.v1alpha1.CopilotProxy"]
    assert "models" in schema["properties"]["spec"]["properties"]
