"""Fixtures for the login service's tests.

- Kubernetes: the shared emulator of testkit.kube (`kube_api`: a `KubeCluster` in
  its own thread, the real CRD, COPILOT_PROXY_KUBE_API pointing at it);
  `add_proxy` sets up a CopilotProxy as the operator leaves it.
- `auth_server`: the real app served by uvicorn on 127.0.0.1 in the test's
  event loop, talking to the fake GitHub (testkit.fake_github) and the emulator.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from copilot_proxy.auth.app import create_app
from copilot_proxy.auth.config import Limits, Settings
from copilot_proxy.auth.stores.directory import DirectoryStore, LocalProxy
from copilot_proxy.auth.stores.kubernetes import KubernetesStore
from copilot_proxy.auth.stores.protocol import TokenStore
from copilot_proxy.core import manifests
from copilot_proxy.core.spec import token_secret_of
from testkit.fake_github import FakeGitHub
from testkit.kube import KubeCluster

NS = "ai"
CPX = "CopilotProxy"
MASTER_KEY = "sk-test-master-key-0123456789abcdefghijklmnopqrstuv"
ADMIN_PASSWORD = "correct horse battery staple"
# Browser-like headers of a same-origin fetch; tests add the CSRF token.
SAME_ORIGIN = {"sec-fetch-site": "same-origin"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def add_proxy(
    cluster: KubeCluster,
    name: str = "copilot",
    namespace: str = NS,
    master_key: str | None = MASTER_KEY,
    spec: dict[str, Any] | None = None,
    token_secret: bool = True,
) -> None:
    """A CopilotProxy as the operator leaves it: an empty token Secret and a master key,
    both owned by the proxy."""
    spec = spec or {"models": [{"name": "claude-opus-4.6"}, {"name": "gpt-5-mini"}]}
    cpx = cluster.create(
        {
            "apiVersion": "copilot-proxy.dev/v1alpha1",
            "kind": CPX,
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )
    owners = [manifests.owner_reference(name, cpx["metadata"]["uid"])]
    secret_name = token_secret_of(name, spec)
    if token_secret:
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {
                    "name": secret_name,
                    "namespace": namespace,
                    "labels": {"copilot-proxy.dev/proxy": name},
                    "ownerReferences": owners,
                },
                "data": {},
            }
        )
    if master_key is not None:
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {
                    "name": f"{name}-master-key",
                    "namespace": namespace,
                    "ownerReferences": owners,
                },
                "data": {"master-key": b64(master_key)},
            }
        )


def secret(cluster: KubeCluster, name: str = "copilot-github-token") -> dict[str, Any]:
    obj = cluster.get("Secret", NS, name)
    assert obj is not None, f"no Secret {NS}/{name}"
    return obj


def stored_token(cluster: KubeCluster, name: str = "copilot-github-token") -> str:
    raw = (secret(cluster, name).get("data") or {}).get("access-token")
    return base64.b64decode(raw).decode() if raw else ""


async def wait_login(
    c: httpx.AsyncClient, login_id: str, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Poll like the page does; returns every state seen, the final one last."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = await c.get(f"/api/logins/{login_id}")
        assert r.status_code == 200, r.text
        seen.append(r.json())
        if seen[-1]["phase"] in ("connected", "failed", "cancelled"):
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"login did not finish: {seen[-1]}")


def fast_limits(**overrides: Any) -> Limits:
    return Limits(**{"min_poll_interval": 0.05, "usage_ttl": 0.0, **overrides})


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free port of 127.0.0.1; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        task.result()  # surfaces the start-up error
        raise RuntimeError("uvicorn did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@dataclass
class AuthServer:
    url: str
    app: FastAPI
    store: TokenStore
    gh: FakeGitHub
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        c = httpx.AsyncClient(base_url=self.url, timeout=10, **kwargs)
        self.clients.append(c)
        return c

    async def unlocked(self, credential: str = MASTER_KEY) -> tuple[httpx.AsyncClient, str]:
        """A browser-like client with an admin session; returns it and its CSRF token."""
        c = self.client(headers=SAME_ORIGIN)
        r = await c.post("/api/session", json={"credential": credential})
        assert r.status_code == 200, r.text
        return c, str(r.json()["csrfToken"])


ServerFactory = Callable[..., contextlib.AbstractAsyncContextManager[AuthServer]]


@pytest.fixture
def gh(fake_github: FakeGitHub) -> FakeGitHub:
    """The shared fake GitHub, announcing a 0 s poll interval (the service floors it)."""
    fake_github.device_interval = 0
    return fake_github


@contextlib.asynccontextmanager
async def serve_auth(
    settings: Settings, store: TokenStore, gh: FakeGitHub
) -> AsyncIterator[AuthServer]:
    """The login service with `settings` on `store`; its clients closed at the end."""
    app = create_app(settings, store)
    async with serving(app) as url:
        server = AuthServer(url, app, store, gh)
        try:
            yield server
        finally:
            for c in server.clients:
                await c.aclose()


@pytest.fixture
def make_server(gh: FakeGitHub) -> ServerFactory:
    """Start the app on a given store: `async with make_server(store, limits=...) as s:`."""

    @contextlib.asynccontextmanager
    async def start(
        store: TokenStore,
        limits: Limits | None = None,
        admin_password: str = ADMIN_PASSWORD,
        env: dict[str, str] | None = None,
    ) -> AsyncIterator[AuthServer]:
        env = {**gh.env(), "COPILOT_AUTH_ADMIN_PASSWORD": admin_password, **(env or {})}
        settings = Settings.from_env(env, limits=limits or fast_limits())
        async with serve_auth(settings, store, gh) as server:
            yield server

    return start


@pytest.fixture
async def auth_server(
    kube_api: KubeCluster, make_server: ServerFactory
) -> AsyncIterator[AuthServer]:
    """The service on the Kubernetes store, one proxy `ai/copilot` as the operator left it."""
    add_proxy(kube_api)
    async with make_server(KubernetesStore.from_environment([NS])) as server:
        yield server


@pytest.fixture
def local_proxy(tmp_path: Path) -> LocalProxy:
    directory = tmp_path / "state" / "copilot"
    directory.mkdir(parents=True, mode=0o700)
    (directory / "master-key").write_text(MASTER_KEY)
    return LocalProxy(name="copilot", directory=directory, namespace=NS)


@pytest.fixture
async def dir_server(
    local_proxy: LocalProxy, make_server: ServerFactory
) -> AsyncIterator[AuthServer]:
    async with make_server(DirectoryStore([local_proxy])) as server:
        yield server


# -- a GitHub App-backed proxy (issue 15), as the operator leaves it -------------------------

APP_ID = "Iv23liTestApp0000000"
INSTALLATION = 7890123
ORG = "acme"
APP_TOKEN = "ghs_appInstallationToken0000000000000000"
APP_SPEC: dict[str, Any] = {
    "models": [{"name": "gpt-5-mini"}],
    "credential": {
        "githubApp": {
            "clientId": APP_ID,
            "installationId": INSTALLATION,
            "privateKeySecretRef": {"name": "copilot-app-key"},
        }
    },
}


def app_token(
    cluster: KubeCluster, minted: str, expires: str, token: str = APP_TOKEN, name: str = "copilot"
) -> None:
    """The operator's write of a freshly minted installation token into the token Secret."""
    cluster.patch(
        "Secret",
        NS,
        f"{name}-github-token",
        {
            "metadata": {
                "annotations": {
                    "copilot-proxy.dev/login": ORG,
                    "copilot-proxy.dev/token-updated-at": minted,
                    "copilot-proxy.dev/token-expires-at": expires,
                    "copilot-proxy.dev/credential": f"github-app/{APP_ID}/{INSTALLATION}",
                }
            },
            "data": {"access-token": b64(token)},
        },
    )


def credential_status(
    cluster: KubeCluster,
    status: str = "True",
    reason: str = "Minted",
    message: str = "Installation token minted.",
    name: str = "copilot",
    **seen: str,
) -> None:
    """The operator's status.credential and CredentialReady condition."""
    credential = {"kind": "GitHubApp", "clientId": APP_ID, "installationId": INSTALLATION, **seen}
    condition = {"type": "CredentialReady", "status": status, "reason": reason, "message": message}
    body = {"status": {"credential": credential, "conditions": [condition]}}
    cluster.patch(CPX, NS, name, body, subresource="status")


def add_app_proxy(cluster: KubeCluster, key_secret: bool = True) -> None:
    """An App-backed proxy, its (operator-made, empty) token Secret, and the App's key
    Secret marked for it; the operator has not minted a token yet."""
    add_proxy(cluster, spec=APP_SPEC)
    if key_secret:  # what `kubectl create secret` + `kubectl annotate` make
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {
                    "name": "copilot-app-key",
                    "namespace": NS,
                    "annotations": {"copilot-proxy.dev/app-key-for": "copilot"},
                },
                "data": {"private-key.pem": b64("-----BEGIN PRIVATE KEY-----\nnot-a-key\n")},
            }
        )
