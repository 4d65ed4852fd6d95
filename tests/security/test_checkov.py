"""Rule 5 of issue 11: checkov finds nothing in the rendered chart (each values file of ci/)
and in the objects the operator makes for a proxy (core/manifests.py, token_secret.py,
network_policy.py; mcp_workloads.py for the MCP servers it runs) but the checks
docs/security.md lists, each with its reason; and every check listed there still fails
(an exception nobody needs any more goes).

checkov runs from its own virtualenv, `.cache/checkov` (`make checkov`, from the
hash-pinned requirements/checkov.txt): its dependencies conflict with LiteLLM's.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from copilot_proxy.core import manifests, mcp_workloads, network_policy, render, token_secret
from copilot_proxy.core.rollout import pod_annotations
from copilot_proxy.core.spec import parse_spec
from tests.chart.conftest import ROOT, VALUES_NAMES, Helm
from tests.security.harness import real_helm

CHECKOV = ROOT / ".cache" / "checkov" / "bin" / "checkov"
SECURITY_DOC = ROOT / "docs" / "security.md"
MCP_IMAGE = "ghcr.io/copilot-proxy/copilot-proxy-mcp@sha256:" + "1" * 64
# A row of docs/security.md's table: | `CKV_K8S_38` | Deployment operator, ... | why |
ROW = re.compile(r"^\|\s*`(CKV2?_K8S_\d+)`\s*\|([^|]+)\|([^|]+)\|\s*$", re.M)


@pytest.fixture(scope="module")
def checkov() -> Path:
    """checkov, installed by `make checkov` when absent (a missing tool is a failure)."""
    if not CHECKOV.exists():
        subprocess.run(["make", "-s", "checkov"], cwd=ROOT, check=True, timeout=900)
    return CHECKOV


@pytest.fixture(scope="module")
def helm() -> Helm:
    return real_helm()


def operator_objects() -> list[dict[str, Any]]:
    """Every object the operator makes for a proxy that uses every field that shapes them."""
    spec = parse_spec(
        "copilot",
        "ai",
        {
            "models": [{"name": "gpt-5-mini"}],
            "mcpServers": {
                "notes": {"url": "http://notes.ai.svc:8080/mcp"},
                "memory": {"preset": "memory"},
                "files": {
                    "preset": "filesystem",
                    "volume": {"persistentVolumeClaim": {"claimName": "docs"}},
                    "paths": ["handbook"],
                },
                "tool": {
                    "command": "mcp-weather",
                    "env": [{"name": "KEY", "secretKeyRef": {"name": "weather", "key": "k"}}],
                    "egress": [{"cidr": "0.0.0.0/0", "ports": [443]}],
                },
            },
            "tokenSecret": {"name": "acme-token"},
        },
    )
    owner = manifests.owner_reference("copilot", "0b6e4c7a-1111-2222-3333-444455556666")
    image = "ghcr.io/copilot-proxy/copilot-proxy@sha256:" + "0" * 64  # as the chart passes it
    annotations = pod_annotations("cfg0123456789abc", "tok0123456789abc")
    return [
        manifests.config_map(spec, render.config_text(spec), owner),
        manifests.master_key_secret(spec, "sk-" + "k" * 48, owner),
        token_secret.empty(spec, owner),
        manifests.service(spec, owner),
        manifests.deployment(
            spec, image=image, replicas=1, pod_annotations=annotations, owner=owner
        ),
        network_policy.network_policy(spec, network_policy.PolicyConfig(), owner),
        # The MCP servers it runs for the proxy (core/mcp_workloads.py).
        *(
            obj
            for server in spec.mcp_servers
            if server.runs
            for obj in mcp_workloads.objects(
                spec, server, image=MCP_IMAGE, secret_hash="0123456789abcdef", owner=owner
            )
        ),
    ]


def role(resource: str) -> str:
    """`Deployment.copilot-system.cpx-auth` -> `Deployment auth`, whatever the release."""
    kind, *_, name = resource.split(".")
    for suffix, who in (("-auth", "auth"), ("-operator", "operator"), ("-test", "test")):
        if name.endswith(suffix):
            return f"{kind} {who}"
    if "-mcp-" in name:
        return f"{kind} mcp-server"
    return f"{kind} proxy" if name.endswith("-litellm") else f"{kind} {name}"


def failures(checkov: Path, folder: Path) -> set[tuple[str, str]]:
    done = subprocess.run(
        [str(checkov), "-d", str(folder), "--framework", "kubernetes", "-o", "json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: some checks failed
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert sum(r["summary"]["passed"] for r in reports) > 50, "checkov checked nothing"
    return {
        (f["check_id"], role(f["resource"])) for r in reports for f in r["results"]["failed_checks"]
    }


def accepted() -> set[tuple[str, str]]:
    rows = ROW.findall(SECURITY_DOC.read_text())
    assert rows, "docs/security.md lists no accepted checkov finding"
    out = set()
    for check, objects, why in rows:
        assert len(why.strip()) > 20, f"{check}: say why it is accepted"
        out |= {(check, obj.strip()) for obj in objects.split(",")}
    return out


def test_checkov_finds_nothing_but_what_the_docs_accept(
    checkov: Path, helm: Helm, tmp_path: Path
) -> None:
    for values in VALUES_NAMES:
        rendered = helm.template(values=[values])
        text = yaml.safe_dump_all(list(rendered.objects))
        (tmp_path / f"chart-{values}.yaml").write_text(text)
    (tmp_path / "operator-objects.yaml").write_text(yaml.safe_dump_all(operator_objects()))
    found = failures(checkov, tmp_path)
    assert found - accepted() == set(), "new checkov findings: fix them or list them"
    assert accepted() - found == set(), "listed in docs/security.md but no longer found"
