"""A CopilotProxy backed by a GitHub App (issue 15): the operator mints the installation
token with the App's key, renews it under running pods without rolling them, and says
what to do when GitHub refuses. Real kopf, the emulated API server, the fake GitHub's
App endpoints (real RS256 verification)."""

from __future__ import annotations

import json
import logging
from typing import Any

import prometheus_client
import pytest

from testkit.fake_github import FakeGitHub
from testkit.fake_github.apps import AppKeys, new_app, private_key_pem
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.waiting import wait_for
from tests.operator.conftest import (
    CPX,
    KEY_SECRET,
    TOKEN,
    app_proxy,
    b64,
    condition,
    fill_token,
    key_secret,
    proxy,
    reasons,
    template_annotations,
    token_of,
)

NS = "default"
CREDENTIAL = "copilot-proxy.dev/credential"


def cred(cluster: KubeCluster, name: str = "copilot") -> dict[str, Any]:
    return condition(cluster.get(CPX, NS, name), "CredentialReady")


async def minted(cluster: KubeCluster, name: str = "copilot", timeout: float = 15) -> str:
    await wait_for(lambda: cred(cluster, name).get("reason") == "Minted", timeout=timeout)
    await wait_for(lambda: token_of(cluster, name).startswith("ghs_"), timeout=timeout)
    return token_of(cluster, name)


async def app_proxy_minted(cluster: KubeCluster, app: AppKeys) -> str:
    """The App's key Secret and a CopilotProxy "copilot" on it; its first minted token."""
    cluster.create(key_secret(app.private_key_pem))
    cluster.create(app_proxy("copilot", app))
    return await minted(cluster)


def pod_annotations(cluster: KubeCluster) -> dict[str, str]:
    return template_annotations(cluster.get("Deployment", NS, "copilot-litellm"))


async def test_app_proxy_comes_up_without_sign_in(
    cluster: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub, app: AppKeys
) -> None:
    token = await app_proxy_minted(cluster, app)
    assert fake_github.apps.token(token) is not None, "a token the fake minted"

    deployment = cluster.get("Deployment", NS, "copilot-litellm")
    assert deployment is not None and deployment["spec"]["replicas"] == 1
    annotations = template_annotations(deployment)
    assert annotations[CREDENTIAL] and "copilot-proxy.dev/token-hash" not in annotations
    secret = cluster.get("Secret", NS, "copilot-github-token") or {}
    notes = secret["metadata"]["annotations"]
    assert notes[CREDENTIAL] == f"github-app/{app.app_id}/{app.installation_id}"
    assert notes["copilot-proxy.dev/login"] == "acme"
    assert notes["copilot-proxy.dev/token-expires-at"]

    status = (cluster.get(CPX, NS, "copilot") or {})["status"]
    credential = status["credential"]
    assert credential["kind"] == "GitHubApp" and credential["account"] == "acme"
    assert credential["appId"] == str(app.app_id)
    assert credential["installationId"] == app.installation_id
    assert credential["expiresAt"] and credential["renewAt"] < credential["expiresAt"]
    assert condition(cluster.get(CPX, NS, "copilot"), "TokenReady")["status"] == "True"
    await wait_for(lambda: "TokenRenewed" in reasons(cluster, NS, "copilot"))
    # The operator asked as the App: a JWT that named it, for its installation.
    asked = [(r.method, r.app_id, r.status) for r in fake_github.apps.requests]
    assert ("POST", app.app_id, 201) in asked


async def test_rotations_keep_the_pod_template(
    cluster: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub, app: AppKeys
) -> None:
    fake_github.apps.token_lifetime = 6  # renewed at half life: every ~3 s
    seen = [await app_proxy_minted(cluster, app)]
    template = (cluster.get("Deployment", NS, "copilot-litellm") or {})["spec"]["template"]

    def rotated() -> bool:
        token = token_of(cluster)
        if token and token != seen[-1]:
            seen.append(token)
        return len(seen) >= 4

    await wait_for(rotated, timeout=20, message="three rotations")
    assert len(set(seen)) == len(seen), "each renewal is a new token"
    after = (cluster.get("Deployment", NS, "copilot-litellm") or {})["spec"]["template"]
    assert after == template, "a rotation must not roll the proxy pods"
    assert "TokenReplaced" not in reasons(cluster, NS, "copilot")
    assert reasons(cluster, NS, "copilot").count("TokenRenewed") >= 4


async def test_another_installation_rolls_the_pods(
    cluster: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub, app: AppKeys
) -> None:
    first = await app_proxy_minted(cluster, app)
    before = pod_annotations(cluster)
    other = fake_github.apps.install(app.app_id, org="globex")
    ref = {"credential": {"githubApp": {"installationId": other.id}}}
    cluster.patch(CPX, NS, "copilot", {"spec": ref})

    def moved() -> bool:
        after = pod_annotations(cluster)
        return after.get(CREDENTIAL) not in (None, before[CREDENTIAL])

    await wait_for(moved, timeout=15)
    await wait_for(lambda: token_of(cluster) != first)
    paid = fake_github.apps.payer(token_of(cluster), {})
    assert paid == ("globex", app.app_id, other.id), "the new installation's token"
    await wait_for(lambda: "CredentialChanged" in reasons(cluster, NS, "copilot"))

    def said() -> dict[str, Any]:
        return dict((cluster.get(CPX, NS, "copilot") or {})["status"]["credential"])

    await wait_for(lambda: said().get("account") == "globex")
    assert said()["installationId"] == other.id


async def test_a_revoked_token_is_replaced_at_once(
    cluster: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub, app: AppKeys
) -> None:
    first = await app_proxy_minted(cluster, app)
    template = pod_annotations(cluster)
    fake_github.apps.revoke(app.installation_id)  # the token is refused from now on
    await wait_for(lambda: token_of(cluster) not in ("", first), timeout=10)
    live = fake_github.apps.token(token_of(cluster))
    assert live is not None and live.live()
    assert pod_annotations(cluster) == template


FAILURES = {
    "clock": ("ClockSkew", "NTP"),
    "suspended": ("AppNotInstalled", "unsuspend"),
    "uninstalled": ("AppNotInstalled", "install the App"),
    "permission": ("PermissionMissing", "Copilot Requests"),
    "policy": ("CopilotRequestsDisabled", "policies"),
}


def break_app(gh: FakeGitHub, app: AppKeys, how: str) -> None:
    if how == "clock":
        gh.apps.clock_offset = 900  # GitHub's clock 15 minutes ahead of the operator's
    elif how == "suspended":
        gh.apps.suspend(app.installation_id)
    elif how == "uninstalled":
        gh.apps.uninstall(app.installation_id)
    elif how == "permission":
        gh.apps.revoke_grant(app.installation_id, "copilot_requests")
    else:
        gh.apps.set_policy(False, org=app.org)


@pytest.mark.parametrize("how", sorted(FAILURES))
async def test_github_refusals_say_what_to_do(
    cluster: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub, app: AppKeys, how: str
) -> None:
    reason, hint = FAILURES[how]
    break_app(fake_github, app, how)
    cluster.create(key_secret(app.private_key_pem))
    cluster.create(app_proxy("copilot", app))
    await wait_for(lambda: cred(cluster).get("reason") == reason, timeout=15)
    said = cred(cluster)
    assert said["status"] == "False" and hint in said["message"], said
    ready = condition(cluster.get(CPX, NS, "copilot"), "Ready")
    assert (ready["status"], ready["reason"]) == ("False", reason)
    await wait_for(lambda: [e for e in cluster.events(NS, "copilot") if e["reason"] == reason])
    events = [e for e in cluster.events(NS, "copilot") if e["reason"] == reason]
    assert events[0]["type"] == "Warning" and hint in events[0]["message"]


async def test_a_wrong_key_is_key_invalid(
    cluster: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub, app: AppKeys
) -> None:
    cluster.create(key_secret(private_key_pem()))  # some other RSA key
    cluster.create(app_proxy("copilot", app))
    await wait_for(lambda: cred(cluster).get("reason") == "KeyInvalid", timeout=15)
    assert "private key" in cred(cluster)["message"]
    deployment = cluster.get("Deployment", NS, "copilot-litellm")
    assert deployment is not None and deployment["spec"]["replicas"] == 0, "no token, no pods"
    # The right key: the next attempt mints (the key Secret's change wakes the operator).
    cluster.patch("Secret", NS, KEY_SECRET, {"data": {"private-key.pem": b64(app.private_key_pem)}})
    await minted(cluster)


async def test_an_unmarked_key_secret_is_never_read(
    cluster: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub, app: AppKeys
) -> None:
    cluster.create(app_proxy("copilot", app))
    await wait_for(lambda: cred(cluster).get("reason") == "KeySecretMissing", timeout=15)
    assert "kubectl create secret generic copilot-app-key" in cred(cluster)["message"]
    cluster.create(key_secret(app.private_key_pem, marked_for=None))
    await wait_for(lambda: cred(cluster).get("reason") == "KeySecretNotAllowed", timeout=15)
    message = cred(cluster)["message"]
    assert (
        "kubectl annotate secret -n default copilot-app-key copilot-proxy.dev/app-key-for=copilot"
        in message
    )
    await wait_for(lambda: "KeySecretNotAllowed" in reasons(cluster, NS, "copilot"))
    assert fake_github.apps.requests == [], "the key was used: a JWT reached GitHub"
    cluster.patch(
        "Secret",
        NS,
        KEY_SECRET,
        {"metadata": {"annotations": {"copilot-proxy.dev/app-key-for": "copilot"}}},
    )
    await minted(cluster)


async def test_one_failing_app_leaves_other_proxies_alone(
    cluster: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub, app: AppKeys
) -> None:
    broken = new_app(fake_github, org="initech")
    fake_github.apps.suspend(broken.installation_id)
    cluster.create(key_secret(app.private_key_pem, marked_for="copilot"))
    cluster.create(key_secret(broken.private_key_pem, marked_for="broken", name="broken-key"))
    failing = app_proxy("broken", broken)
    failing["spec"]["credential"]["githubApp"]["privateKeySecretRef"]["name"] = "broken-key"
    cluster.create(failing)
    cluster.create(app_proxy("copilot", app))
    cluster.create(proxy("person"))
    await wait_for(lambda: cred(cluster, "broken").get("reason") == "AppNotInstalled", timeout=15)
    await minted(cluster)
    await wait_for(lambda: cluster.get("Secret", NS, "person-github-token"))
    fill_token(cluster, NS, "person-github-token", TOKEN)
    await wait_for(
        lambda: condition(cluster.get(CPX, NS, "person"), "TokenReady").get("status") == "True"
    )
    person = cluster.get(CPX, NS, "person") or {}
    assert person["status"]["credential"]["kind"] == "DeviceFlow"
    assert not condition(person, "CredentialReady"), "the device flow has no App condition"


async def test_no_key_or_token_in_logs_events_status_or_metrics(
    cluster: KubeCluster,
    operator: KopfOperator,
    fake_github: FakeGitHub,
    app: AppKeys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # everything the operator and kopf could say
    fake_github.apps.token_lifetime = 6
    wrong = private_key_pem()
    cluster.create(key_secret(wrong))
    cluster.create(app_proxy("copilot", app))
    await wait_for(lambda: cred(cluster).get("reason") == "KeyInvalid", timeout=15)
    cluster.patch("Secret", NS, KEY_SECRET, {"data": {"private-key.pem": b64(app.private_key_pem)}})
    seen = {await minted(cluster)}

    def tokens(count: int) -> bool:
        seen.add(token_of(cluster))
        return len(seen - {""}) >= count

    await wait_for(lambda: tokens(3), timeout=20, message="two renewals")
    fake_github.apps.revoke(app.installation_id)
    await wait_for(lambda: tokens(4), timeout=20, message="a re-mint")
    seen.discard("")

    def body(pem: str) -> list[str]:  # the key's base64 lines, as they would leak
        return [line for line in pem.splitlines() if line and not line.startswith("-----")]

    needles = [*seen, *(b64(t) for t in seen)]
    needles += body(app.private_key_pem)[1:4] + body(wrong)[1:4]
    needles += [b64(app.private_key_pem)[:60]]
    metrics = prometheus_client.generate_latest(prometheus_client.REGISTRY).decode()
    places = {
        "events": json.dumps(cluster.events(NS)),
        "status": json.dumps(cluster.get(CPX, NS, "copilot")),
        "deployment": json.dumps(cluster.get("Deployment", NS, "copilot-litellm")),
        "log": caplog.text,
        "metrics": metrics,
    }
    assert "TokenRenewed" in places["events"] and "copilot" in places["log"]
    for where, text in places.items():
        for needle in needles:
            assert needle not in text, f"secret material in the {where}"
        assert "ghs_" not in text, f"an installation token in the {where}"


async def test_back_to_the_device_flow_drops_the_app_token(
    cluster: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub, app: AppKeys
) -> None:
    """The organisation's token is not a person's: without the App, someone signs in."""
    await app_proxy_minted(cluster, app)
    cluster.patch(CPX, NS, "copilot", {"spec": {"credential": None}})
    await wait_for(lambda: token_of(cluster) == "", timeout=10)
    secret = cluster.get("Secret", NS, "copilot-github-token") or {}
    assert CREDENTIAL not in (secret["metadata"].get("annotations") or {})
    await wait_for(
        lambda: (
            condition(cluster.get(CPX, NS, "copilot"), "Ready").get("reason") == "WaitingForLogin"
        )
    )
    deployment = cluster.get("Deployment", NS, "copilot-litellm")
    assert deployment is not None and deployment["spec"]["replicas"] == 0
    assert (cluster.get(CPX, NS, "copilot") or {})["status"]["credential"] == {"kind": "DeviceFlow"}
