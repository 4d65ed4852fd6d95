"""Rule 1 of issue 11: a proxy only ever uses a token Secret that is its own.

The attacker may create CopilotProxy objects in team-a and names, as its token
Secret, Secrets that are not its proxy's: another application's, another proxy's
token or master key, a service-account token. The real operator (kopf against the
emulator) and the real login service must neither label, mount, count, read nor
write them, and tell the owner how to mark a Secret that is meant for the proxy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testkit.fake_github import FakeGitHub
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.waiting import wait_for
from tests.security.harness import (
    ADMIN_PASSWORD,
    NS,
    VICTIM_SECRET,
    VICTIM_TOKEN,
    b64,
    condition,
    full_reads,
    hosts_env,
    leaked,
    login_service,
    proxy,
    running_operator,
    settled,
    victim_secret,
)

TOKEN = "gho_" + "V1ct1mT0kenV1ct1mT0kenV1ct1mT0ken123"


@pytest.fixture
def operator(
    kube_api: KubeCluster, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KopfOperator]:
    with running_operator(monkeypatch, hosts_env(fake_github)) as running:
        yield running


def deployment(cluster: KubeCluster, name: str) -> dict[str, Any]:
    found = cluster.get("Deployment", NS, f"{name}-litellm")
    assert found is not None, f"no Deployment {name}-litellm"
    return found


def mounted_secrets(cluster: KubeCluster, name: str) -> set[str]:
    pod = deployment(cluster, name)["spec"]["template"]["spec"]
    return {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}


def refused(cluster: KubeCluster, name: str) -> dict[str, Any]:
    """The proxy's TokenReady condition, which must say the Secret is not its own."""
    token = condition(cluster, name, "TokenReady")
    assert (token.get("status"), token.get("reason")) == ("False", "TokenSecretNotAllowed")
    return token


async def test_another_applications_secret_is_not_labelled_mounted_or_counted(
    kube_api: KubeCluster, operator: KopfOperator
) -> None:
    victim_secret(kube_api)
    kube_api.create(proxy("thief", replicas=2, tokenSecret={"name": VICTIM_SECRET}))
    cpx = await settled(kube_api, "thief")

    # The Secret is exactly as its owner left it: no label, no owner, no patch.
    assert len(kube_api.history("Secret", NS, VICTIM_SECRET)) == 1
    # No pods, and not even a volume naming the Secret.
    assert deployment(kube_api, "thief")["spec"]["replicas"] == 0
    assert VICTIM_SECRET not in mounted_secrets(kube_api, "thief")
    assert cpx["status"]["token"]["state"] == "NotAllowed"
    assert VICTIM_TOKEN not in str(cpx) and b64(VICTIM_TOKEN) not in str(cpx)
    # The message says how the Secret's owner would mark it, and nothing of its content.
    token = refused(kube_api, "thief")
    assert f"kubectl annotate secret -n {NS} {VICTIM_SECRET}" in token["message"]
    assert "copilot-proxy.dev/token-for=thief" in token["message"]
    ready = condition(kube_api, "thief", "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "TokenSecretNotAllowed")


@pytest.mark.parametrize("target", ["victim-github-token", "victim-master-key"])
async def test_another_proxys_token_or_master_key_is_refused(
    kube_api: KubeCluster, operator: KopfOperator, target: str
) -> None:
    kube_api.create(proxy("victim"))
    await wait_for(lambda: kube_api.get("Secret", NS, "victim-master-key"))
    await wait_for(lambda: kube_api.get("Secret", NS, "victim-github-token"))
    kube_api.patch("Secret", NS, "victim-github-token", {"data": {"access-token": b64(TOKEN)}})
    before = len(kube_api.history("Secret", NS, target))

    kube_api.create(proxy("thief", tokenSecret={"name": target}))
    await settled(kube_api, "thief")
    assert len(kube_api.history("Secret", NS, target)) == before, "the victim's Secret changed"
    assert deployment(kube_api, "thief")["spec"]["replicas"] == 0
    assert target not in mounted_secrets(kube_api, "thief")
    assert "belongs to CopilotProxy victim" in refused(kube_api, "thief")["message"]


async def test_a_service_account_token_secret_is_refused(
    kube_api: KubeCluster, operator: KopfOperator
) -> None:
    victim_secret(
        kube_api,
        "builder-token",
        type="kubernetes.io/service-account-token",
        annotations={"kubernetes.io/service-account.name": "builder"},
    )
    kube_api.create(proxy("thief", tokenSecret={"name": "builder-token"}))
    await settled(kube_api, "thief")
    assert len(kube_api.history("Secret", NS, "builder-token")) == 1
    assert "builder-token" not in mounted_secrets(kube_api, "thief")
    refused(kube_api, "thief")


async def test_deleting_a_proxy_never_deletes_a_secret_another_proxy_uses(
    kube_api: KubeCluster, operator: KopfOperator
) -> None:
    # Proxy a's own token Secret, even marked for b, is never b's: deleting a deletes it.
    kube_api.create(proxy("a"))
    await wait_for(lambda: kube_api.get("Secret", NS, "a-github-token"))
    kube_api.patch(
        "Secret",
        NS,
        "a-github-token",
        {
            "metadata": {"annotations": {"copilot-proxy.dev/token-for": "b"}},
            "data": {"access-token": b64(TOKEN)},
        },
    )
    kube_api.create(proxy("b", tokenSecret={"name": "a-github-token"}))
    await settled(kube_api, "b")
    assert deployment(kube_api, "b")["spec"]["replicas"] == 0
    assert "a-github-token" not in mounted_secrets(kube_api, "b")
    assert "belongs to CopilotProxy a" in refused(kube_api, "b")["message"]

    # What works instead: a Secret of the user's own, marked for both.
    kube_api.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": "team-token",
                "namespace": NS,
                "annotations": {"copilot-proxy.dev/token-for": "a,b"},
            },
            "data": {"access-token": b64(TOKEN)},
        }
    )
    for name in ("a", "b"):
        kube_api.patch("CopilotProxy", NS, name, {"spec": {"tokenSecret": {"name": "team-token"}}})
    await wait_for(lambda: condition(kube_api, "b", "TokenReady").get("status") == "True")
    kube_api.delete("CopilotProxy", NS, "a")
    await wait_for(lambda: kube_api.get("Secret", NS, "a-github-token") is None)
    assert kube_api.get("Secret", NS, "team-token") is not None
    assert condition(kube_api, "b", "TokenReady")["status"] == "True"


async def test_the_login_service_neither_reads_nor_sends_another_applications_secret(
    kube_api: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub
) -> None:
    """Unauthenticated GET /api/proxies and /metrics used to read the Secret and send it to
    GitHub (or wherever spec.github pointed) to show its quota."""
    victim_secret(kube_api)
    kube_api.create(proxy("thief", tokenSecret={"name": VICTIM_SECRET}))
    await settled(kube_api, "thief")
    async with login_service(fake_github) as server:
        anyone = server.client()
        for path in ("/api/proxies", f"/api/proxies/{NS}/thief", "/metrics") * 2:
            answer = await anyone.get(path)
            assert answer.status_code == 200 and VICTIM_TOKEN not in answer.text
        [shown] = (await anyone.get("/api/proxies")).json()["proxies"]
    assert leaked(fake_github, VICTIM_TOKEN) == []
    assert full_reads(kube_api, VICTIM_SECRET, client="copilot-proxy-auth") == []
    assert shown["token"]["state"] == "missing" and "token-for=thief" in shown["statusMessage"]


async def test_an_admin_cannot_be_made_to_overwrite_another_applications_secret(
    kube_api: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub
) -> None:
    """An admin signing the attacker's proxy in would have written the admin's GitHub token
    over the other application's Secret."""
    victim_secret(kube_api)
    kube_api.create(proxy("thief", tokenSecret={"name": VICTIM_SECRET}))
    await settled(kube_api, "thief")
    async with login_service(fake_github) as server:
        admin = server.client(headers={"authorization": f"Bearer {ADMIN_PASSWORD}"})
        started = await admin.post(f"/api/proxies/{NS}/thief/login")
        assert started.status_code == 409, started.text
        assert started.json()["error"] == "token_secret_not_allowed"
        assert "copilot-proxy.dev/token-for=thief" in started.json()["message"]
        signed_out = await admin.delete(f"/api/proxies/{NS}/thief/token")
        assert signed_out.status_code == 409
    assert fake_github.requests == [], "no device flow was started for it"
    assert len(kube_api.history("Secret", NS, VICTIM_SECRET)) == 1
