"""GitHub's App endpoints: the JWT check, `GET /app`, `GET /app/installations/{id}`,
`POST /app/installations/{id}/access_tokens`, `DELETE /installation/token`. What the
Copilot key exchange asks of an installation token: `AppRegistry.exchange_refusal` (apps.py).

Sources and assumptions: docs/contracts.md, "GitHub App credential".
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt
from aiohttp import web

from testkit.fake_github.apps import (
    LEVELS,
    SUSPENDED,
    App,
    AppRequest,
    Installation,
    InstallationToken,
)
from testkit.fake_github.github_api import gh_error
from testkit.fake_github.state import GitHubState

UNDECODABLE = "A JSON web token could not be decoded"
NO_ISS = "Missing 'issuer' claim ('iss') in assertion"
NO_APP = "Integration not found"
BAD_IAT = "'Issued at' claim ('iat') must be an Integer representing a time in the past"
BAD_EXP = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time"
    " at which the assertion expires"
)
FAR_EXP = "'Expiration time' claim ('exp') is too far in the future"
NOT_GRANTED = "The permissions requested are not granted to this installation."
BAD_REPOS = (
    "There is at least one repository that does not exist or is not accessible to the parent"
    " installation."
)
MAX_JWT_SECONDS = 600


class Refused(Exception):
    def __init__(self, status: int, message: str, iss: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.iss = status, message, iss


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def verify_jwt(gh: GitHubState, request: web.Request) -> tuple[App, str]:
    """The App whose RS256 JWT the request carries (`Authorization: Bearer`), and its `iss`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        raise Refused(401, UNDECODABLE)
    try:
        alg = jwt.get_unverified_header(token.strip()).get("alg")
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Refused(401, UNDECODABLE) from None
    if alg != "RS256":
        raise Refused(401, UNDECODABLE)
    iss = claims.get("iss")
    if iss is None:
        raise Refused(401, NO_ISS)
    app = gh.apps.app_for(iss)
    if app is None:
        raise Refused(401, NO_APP, str(iss))
    try:  # the signature only: the time claims are GitHub's rules, below
        jwt.decode(token.strip(), app.public_key_pem, algorithms=["RS256"], options=_SIG_ONLY)
    except jwt.PyJWTError:
        raise Refused(401, UNDECODABLE, str(iss)) from None
    try:
        _check_times(gh, claims.get("iat"), claims.get("exp"))
    except Refused as e:
        raise Refused(e.status, e.message, str(iss)) from None
    return app, str(iss)


_SIG_ONLY: Any = {"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                  "verify_iss": False, "verify_aud": False, "verify_sub": False,
                  "verify_jti": False}  # fmt: skip


def _check_times(gh: GitHubState, iat: Any, exp: Any) -> None:
    with gh.lock:
        now = time.time() + gh.apps.clock_offset
        leeway = gh.apps.jwt_leeway
    if not isinstance(iat, int) or isinstance(iat, bool) or iat > now + leeway:
        raise Refused(401, BAD_IAT)
    if not _number(exp) or exp <= now:
        raise Refused(401, BAD_EXP)
    if exp - iat > MAX_JWT_SECONDS or exp > now + MAX_JWT_SECONDS + leeway:
        raise Refused(401, FAR_EXP)


def _installation(gh: GitHubState, app: App, request: web.Request) -> Installation:
    raw = request.match_info.get("installation_id", "")
    with gh.lock:
        inst = gh.apps.installations.get(int(raw)) if raw.isdigit() else None
    if inst is None or inst.app_id != app.app_id or not inst.installed:
        raise Refused(404, "Not Found")
    return inst


def _note(gh: GitHubState, request: web.Request, iss: str | None, app_id: int | None,
          installation_id: int | None, status: int, outcome: str) -> None:  # fmt: skip
    gh.apps.note(AppRequest(request.method, request.path, iss, app_id, installation_id,
                            status, outcome))  # fmt: skip


def _installation_json(inst: Installation) -> dict[str, Any]:
    return {
        "id": inst.id,
        "account": {"login": inst.account, "type": inst.account_type},
        "app_id": inst.app_id,
        "target_type": inst.account_type,
        "permissions": dict(inst.permissions),
        "repository_selection": inst.repository_selection,
        "suspended_at": inst.suspended_at,
    }


async def get_app(gh: GitHubState, request: web.Request) -> web.Response:
    await gh.record(request)
    try:
        app, iss = verify_jwt(gh, request)
    except Refused as e:
        _note(gh, request, e.iss, None, None, e.status, e.message)
        return gh_error(e.status, e.message)
    _note(gh, request, iss, app.app_id, None, 200, "ok")
    return web.json_response({"id": app.app_id, "client_id": app.client_id, "slug": app.slug})


async def get_installation(gh: GitHubState, request: web.Request) -> web.Response:
    await gh.record(request)
    iss: str | None = None
    app_id: int | None = None
    try:
        app, iss = verify_jwt(gh, request)
        app_id = app.app_id
        inst = _installation(gh, app, request)
    except Refused as e:
        _note(gh, request, iss or e.iss, app_id, None, e.status, e.message)
        return gh_error(e.status, e.message)
    _note(gh, request, iss, app.app_id, inst.id, 200, "ok")
    with gh.lock:
        return web.json_response(_installation_json(inst))


async def create_token(gh: GitHubState, request: web.Request) -> web.Response:
    rec = await gh.record(request)
    body = rec.body if isinstance(rec.body, dict) else {}
    iss: str | None = None
    app_id: int | None = None
    inst_id: int | None = None
    try:
        app, iss = verify_jwt(gh, request)
        app_id = app.app_id
        inst = _installation(gh, app, request)
        inst_id = inst.id
        if inst.suspended_at:
            raise Refused(403, SUSPENDED)
        token = _mint(gh, inst, body)
    except Refused as e:
        _note(gh, request, iss or e.iss, app_id, inst_id, e.status, e.message)
        return gh_error(e.status, e.message)
    _note(gh, request, iss, app_id, inst_id, 201, "ok")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(token.expires_at))
    answer: dict[str, Any] = {
        "token": token.token,
        "expires_at": stamp,
        "permissions": dict(token.permissions),
        "repository_selection": "selected" if token.repository_ids else inst.repository_selection,
    }
    return web.json_response(answer, status=201)


def _mint(gh: GitHubState, inst: Installation, body: dict[str, Any]) -> InstallationToken:
    """A token with the requested subset of the installation's grants (all when none asked)."""
    asked = body.get("permissions")
    repos = body.get("repository_ids")
    with gh.lock:
        granted = dict(inst.permissions)
        if asked is None:
            perms = granted
        elif not isinstance(asked, dict) or not all(
            LEVELS.get(str(level), 99) <= LEVELS.get(granted.get(name, ""), 0)
            for name, level in asked.items()
        ):
            raise Refused(422, NOT_GRANTED)
        else:
            perms = {str(k): str(v) for k, v in asked.items()}
        if repos is not None and (
            not isinstance(repos, list) or not set(repos) <= inst.repository_ids
        ):
            raise Refused(422, BAD_REPOS)
        expires = int(time.time() + gh.apps.token_lifetime)
        token = InstallationToken(
            "ghs_" + secrets.token_urlsafe(27), inst.app_id, inst.id, expires, perms, repos
        )
        gh.apps.tokens[token.token] = token
    return token


async def revoke_token(gh: GitHubState, request: web.Request) -> web.Response:
    """`DELETE /installation/token`: the installation token that authenticates it stops working."""
    await gh.record(request)
    _, _, raw = request.headers.get("authorization", "").partition(" ")
    with gh.lock:
        token = gh.apps.token(raw.strip())
        live = token is not None and token.live()
        if token is not None and live:
            token.revoked = True
    if token is None or not live:
        _note(gh, request, None, None, None, 401, "Bad credentials")
        return gh_error(401, "Bad credentials")
    _note(gh, request, None, token.app_id, token.installation_id, 204, "ok")
    return web.Response(status=204)


ROUTES = [
    ("GET", "/app", get_app),
    ("GET", "/app/installations/{installation_id}", get_installation),
    ("POST", "/app/installations/{installation_id}/access_tokens", create_token),
    ("DELETE", "/installation/token", revoke_token),
]
