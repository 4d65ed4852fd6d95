"""docs/kubernetes.md's commands work with this chart as written."""

from __future__ import annotations

import re
import shlex

import pytest

from copilot_proxy.core import names

from .conftest import ROOT, Helm, Rendered

DOC = ROOT / "docs" / "kubernetes.md"
RELEASED_CHART = "oci://ghcr.io/copilot-proxy/charts/copilot-proxy"


def shell_lines() -> list[str]:
    """Commands of the document's bash blocks, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.S)
    text = "\n".join(blocks).replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip()]


HELM_INSTALLS = [line for line in shell_lines() if line.startswith("helm install ")]


def test_the_quick_start_installs_and_tests_a_release() -> None:
    assert HELM_INSTALLS
    assert any(line.startswith("helm test copilot") for line in shell_lines())


@pytest.mark.parametrize("line", HELM_INSTALLS)
def test_helm_install_commands_render(helm: Helm, line: str) -> None:
    args = shlex.split(line)[2:]  # release, chart, flags
    release, chart, *flags = args
    flags = [f for f in flags if f != "--create-namespace"]
    if chart == RELEASED_CHART:  # what the release workflow packages and pushes
        chart = "charts/copilot-proxy"
    out = helm.run("template", release, ROOT / chart, *flags)
    assert "kind: Deployment" in out


def test_port_forwards_name_rendered_services(helm: Helm) -> None:
    rendered: Rendered = helm.template(release="copilot", namespace="copilot-system")
    forwards = [
        re.search(r"kubectl -n (\S+) port-forward svc/(\S+) (\d+):(\d+)", line)
        for line in shell_lines()
    ]
    found = [m.groups() for m in forwards if m]
    assert ("copilot-system", "copilot-auth", "4001", "4001") in found
    for namespace, service, _local, remote in found:
        if namespace == "copilot-system":
            ports = rendered.one("Service", service, namespace)["spec"]["ports"]
            assert int(remote) in [p["port"] for p in ports]
        else:  # a proxy's Service, made by the operator
            assert (service, int(remote)) == (names.service("copilot"), names.PORT)


def test_master_key_command_matches_the_operator_names() -> None:
    secret, key = names.master_key_secret("copilot"), names.MASTER_KEY_KEY
    assert any(
        f"get secret {secret} -o jsonpath='{{.data.{key}}}' | base64 -d" in line
        for line in shell_lines()
    )
