"""Rule 5 of issue 11, RBAC: the chart grants each component exactly what its code uses.

The operator (kopf and the reconciler) and the login service run a whole life against one
emulated API server, which records every request as an RBAC rule names it (who, verb,
resource): create, sign in (also before the operator made the Secret), drift, a marked
Secret, a name conflict, an MCP server on a marked claim that comes and goes, a GitHub
App-backed proxy whose token the operator mints and renews, sign out, delete. What they
used must be granted by the rendered chart (or the product breaks), and what the chart
grants must have been used (or it is more than the code needs), cluster-wide and namespaced.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testkit.fake_github import FakeGitHub
from testkit.fake_github.apps import new_app
from testkit.kube import KubeCluster
from testkit.kube.audit import ApiRequest
from testkit.kube.kopf_runner import KopfOperator
from testkit.waiting import wait_for
from tests.auth.conftest import wait_login
from tests.chart.conftest import Helm, Rendered
from tests.chart.test_rbac import effective_grants, service_account_of
from tests.security.harness import (
    ADMIN_PASSWORD,
    NS,
    b64,
    condition,
    hosts_env,
    login_service,
    proxy,
    real_helm,
    settled,
)

Grant = tuple[str, str, str]  # (apiGroup, resource, verb)
OPERATOR, AUTH = "operator", "auth"


@pytest.fixture(scope="module")
def helm() -> Helm:
    return real_helm()


def granted(rendered: Rendered, deployment: str, scope: str | None) -> set[Grant]:
    """What the ServiceAccount of `deployment` may do in `scope` (None: cluster-wide)."""
    grants = effective_grants(rendered, service_account_of(rendered, deployment))
    return grants.get(scope, set()) | (grants.get(None, set()) if scope else set())


def component(request: ApiRequest) -> str:
    if request.client.startswith(("kopf/", "copilot-proxy-operator")):
        return OPERATOR
    return AUTH if request.client == "copilot-proxy-auth" else request.client


def used(cluster: KubeCluster) -> dict[str, set[Grant]]:
    out: dict[str, set[Grant]] = {}
    for r in list(cluster.emulator.requests):
        out.setdefault(component(r), set()).add((r.group, r.plural, r.verb))
    return out


@pytest.fixture(params=["cluster-wide", "namespaced"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def operator(
    kube_api: KubeCluster, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, mode: str
) -> Iterator[KopfOperator]:
    from copilot_proxy.operator.handlers import registry

    monkeypatch.setenv("COPILOT_PROXY_IMAGE", "registry.test/copilot-proxy:test")
    monkeypatch.setenv("COPILOT_PROXY_RESYNC_SECONDS", "1")
    monkeypatch.setenv("COPILOT_PROXY_GITHUB_HOSTS", hosts_env(fake_github))
    monkeypatch.setenv("COPILOT_PROXY_NETWORK_POLICY", '{"ingressFrom": []}')  # the chart's
    monkeypatch.delenv("COPILOT_PROXY_METRICS_PORT", raising=False)
    options: dict[str, Any] = {}
    if mode == "namespaced":  # as `copilot-proxy operator --namespace team-a` runs it
        monkeypatch.setenv("COPILOT_PROXY_NAMESPACED", NS)
        options["namespaces"] = [NS]
    with KopfOperator(registry, **options) as running:
        yield running


async def sign_in(admin: httpx.AsyncClient, gh: FakeGitHub, name: str) -> None:
    started = await admin.post(f"/api/proxies/{NS}/{name}/login")
    assert started.status_code == 202, started.text
    gh.approve(started.json()["userCode"])
    assert (await wait_login(admin, started.json()["id"]))[-1]["phase"] == "connected"


async def an_mcp_server_comes_and_goes(cluster: KubeCluster) -> None:
    """A proxy runs an MCP server on a claim marked for it; the server is then undeclared."""
    marked = {"copilot-proxy.dev/mcp-for": "m"}
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "spec": {}}
    cluster.create({**claim, "metadata": {"name": "notes", "namespace": NS, "annotations": marked}})
    volume = {"persistentVolumeClaim": {"claimName": "notes"}}
    cluster.create(proxy("m", mcpServers={"notes": {"preset": "memory", "volume": volume}}))
    await wait_for(lambda: cluster.get("Deployment", NS, "m-mcp-notes"))
    cluster.patch("CopilotProxy", NS, "m", {"spec": {"mcpServers": None}})
    await wait_for(lambda: cluster.get("Deployment", NS, "m-mcp-notes") is None)


async def an_app_proxy_renews_its_token(cluster: KubeCluster, gh: FakeGitHub) -> None:
    """A GitHub App-backed proxy: the operator reads the marked key Secret, mints the token
    into the token Secret and renews it (a 4-second token)."""
    app = new_app(gh)
    gh.apps.token_lifetime = 4
    key = {
        "name": "app-key",
        "namespace": NS,
        "annotations": {"copilot-proxy.dev/app-key-for": "g"},
    }
    data = {"private-key.pem": b64(app.private_key_pem)}
    cluster.create(
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": key, "data": data}
    )
    ref = {"appId": str(app.app_id), "installationId": app.installation_id}
    cluster.create(
        proxy("g", credential={"githubApp": {**ref, "privateKeySecretRef": {"name": "app-key"}}})
    )
    await wait_for(lambda: condition(cluster, "g", "CredentialReady").get("reason") == "Minted")
    await wait_for(lambda: len([r for r in gh.apps.requests if r.status == 201]) >= 2, timeout=10)
    cluster.delete("CopilotProxy", NS, "g")  # nothing left renewing when the operator stops
    await wait_for(lambda: cluster.get("Deployment", NS, "g-litellm") is None)


async def a_whole_life(
    cluster: KubeCluster, operator: KopfOperator, gh: FakeGitHub, namespaces: list[str]
) -> None:
    gh.device_interval = 0
    async with login_service(gh, namespaces=namespaces) as server:
        admin = server.client(headers={"authorization": f"Bearer {ADMIN_PASSWORD}"})
        cluster.create(proxy("a"))
        await settled(cluster, "a")
        await sign_in(admin, gh, "a")
        await wait_for(lambda: condition(cluster, "a", "TokenReady").get("status") == "True")
        for path in ("/api/proxies", f"/api/proxies/{NS}/a", "/metrics", "/readyz"):
            assert (await admin.get(path)).status_code == 200
        # Drift: a child deleted, others edited, the master key emptied.
        cluster.delete("Deployment", NS, "a-litellm")
        cluster.patch("ConfigMap", NS, "a-litellm-config", {"data": {"config.yaml": "x: 1\n"}})
        cluster.patch("Service", NS, "a", {"spec": {"ports": [{"name": "http", "port": 8000}]}})
        cluster.patch("NetworkPolicy", NS, "a-litellm", {"spec": {"ingress": []}})
        cluster.patch("Secret", NS, "a-master-key", {"data": {"master-key": None}})
        await wait_for(lambda: cluster.get("Deployment", NS, "a-litellm"))
        await wait_for(lambda: (cluster.get("Secret", NS, "a-master-key") or {}).get("data"))
        await wait_for(
            lambda: (cluster.get("Service", NS, "a") or {})["spec"]["ports"][0]["port"] == 4000
        )
        await wait_for(
            lambda: (cluster.get("NetworkPolicy", NS, "a-litellm") or {})["spec"]["ingress"]
        )
        # A marked Secret of the user's; a name taken by another application's Service.
        marked = {"copilot-proxy.dev/token-for": "b"}
        secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque"}
        meta = {"name": "mine", "namespace": NS, "annotations": marked}
        cluster.create({**secret, "metadata": meta, "data": {"access-token": b64("t")}})
        cluster.create(proxy("b", tokenSecret={"name": "mine"}))
        service = {"spec": {"ports": [{"port": 80}], "selector": {"app": "x"}}}
        cluster.create(
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "c"}, **service}, NS
        )
        cluster.create(proxy("c"))
        await settled(cluster, "b")
        await settled(cluster, "c", deployment=False)
        await an_mcp_server_comes_and_goes(cluster)
        await an_app_proxy_renews_its_token(cluster, gh)
        # A sign-in while the operator is down: the login service makes the Secret.
        operator.stop()
        cluster.create(proxy("late"))
        await sign_in(admin, gh, "late")
        operator.start()
        await settled(cluster, "late")
        assert (await admin.delete(f"/api/proxies/{NS}/a/token")).status_code == 200
        cluster.delete("CopilotProxy", NS, "a")
        await wait_for(lambda: cluster.get("Deployment", NS, "a-litellm") is None)


async def test_each_component_is_granted_exactly_what_it_uses(
    kube_api: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub, helm: Helm, mode: str
) -> None:
    namespaced = mode == "namespaced"
    await a_whole_life(kube_api, operator, fake_github, [NS] if namespaced else [])
    rendered = helm.template(
        values=["namespaced" if namespaced else "default"],
        set_values=[f"watchNamespaces={{{NS}}}"] if namespaced else [],
    )
    scope = NS if namespaced else None
    seen = {k: v for k, v in used(kube_api).items() if k != "kube-cluster-test-helper"}
    assert set(seen) == {OPERATOR, AUTH}, set(seen)
    for name, deployment in ((OPERATOR, "copilot-operator"), (AUTH, "copilot-auth")):
        grants = granted(rendered, deployment, scope)
        missing, unused = sorted(seen[name] - grants), sorted(grants - seen[name])
        assert missing == [], f"{name} uses what the chart does not grant"
        assert unused == [], f"{name} is granted what it never uses"
    if namespaced:  # nothing outside the watched namespace was even asked for
        assert [r for r in kube_api.emulator.requests if r.namespace != NS] == []
