"""The example CopilotProxy manifests are accepted by the CRD schema (what the
API server enforces) and by the operator's own spec checks; the default one
declares the chain claude-opus-4.6 -> gemini-3-pro-preview -> gpt-5-mini."""

from __future__ import annotations

from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from copilot_proxy.core.github import GitHub, parse_hosts
from copilot_proxy.core.spec import DEFAULT_CHAIN, parse_spec

from .conftest import CHART, ROOT, Obj, Rendered

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
# The enterprise example's tenant, allowed as its header tells the administrator to.
HOSTS = (GitHub(), GitHub.named("acme.ghe.com"))


def load(path: Path) -> Obj:
    doc: Obj = yaml.safe_load(path.read_text())
    return doc


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_a_valid_copilotproxy(path: Path, crd_schema: Obj) -> None:
    proxy = load(path)
    assert (proxy["apiVersion"], proxy["kind"]) == ("copilot-proxy.dev/v1alpha1", "CopilotProxy")
    jsonschema.validate(proxy, crd_schema)
    parse_spec(proxy["metadata"]["name"], "default", proxy["spec"], HOSTS)


def test_default_example_declares_the_default_chain() -> None:
    proxy = load(ROOT / "examples" / "copilotproxy.yaml")
    chain = [m["name"] for m in proxy["spec"]["models"]]
    assert chain == ["claude-opus-4.6", "gemini-3-pro-preview", "gpt-5-mini"]
    assert tuple(chain) == DEFAULT_CHAIN
    assert proxy["metadata"]["name"] == "copilot"
    assert "namespace" not in proxy["metadata"]  # `kubectl -n <ns> apply` picks it


def test_chart_example_is_the_default_example(default_render: Rendered) -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())["example"]
    proxy = load(ROOT / "examples" / "copilotproxy.yaml")
    assert (values["name"], values["spec"]) == (proxy["metadata"]["name"], proxy["spec"])
    assert default_render.all("CopilotProxy") == []  # off unless asked for


def test_chart_example_is_created_once_after_install(full_render: Rendered) -> None:
    (proxy,) = full_render.all("CopilotProxy")
    annotations = proxy["metadata"]["annotations"]
    # A hook: created after the CRD exists; never deleted or re-created by Helm.
    assert annotations["helm.sh/hook"] == "post-install"
    assert annotations["helm.sh/hook-delete-policy"] == "hook-failed"
    assert proxy["metadata"]["namespace"] == "ai"
    # With the hosts the chart hands the operator.
    (operator,) = [
        d for d in full_render.all("Deployment") if d["metadata"]["name"] == "cpx-operator"
    ]
    env = {
        e["name"]: e.get("value")
        for e in operator["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    hosts = parse_hosts(env["COPILOT_PROXY_GITHUB_HOSTS"])
    parse_spec(proxy["metadata"]["name"], "ai", proxy["spec"], hosts)


def test_the_commented_mcp_servers_of_the_default_example_are_valid(crd_schema: Obj) -> None:
    """Uncommented as the comment says, the original setup's MCP servers are accepted."""
    text = (ROOT / "examples" / "copilotproxy.yaml").read_text()
    lines = text.splitlines()
    start = lines.index("  # mcpServers:")
    block = []
    for line in lines[start:]:
        if not line.startswith("  # "):
            break
        block.append("  " + line.removeprefix("  # "))
    proxy = yaml.safe_load("\n".join([text, *block]))
    jsonschema.validate(proxy, crd_schema)
    spec = parse_spec(proxy["metadata"]["name"], "default", proxy["spec"])
    assert [(s.name, s.preset, s.read_only) for s in spec.mcp_servers] == [
        ("files", "filesystem", True),
        ("memory", "memory", False),
    ]
    assert spec.mcp_semantic_filter.enabled
    assert "RISK" in text and "copilot-proxy.dev/mcp-for=copilot" in text
