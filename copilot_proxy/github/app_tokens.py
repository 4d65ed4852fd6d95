"""Mint a GitHub App's installation access token, and check it at the Copilot key exchange.

GitHub's docs ("Generating a JWT for a GitHub App", "Generating an installation
access token for a GitHub App", "Server-to-server authentication" for the Copilot
SDK): a JWT signed RS256 with the App's private key (`iat` 60 s in the past for
clock drift, `exp` at most 10 minutes later, `iss` the client ID or App ID)
authenticates as the App; `GET /app/installations/{id}` names the organisation;
`POST /app/installations/{id}/access_tokens` answers a token that lasts an hour.

Each exchange is a generator of calls (`_mint`, `_check`) that `_run` drives with
an httpx.Client (the operator and the local mode both call it from a thread). Every refusal is an
`AppCredentialError` carrying core/app_failures.py's `AppFailure`; the key, the
JWT and the token are in no message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from copilot_proxy.core import credential
from copilot_proxy.core.app_failures import AppFailure, Where, classify, key_invalid, unreachable
from copilot_proxy.core.credential import GitHubApp
from copilot_proxy.core.timestamps import parse_rfc3339
from copilot_proxy.github.copilot import EDITOR_HEADERS
from copilot_proxy.github.device_flow import decode_body
from copilot_proxy.github.endpoints import GitHubEndpoints

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
API_HEADERS = {
    "accept": "application/vnd.github+json",
    "x-github-api-version": "2022-11-28",
    "user-agent": "copilot-proxy",
}
# GitHub refuses a JWT whose exp is more than 10 minutes after iat; 60 s back for drift.
JWT_BACKDATE = 60
JWT_LIFETIME = 540

T = TypeVar("T")


class AppCredentialError(Exception):
    """GitHub (or the key) refused: `failure` is the condition's reason and what to do."""

    def __init__(self, failure: AppFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass(frozen=True)
class InstallationToken:
    token: str = field(repr=False)
    expires_at: datetime
    account: str  # the organisation's (or user's) login the App is installed on
    minted_at: datetime

    @property
    def renew_at(self) -> datetime:
        return credential.renew_at(self.minted_at, self.expires_at)


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    headers: dict[str, str]
    json: Any = None


# A flow yields calls, is sent their responses, and returns its result.
Flow = Generator[_Call, httpx.Response, T]


def app_jwt(issuer: str, private_key_pem: str, now: float, where: Where | None = None) -> str:
    """The App's JWT; a key that is no RSA private key in PEM raises KeyInvalid."""
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, RSAPrivateKey):
        # Said without the key or the library's words about it.
        raise AppCredentialError(
            key_invalid(where or Where(), "the App key is not an RSA private key in PEM form")
        ) from None
    claims = {"iat": int(now) - JWT_BACKDATE, "exp": int(now) + JWT_LIFETIME, "iss": issuer}
    return jwt.encode(claims, key, algorithm="RS256")


def _mint(
    ep: GitHubEndpoints, app: GitHubApp, pem: str, now: float, where: Where
) -> Flow[InstallationToken]:
    where = dataclasses.replace(where, app=app, web_base=ep.web_base)
    bearer = {**API_HEADERS, "authorization": f"Bearer {app_jwt(app.issuer, pem, now, where)}"}
    base = f"{ep.api_base}/app/installations/{app.installation_id}"
    answer = yield _Call("GET", base, bearer)
    body = decode_body(answer.content)
    if answer.status_code != 200:
        raise AppCredentialError(classify(answer.status_code, body, where))
    account = body.get("account")
    login = str(account.get("login") or "") if isinstance(account, dict) else ""
    where = dataclasses.replace(where, account=login)
    asked: dict[str, Any] = {"permissions": dict(app.permissions)}
    if app.repository_ids:
        asked["repository_ids"] = list(app.repository_ids)
    answer = yield _Call("POST", f"{base}/access_tokens", bearer, asked)
    body = decode_body(answer.content)
    if answer.status_code != 201:
        raise AppCredentialError(classify(answer.status_code, body, where))
    token, expires = body.get("token"), parse_rfc3339(str(body.get("expires_at") or ""))
    if not isinstance(token, str) or not token or expires is None:
        raise AppCredentialError(unreachable(ep.api_base, "answered without a token"))
    return InstallationToken(token, expires, login, datetime.fromtimestamp(now, UTC))


def _check(ep: GitHubEndpoints, token: str, where: Where) -> Flow[AppFailure | None]:
    """The Copilot key exchange, as the proxy will make it; None when it succeeds."""
    where = dataclasses.replace(where, web_base=ep.web_base)
    headers = {**EDITOR_HEADERS, "authorization": f"token {token}"}
    answer = yield _Call("GET", ep.copilot_token_url, headers)
    if answer.status_code == 200:
        return None
    return classify(answer.status_code, decode_body(answer.content), where, stage="copilot")


def _run(http: httpx.Client, flow: Flow[T], host: str) -> T:
    try:
        call = next(flow)
        while True:
            request = http.build_request(
                call.method, call.url, headers=call.headers, json=call.json
            )
            call = flow.send(http.send(request))
    except StopIteration as done:
        result: T = done.value
        return result
    except httpx.TransportError:
        raise AppCredentialError(unreachable(host)) from None


def mint_installation_token(
    http: httpx.Client,
    ep: GitHubEndpoints,
    app: GitHubApp,
    private_key_pem: str,
    now: float,
    where: Where | None = None,
) -> InstallationToken:
    """A new installation token (the operator, the local mode). Raises AppCredentialError."""
    flow = _mint(ep, app, private_key_pem, now, where or Where())
    return _run(http, flow, ep.api_base)


def check_token(
    http: httpx.Client, ep: GitHubEndpoints, token: str, where: Where | None = None
) -> AppFailure | None:
    """Does the Copilot key exchange take this installation token? None if so; a
    TokenRefused failure means: mint a new one now. Raises AppCredentialError when
    GitHub does not answer."""
    return _run(http, _check(ep, token, where or Where()), ep.api_base)
