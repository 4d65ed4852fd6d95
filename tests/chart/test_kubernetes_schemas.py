"""Rendered objects against the real Kubernetes OpenAPI schemas, for the oldest
Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest
kubernetes-validate ships; the CopilotProxy against its CRD; the ServiceMonitor
against the Services it scrapes."""

from __future__ import annotations

import copy
import re
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from .conftest import CHART, NAMESPACE, VALUES_NAMES, Helm, HelmError, Obj, Rendered

# Kinds whose schema is not Kubernetes' own; checked by the tests below instead.
CUSTOM_KINDS = {"CopilotProxy", "ServiceMonitor"}


def oldest_supported() -> str:
    constraint = yaml.safe_load((CHART / "Chart.yaml").read_text())["kubeVersion"]
    match = re.fullmatch(r">=\s*(\d+\.\d+)\.\d+(-0)?", constraint)
    assert match, f"unexpected kubeVersion constraint {constraint!r}"
    return f"{match.group(1)}.0"


KUBERNETES_VERSIONS = (oldest_supported(), latest_version())


def validation_errors(objects: tuple[Obj, ...], version: str) -> list[str]:
    errors = []
    for obj in objects:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(map(str, error.path))
            errors.append(f"{obj['kind']}/{obj['metadata']['name']} {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            errors.append(error.message)
    return errors


def test_two_distinct_kubernetes_versions_are_checked() -> None:
    assert len(set(KUBERNETES_VERSIONS)) == 2, KUBERNETES_VERSIONS


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", VALUES_NAMES)
def test_rendered_objects_match_the_kubernetes_openapi_schemas(
    helm: Helm, name: str, version: str
) -> None:
    rendered = helm.template(values=[name], extra=["--kube-version", version])
    assert rendered.objects
    assert validation_errors(rendered.objects, version) == []


def test_the_validator_catches_a_misspelled_field(default_render: Rendered) -> None:
    deployment = copy.deepcopy(default_render.one("Deployment", "copilot-operator"))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    errors = validation_errors((deployment,), latest_version())
    assert len(errors) == 1 and "livenesProbe" in errors[0]


def test_older_kubernetes_is_refused(helm: Helm) -> None:
    with pytest.raises(HelmError, match="kubeVersion"):
        helm.template(extra=["--kube-version", "1.27.0"])


def test_the_example_copilotproxy_matches_the_crd_schema(
    full_render: Rendered, crd_schema: Obj
) -> None:
    (proxy,) = full_render.all("CopilotProxy")
    jsonschema.validate(proxy, crd_schema)
    assert proxy["apiVersion"] == "copilot-proxy.dev/v1alpha1"


def _selected_services(rendered: Rendered, selector: dict[str, Any]) -> list[Obj]:
    def matches(labels: dict[str, str]) -> bool:
        return all(
            labels.get(expr["key"]) in expr["values"] for expr in selector["matchExpressions"]
        )

    return [s for s in rendered.all("Service") if matches(s["metadata"]["labels"])]


def test_the_servicemonitor_scrapes_the_operator_and_the_login_service(
    full_render: Rendered,
) -> None:
    monitor = next(m for m in full_render.all("ServiceMonitor") if m["metadata"]["name"] == "cpx")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    services = _selected_services(full_render, monitor["spec"]["selector"])
    assert {s["metadata"]["name"] for s in services} == {"cpx-operator-metrics", "cpx-auth"}
    service_ports = {p["name"] for s in services for p in s["spec"]["ports"]}
    endpoints = monitor["spec"]["endpoints"]
    assert {e["port"] for e in endpoints} == service_ports
    assert all(e["path"] == "/metrics" for e in endpoints)
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_the_proxies_servicemonitor_scrapes_every_proxy_the_operator_runs(
    helm: Helm, full_render: Rendered
) -> None:
    """It selects the Service the operator renders for a CopilotProxy, in the watched
    namespaces, on the port and path where the proxy serves its counters without a key."""
    from copilot_proxy.core import manifests
    from copilot_proxy.core.render import render_config
    from copilot_proxy.core.spec import parse_spec

    monitor = full_render.one("ServiceMonitor", "cpx-proxies", NAMESPACE)
    spec = parse_spec("copilot", "ai", {"models": [{"name": "gpt-5-mini"}]})
    service = manifests.service(spec, owner=None)
    assert monitor["spec"]["selector"]["matchLabels"].items() <= (
        service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["ai"]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert (endpoint["path"], endpoint["honorLabels"]) == ("/metrics/", True)
    litellm = render_config(spec)["litellm_settings"]
    assert litellm["require_auth_for_metrics_endpoint"] is False
    # (NetworkPolicies on: the chart asks for the scraper's peers.)
    scraper = "networkPolicy.metricsIngressFrom[0].namespaceSelector.matchLabels.team=monitoring"
    everywhere = helm.template(set_values=["serviceMonitor.enabled=true", scraper])
    assert everywhere.one("ServiceMonitor", "copilot-proxies", NAMESPACE)["spec"][
        "namespaceSelector"
    ] == {"any": True}
    off = helm.template(
        set_values=["serviceMonitor.enabled=true", "serviceMonitor.proxies=false", scraper]
    )
    assert [m["metadata"]["name"] for m in off.all("ServiceMonitor")] == ["copilot"]
