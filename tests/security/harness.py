"""What the attack replays of tests/security share: the real operator and login service as the
chart configures them, an attacker's server, the attacker's manifests, and what to look at.

The attacker may only create CopilotProxy objects in their namespace (`team-a`); everything
else (Secrets of other applications, the operator's configuration) belongs to others. An
attack succeeds when the attacker's server receives a token, or when something that is not
the attacker's proxy's changes; each test asserts the attacker gets nothing.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from copilot_proxy.auth.config import Settings
from copilot_proxy.auth.stores.kubernetes import KubernetesStore
from testkit.fake_github import FakeGitHub
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.waiting import wait_for
from tests.auth.conftest import AuthServer, fast_limits, serve_auth
from tests.chart.conftest import ROOT, Helm

NS = "team-a"
IMAGE = "registry.test/copilot-proxy:test"
# Another application's Secret in the attacker's namespace; it holds an `access-token`.
VICTIM_SECRET = "billing-api"
VICTIM_TOKEN = "BILLING-API-SECRET-123"
ADMIN_PASSWORD = "correct horse battery staple"

Obj = dict[str, Any]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def real_helm() -> Helm:
    """The real Helm binary, fetched once into .cache/bin (scripts/fetch_helm.py)."""
    fetched = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fetch_helm.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return Helm(Path(fetched.stdout.strip().splitlines()[-1]))


def hosts_env(gh: FakeGitHub) -> str:
    """COPILOT_PROXY_GITHUB_HOSTS pointing github.com at the fake (configuration, not spec)."""
    return json.dumps([{"name": "github.com", "webUrl": gh.url, "apiUrl": gh.url}])


@contextlib.contextmanager
def running_operator(
    monkeypatch: pytest.MonkeyPatch, hosts: str = "", resync: float = 1
) -> Iterator[KopfOperator]:
    """The operator with the environment the chart gives it (COPILOT_PROXY_KUBE_API is set)."""
    from copilot_proxy.operator.handlers import registry

    monkeypatch.setenv("COPILOT_PROXY_IMAGE", IMAGE)
    monkeypatch.setenv("COPILOT_PROXY_RESYNC_SECONDS", str(resync))
    monkeypatch.delenv("COPILOT_PROXY_METRICS_PORT", raising=False)
    if hosts:
        monkeypatch.setenv("COPILOT_PROXY_GITHUB_HOSTS", hosts)
    with KopfOperator(registry) as operator:
        yield operator


@contextlib.asynccontextmanager
async def login_service(
    gh: FakeGitHub,
    env: dict[str, str] | None = None,
    overrides: bool = True,
    namespaces: Sequence[str] = (),
    **limits: Any,
) -> AsyncIterator[AuthServer]:
    """The login service on the Kubernetes store, configured as the chart does: the GitHub
    hosts from COPILOT_PROXY_GITHUB_HOSTS (github.com = the fake), an admin password.
    `overrides`: also the GITHUB_*_URL test overrides, as every test of tests/auth sets them
    (so a version of the service that ignores the hosts list reaches the fake as well)."""
    settings = Settings.from_env(
        {
            **(gh.env() if overrides else {}),
            "COPILOT_PROXY_GITHUB_HOSTS": hosts_env(gh),
            "COPILOT_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
            **(env or {}),
        },
        limits=fast_limits(**limits),
    )
    store = KubernetesStore.from_environment(namespaces)
    async with serve_auth(settings, store, gh) as server:
        yield server


def proxy(name: str, **spec: Any) -> Obj:
    """The attacker's CopilotProxy in team-a."""
    spec.setdefault("models", [{"name": "gpt-5-mini"}])
    return {
        "apiVersion": "copilot-proxy.dev/v1alpha1",
        "kind": "CopilotProxy",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }


def victim_secret(cluster: KubeCluster, name: str = VICTIM_SECRET, **extra: Any) -> Obj:
    """Another application's Secret that happens to hold a key `access-token`."""
    return cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": extra.pop("type", "Opaque"),
            "metadata": {"name": name, "namespace": NS, "labels": {"app": "billing"}, **extra},
            "data": {"access-token": b64(VICTIM_TOKEN)},
        }
    )


def condition(cluster: KubeCluster, name: str, kind: str) -> dict[str, Any]:
    cpx = cluster.get("CopilotProxy", NS, name) or {}
    for cond in (cpx.get("status") or {}).get("conditions") or []:
        if cond["type"] == kind:
            return dict(cond)
    return {}


async def settled(cluster: KubeCluster, name: str, deployment: bool = True) -> Obj:
    """Wait until the operator has reconciled the proxy's current generation (and made its
    Deployment); the CopilotProxy as it stands then."""

    def done() -> Obj:
        cpx = cluster.get("CopilotProxy", NS, name) or {}
        current = (cpx.get("status") or {}).get("observedGeneration") == (
            cpx.get("metadata") or {}
        ).get("generation")
        made = not deployment or cluster.get("Deployment", NS, f"{name}-litellm") is not None
        return cpx if current and made else {}

    found: Obj = await wait_for(done, message=f"{NS}/{name} reconciled")
    return found


def leaked(server: FakeGitHub, secret: str = "") -> list[str]:
    """What reached `server` carrying a credential (or, with `secret`, that value anywhere)."""
    found = []
    for r in server.requests:
        text = json.dumps([r.path, r.query, r.headers, r.body])
        if "authorization" in r.headers or (secret and secret in text):
            found.append(f"{r.method} {r.path}")
    return found


def full_reads(cluster: KubeCluster, name: str, client: str = "") -> list[str]:
    """GETs of Secret `name` that served its data (not metadata only), by `client`."""
    return [
        f"{r.client} {r.verb} {r.name}"
        for r in list(cluster.emulator.requests)
        if r.resource == "v1/secrets"
        and r.name == name
        and r.verb == "get"
        and not r.metadata_only
        and client in r.client
    ]
