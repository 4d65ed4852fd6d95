"""Bad values stop `helm install` before anything reaches the cluster, with a
message that names the value to fix."""

from __future__ import annotations

import json

import pytest

from tests.crds.schema import openapi_schema, to_json_schema

from .conftest import CHART, Helm

REJECTED = [
    (["watchNamespaces={Team_A}"], "watchNamespaces.0"),
    (["watchNamespaces={ai,ai}"], "watchNamespaces"),
    (["operator.metricsPort=80"], "operator.metricsPort"),
    (["operator.healthPort=8080"], "operator.metricsPort and operator.healthPort must differ"),
    (["authService.port=70000"], "authService.port"),
    (["image.pullPolicy=Sometimes"], "image.pullPolicy"),
    (["image.digest=md5:abc"], "image.digest"),
    (["image.repository=Registry/Copilot"], "image.repository"),
    (["authService.github.host=https://github.com"], "authService.github.host"),
    (["authService.github.apiUrl=api.github.com"], "authService.github.apiUrl"),
    (["crds.install=yes"], "crds.install"),
    (["operatr.metricsPort=9090"], "operatr"),
    (["operator.resources.limits=null"], "limits is required"),
    (["authService.resources.requests.memory=lots"], "authService.resources.requests.memory"),
    (["podDisruptionBudget.maxUnavailable=0"], "podDisruptionBudget.maxUnavailable"),
    (["serviceMonitor.interval=often"], "serviceMonitor.interval"),
    (["networkPolicy.egressPorts={0}"], "networkPolicy.egressPorts.0"),
    (["example.name=My_Proxy"], "example.name"),
    (["example.spec.models[0].name=Claude Opus"], "example.spec.models.0.name"),
    (["example.spec.replicas=50"], "example.spec.replicas"),
    (["example.spec.colour=blue"], "colour"),
    (
        ["example.enabled=true", "watchNamespaces={ai}", "example.namespace=default"],
        'example.namespace "default" is not one of watchNamespaces',
    ),
]


@pytest.mark.parametrize(("set_values", "named"), REJECTED, ids=[r[1] for r in REJECTED])
def test_bad_value_is_rejected_naming_it(helm: Helm, set_values: list[str], named: str) -> None:
    error = helm.template_error(*set_values)
    assert named in error


def test_example_spec_schema_is_the_crd_spec_schema() -> None:
    # The strict JSON-Schema form of the CRD's spec: unknown fields are refused, as
    # `kubectl apply`'s field validation would refuse them.
    values_schema = json.loads((CHART / "values.schema.json").read_text())
    example_spec = values_schema["properties"]["example"]["properties"]["spec"]
    assert example_spec == to_json_schema(openapi_schema())["properties"]["spec"], (
        "values.schema.json's example.spec must be the CRD's spec schema (tests/crds/schema.py)"
    )
