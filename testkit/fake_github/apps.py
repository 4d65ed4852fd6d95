"""GitHub Apps in the fake GitHub: registered Apps (public keys only), their installations on
organisations, the installation access tokens they minted, each organisation's policy for
Copilot requests from GitHub App installations, and a record of every App request.

The routes are in app_api.py; docs/contracts.md ("GitHub App credential") cites GitHub's
docs for each behaviour and says what is assumed. Test-side use::

    app = new_app(gh)                 # AppKeys: app_id, client_id, installation_id, private_key_pem
    app.jwt()                         # a JWT GitHub accepts (iat now-60, exp now+540)
    gh.apps.token_lifetime = 5        # seconds an installation token lives (default 3600)
    gh.apps.revoke(app.installation_id)          # its tokens so far stop working
    gh.apps.suspend(app.installation_id)         # 403 "This installation has been suspended"
    gh.apps.uninstall(app.installation_id)       # 404 Not Found; its tokens stop working
    gh.apps.revoke_grant(app.installation_id, "copilot_requests")
    gh.apps.set_policy(False, org="acme")        # Copilot requests from App installations off
    gh.apps.clock_offset = 900        # the fake's clock runs 15 minutes ahead (JWT checks)
    gh.apps.requests                  # [AppRequest(method, path, iss, app_id, ...)]
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

LEVELS = {"read": 1, "write": 2, "admin": 3}
DEFAULT_PERMISSIONS = {"copilot_requests": "write", "metadata": "read"}
DEFAULT_ORG = "acme"
SUSPENDED = "This installation has been suspended"
NOT_ACCESSIBLE = "Resource not accessible by integration"


@dataclass
class App:
    app_id: int
    client_id: str
    slug: str
    public_key_pem: bytes  # the fake never holds an App's private key


@dataclass
class Installation:
    id: int
    app_id: int
    account: str = DEFAULT_ORG
    account_type: str = "Organization"
    permissions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PERMISSIONS))
    repository_selection: str = "all"  # all | selected
    repository_ids: set[int] = field(default_factory=set)  # the account's repositories
    suspended_at: str | None = None
    installed: bool = True


@dataclass
class InstallationToken:
    token: str
    app_id: int
    installation_id: int
    expires_at: int  # epoch seconds, as `expires_at` says
    permissions: dict[str, str]
    repository_ids: list[int] | None
    revoked: bool = False

    def live(self, now: float | None = None) -> bool:
        return not self.revoked and (time.time() if now is None else now) < self.expires_at


@dataclass(frozen=True)
class AppRequest:
    """One request an App (JWT) or an installation token made, and how it ended."""

    method: str
    path: str
    iss: str | None  # the JWT's issuer as sent (None: an installation token asked)
    app_id: int | None
    installation_id: int | None
    status: int
    outcome: str  # GitHub's message, or "ok"


class _Fake(Protocol):
    apps: AppRegistry


class AppRegistry:
    """Every App, installation, token and policy of the fake; all under the server's lock."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, InstallationToken] = {}
        self.policies: dict[str, bool] = {}  # org login -> Copilot requests from Apps allowed
        self._ids = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        """Switches and records back to their defaults; Apps, installations and tokens stay."""
        with self.lock:
            self.token_lifetime = 3600.0  # seconds an installation token lives
            self.clock_offset = 0.0  # seconds the fake's clock runs ahead (JWT checks)
            self.jwt_leeway = 30.0  # seconds an `iat` may lie in the fake's future
            self.policies = dict.fromkeys(self.policies, True)
            self.requests_: list[AppRequest] = []

    # ----- registering -----------------------------------------------------------

    def register(self, public_key_pem: bytes, slug: str | None = None) -> App:
        with self.lock:
            app_id = 100000 + next(self._ids)
            client_id = f"Iv23li{secrets.token_hex(7)}"
            app = App(app_id, client_id, slug or f"app-{app_id}", public_key_pem)
            self.apps[app_id] = app
            return app

    def install(
        self,
        app_id: int,
        org: str = DEFAULT_ORG,
        permissions: dict[str, str] | None = None,
        repository_ids: set[int] | None = None,
        account_type: str = "Organization",
    ) -> Installation:
        with self.lock:
            inst = Installation(7000000 + next(self._ids), app_id, org, account_type)
            if permissions is not None:
                inst.permissions = dict(permissions)
            inst.repository_ids = set(repository_ids or {123456789})
            self.installations[inst.id] = inst
            self.policies.setdefault(org, True)
            return inst

    # ----- what tests switch -----------------------------------------------------

    def revoke(self, installation_id: int) -> None:
        """Every token minted for the installation so far stops working."""
        with self.lock:
            for t in self.tokens.values():
                if t.installation_id == installation_id:
                    t.revoked = True

    def expire_tokens(self, installation_id: int | None = None) -> None:
        with self.lock:
            for t in self.tokens.values():
                if installation_id in (None, t.installation_id):
                    t.expires_at = 0

    def suspend(self, installation_id: int, suspended: bool = True) -> None:
        with self.lock:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self.installations[installation_id].suspended_at = stamp if suspended else None

    def uninstall(self, installation_id: int) -> None:
        with self.lock:
            self.installations[installation_id].installed = False
            self.revoke(installation_id)

    def revoke_grant(self, installation_id: int, permission: str) -> None:
        with self.lock:
            self.installations[installation_id].permissions.pop(permission, None)

    def grant(self, installation_id: int, permission: str, level: str = "write") -> None:
        with self.lock:
            self.installations[installation_id].permissions[permission] = level

    def set_policy(self, enabled: bool, org: str = DEFAULT_ORG) -> None:
        """The org's policy for Copilot requests from GitHub App installations."""
        with self.lock:
            self.policies[org] = enabled

    # ----- lookups and records ---------------------------------------------------

    def app_for(self, iss: Any) -> App | None:
        """The App a JWT's `iss` names: its App ID (string or integer) or its client ID."""
        with self.lock:
            for app in self.apps.values():
                if str(iss) in (str(app.app_id), app.client_id) and not isinstance(iss, bool):
                    return app
        return None

    def token(self, token: str) -> InstallationToken | None:
        with self.lock:
            return self.tokens.get(token)

    def payer(
        self, github_token: str, accounts: Mapping[str, Any]
    ) -> tuple[str, int | None, int | None]:
        """Who pays for a request made with a key from `github_token`: (login, None, None) for
        an account's OAuth token, (org, app id, installation id) for an installation token."""
        with self.lock:
            t = self.tokens.get(github_token)
            inst = self.installations.get(t.installation_id) if t else None
            if inst is not None:
                return inst.account, inst.app_id, inst.id
            account = accounts.get(github_token)
            return (account.login if account is not None else ""), None, None

    def exchange_refusal(self, github_token: str) -> tuple[int, str] | None:
        """Why the Copilot key exchange refuses an installation token (None: it does not).
        What it checks beyond a live token is assumed (docs/contracts.md)."""
        with self.lock:
            t = self.tokens.get(github_token)
            inst = self.installations.get(t.installation_id) if t else None
            if t is None or inst is None or not inst.installed or not t.live():
                return 401, "Bad credentials"
            if inst.suspended_at:
                return 403, SUSPENDED
            granted = LEVELS.get(inst.permissions.get("copilot_requests", ""), 0)
            held = LEVELS.get(t.permissions.get("copilot_requests", ""), 0)
            if min(granted, held) < LEVELS["write"] or inst.repository_selection != "all":
                return 403, NOT_ACCESSIBLE
            if not self.policies.get(inst.account, True):
                return 403, (
                    "Copilot requests from GitHub App installations are disabled for the"
                    f" organization {inst.account}. An organization owner can enable them in"
                    " the organization's Copilot policies."
                )
        return None

    def note(self, request: AppRequest) -> None:
        with self.lock:
            self.requests_.append(request)

    @property
    def requests(self) -> list[AppRequest]:
        with self.lock:
            return list(self.requests_)


@dataclass(frozen=True)
class AppKeys:
    """A registered App as its owner holds it: the fake keeps only the public half."""

    app_id: int
    client_id: str
    slug: str
    installation_id: int
    org: str
    private_key_pem: str

    def jwt(self, iss: str | int | None = None, iat: float = -60, exp: float = 540) -> str:
        """A JWT signed by the App's key; `iat`/`exp` are seconds from now."""
        now = int(time.time())
        claims = {"iat": now + int(iat), "exp": now + int(exp), "iss": iss or self.client_id}
        # PyJWS signs the claims as given: PyJWT's encode refuses an integer `iss`.
        payload = json.dumps(claims).encode()
        return jwt.PyJWS().encode(payload, self.private_key_pem, algorithm="RS256")


def private_key_pem(key_size: int = 2048) -> str:
    """A new RSA private key, PEM (PKCS#1, "BEGIN RSA PRIVATE KEY", as GitHub hands them out)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def public_key_pem(private_pem: str) -> bytes:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def new_app(
    fake: _Fake,
    org: str = DEFAULT_ORG,
    permissions: dict[str, str] | None = None,
    repository_ids: set[int] | None = None,
    slug: str | None = None,
) -> AppKeys:
    """Register an App on `fake`, install it on `org`; the keys its owner would download."""
    pem = private_key_pem()
    app = fake.apps.register(public_key_pem(pem), slug)
    inst = fake.apps.install(app.app_id, org, permissions, repository_ids)
    return AppKeys(app.app_id, app.client_id, app.slug, inst.id, org, pem)
