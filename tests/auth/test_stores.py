"""Both token stores keep the same promises; each also keeps its own (Secrets, file modes)."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from copilot_proxy.auth.stores.directory import DirectoryStore, LocalProxy
from copilot_proxy.auth.stores.kubernetes import KubernetesStore
from copilot_proxy.auth.stores.protocol import ProxyRef, StoreError, TokenStore
from testkit.kube import KubeCluster
from tests.auth.conftest import CPX, MASTER_KEY, NS, add_proxy, secret, stored_token

REF = ProxyRef(NS, "copilot")
WHEN = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
TOKEN = "gho_storeTestToken000000000000000000000"


@pytest.fixture(params=["kubernetes", "directory"])
def store(request: pytest.FixtureRequest, local_proxy: LocalProxy) -> TokenStore:
    if request.param == "kubernetes":
        cluster: KubeCluster = request.getfixturevalue("kube_api")
        add_proxy(cluster)
        return KubernetesStore.from_environment([NS])
    return DirectoryStore([local_proxy])


def test_a_new_proxy_has_no_token(store: TokenStore) -> None:
    [info] = store.list_proxies()
    assert info.ref == REF
    assert not info.token.present and info.token.login == ""
    assert store.read_token(REF) == ""
    assert store.master_key(REF) == MASTER_KEY
    store.check()


def test_write_replace_and_clear(store: TokenStore) -> None:
    store.write_token(REF, TOKEN, "octocat", WHEN)
    info = store.get_proxy(REF)
    assert info is not None and info.token.present
    assert (info.token.login, info.token.updated_at) == ("octocat", "2026-11-25T12:30:00Z")
    assert store.read_token(REF) == TOKEN

    store.write_token(REF, "gho_second", "hubot", WHEN)
    assert store.read_token(REF) == "gho_second"
    info = store.get_proxy(REF)
    assert info is not None and info.token.login == "hubot"

    store.clear_token(REF)
    store.clear_token(REF)  # idempotent
    info = store.get_proxy(REF)
    assert info is not None and not info.token.present and info.token.login == ""
    assert store.read_token(REF) == ""


def test_unknown_proxies(store: TokenStore) -> None:
    other = ProxyRef(NS, "nope")
    assert store.get_proxy(other) is None
    assert store.read_token(other) == ""
    assert store.master_key(other) == ""
    with pytest.raises(StoreError, match="nope"):
        store.write_token(other, TOKEN, "octocat", WHEN)


# -- Kubernetes Secrets ----------------------------------------------------------------------


def test_the_operators_empty_secret_is_filled_in_place(kube_api: KubeCluster) -> None:
    add_proxy(kube_api)
    kube_api.patch("Secret", NS, "copilot-github-token", {"metadata": {"labels": {"keep": "me"}}})
    KubernetesStore.from_environment([NS]).write_token(REF, TOKEN, "octocat", WHEN)
    obj = secret(kube_api)
    assert stored_token(kube_api) == TOKEN
    assert obj["metadata"]["labels"] == {"copilot-proxy.dev/proxy": "copilot", "keep": "me"}
    assert obj["metadata"]["annotations"] == {
        "copilot-proxy.dev/login": "octocat",
        "copilot-proxy.dev/token-updated-at": "2026-11-25T12:30:00Z",
    }
    assert TOKEN not in str(obj["metadata"])


def test_a_missing_secret_is_created_with_the_custom_name(kube_api: KubeCluster) -> None:
    spec = {"models": [{"name": "gpt-5-mini"}], "tokenSecret": {"name": "mine"}}
    add_proxy(kube_api, spec=spec, token_secret=False)
    store = KubernetesStore.from_environment([NS])
    [info] = store.list_proxies()
    assert info.token_location == f"Secret {NS}/mine" and not info.token.present
    store.write_token(REF, TOKEN, "octocat", WHEN)
    obj = secret(kube_api, "mine")
    assert obj["type"] == "Opaque"
    assert obj["metadata"]["labels"] == {"copilot-proxy.dev/proxy": "copilot"}
    [owner] = obj["metadata"]["ownerReferences"]  # the proxy's, as the operator makes it
    cpx = kube_api.get("CopilotProxy", NS, "copilot")
    assert cpx is not None and (owner["uid"], owner["controller"]) == (cpx["metadata"]["uid"], True)
    assert stored_token(kube_api, "mine") == TOKEN


def test_a_secret_created_meanwhile_is_patched(kube_api: KubeCluster) -> None:
    add_proxy(kube_api, token_secret=False)
    # Someone (the operator) creates the Secret between our read and our create.
    kube_api.fail("create", "Secret", name="copilot-github-token", status=409, commit=True)
    KubernetesStore.from_environment([NS]).write_token(REF, TOKEN, "octocat", WHEN)
    assert stored_token(kube_api) == TOKEN
    annotations = secret(kube_api)["metadata"]["annotations"]
    assert annotations["copilot-proxy.dev/login"] == "octocat"


def test_api_refusals_name_the_secret_never_the_token(kube_api: KubeCluster) -> None:
    add_proxy(kube_api)
    kube_api.fail("update", "Secret", status=403, times=None)
    with pytest.raises(StoreError) as raised:
        KubernetesStore.from_environment([NS]).write_token(REF, TOKEN, "octocat", WHEN)
    assert "ai/copilot-github-token" in str(raised.value) and "403" in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_only_watched_namespaces_are_served(kube_api: KubeCluster) -> None:
    add_proxy(kube_api)
    add_proxy(kube_api, namespace="team-b", master_key="sk-other")
    watched = KubernetesStore.from_environment([NS])
    assert [i.ref for i in watched.list_proxies()] == [REF]
    outside = ProxyRef("team-b", "copilot")
    assert watched.get_proxy(outside) is None
    assert watched.master_key(outside) == ""
    with pytest.raises(StoreError):
        watched.write_token(outside, TOKEN, "x", WHEN)
    everywhere = KubernetesStore.from_environment()
    assert [i.ref for i in everywhere.list_proxies()] == [REF, outside]
    assert everywhere.master_key(outside) == "sk-other"


def test_operator_status_is_shown(kube_api: KubeCluster) -> None:
    add_proxy(kube_api)
    status = {"conditions": [{"type": "Ready", "status": "False", "message": "waiting for login"}]}
    kube_api.patch(CPX, NS, "copilot", {"status": status}, subresource="status")
    [info] = KubernetesStore.from_environment([NS]).list_proxies()
    assert (info.ready, info.status_message) == ("False", "waiting for login")


def test_unreachable_api_is_a_store_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_PROXY_KUBE_API", "http://127.0.0.1:9")
    with pytest.raises(StoreError, match="unreachable"):
        KubernetesStore.from_environment([NS]).check()


# -- directory ------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_are_private_and_whole(tmp_path: Path) -> None:
    directory = tmp_path / "fresh" / "copilot"
    store = DirectoryStore([LocalProxy("copilot", directory)])
    ref = ProxyRef("local", "copilot")
    old_umask = os.umask(0o022)  # a permissive umask must not leak into the modes
    try:
        store.write_token(ref, TOKEN, "octocat", WHEN)
    finally:
        os.umask(old_umask)
    assert mode(directory) == 0o700
    assert mode(directory / "access-token") == 0o600
    assert mode(directory / "access-token.json") == 0o600
    # Exactly the token: LiteLLM reads this file as GITHUB_COPILOT_ACCESS_TOKEN_FILE.
    assert (directory / "access-token").read_text() == TOKEN
    assert TOKEN not in (directory / "access-token.json").read_text()
    assert sorted(p.name for p in directory.iterdir()) == ["access-token", "access-token.json"]


def test_a_new_token_drops_litellms_cached_copilot_key(local_proxy: LocalProxy) -> None:
    store = DirectoryStore([local_proxy])
    cached = local_proxy.directory / "api-key.json"
    cached.write_text('{"token": "old copilot key"}')
    store.write_token(local_proxy.ref, TOKEN, "octocat", WHEN)
    assert not cached.exists()
    cached.write_text('{"token": "old copilot key"}')
    store.clear_token(local_proxy.ref)
    assert not cached.exists()
    assert not (local_proxy.directory / "access-token").exists()
    assert (local_proxy.directory / "master-key").read_text() == MASTER_KEY  # untouched


def test_an_unusable_directory_is_reported(tmp_path: Path) -> None:
    directory = tmp_path / "state"
    directory.write_text("a file where the directory should be")
    store = DirectoryStore([LocalProxy("copilot", directory)])
    with pytest.raises(StoreError, match="not a writable directory"):
        store.check()
    with pytest.raises(StoreError, match=str(directory)):
        store.write_token(ProxyRef("local", "copilot"), TOKEN, "octocat", WHEN)


def test_single_proxy_store_for_local_mode(tmp_path: Path) -> None:
    store = DirectoryStore.single(tmp_path / "state", "copilot")
    [info] = store.list_proxies()
    assert info.ref == ProxyRef("local", "copilot")
    assert info.token_location == str(tmp_path / "state" / "access-token")
