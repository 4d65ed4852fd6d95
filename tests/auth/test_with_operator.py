"""The login service and the operator together: a sign-in scales the proxy up, a sign-out down.

The real kopf operator (testkit.kube's runner) and the real login service share
the emulated API server; GitHub is the fake. The admin unlocks the page with
the master key the operator generated, as a user would.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from copilot_proxy.auth.stores.kubernetes import KubernetesStore
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.waiting import wait_for
from tests.auth.conftest import SAME_ORIGIN, ServerFactory, wait_login

NS = "default"
CPX = "CopilotProxy"


@pytest.fixture
def operator(kube_api: KubeCluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[KopfOperator]:
    monkeypatch.setenv("COPILOT_PROXY_IMAGE", "registry.test/copilot-proxy:test")
    monkeypatch.setenv("COPILOT_PROXY_RESYNC_SECONDS", "1")
    monkeypatch.delenv("COPILOT_PROXY_METRICS_PORT", raising=False)
    from copilot_proxy.operator.handlers import registry

    with KopfOperator(registry) as running:
        yield running


def replicas(cluster: KubeCluster) -> int | None:
    deployment = cluster.get("Deployment", NS, "copilot-litellm")
    return None if deployment is None else int(deployment["spec"]["replicas"])


def condition(cluster: KubeCluster, kind: str) -> dict[str, Any]:
    cpx = cluster.get(CPX, NS, "copilot") or {}
    return next(
        (c for c in (cpx.get("status") or {}).get("conditions") or [] if c["type"] == kind), {}
    )


async def test_sign_in_scales_the_proxy_up_and_sign_out_down(
    kube_api: KubeCluster, operator: KopfOperator, make_server: ServerFactory
) -> None:
    kube_api.create(
        {
            "apiVersion": "copilot-proxy.dev/v1alpha1",
            "kind": CPX,
            "metadata": {"name": "copilot", "namespace": NS},
            "spec": {"models": [{"name": "claude-opus-4.6"}, {"name": "gpt-5-mini"}]},
        }
    )
    await wait_for(lambda: replicas(kube_api) == 0, message="proxy waiting for a token")
    master = await wait_for(lambda: kube_api.get("Secret", NS, "copilot-master-key"))
    assert master is not None
    master_key = base64.b64decode(master["data"]["master-key"]).decode()

    async with make_server(KubernetesStore.from_environment([NS])) as server:
        c = server.client(headers=SAME_ORIGIN)
        r = await c.post("/api/session", json={"credential": master_key})
        assert r.status_code == 200 and r.json()["scope"] == [f"{NS}/copilot"]
        csrf = r.json()["csrfToken"]
        r = await c.post(f"/api/proxies/{NS}/copilot/login", headers={"x-csrf-token": csrf})
        assert r.status_code == 202, r.text
        server.gh.approve(r.json()["userCode"], login="octocat")
        assert (await wait_login(c, r.json()["id"]))[-1]["phase"] == "connected"

        await wait_for(lambda: replicas(kube_api) == 1, timeout=5, message="scaled up")
        await wait_for(lambda: condition(kube_api, "TokenReady").get("status") == "True")
        assert "octocat" in condition(kube_api, "TokenReady")["message"]
        kube_api.set_deployment_ready(NS, "copilot-litellm")
        await wait_for(lambda: condition(kube_api, "Ready").get("status") == "True")
        state = (await c.get(f"/api/proxies/{NS}/copilot")).json()
        assert state["ready"] is True and state["token"]["login"] == "octocat"

        r = await c.delete(f"/api/proxies/{NS}/copilot/token", headers={"x-csrf-token": csrf})
        assert r.status_code == 200
        await wait_for(lambda: replicas(kube_api) == 0, timeout=5, message="scaled down")
        await wait_for(lambda: condition(kube_api, "TokenReady").get("status") == "False")
