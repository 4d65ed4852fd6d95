"""GitHub's API for a GitHub token: the Copilot key exchange, Copilot's user and quota, `/user`.

The exchange (`GET /copilot_internal/v2/token`) answers what an account's
Copilot access allows (`Account.copilot`), or what `fail_token_exchange` set;
a key expires after `key_ttl` seconds. A GitHub App's installation token (apps.py) is
exchanged like an OAuth token while it is live and its org allows Copilot requests from
App installations; its key expires no later than the token.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid

from aiohttp import web

from testkit.fake_github.apps import AppRequest
from testkit.fake_github.state import Account, GitHubState

_EXCHANGE_ERRORS = {
    401: "Bad credentials",
    403: "Resource not accessible by integration",
    404: "Not Found",
}


def gh_error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"message": message, "documentation_url": "https://docs.github.com/rest"}, status=status
    )


def github_account(gh: GitHubState, request: web.Request) -> Account | None:
    """The account whose GitHub token the request carries (`token` or `Bearer`)."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() not in ("token", "bearer"):
        return None
    with gh.lock:
        return gh.accounts.get(token.strip())


def _github_token(request: web.Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() in ("token", "bearer") else ""


async def copilot_token(gh: GitHubState, request: web.Request) -> web.Response:
    await gh.record(request)
    with gh.lock:
        gh.token_calls += 1
        token_error = gh.token_error
    if token_error is not None:
        status, message = token_error
        return gh_error(status, message or _EXCHANGE_ERRORS.get(status, "Server Error"))
    token = _github_token(request)
    installation = gh.apps.token(token)
    if installation is not None:  # a GitHub App's installation token: billed to the org
        refused = gh.apps.exchange_refusal(token)
        gh.apps.note(
            AppRequest(
                request.method, request.path, None, installation.app_id,
                installation.installation_id, refused[0] if refused else 200,
                refused[1] if refused else "ok",
            )
        )  # fmt: skip
        if refused is not None:
            return gh_error(*refused)
        return _key_answer(gh, token, "business", installation.expires_at)
    account = github_account(gh, request)
    if account is None:
        return gh_error(401, "Bad credentials")
    if account.copilot == "no_access":
        return gh_error(403, "You do not have access to GitHub Copilot.")
    if account.copilot == "suspended":
        return gh_error(403, "Your Copilot access has been suspended. Contact GitHub support.")
    if account.copilot == "not_found":
        return gh_error(404, "Not Found")
    return _key_answer(gh, account.token, account.plan, None)


def _key_answer(gh: GitHubState, token: str, plan: str, not_after: int | None) -> web.Response:
    """A Copilot key for `token`; one minted from an installation token expires no later
    than that token (`not_after`)."""
    now = time.time()
    with gh.lock:
        ttl = gh.key_ttl if not_after is None else max(min(gh.key_ttl, not_after - now), 0)
        expires_at = int(now + gh.key_ttl) if not_after is None else min(int(now + ttl), not_after)
        key = f"tid={uuid.uuid4().hex};exp={expires_at};sku=copilot_{plan};" + (
            secrets.token_hex(16)
        )
        gh.keys[key] = (float(expires_at), token)
    return web.json_response(
        {
            "token": key,
            "expires_at": expires_at,
            "refresh_in": max(int(ttl) - 300, 0),
            "endpoints": {
                "api": gh.api_url,
                "proxy": gh.url,
                "telemetry": gh.url,
                "origin-tracker": gh.url,
            },
            "chat_enabled": True,
            "sku": f"copilot_{plan}",
            "annotations_enabled": True,
            "tracking_id": uuid.uuid4().hex,
        }
    )


async def copilot_user(gh: GitHubState, request: web.Request) -> web.Response:
    await gh.record(request)
    account = github_account(gh, request)
    if account is None:
        return gh_error(401, "Bad credentials")
    if account.copilot != "ok":
        return gh_error(404, "Not Found")
    with gh.lock:
        quota = json.loads(json.dumps(gh.quota))
        reset = gh.quota_reset_date
        token_based = gh.token_based_billing
    return web.json_response(
        {
            "login": account.login,
            "copilot_plan": account.plan,
            "chat_enabled": True,
            "quota_reset_date": reset,
            "quota_reset_date_utc": f"{reset}T00:00:00.000Z",
            "quota_snapshots": quota,
            # 2026: monthly plans count AI credits in `premium_interactions`
            **({"token_based_billing": True} if token_based else {}),
        }
    )


async def user(gh: GitHubState, request: web.Request) -> web.Response:
    await gh.record(request)
    if gh.apps.token(_github_token(request)) is not None:
        return gh_error(403, "Resource not accessible by integration")  # not a user
    account = github_account(gh, request)
    if account is None:
        return gh_error(401, "Bad credentials")
    return web.json_response({"login": account.login, "id": 583231, "type": "User"})


ROUTES = [
    ("GET", "/copilot_internal/v2/token", copilot_token),
    ("GET", "/copilot_internal/user", copilot_user),
    ("GET", "/user", user),
]
