"""Minting a GitHub App's installation token and checking it at the Copilot key exchange:
the real client against the fake GitHub (testkit/fake_github/apps.py), which verifies our
RS256 JWT with the App's public key and answers as docs/contracts.md says GitHub does."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from copilot_proxy.core.app_failures import AppFailure, Where
from copilot_proxy.core.credential import GitHubApp
from copilot_proxy.core.github import GitHub
from copilot_proxy.github.app_tokens import (
    AppCredentialError,
    InstallationToken,
    app_jwt,
    check_token,
    mint_installation_token,
)
from copilot_proxy.github.endpoints import GitHubEndpoints, GitHubOverrides, endpoints_for
from testkit.fake_github import FakeGitHub
from testkit.fake_github.apps import AppKeys, new_app, private_key_pem
from testkit.ports import free_port

OTHER_PEM = private_key_pem()  # an RSA key, but no App's
WHERE = Where(namespace="ai", proxy="team")


@pytest.fixture
def keys(fake_github: FakeGitHub) -> AppKeys:
    return new_app(fake_github, repository_ids={42, 123456789})


def spec(keys: AppKeys, by_client_id: bool = True, **changes: object) -> GitHubApp:
    app_id, client_id = ("", keys.client_id) if by_client_id else (str(keys.app_id), "")
    app = GitHubApp(app_id, client_id, keys.installation_id, "app-key", repository_ids=(42,))
    return dataclasses.replace(app, **changes)  # type: ignore[arg-type]


def at(gh: FakeGitHub) -> GitHubEndpoints:
    return endpoints_for(GitHub(), overrides=GitHubOverrides.from_env(gh.env()))


def mint(
    gh: FakeGitHub, app: GitHubApp, pem: str, ep: GitHubEndpoints | None = None
) -> InstallationToken:
    with httpx.Client() as http:
        return mint_installation_token(http, ep or at(gh), app, pem, time.time(), WHERE)


def check(gh: FakeGitHub, app: GitHubApp, token: str) -> AppFailure | None:
    with httpx.Client() as http:
        return check_token(http, at(gh), token, Where(app=app, account="acme"))


def assert_no_secret(error: Exception | AppFailure, *secrets: str) -> None:
    failure = error.failure if isinstance(error, AppCredentialError) else error
    shown = str(error) + repr(error) + repr(failure)
    assert "BEGIN" not in shown and "ghs_" not in shown
    for secret in secrets:
        assert (secret if len(secret) < 80 else secret[40:80]) not in shown


def test_the_jwt_is_rs256_backdated_a_minute_lives_nine_minutes_and_verifies(
    fake_github: FakeGitHub, keys: AppKeys
) -> None:
    now = time.time()
    token = app_jwt(keys.client_id, keys.private_key_pem, now)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    public = fake_github.apps.apps[keys.app_id].public_key_pem  # all the fake holds
    claims = jwt.decode(token, public, algorithms=["RS256"])
    assert claims == {"iss": keys.client_id, "iat": int(now) - 60, "exp": int(now) + 540}


@pytest.mark.parametrize(
    "pem",
    [
        "not a key",
        OTHER_PEM.replace("A", "B", 40),
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode(),
    ],
    ids=["text", "corrupt", "not-rsa"],
)
def test_a_key_that_is_no_rsa_pem_is_key_invalid_without_echoing_it(pem: str) -> None:
    with pytest.raises(AppCredentialError) as caught:
        app_jwt("123456", pem, time.time(), WHERE)
    assert caught.value.failure.reason == "KeyInvalid"
    assert caught.value.__cause__ is None  # nor chained to the library's words about it
    assert_no_secret(caught.value, pem)


@pytest.mark.parametrize("by_client_id", [True, False], ids=["client-id", "app-id"])
def test_a_token_is_minted_as_github_documents_it(
    fake_github: FakeGitHub, keys: AppKeys, by_client_id: bool
) -> None:
    app = spec(keys, by_client_id)
    minted = mint(fake_github, app, keys.private_key_pem)
    held = fake_github.apps.token(minted.token)
    assert held is not None and held.live() and minted.token.startswith("ghs_")
    assert (held.installation_id, held.repository_ids) == (keys.installation_id, [42])
    assert held.permissions == {"copilot_requests": "write"}
    assert minted.account == "acme"
    assert minted.expires_at == datetime.fromtimestamp(held.expires_at, UTC)
    assert abs(minted.expires_at - minted.minted_at - timedelta(hours=1)) < timedelta(seconds=5)
    assert minted.renew_at == minted.minted_at + (minted.expires_at - minted.minted_at) / 2
    assert minted.token not in repr(minted)
    asked = [(r.iss, r.status) for r in fake_github.apps.requests]
    assert asked == [(app.issuer, 200), (app.issuer, 201)]
    get, post = (r for r in fake_github.requests if r.path.startswith("/app/"))
    base = f"/app/installations/{keys.installation_id}"
    assert (get.method, get.path) == ("GET", base)
    assert (post.method, post.path) == ("POST", f"{base}/access_tokens")
    assert post.body == {"permissions": {"copilot_requests": "write"}, "repository_ids": [42]}
    for request in (get, post):
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
    assert check(fake_github, app, minted.token) is None  # the Copilot key exchange takes it


def test_a_revoked_installation_token_is_refused_at_the_key_exchange(
    fake_github: FakeGitHub, keys: AppKeys
) -> None:
    ep, app = at(fake_github), spec(keys)
    with httpx.Client() as http:
        minted = mint_installation_token(http, ep, app, keys.private_key_pem, time.time())
        assert check_token(http, ep, minted.token) is None
        fake_github.apps.revoke(keys.installation_id)
        refused = check_token(http, ep, minted.token)
    assert minted.account == "acme" and fake_github.apps.token(minted.token) is not None
    assert refused is not None and refused.reason == "TokenRefused"
    assert [r.status for r in fake_github.apps.requests] == [200, 201, 200, 401]


# What the test changes (on the fake, or in what the client is given) -> (App spec, key).
Setup = Callable[[FakeGitHub, AppKeys], tuple[GitHubApp, str]]


def _switch(change: Callable[[FakeGitHub, AppKeys], object]) -> Setup:
    def setup(gh: FakeGitHub, k: AppKeys) -> tuple[GitHubApp, str]:
        change(gh, k)
        return spec(k), k.private_key_pem

    return setup


def _clock(offset: float) -> Setup:
    return _switch(lambda gh, k: setattr(gh.apps, "clock_offset", offset))


REFUSALS: dict[str, tuple[Setup, str, str]] = {
    "wrong-key": (lambda gh, k: (spec(k), OTHER_PEM), "KeyInvalid", "generate a new private key"),
    "unknown-app": (
        lambda gh, k: (spec(k, client_id="Iv23linope"), k.private_key_pem),
        "KeyInvalid",
        "check that clientId Iv23linope is this App's",
    ),
    "unknown-installation": (
        lambda gh, k: (spec(k, installation_id=k.installation_id + 999), k.private_key_pem),
        "AppNotInstalled",
        "install the App on the organisation that pays",
    ),
    "uninstalled": (
        _switch(lambda gh, k: gh.apps.uninstall(k.installation_id)),
        "AppNotInstalled",
        "set installationId",
    ),
    "suspended": (
        _switch(lambda gh, k: gh.apps.suspend(k.installation_id)),
        "AppNotInstalled",
        "unsuspends it at",
    ),
    "grant-revoked": (
        _switch(lambda gh, k: gh.apps.revoke_grant(k.installation_id, "copilot_requests")),
        "PermissionMissing",
        "Copilot Requests: Read and write",
    ),
    "repository-not-accessible": (
        lambda gh, k: (spec(k, repository_ids=(999,)), k.private_key_pem),
        "PermissionMissing",
        "or leave repositoryIds out",
    ),
    "clock-ahead": (_clock(900), "ClockSkew", "synchronise the node's clock"),
    "clock-behind": (_clock(-900), "ClockSkew", "synchronise the node's clock"),
}


@pytest.mark.parametrize(("setup", "reason", "todo"), REFUSALS.values(), ids=REFUSALS.keys())
def test_each_refusal_is_classified_and_says_what_to_do(
    fake_github: FakeGitHub, keys: AppKeys, setup: Setup, reason: str, todo: str
) -> None:
    app, pem = setup(fake_github, keys)
    with pytest.raises(AppCredentialError) as caught:
        mint(fake_github, app, pem)
    failure = caught.value.failure
    assert (failure.reason, failure.transient) == (reason, False)
    assert todo in failure.message
    said = fake_github.apps.requests[-1].outcome  # GitHub's words are quoted
    assert fake_github.apps.requests[-1].status >= 400 and said[:40] in failure.message
    assert_no_secret(caught.value, pem, keys.private_key_pem)


def test_a_refused_permission_names_the_organisations_installation(
    fake_github: FakeGitHub, keys: AppKeys
) -> None:
    fake_github.apps.revoke_grant(keys.installation_id, "copilot_requests")
    with pytest.raises(AppCredentialError) as caught:
        mint(fake_github, spec(keys), keys.private_key_pem)
    page = f"{at(fake_github).web_base}/organizations/acme/settings/installations"
    assert f"{page}/{keys.installation_id}" in str(caught.value)


def test_github_enterprise_is_asked_at_its_api_and_named_in_messages(
    fake_github: FakeGitHub, keys: AppKeys
) -> None:
    ep = endpoints_for(GitHub.named("acme.ghe.com", api_url=fake_github.url))
    app = spec(keys, installation_id=keys.installation_id + 999)
    with pytest.raises(AppCredentialError) as caught:
        mint(fake_github, app, keys.private_key_pem, ep)
    assert caught.value.failure.reason == "AppNotInstalled"
    assert "https://acme.ghe.com/organizations/<org>/settings/installations" in str(caught.value)
    assert [r.status for r in fake_github.apps.requests] == [404]


def test_github_not_answering_is_unreachable_and_transient(keys: AppKeys) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    ep = endpoints_for(GitHub.named("github.com", api_url=closed))
    with httpx.Client() as http, pytest.raises(AppCredentialError) as minting:
        mint_installation_token(http, ep, spec(keys), keys.private_key_pem, time.time())
    with httpx.Client() as http, pytest.raises(AppCredentialError) as checking:
        check_token(http, ep, "ghs_notsent")
    for caught in (minting, checking):
        failure = caught.value.failure
        assert (failure.reason, failure.transient) == ("GitHubUnreachable", True)
        assert closed in failure.message
        assert_no_secret(caught.value, keys.private_key_pem)


def _expire(gh: FakeGitHub, k: AppKeys) -> None:
    time.sleep(1.2)  # the token lived a second (token_lifetime below)


CHECKS: dict[str, tuple[Callable[[FakeGitHub, AppKeys], object], str | None, str]] = {
    "live": (lambda gh, k: None, None, ""),
    "revoked": (lambda gh, k: gh.apps.revoke(k.installation_id), "TokenRefused", "minted now"),
    "expired": (_expire, "TokenRefused", "minted now"),
    "uninstalled": (lambda gh, k: gh.apps.uninstall(k.installation_id), "TokenRefused", "now"),
    "org-policy-off": (
        lambda gh, k: gh.apps.set_policy(False, org="acme"),
        "CopilotRequestsDisabled",
        "/organizations/acme/settings/copilot/policies",
    ),
    "suspended": (
        lambda gh, k: gh.apps.suspend(k.installation_id),
        "AppNotInstalled",
        "unsuspends it at",
    ),
    "grant-revoked": (
        lambda gh, k: gh.apps.revoke_grant(k.installation_id, "copilot_requests"),
        "PermissionMissing",
        "All repositories",
    ),
}


@pytest.mark.parametrize(("change", "reason", "todo"), CHECKS.values(), ids=CHECKS.keys())
def test_the_token_is_checked_at_the_copilot_key_exchange(
    fake_github: FakeGitHub,
    keys: AppKeys,
    change: Callable[[FakeGitHub, AppKeys], object],
    reason: str | None,
    todo: str,
) -> None:
    fake_github.apps.token_lifetime = 1 if change is _expire else 3600
    app = spec(keys)
    token = mint(fake_github, app, keys.private_key_pem).token
    change(fake_github, keys)
    failure = check(fake_github, app, token)
    assert (failure.reason if failure else None) == reason
    exchange = fake_github.requests[-1]
    assert exchange.path == "/copilot_internal/v2/token"
    assert exchange.headers["authorization"] == f"token {token}"
    if failure is not None:
        assert todo in failure.message and token not in failure.message
        assert_no_secret(failure, keys.private_key_pem)
