"""The release workflow publishes exactly the image and chart a default install uses.

.github/workflows/release.yml pushes `$IMAGE:<version>` and the chart to
`$CHARTS`; the chart's default image, the operator's built-in default and the
docs must name the same thing, and scripts/release_check.py must stop a
release whose tag, chart and package disagree.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from copilot_proxy.operator.handlers import DEFAULT_IMAGE, DEFAULT_MCP_IMAGE

from .conftest import CHART, ROOT, Rendered, containers

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
CHECK = ROOT / "scripts" / "release_check.py"
PINNED = re.compile(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}")
IMAGE = "ghcr.io/copilot-proxy/copilot-proxy"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def steps(workflow: dict[Any, Any]) -> list[dict[Any, Any]]:
    (job,) = workflow["jobs"].values()
    found: list[dict[Any, Any]] = job["steps"]
    return found


def step_using(workflow: dict[Any, Any], action: str, target: str | None = None) -> dict[Any, Any]:
    """The one step using `action` (with that `with.target`, for the image builds)."""
    (step,) = [
        s
        for s in steps(workflow)
        if s.get("uses", "").startswith(action + "@")
        and (target is None or (s.get("with") or {}).get("target", "") == target)
    ]
    return step


def published_image(workflow: dict[Any, Any], version: str, target: str = "") -> str:
    """The image reference the workflow pushes for a release of `version` (a Dockerfile target)."""
    env = "MCP_IMAGE" if target == "mcp" else "IMAGE"
    tags = step_using(workflow, "docker/build-push-action", target)["with"]["tags"]
    assert tags == f"${{{{ env.{env} }}}}:${{{{ steps.version.outputs.version }}}}"
    return f"{workflow['env'][env]}:{version}"


def app_version() -> str:
    version: str = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    return version


def test_runs_on_version_tags_and_builds_both_architectures(workflow: dict[Any, Any]) -> None:
    # PyYAML reads the key `on` as True.
    assert workflow[True] == {"push": {"tags": ["v*"]}}
    for target in ("", "mcp"):
        build = step_using(workflow, "docker/build-push-action", target)["with"]
        assert build["platforms"] == "linux/amd64,linux/arm64"
        assert build["push"] is True
    assert "packages: write" not in WORKFLOW.read_text().split("jobs:")[0]  # only the job may


def test_default_install_pulls_the_image_the_release_publishes(
    workflow: dict[Any, Any], default_render: Rendered
) -> None:
    published = published_image(workflow, app_version())
    for deployment in default_render.all("Deployment"):
        assert containers(deployment)[0]["image"] == published
    # The operator's own default (no COPILOT_PROXY_IMAGE) for the proxy pods too.
    assert published == DEFAULT_IMAGE


def test_the_operator_runs_mcp_servers_from_the_mcp_image_the_release_publishes(
    workflow: dict[Any, Any], default_render: Rendered
) -> None:
    published = published_image(workflow, app_version(), "mcp")
    (operator,) = [
        d for d in default_render.all("Deployment") if "operator" in d["metadata"]["name"]
    ]
    env = {e["name"]: e.get("value") for e in containers(operator)[0]["env"]}
    assert env["COPILOT_PROXY_MCP_IMAGE"] == published == DEFAULT_MCP_IMAGE


def test_docs_install_the_chart_the_release_pushes(workflow: dict[Any, Any]) -> None:
    chart_ref = f"{workflow['env']['CHARTS']}/copilot-proxy"
    docs = (ROOT / "docs" / "kubernetes.md").read_text()
    assert f"helm install copilot {chart_ref} --version {app_version()}" in docs
    assert workflow["env"]["IMAGE"] in docs


def test_every_action_is_pinned_by_commit(workflow: dict[Any, Any]) -> None:
    used = [s["uses"] for s in steps(workflow) if "uses" in s]
    assert used, "no actions found"
    assert [u for u in used if not PINNED.fullmatch(u)] == []
    # The tag each commit stands for is written next to it.
    for line in WORKFLOW.read_text().splitlines():
        if "uses:" in line:
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def check(*args: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), *args, "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_release_check_passes_the_current_version(workflow: dict[Any, Any]) -> None:
    images = ["--image", workflow["env"]["IMAGE"], "--mcp-image", workflow["env"]["MCP_IMAGE"]]
    result = check(f"v{app_version()}", *images)
    assert (result.returncode, result.stdout) == (0, f"version={app_version()}\n"), result.stderr


def test_release_check_stops_a_tag_the_chart_does_not_carry(workflow: dict[Any, Any]) -> None:
    result = check("v99.0.0", "--image", workflow["env"]["IMAGE"])
    assert result.returncode == 1 and result.stdout == ""
    assert "Chart.yaml appVersion is '0.1.0', the tag says '99.0.0'" in result.stderr.replace(
        app_version(), "0.1.0"
    )


def test_release_check_stops_an_app_version_behind_the_chart(
    tmp_path: Path, workflow: dict[Any, Any]
) -> None:
    shutil.copytree(CHART, tmp_path / "charts" / "copilot-proxy")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    chart_yaml = tmp_path / "charts" / "copilot-proxy" / "Chart.yaml"
    text = chart_yaml.read_text()
    chart_yaml.write_text(re.sub(r"(?m)^appVersion: .*$", 'appVersion: "0.0.9"', text))
    result = check(f"v{app_version()}", "--image", workflow["env"]["IMAGE"], root=tmp_path)
    assert result.returncode == 1
    assert "appVersion is '0.0.9'" in result.stderr
    assert "Chart.yaml version" not in result.stderr  # only what differs is named


def test_release_check_stops_a_chart_pointing_at_another_image() -> None:
    result = check(f"v{app_version()}", "--image", "ghcr.io/someone-else/copilot-proxy")
    assert result.returncode == 1
    assert "image.repository is 'ghcr.io/copilot-proxy/copilot-proxy'" in result.stderr
    mcp = "ghcr.io/someone-else/copilot-proxy-mcp"
    result = check(f"v{app_version()}", "--image", IMAGE, "--mcp-image", mcp)
    assert result.returncode == 1
    assert "mcpImage.repository is 'ghcr.io/copilot-proxy/copilot-proxy-mcp'" in result.stderr


def test_the_workflow_checks_the_mcp_image_too(workflow: dict[Any, Any]) -> None:
    (run,) = [s["run"] for s in steps(workflow) if "release_check.py" in s.get("run", "")]
    assert '--mcp-image "$MCP_IMAGE"' in run
