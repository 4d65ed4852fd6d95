"""The operator under test: the real kopf handlers against the emulated API server.

`operator` starts `copilot_proxy.operator.handlers.registry` cluster-wide with
the environment the chart gives it, pointed at the emulator (`cluster`). The
helpers read what a user would look at: children, conditions, events.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import prometheus_client
import pytest
import yaml

from testkit.fake_github import FakeGitHub
from testkit.fake_github.apps import AppKeys, new_app
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.waiting import wait_for

IMAGE = "registry.test/copilot-proxy:test"
LOGIN_HINT = "open https://login.test/github and sign in"
CPX = "CopilotProxy"
CHAIN = ["claude-opus-4.6", "gemini-3-pro-preview", "gpt-5-mini"]
# Tokens look like GitHub's; tests search logs, events and status for them.
TOKEN = "gho_" + "T0kenT0kenT0kenT0kenT0kenT0kenT0ken1"
OTHER_TOKEN = "gho_" + "0therT0ken0therT0ken0therT0ken0ther2"

TOKEN_HASH = "copilot-proxy.dev/token-hash"
KEY_SECRET = "copilot-app-key"  # the GitHub App's private key, in tests


@pytest.fixture
def operator_env(
    kube_api: KubeCluster, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> KubeCluster:
    """The environment the chart gives the operator, pointed at the emulator (and GitHub,
    whose catalogue it reads, at the fake: its tokens are unknown there unless a test
    adds them as accounts)."""
    for name, value in fake_github.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COPILOT_PROXY_IMAGE", IMAGE)
    monkeypatch.setenv("COPILOT_PROXY_LOGIN_HINT", LOGIN_HINT)
    monkeypatch.setenv("COPILOT_PROXY_RESYNC_SECONDS", "1")
    # GitHub App tokens checked at the key exchange every second, failures retried after one.
    monkeypatch.setenv("COPILOT_PROXY_APP_CHECK_SECONDS", "1")
    monkeypatch.setenv("COPILOT_PROXY_APP_RETRY_SECONDS", "1")
    monkeypatch.delenv("COPILOT_PROXY_METRICS_PORT", raising=False)
    return kube_api


@pytest.fixture
def cluster(operator_env: KubeCluster) -> KubeCluster:
    return operator_env


@pytest.fixture
def operator(operator_env: KubeCluster) -> Iterator[KopfOperator]:
    """The operator, running (cluster-wide); `.restart()` keeps the cluster, `.stop()` stops it."""
    from copilot_proxy.operator.handlers import registry

    with KopfOperator(registry) as running:
        yield running


@pytest.fixture
def app(fake_github: FakeGitHub) -> AppKeys:
    """A GitHub App the fake knows, installed on the organisation `acme`."""
    return new_app(fake_github)


# -- manifests and what users do ----------------------------------------------


def proxy(name: str = "copilot", namespace: str = "default", **spec: Any) -> dict[str, Any]:
    """A CopilotProxy manifest; `models` defaults to the original setup's chain."""
    spec.setdefault("models", [{"name": m} for m in CHAIN])
    return {
        "apiVersion": "copilot-proxy.dev/v1alpha1",
        "kind": CPX,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def app_proxy(
    name: str, keys: AppKeys, installation: int | None = None, **spec: Any
) -> dict[str, Any]:
    """A CopilotProxy whose credential is the GitHub App `keys` (key in KEY_SECRET)."""
    ref = {
        "appId": str(keys.app_id),
        "installationId": installation or keys.installation_id,
        "privateKeySecretRef": {"name": KEY_SECRET},
    }
    return proxy(name, credential={"githubApp": ref}, **spec)


def key_secret(
    pem: str, marked_for: str | None = "copilot", name: str = KEY_SECRET
) -> dict[str, Any]:
    """The Secret holding an App's private key, marked for the proxies `marked_for`."""
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if marked_for:
        meta["annotations"] = {"copilot-proxy.dev/app-key-for": marked_for}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": meta,
        "data": {"private-key.pem": b64(pem)},
    }


def fill_token(cluster: KubeCluster, namespace: str, secret: str, token: str) -> None:
    """What `kubectl patch secret S -p '{"data":{"access-token":"..."}}'` does."""
    cluster.patch("Secret", namespace, secret, {"data": {"access-token": b64(token)}})


# -- what users look at --------------------------------------------------------


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond["type"] == kind:
            return dict(cond)
    return {}


def token_of(cluster: KubeCluster, name: str = "copilot", namespace: str = "default") -> str:
    """The GitHub token in the proxy's token Secret ('' when none)."""
    secret = cluster.get("Secret", namespace, f"{name}-github-token") or {}
    raw = (secret.get("data") or {}).get("access-token") or ""
    return base64.b64decode(raw).decode()


def children(cluster: KubeCluster, namespace: str, name: str) -> dict[str, Any]:
    """The five children by role; None for one that does not exist."""
    return {
        "configmap": cluster.get("ConfigMap", namespace, f"{name}-litellm-config"),
        "master-key": cluster.get("Secret", namespace, f"{name}-master-key"),
        "token": cluster.get("Secret", namespace, f"{name}-github-token"),
        "deployment": cluster.get("Deployment", namespace, f"{name}-litellm"),
        "service": cluster.get("Service", namespace, name),
    }


def template_annotations(deployment: dict[str, Any] | None) -> dict[str, str]:
    if deployment is None:
        return {}
    return dict(deployment["spec"]["template"]["metadata"].get("annotations") or {})


def rendered(configmap: dict[str, Any] | None) -> dict[str, Any]:
    """The LiteLLM config the proxy pods would read."""
    assert configmap is not None
    return dict(yaml.safe_load(configmap["data"]["config.yaml"]))


def model_names(config: dict[str, Any]) -> list[str]:
    return [entry["model_name"] for entry in config["model_list"]]


def master_key(cluster: KubeCluster, namespace: str, name: str) -> str:
    secret = cluster.get("Secret", namespace, f"{name}-master-key")
    assert secret is not None
    return base64.b64decode(secret["data"]["master-key"]).decode()


def reasons(cluster: KubeCluster, namespace: str, name: str) -> list[str]:
    return [e["reason"] for e in cluster.events(namespace, name)]


def reconciles() -> float:
    """All reconciliations counted by the operator's Prometheus metrics so far."""
    total = 0.0
    for metric in prometheus_client.REGISTRY.collect():
        for sample in metric.samples:
            if sample.name == "copilot_proxy_reconciles_total":
                total += sample.value
    return total


async def settled(cluster: KubeCluster, namespace: str, name: str, timeout: float = 10) -> None:
    """Wait until the proxy has children and a status for its current generation."""

    def done() -> bool:
        cpx = cluster.get(CPX, namespace, name)
        status = (cpx or {}).get("status") or {}
        return bool(
            cpx
            and status.get("observedGeneration") == cpx["metadata"]["generation"]
            and condition(cpx, "ConfigReady").get("status") == "True"
            and cluster.get("Deployment", namespace, f"{name}-litellm")
            and cluster.get("Service", namespace, name)
        )

    await wait_for(done, timeout=timeout, message=f"{namespace}/{name} settled")


async def reconciled_since(mark: float, count: int = 1, timeout: float = 10) -> None:
    """Wait until the operator has reconciled `count` times since `mark = reconciles()`.

    Take the mark before the change that triggers them: a fast operator may be
    done before the test gets here.
    """
    await wait_for(
        lambda: reconciles() >= mark + count, timeout=timeout, message=f"{count} reconciles"
    )
