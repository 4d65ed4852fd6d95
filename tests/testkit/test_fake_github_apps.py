"""The fake GitHub's App endpoints answer as GitHub does (docs/contracts.md, "GitHub App
credential"): real RS256 JWTs built here with PyJWT, installation tokens, the Copilot key
exchange with them, and the org's switches.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest

from testkit.fake_github import FakeGitHub
from testkit.fake_github.apps import AppKeys, new_app, private_key_pem

BODY = {"repository_ids": [123456789], "permissions": {"copilot_requests": "write"}}


@pytest.fixture
def gh(fake_github: FakeGitHub) -> FakeGitHub:
    return fake_github


@pytest.fixture
def app(gh: FakeGitHub) -> AppKeys:
    return new_app(gh)


def _jwt(app: AppKeys, key: str | None = None, **claims: Any) -> str:
    """Signed as the App's JWT; a claim given as None is left out. PyJWS signs the claims as
    given (PyJWT's encode refuses an integer `iss`, which GitHub accepts)."""
    now = int(time.time())
    payload = {"iat": now - 60, "exp": now + 540, "iss": app.client_id} | claims
    raw = json.dumps({k: v for k, v in payload.items() if v is not None}).encode()
    return jwt.PyJWS().encode(raw, key or app.private_key_pem, algorithm="RS256")


def _mint(gh: FakeGitHub, app: AppKeys, token: str | None = None, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{gh.url}/app/installations/{app.installation_id}/access_tokens",
        json=body or BODY,
        headers={
            "authorization": f"Bearer {token or _jwt(app)}",
            "accept": "application/vnd.github+json",
            "x-github-api-version": "2022-11-28",
        },
    )


def _exchange(gh: FakeGitHub, token: str) -> httpx.Response:
    return httpx.get(
        f"{gh.url}/copilot_internal/v2/token", headers={"authorization": f"token {token}"}
    )


def _refusal(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["message"]


def test_mints_an_installation_token_with_the_configured_lifetime(
    gh: FakeGitHub, app: AppKeys
) -> None:
    gh.apps.token_lifetime = 120
    before = time.time()
    r = _mint(gh, app)
    assert r.status_code == 201
    answer = r.json()
    assert re.fullmatch(r"ghs_[A-Za-z0-9_-]{30,}", answer["token"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", answer["expires_at"])
    expires = datetime.strptime(answer["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before + 118 <= expires.timestamp() <= time.time() + 120
    assert answer["permissions"] == {"copilot_requests": "write"}
    assert answer["repository_selection"] == "selected"  # scoped to repository_ids
    (rec,) = gh.apps.requests
    assert (rec.method, rec.iss, rec.app_id, rec.installation_id, rec.status) == (
        "POST",
        app.client_id,
        app.app_id,
        app.installation_id,
        201,
    )


def test_the_app_id_as_string_or_integer_is_an_issuer_too(gh: FakeGitHub, app: AppKeys) -> None:
    assert _mint(gh, app, _jwt(app, iss=str(app.app_id))).status_code == 201
    assert _mint(gh, app, _jwt(app, iss=app.app_id)).status_code == 201
    assert _mint(gh, app, app.jwt()).status_code == 201  # the testkit's own helper
    assert _mint(gh, app, app.jwt(iss=app.app_id)).status_code == 201


def test_without_a_body_the_token_gets_every_grant(gh: FakeGitHub, app: AppKeys) -> None:
    r = httpx.post(
        f"{gh.url}/app/installations/{app.installation_id}/access_tokens",
        headers={"authorization": f"Bearer {app.jwt()}"},
    )
    assert r.status_code == 201
    assert r.json()["permissions"] == {"copilot_requests": "write", "metadata": "read"}
    assert r.json()["repository_selection"] == "all"
    user = httpx.get(f"{gh.url}/user", headers={"authorization": f"token {r.json()['token']}"})
    assert user.status_code == 403  # an installation token is not a user


def test_get_installation_names_the_org(gh: FakeGitHub, app: AppKeys) -> None:
    r = httpx.get(
        f"{gh.url}/app/installations/{app.installation_id}",
        headers={"authorization": f"Bearer {_jwt(app)}"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["account"] == {"login": "acme", "type": "Organization"}
    assert (body["id"], body["app_id"]) == (app.installation_id, app.app_id)
    assert body["permissions"]["copilot_requests"] == "write"
    assert body["repository_selection"] == "all"
    assert body["suspended_at"] is None


# Claims as functions of the time the test runs (not of collection time: a long run would
# turn "300 s in the future" into the past).
@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (lambda now: {"exp": now - 10}, "'Expiration time' claim ('exp') must be a numeric"),
        (lambda now: {"exp": "soon"}, "'Expiration time' claim ('exp') must be a numeric"),
        (lambda now: {"iat": now + 300}, "'Issued at' claim ('iat') must be an Integer"),
        (lambda now: {"iat": now - 60, "exp": now + 600}, "is too far in the future"),
        (lambda now: {"iat": now, "exp": now + 900}, "is too far in the future"),
        (lambda now: {"iss": "Iv23linobody"}, "Integration not found"),
        (lambda now: {"iss": None}, "Missing 'issuer' claim ('iss') in assertion"),
    ],
)
def test_refuses_jwts_github_refuses(
    gh: FakeGitHub, app: AppKeys, claims: Callable[[int], dict[str, Any]], message: str
) -> None:
    sent = claims(int(time.time()))
    status, said = _refusal(_mint(gh, app, _jwt(app, **sent)))
    assert status == 401 and message in said
    rec = gh.apps.requests[-1]
    assert rec.outcome == said and rec.status == 401
    assert rec.iss == (None if sent.get("iss", "") is None else sent.get("iss", app.client_id))
    assert gh.apps.tokens == {}


def test_refuses_malformed_and_wrongly_signed_jwts(gh: FakeGitHub, app: AppKeys) -> None:
    undecodable = (401, "A JSON web token could not be decoded")
    other_key = private_key_pem()
    assert _refusal(_mint(gh, app, _jwt(app, key=other_key))) == undecodable
    assert _refusal(_mint(gh, app, "not.a.jwt")) == undecodable
    hs256 = jwt.encode({"iss": app.client_id, "iat": 1, "exp": 2}, "x" * 32, algorithm="HS256")
    assert _refusal(_mint(gh, app, hs256)) == undecodable
    assert gh.apps.tokens == {}


def test_the_fakes_clock_ahead_makes_a_good_jwt_expired(gh: FakeGitHub, app: AppKeys) -> None:
    gh.apps.clock_offset = 900
    assert _refusal(_mint(gh, app))[1].startswith("'Expiration time' claim ('exp') must be")


def test_another_apps_installation_is_not_found(gh: FakeGitHub, app: AppKeys) -> None:
    other = new_app(gh, org="globex")
    r = _mint(gh, app, _jwt(other))  # the other App's JWT, this App's installation
    assert _refusal(r) == (404, "Not Found")
    gh.apps.uninstall(app.installation_id)
    assert _refusal(_mint(gh, app)) == (404, "Not Found")


def test_permissions_and_repositories_it_was_not_granted(gh: FakeGitHub) -> None:
    app = new_app(gh, permissions={"copilot_requests": "read"})
    not_granted = (422, "The permissions requested are not granted to this installation.")
    assert _refusal(_mint(gh, app)) == not_granted  # write asked, read granted
    assert _refusal(_mint(gh, app, permissions={"contents": "read"})) == not_granted
    r = _mint(gh, app, repository_ids=[42], permissions={"copilot_requests": "read"})
    assert r.status_code == 422 and "not accessible to the parent installation" in r.text


def test_suspended_installation(gh: FakeGitHub, app: AppKeys) -> None:
    token = _mint(gh, app).json()["token"]
    gh.apps.suspend(app.installation_id)
    assert _refusal(_mint(gh, app)) == (403, "This installation has been suspended")
    assert _refusal(_exchange(gh, token)) == (403, "This installation has been suspended")
    gh.apps.suspend(app.installation_id, False)
    assert _exchange(gh, token).status_code == 200


def test_key_exchange_bounds_the_key_by_the_token(gh: FakeGitHub, app: AppKeys) -> None:
    gh.apps.token_lifetime = 600
    token = _mint(gh, app).json()["token"]
    r = _exchange(gh, token)
    assert r.status_code == 200
    key = r.json()
    minted = gh.apps.tokens[token]
    assert key["expires_at"] == minted.expires_at  # the key's 1800 s capped by the token
    assert 290 <= key["refresh_in"] <= 300
    assert key["sku"] == "copilot_business"
    assert gh.apps.requests[-1].path == "/copilot_internal/v2/token"
    assert gh.apps.requests[-1].installation_id == app.installation_id


def test_expired_and_revoked_tokens_are_refused_at_the_key_exchange(
    gh: FakeGitHub, app: AppKeys
) -> None:
    gh.apps.token_lifetime = 1
    short = _mint(gh, app).json()["token"]
    time.sleep(1.1)
    assert _refusal(_exchange(gh, short)) == (401, "Bad credentials")
    gh.apps.token_lifetime = 3600
    first, second = (_mint(gh, app).json()["token"] for _ in range(2))
    gh.apps.revoke(app.installation_id)  # everything minted so far
    assert _refusal(_exchange(gh, first)) == (401, "Bad credentials")
    assert _refusal(_exchange(gh, second)) == (401, "Bad credentials")
    assert _exchange(gh, _mint(gh, app).json()["token"]).status_code == 200


def test_revoking_a_token_through_the_api(gh: FakeGitHub, app: AppKeys) -> None:
    token = _mint(gh, app).json()["token"]
    auth = {"authorization": f"token {token}"}
    assert httpx.delete(f"{gh.url}/installation/token", headers=auth).status_code == 204
    assert _refusal(_exchange(gh, token)) == (401, "Bad credentials")
    assert httpx.delete(f"{gh.url}/installation/token", headers=auth).status_code == 401


def test_org_policy_off_refuses_the_key_exchange(gh: FakeGitHub, app: AppKeys) -> None:
    token = _mint(gh, app).json()["token"]
    gh.apps.set_policy(False, org="acme")
    status, message = _refusal(_exchange(gh, token))
    assert status == 403
    assert "Copilot requests from GitHub App installations" in message and "acme" in message
    assert _mint(gh, app).status_code == 201  # minting still works: only Copilot refuses
    gh.reset()  # a switch: reset() turns it back on
    assert _exchange(gh, token).status_code == 200


def test_revoked_grant(gh: FakeGitHub, app: AppKeys) -> None:
    token = _mint(gh, app).json()["token"]
    gh.apps.revoke_grant(app.installation_id, "copilot_requests")
    assert _refusal(_exchange(gh, token)) == (403, "Resource not accessible by integration")
    assert _mint(gh, app).status_code == 422
    gh.apps.grant(app.installation_id, "copilot_requests", "write")
    assert _exchange(gh, token).status_code == 200


def test_copilot_requests_are_billed_to_the_org(gh: FakeGitHub, app: AppKeys) -> None:
    token = _mint(gh, app).json()["token"]
    for github_token in (token, gh.default_token):
        key = _exchange(gh, github_token).json()["token"]
        r = httpx.post(
            f"{gh.url}/chat/completions",
            # a Claude model: its token count needs no tokenizer (nor LiteLLM's import)
            json={"model": "claude-opus-4.6", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {key}", "editor-version": "vscode/1.95.0"},
        )
        assert r.status_code == 200
    org, user = gh.bills
    assert (org.payer, org.app_id, org.installation_id) == ("acme", app.app_id, app.installation_id)
    assert (user.payer, user.app_id, user.installation_id) == ("octocat", None, None)


def test_the_fake_keeps_no_private_key(gh: FakeGitHub, app: AppKeys) -> None:
    _mint(gh, app)
    body = app.private_key_pem.splitlines()[1]  # a line of the key's base64
    kept = repr(vars(gh.apps)) + repr(gh.requests)
    assert body not in kept and "PRIVATE KEY" not in kept
