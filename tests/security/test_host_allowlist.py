"""DNS rebinding: a page on another site points its own name at the login service.

The browser then sends that page's requests with `Host: attacker.example` and
lets the page read the answers (same origin, as far as it knows). The service
answers only to its own names and to IP addresses, so the page reads nothing:
not the proxies and accounts of `GET /api/proxies`, not `/metrics`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from copilot_proxy.auth.stores.kubernetes import KubernetesStore
from testkit.kube import KubeCluster
from tests.auth.conftest import NS, AuthServer, ServerFactory, add_proxy

SERVICE_NAMES = "cpx-auth,cpx-auth.ai,cpx-auth.ai.svc,cpx-auth.ai.svc.cluster.local"
SECRET_PROXY = "payroll-bot"  # what the attacker would learn


@pytest.fixture
async def service(kube_api: KubeCluster, make_server: ServerFactory) -> AsyncIterator[AuthServer]:
    add_proxy(kube_api, name=SECRET_PROXY)
    env = {"COPILOT_AUTH_ALLOWED_HOSTS": f"{SERVICE_NAMES},.corp.example"}
    async with make_server(KubernetesStore.from_environment([NS]), env=env) as server:
        yield server


def port(server: AuthServer) -> str:
    return server.url.rsplit(":", 1)[1]


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "localhost.attacker.example",
        "cpx-auth.ai.svc.attacker.example",
        "corp.example.attacker.example",
        "",
    ],
)
@pytest.mark.parametrize("path", ["/api/proxies", "/metrics", "/github", "/api/session"])
async def test_a_rebound_name_reads_nothing(service: AuthServer, host: str, path: str) -> None:
    header = f"{host}:{port(service)}" if host else ""
    answer = await service.client().get(path, headers={"host": header})
    assert answer.status_code == 400
    assert answer.json()["error"] == "unknown_host"
    assert set(answer.json()) == {"error", "message"} and SECRET_PROXY not in answer.text


async def test_a_rebound_name_cannot_unlock_or_start_a_sign_in(service: AuthServer) -> None:
    c = service.client(headers={"host": f"attacker.example:{port(service)}"})
    unlock = await c.post("/api/session", json={"credential": "guess"})
    start = await c.post(f"/api/proxies/{NS}/{SECRET_PROXY}/login")
    assert (unlock.status_code, start.status_code) == (400, 400)
    assert service.gh.requests == []  # nothing reached GitHub


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST.",
        "127.0.0.1",
        "[::1]",
        "10.42.0.17",  # a probe or a scraper, by pod IP
        "cpx-auth",
        "cpx-auth.ai.svc.cluster.local",
        "corp.example",
        "login.corp.example",
    ],
)
async def test_the_services_own_names_and_ip_addresses_are_answered(
    service: AuthServer, host: str
) -> None:
    answer = await service.client().get("/api/proxies", headers={"host": f"{host}:{port(service)}"})
    assert answer.status_code == 200
    assert [p["name"] for p in answer.json()["proxies"]] == [SECRET_PROXY]
