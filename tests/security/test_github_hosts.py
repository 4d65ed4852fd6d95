"""Rule 2 of issue 11: GitHub hosts are the operator's configuration, not the resource's.

`spec.github.apiUrl: http://attacker/` used to become the proxy pods'
GITHUB_COPILOT_API_KEY_URL and the login service's usage URL, so the token went to the
attacker, also on unauthenticated reads. Now a CopilotProxy only picks a host by name
among COPILOT_PROXY_GITHUB_HOSTS (the Helm values `github.hosts`, the local mode's
`--github-host`); the attacker's server (a second fake GitHub) receives nothing, and no
request without a credential makes the login service call GitHub at all.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from testkit.fake_github import FakeGitHub
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.ports import free_port
from testkit.waiting import wait_for
from tests.auth.conftest import SAME_ORIGIN, wait_login
from tests.security.harness import (
    ADMIN_PASSWORD,
    NS,
    b64,
    condition,
    hosts_env,
    leaked,
    login_service,
    proxy,
    running_operator,
    settled,
)

CLI = str(Path(sys.executable).with_name("copilot-proxy"))
TOKEN = "gho_" + "TeamT0kenTeamT0kenTeamT0kenTeamT0ken1"
GATEWAY = "https://gw.acme.example/api"


@pytest.fixture
def attacker() -> Iterator[FakeGitHub]:
    """A server of the attacker's, speaking GitHub's protocol and recording what it gets."""
    with FakeGitHub() as server:
        yield server


@pytest.fixture
def operator(
    kube_api: KubeCluster, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KopfOperator]:
    """github.com is the fake, and an administrator allowed one GHE.com tenant behind a gateway."""
    hosts = json.loads(hosts_env(fake_github))
    hosts.append({"name": "acme.ghe.com", "apiUrl": GATEWAY})
    with running_operator(monkeypatch, json.dumps(hosts)) as running:
        yield running


def github_urls(cluster: KubeCluster, name: str) -> dict[str, str]:
    deployment = cluster.get("Deployment", NS, f"{name}-litellm")
    assert deployment is not None
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"] if e["name"].endswith("_URL")}


def mentions(cluster: KubeCluster, text: str) -> list[str]:
    """The proxy children in team-a whose definition contains `text`."""
    kinds = ("Deployment", "ConfigMap", "Service", "Secret")
    return [
        f"{kind} {o['metadata']['name']}"
        for kind in kinds
        for o in cluster.list(kind, NS)
        if text in json.dumps(o)
    ]


@pytest.mark.parametrize(
    ("github", "field"),
    [
        ({"apiUrl": "ATTACKER"}, "spec.github.apiUrl"),
        ({"host": "attacker.example"}, "spec.github.host"),
    ],
    ids=["api-url", "host"],
)
async def test_a_resource_cannot_point_the_proxy_pods_elsewhere(
    kube_api: KubeCluster,
    operator: KopfOperator,
    attacker: FakeGitHub,
    github: dict[str, str],
    field: str,
) -> None:
    github = {k: v.replace("ATTACKER", attacker.url) for k, v in github.items()}
    kube_api.create(proxy("thief", github=github))
    await settled(kube_api, "thief", deployment=False)
    where = attacker.url if "apiUrl" in github else "attacker.example"
    assert mentions(kube_api, where) == []
    ready = condition(kube_api, "thief", "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert ready["message"].startswith(f"{field}:") and "github.hosts" in ready["message"]


async def test_a_serving_proxy_edited_to_point_elsewhere_keeps_its_pods_as_they_were(
    kube_api: KubeCluster, operator: KopfOperator, attacker: FakeGitHub, fake_github: FakeGitHub
) -> None:
    kube_api.create(proxy("team"))
    await settled(kube_api, "team")
    before = github_urls(kube_api, "team")
    kube_api.patch("CopilotProxy", NS, "team", {"spec": {"github": {"apiUrl": attacker.url}}})
    await settled(kube_api, "team")
    assert github_urls(kube_api, "team") == before
    assert condition(kube_api, "team", "Ready")["reason"] == "InvalidSpec"
    assert before["GITHUB_COPILOT_API_KEY_URL"] == f"{fake_github.url}/copilot_internal/v2/token"


async def test_an_allowed_ghe_host_gets_the_urls_the_administrator_configured(
    kube_api: KubeCluster, operator: KopfOperator
) -> None:
    kube_api.create(proxy("acme", github={"host": "acme.ghe.com"}))
    await settled(kube_api, "acme")
    assert github_urls(kube_api, "acme") == {
        "GITHUB_COPILOT_DEVICE_CODE_URL": "https://acme.ghe.com/login/device/code",
        "GITHUB_COPILOT_ACCESS_TOKEN_URL": "https://acme.ghe.com/login/oauth/access_token",
        "GITHUB_COPILOT_API_KEY_URL": f"{GATEWAY}/copilot_internal/v2/token",
    }
    # Repeating the configured API URL is allowed (it was the way to set one before).
    kube_api.patch("CopilotProxy", NS, "acme", {"spec": {"github": {"apiUrl": f"{GATEWAY}/"}}})
    await settled(kube_api, "acme")
    assert condition(kube_api, "acme", "ConfigReady")["status"] == "True"


async def signed_in(cluster: KubeCluster, name: str) -> None:
    """The proxy's own token Secret holds a token, as after a sign-in."""
    await wait_for(lambda: cluster.get("Secret", NS, f"{name}-github-token"))
    cluster.patch("Secret", NS, f"{name}-github-token", {"data": {"access-token": b64(TOKEN)}})


async def test_the_login_service_sends_no_token_to_a_url_the_resource_names(
    kube_api: KubeCluster, operator: KopfOperator, attacker: FakeGitHub, fake_github: FakeGitHub
) -> None:
    kube_api.create(proxy("team"))
    await signed_in(kube_api, "team")
    kube_api.patch("CopilotProxy", NS, "team", {"spec": {"github": {"apiUrl": attacker.url}}})
    # The service's own GitHub: the operator may read the account's catalogue from
    # fake_github with the proxy's token (its host is allowed) before the patch lands.
    with FakeGitHub() as service_github:
        async with login_service(service_github) as server:
            anyone = server.client()
            for path in ("/api/proxies", f"/api/proxies/{NS}/team", "/metrics") * 2:
                assert (await anyone.get(path)).status_code == 200
            admin = server.client(headers={"authorization": f"Bearer {ADMIN_PASSWORD}"})
            started = await admin.post(f"/api/proxies/{NS}/team/login")
    assert attacker.requests == [], [f"{r.method} {r.path}" for r in attacker.requests]
    assert leaked(service_github, TOKEN) == []
    assert started.status_code == 409 and started.json()["error"] == "github_host_not_allowed"
    assert "spec.github.apiUrl" in started.json()["message"]


async def test_no_request_without_a_credential_makes_the_service_call_github(
    kube_api: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub
) -> None:
    kube_api.create(proxy("team"))
    await wait_for(lambda: kube_api.get("Secret", NS, "team-github-token"))
    # The service's own GitHub: the operator reads the account's catalogue from
    # fake_github once the token is there (with the proxy's token, as it may).
    with FakeGitHub() as service_github:
        async with login_service(service_github, usage_ttl=3600) as server:

            def first_refresh_done() -> bool:  # the service's background look found no token
                return any(
                    r.client == "copilot-proxy-auth" and r.name == "team-github-token"
                    for r in list(kube_api.emulator.requests)
                )

            with contextlib.suppress(AssertionError):
                await wait_for(first_refresh_done, timeout=2)
            await signed_in(kube_api, "team")
            anyone = server.client()
            for path in ("/api/proxies", f"/api/proxies/{NS}/team", "/metrics") * 3:
                assert (await anyone.get(path)).status_code == 200
            [shown] = (await anyone.get("/api/proxies")).json()["proxies"]
    assert leaked(service_github) == [], "unauthenticated reads made the service call GitHub"
    assert shown["token"]["state"] == "present"


async def test_github_com_is_the_fake_by_configuration_alone(
    kube_api: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub
) -> None:
    """No GITHUB_*_URL override: COPILOT_PROXY_GITHUB_HOSTS is all the tests need, as the chart
    sets it; the whole sign-in reaches the fake, the token lands in the proxy's Secret."""
    fake_github.device_interval = 0
    kube_api.create(proxy("team"))
    await settled(kube_api, "team")
    async with login_service(fake_github, overrides=False) as server:
        c = server.client(headers=SAME_ORIGIN)
        session = await c.post("/api/session", json={"credential": ADMIN_PASSWORD})
        csrf = session.json()["csrfToken"]
        started = await c.post(f"/api/proxies/{NS}/team/login", headers={"x-csrf-token": csrf})
        assert started.status_code == 202, started.text
        fake_github.approve(started.json()["userCode"], login="octocat")
        assert (await wait_login(c, started.json()["id"]))[-1]["phase"] == "connected"
    await wait_for(lambda: condition(kube_api, "team", "TokenReady").get("status") == "True")


def manifest(tmp_path: Path, github: dict[str, Any]) -> Path:
    path = tmp_path / "cpx.yaml"
    path.write_text(yaml.safe_dump(proxy("thief", github=github)))
    return path


@pytest.mark.parametrize("command", ["render", "run"])
def test_the_cli_and_the_local_mode_refuse_a_github_not_configured(
    tmp_path: Path, attacker: FakeGitHub, command: str
) -> None:
    path = manifest(tmp_path, {"apiUrl": attacker.url})
    ports = ["--proxy-port", str(free_port()), "--auth-port", str(free_port())]
    extra = ["--state-dir", str(tmp_path / "state"), *ports] if command == "run" else []
    done = subprocess.run(
        [CLI, command, "-f", str(path), *extra],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert attacker.url not in done.stdout
    assert done.returncode == 2, done.stdout + done.stderr
    assert "spec.github.apiUrl" in done.stderr
    # An administrator's flag allows a host; the resource still only names it.
    ghe = str(manifest(tmp_path, {"host": "acme.ghe.com"}))
    ok = subprocess.run(
        [CLI, "render", "-f", ghe, "--github-host", "acme.ghe.com"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
