"""Guessing the admin credential: slowed, per address and in total, but never a lockout.

Behind `kubectl port-forward` or an ingress every admin shares one client
address with whoever guesses. Ten wrong tries used to lock every admin out for
five minutes, and a valid master key used where it has nothing to unlock (an
unknown login id, `DELETE /api/session`, another proxy) counted as a wrong
guess. Now the right credential always works, past the limits every check
waits, and wrong guesses answer 429.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from copilot_proxy.auth.stores.kubernetes import KubernetesStore
from testkit.kube import KubeCluster
from tests.auth.conftest import (
    ADMIN_PASSWORD,
    MASTER_KEY,
    NS,
    SAME_ORIGIN,
    AuthServer,
    ServerFactory,
    add_proxy,
    fast_limits,
)

OTHER_KEY = "sk-other-proxy-master-key-0123456789abcdefghijklmnopq"
PER_ADDRESS, OVERALL, DELAY = 3, 8, 0.4
LOGIN = f"/api/proxies/{NS}/copilot/login"


@pytest.fixture
async def service(kube_api: KubeCluster, make_server: ServerFactory) -> AsyncIterator[AuthServer]:
    add_proxy(kube_api)
    add_proxy(kube_api, name="other", master_key=OTHER_KEY)
    limits = fast_limits(
        credential_failures=PER_ADDRESS,
        credential_failures_global=OVERALL,
        credential_delay=DELAY,
    )
    async with make_server(KubernetesStore.from_environment([NS]), limits=limits) as server:
        yield server


def from_address(server: AuthServer, address: str) -> httpx.AsyncClient:
    """A client whose requests come from `address` (127.0.0.0/8 is all this machine)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return server.client(transport=transport, headers=SAME_ORIGIN)


async def guess(c: httpx.AsyncClient, n: int) -> list[int]:
    return [
        (await c.post("/api/session", json={"credential": f"guess-{i}"})).status_code
        for i in range(n)
    ]


async def failures(server: AuthServer) -> float:
    text = (await server.client().get("/metrics")).text
    match = re.search(r"^copilot_auth_credential_failures_total (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_guesses_from_the_shared_address_never_lock_the_right_key_out(
    service: AuthServer,
) -> None:
    c = service.client(headers=SAME_ORIGIN)
    assert set(await guess(c, PER_ADDRESS + 4)) <= {401, 429}
    unlocked = await c.post("/api/session", json={"credential": MASTER_KEY})
    assert unlocked.status_code == 200
    bearer = {"authorization": f"Bearer {ADMIN_PASSWORD}"}
    assert (await service.client().post(LOGIN, headers=bearer)).status_code == 202


async def test_guesses_past_the_limit_are_slowed_and_get_nothing(service: AuthServer) -> None:
    c = service.client(headers=SAME_ORIGIN)
    assert await guess(c, PER_ADDRESS) == [401] * PER_ADDRESS
    began = time.monotonic()
    late = await c.post("/api/session", json={"credential": "one-more-guess"})
    assert time.monotonic() - began >= DELAY
    assert late.status_code == 429 and int(late.headers["retry-after"]) > 0
    assert "csrfToken" not in late.text
    assert (await c.get("/api/session")).json()["authenticated"] is False


async def test_guesses_spread_over_many_addresses_are_slowed_for_everyone(
    service: AuthServer,
) -> None:
    for n in range(OVERALL):  # each address stays under its own limit
        assert await guess(from_address(service, f"127.0.0.{10 + n}"), 1) == [401]
    fresh = from_address(service, "127.0.0.99")
    began = time.monotonic()
    assert await guess(fresh, 1) == [429]
    assert time.monotonic() - began >= DELAY
    right = await fresh.post("/api/session", json={"credential": MASTER_KEY})
    assert right.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "key", "status"),
    [
        ("GET", "/api/logins/no-such-login", MASTER_KEY, 404),
        ("DELETE", "/api/logins/no-such-login", MASTER_KEY, 404),
        ("DELETE", "/api/session", MASTER_KEY, 200),
        ("POST", LOGIN, OTHER_KEY, 403),  # the other proxy's key, on this proxy
        ("DELETE", f"/api/proxies/{NS}/copilot/token", OTHER_KEY, 403),
    ],
    ids=["get-unknown-login", "cancel-unknown-login", "lock", "other-login", "other-sign-out"],
)
async def test_a_valid_key_with_nothing_to_unlock_is_not_a_wrong_guess(
    service: AuthServer, method: str, path: str, key: str, status: int
) -> None:
    c = service.client(headers={"authorization": f"Bearer {key}"})
    answers = [(await c.request(method, path)).status_code for _ in range(PER_ADDRESS + 2)]
    assert answers == [status] * len(answers)
    assert await failures(service) == 0
    # The address is not slowed down: a typo now is just a typo.
    assert await guess(service.client(headers=SAME_ORIGIN), 1) == [401]
