"""Minting a GitHub App's installation token. GitHub is stood in for by httpx.MockTransport
answering as GitHub's docs say (and checking our JWT with the App's public key) until
testkit/fake_github serves the App endpoints; the client under test is the real one."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from copilot_proxy.core.app_failures import Where
from copilot_proxy.core.credential import GitHubApp
from copilot_proxy.core.github import GitHub
from copilot_proxy.github.app_tokens import (
    AppCredentialError,
    InstallationToken,
    app_jwt,
    check_token_sync,
    mint_installation_token,
    mint_installation_token_sync,
)
from copilot_proxy.github.endpoints import GitHubEndpoints, endpoints_for

NOW = 1_795_000_000.0  # 2026-11-18
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
APP = GitHubApp("123456", "", 7890123, "copilot-app-key", repository_ids=(42,))
EP = endpoints_for(GitHub())
WHERE = Where(namespace="ai", proxy="team")
Handler = Callable[[httpx.Request], httpx.Response]


def github(
    seen: list[httpx.Request], installation: int = 200, tokens: int = 201, copilot: int = 200
) -> Handler:
    """GitHub's App endpoints as documented: the JWT must verify with the App's public key."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/copilot_internal/v2/token":
            return httpx.Response(
                copilot,
                json={"token": "tid=1", "expires_at": 1}
                if copilot == 200
                else {"message": "Forbidden"},
            )
        claims = jwt.decode(
            request.headers["authorization"].removeprefix("Bearer "),
            KEY.public_key(),
            algorithms=["RS256"],
            options={"verify_iat": False, "verify_exp": False},
        )
        assert claims["iss"] == APP.issuer
        if request.method == "GET":
            body = {"id": 7890123, "account": {"login": "acme", "type": "Organization"}}
            return httpx.Response(
                installation, json=body if installation == 200 else {"message": "Not Found"}
            )
        if tokens != 201:
            return httpx.Response(
                tokens,
                json={"message": "The permissions requested are not granted to this installation."},
            )
        return httpx.Response(
            201,
            json={
                "token": "ghs_secret",
                "expires_at": "2026-11-18T09:33:20Z",
                "repository_selection": "all",
            },
        )

    return answer


def mint(handler: Handler, ep: GitHubEndpoints = EP, pem: str = PEM) -> InstallationToken:
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        return mint_installation_token_sync(http, ep, APP, pem, NOW, WHERE)


def test_the_jwt_is_rs256_backdated_a_minute_and_lives_nine_minutes() -> None:
    token = app_jwt("Iv23liAbC", PEM, NOW)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(
        token, KEY.public_key(), algorithms=["RS256"], options={"verify_exp": False}
    )
    assert claims == {"iss": "Iv23liAbC", "iat": int(NOW) - 60, "exp": int(NOW) + 540}


@pytest.mark.parametrize(
    "pem",
    [
        "not a key",
        PEM.replace("A", "B", 40),
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
        app_jwt("123456", pem, NOW, WHERE)
    assert caught.value.failure.reason == "KeyInvalid"
    assert caught.value.__cause__ is None  # nor chained to the library's words about it
    shown = str(caught.value) + repr(caught.value.failure)
    assert (pem if len(pem) < 80 else pem[40:80]) not in shown and "BEGIN" not in shown


def test_a_token_is_minted_as_github_documents_it() -> None:
    seen: list[httpx.Request] = []
    minted = mint(github(seen))
    assert minted.token == "ghs_secret" and minted.account == "acme"
    assert minted.expires_at == datetime(2026, 11, 18, 9, 33, 20, tzinfo=UTC)
    assert minted.minted_at == datetime.fromtimestamp(NOW, UTC)
    assert minted.renew_at == minted.minted_at + (minted.expires_at - minted.minted_at) / 2
    assert "ghs_secret" not in repr(minted)
    get, post = seen
    assert (get.method, str(get.url)) == ("GET", "https://api.github.com/app/installations/7890123")
    assert str(post.url) == "https://api.github.com/app/installations/7890123/access_tokens"
    assert json.loads(post.content) == {
        "permissions": {"copilot_requests": "write"},
        "repository_ids": [42],
    }
    for request in seen:
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"


async def test_the_local_mode_mints_the_same_way() -> None:
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(github(seen))) as http:
        minted = await mint_installation_token(http, EP, APP, PEM, NOW)
    assert minted.account == "acme" and [r.method for r in seen] == ["GET", "POST"]


def test_github_enterprise_is_asked_at_its_own_api_and_named_in_messages() -> None:
    seen: list[httpx.Request] = []
    ep = endpoints_for(GitHub.named("acme.ghe.com"))
    with pytest.raises(AppCredentialError) as caught:
        mint(github(seen, installation=404), ep)
    assert str(seen[0].url).startswith("https://api.acme.ghe.com/app/installations/")
    assert caught.value.failure.reason == "AppNotInstalled"
    assert "https://acme.ghe.com/organizations/<org>/settings/installations" in str(caught.value)


def test_a_permission_refused_at_the_token_names_the_organisation() -> None:
    with pytest.raises(AppCredentialError) as caught:
        mint(github([], tokens=422))
    assert caught.value.failure.reason == "PermissionMissing"
    assert "https://github.com/organizations/acme/settings/installations/7890123" in str(
        caught.value
    )


def test_github_not_answering_is_unreachable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(AppCredentialError) as caught:
        mint(down)
    assert caught.value.failure.reason == "GitHubUnreachable" and caught.value.failure.transient


@pytest.mark.parametrize(
    ("status", "reason"), [(200, None), (401, "TokenRefused"), (403, "CopilotRequestsDisabled")]
)
def test_the_token_is_checked_at_the_copilot_key_exchange(status: int, reason: str | None) -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(transport=httpx.MockTransport(github(seen, copilot=status))) as http:
        failure = check_token_sync(http, EP, "ghs_secret", Where(app=APP, account="acme"))
    assert (failure.reason if failure else None) == reason
    assert str(seen[0].url) == EP.copilot_token_url
    assert seen[0].headers["authorization"] == "token ghs_secret"
