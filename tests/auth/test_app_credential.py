"""A GitHub App-backed proxy on the login service (issue 15): shown as such, nothing to
sign in or out, the organisation billed, the operator's failure shown; the service
never reads the App's private key Secret."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from copilot_proxy.auth.stores.directory import DirectoryStore, LocalProxy, write_private
from copilot_proxy.auth.stores.kubernetes import USER_AGENT, KubernetesStore
from copilot_proxy.auth.stores.protocol import AppCredential, ProxyRef, StoreError
from copilot_proxy.core.spec import parse_spec
from copilot_proxy.local.login_page import LocalStore, local_proxy
from testkit.kube import KubeCluster
from tests.auth.conftest import (
    APP_ID,
    APP_SPEC,
    APP_TOKEN,
    INSTALLATION,
    MASTER_KEY,
    NS,
    ORG,
    AuthServer,
    ServerFactory,
    add_app_proxy,
    app_token,
    credential_status,
    stored_token,
)
from tests.auth.test_api import proxy_state

START = f"/api/proxies/{NS}/copilot/login"
TOKEN_PATH = f"/api/proxies/{NS}/copilot/token"
MINTED, EXPIRES = "2026-11-25T12:00:00Z", "2026-11-25T13:00:00Z"


def serve_minted_app(
    kube_api: KubeCluster, make_server: ServerFactory
) -> AbstractAsyncContextManager[AuthServer]:
    """An App-backed proxy whose token the operator minted; the service on Kubernetes."""
    add_app_proxy(kube_api)
    app_token(kube_api, MINTED, EXPIRES)
    return make_server(KubernetesStore.from_environment([NS]))


async def test_an_app_backed_proxy_is_shown_as_such(
    kube_api: KubeCluster, make_server: ServerFactory
) -> None:
    add_app_proxy(kube_api)
    async with make_server(KubernetesStore.from_environment([NS])) as server:
        c = server.client()
        before = await proxy_state(c)
        assert before["token"]["state"] == "missing" and before["copilot"] is None
        assert before["credential"] == {
            "kind": "GitHubApp", "issuer": APP_ID, "installationId": INSTALLATION,
            "account": None, "expiresAt": None, "renewAt": None,
            "ready": None, "reason": None, "message": None,
        }  # fmt: skip

        app_token(kube_api, MINTED, EXPIRES)
        credential_status(kube_api, account=ORG, expiresAt=EXPIRES, renewAt="2026-11-25T12:30:00Z")
        shown = await proxy_state(c)
        assert shown["token"]["login"] == ORG and shown["token"]["state"] == "present"
        assert shown["credential"]["account"] == ORG
        assert (shown["credential"]["expiresAt"], shown["credential"]["renewAt"]) == (
            EXPIRES,
            "2026-11-25T12:30:00Z",
        )
        assert shown["credential"]["ready"] is True
        # No person's quota: the organisation's AI credits pay.
        assert shown["copilot"] == {"billedTo": ORG, "quotas": [], "error": None}


async def test_a_renewal_shows_at_once_even_before_the_status(
    kube_api: KubeCluster, make_server: ServerFactory
) -> None:
    add_app_proxy(kube_api)
    app_token(kube_api, MINTED, EXPIRES)
    credential_status(kube_api, account=ORG, expiresAt=EXPIRES, renewAt="2026-11-25T12:30:00Z")
    # The operator wrote the next token; its status write is still to come.
    app_token(kube_api, "2026-11-25T12:30:00Z", "2026-11-25T13:30:00Z", token="ghs_next0000")
    async with make_server(KubernetesStore.from_environment([NS])) as server:
        shown = (await proxy_state(server.client()))["credential"]
        assert shown["expiresAt"] == "2026-11-25T13:30:00Z"
        assert shown["renewAt"] == "2026-11-25T13:00:00Z"  # at half its life


async def test_nobody_signs_in_or_out_of_an_app_backed_proxy(
    kube_api: KubeCluster, make_server: ServerFactory
) -> None:
    add_app_proxy(kube_api)
    app_token(kube_api, MINTED, EXPIRES)
    credential_status(kube_api, account=ORG)
    async with make_server(KubernetesStore.from_environment([NS])) as server:
        c, csrf = await server.unlocked()
        for method, path in (("POST", START), ("DELETE", TOKEN_PATH)):
            r = await c.request(method, path, headers={"x-csrf-token": csrf})
            assert r.status_code == 409, r.text
            assert r.json()["error"] == "credential_managed"
            message = r.json()["message"]
            assert f"GitHub App {APP_ID}, installation {INSTALLATION} on {ORG}" in message
            assert "the operator mints and renews it" in message
            assert "spec.credential" in message
        with pytest.raises(KeyError):
            server.gh.last_device()  # no device code was asked for
        assert stored_token(kube_api) == APP_TOKEN  # sign-out cleared nothing
        # Nor does the store, whoever calls it.
        store = KubernetesStore.from_environment([NS])
        ref = ProxyRef(NS, "copilot")
        for change in (lambda: store.clear_token(ref), lambda: store.write_token(
            ref, "gho_x", "someone", datetime.now(UTC))):  # fmt: skip
            with pytest.raises(StoreError, match="Nothing was changed"):
                change()
        assert stored_token(kube_api) == APP_TOKEN


async def test_the_installation_token_is_never_sent_for_a_quota(
    kube_api: KubeCluster, make_server: ServerFactory
) -> None:
    async with serve_minted_app(kube_api, make_server) as server:
        c = server.client()
        for _ in range(3):  # the background refresher runs every 0.2 s in tests
            assert (await proxy_state(c))["copilot"]["billedTo"] == ORG
        r = await c.get("/metrics")
        assert f'copilot_auth_token_present{{namespace="{NS}",proxy="copilot"}} 1.0' in r.text
        sent = [q for q in server.gh.requests if APP_TOKEN in str(q.headers)]
        assert sent == []


async def test_a_credential_failure_is_shown_with_what_to_do(
    kube_api: KubeCluster, make_server: ServerFactory
) -> None:
    add_app_proxy(kube_api)
    why = (
        "The App is not installed on installation 7890123 (GitHub answered 404): install it"
        " on the organisation with All repositories."
    )
    credential_status(kube_api, status="False", reason="AppNotInstalled", message=why)
    async with make_server(KubernetesStore.from_environment([NS])) as server:
        shown = (await proxy_state(server.client()))["credential"]
        assert (shown["ready"], shown["reason"], shown["message"]) == (
            False,
            "AppNotInstalled",
            why,
        )


async def test_the_app_key_secret_is_never_read(
    kube_api: KubeCluster, make_server: ServerFactory
) -> None:
    async with serve_minted_app(kube_api, make_server) as server:
        c, csrf = await server.unlocked()
        await proxy_state(c)
        await c.post(START, headers={"x-csrf-token": csrf})
        await c.get("/metrics")
    ours = [r for r in kube_api.emulator.requests if r.client.startswith(USER_AGENT)]
    assert ours, "the service's requests are audited"
    assert [r for r in ours if r.name == "copilot-app-key"] == []
    # Nor listed: the service lists no Secrets at all (its Role has no list on them).
    assert [r for r in ours if r.plural == "secrets" and r.verb in ("list", "watch")] == []


# -- local mode (copilot-proxy run) -----------------------------------------------------------


def local_app(tmp_path: Path) -> LocalStore:
    """The page of `copilot-proxy run` on a manifest that declares a GitHub App."""
    state = tmp_path / "state"
    proxy = local_proxy(parse_spec("copilot", "default", APP_SPEC), state)
    assert proxy.app == AppCredential(issuer=APP_ID, installation_id=INSTALLATION)
    store = LocalStore(proxy)
    write_private(state / "master-key", MASTER_KEY + "\n")
    return store


async def test_a_local_app_run_is_shown_and_refuses_sign_in(
    tmp_path: Path, make_server: ServerFactory
) -> None:
    store = local_app(tmp_path)
    minted = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    expires = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    store.write_app_token(store.ref, APP_TOKEN, ORG, minted, expires)
    assert (tmp_path / "state" / "access-token").read_text() == APP_TOKEN
    with pytest.raises(StoreError, match="copilot-proxy run mints and renews it"):
        store.clear_token(store.ref)
    async with make_server(store, admin_password="") as server:
        c, csrf = await server.unlocked()
        r = await c.get("/api/proxies/local/copilot")
        shown = r.json()
        assert shown["credential"]["account"] == ORG
        assert shown["credential"]["renewAt"] == "2026-11-25T12:30:00Z"
        assert shown["copilot"]["billedTo"] == ORG
        r = await c.post("/api/proxies/local/copilot/login", headers={"x-csrf-token": csrf})
        assert r.status_code == 409 and "copilot-proxy run mints" in r.json()["message"]
        store.set_credential(False, "KeyInvalid", "GitHub refused the App's key.")
        shown = (await c.get("/api/proxies/local/copilot")).json()["credential"]
        assert (shown["ready"], shown["reason"]) == (False, "KeyInvalid")
    assert (tmp_path / "state" / "access-token").read_text() == APP_TOKEN


def test_an_app_token_goes_only_to_an_app_backed_local_proxy(local_proxy: LocalProxy) -> None:
    store = DirectoryStore([local_proxy])
    now = datetime.now(UTC)
    with pytest.raises(StoreError, match="declares no GitHub App"):
        store.write_app_token(local_proxy.ref, APP_TOKEN, ORG, now, now)
    assert store.read_token(local_proxy.ref) == ""
