"""The proxy's GitHub credential: the device flow (a person signs in) or a GitHub App (pure).

A GitHub App with the Copilot Requests permission, installed on the organisation
that pays, lets the operator mint installation access tokens (one hour) with the
App's private key (GitHub docs, "Server-to-server authentication" for the Copilot
SDK; "Generating an installation access token for a GitHub App"). This module
holds what needs no I/O: `spec.credential` parsed (`parse_credential`), when to
renew (`renew_at`, `due`), what GitHub's refusals mean and what to do about them
(`classify`), the status entry (`status_credential`), the pod identity
(`identity_hash`) and whose key Secret it is (`key_refusal`).
The HTTP calls are copilot_proxy/github/app_tokens.py's; docs/contracts.md says
what was assumed where GitHub does not document it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copilot_proxy.core import bounds, names, owners
from copilot_proxy.core.bounds import SpecError, mapping, matching, only, text
from copilot_proxy.core.timestamps import rfc3339

DEFAULT_KEY = "private-key.pem"
DEFAULT_PERMISSIONS: tuple[tuple[str, str], ...] = (("copilot_requests", "write"),)
# GitHub's App IDs are numbers; client IDs start with Iv (Iv1.0123abcd..., Iv23li...).
APP_ID = re.compile(r"^[0-9]{1,20}$")
CLIENT_ID = re.compile(r"^Iv[A-Za-z0-9.]{1,62}$")
PERMISSION = re.compile(r"^[a-z][a-z_]{0,63}$")
MAX_INSTALLATION_ID = 2**53 - 1  # a JSON number every client reads exactly
# How often the operator checks a minted token with a Copilot key exchange.
CHECK_SECONDS = 300.0

KEY_MARKING = owners.Marking(
    annotation=names.APP_KEY_FOR_ANNOTATION,
    what="a GitHub App key Secret",
    holds="the GitHub App's private key",
    own_serves=False,
)


@dataclass(frozen=True)
class GitHubApp:
    """`spec.credential.githubApp`: who mints the proxy's token, with which key."""

    app_id: str  # exactly one of app_id and client_id is set
    client_id: str
    installation_id: int
    key_secret: str  # the Secret holding the PEM, in the proxy's namespace
    key_name: str = DEFAULT_KEY
    repository_ids: tuple[int, ...] = ()
    permissions: tuple[tuple[str, str], ...] = DEFAULT_PERMISSIONS

    @property
    def issuer(self) -> str:
        """The JWT's `iss`: the client ID (GitHub's recommendation) or the App ID."""
        return self.client_id or self.app_id

    @property
    def identity(self) -> str:
        """Who the proxy is to GitHub; another identity rolls the pods, a new token does not."""
        return app_identity(self.issuer, self.installation_id)


APP_IDENTITY_PREFIX = "github-app/"


def app_identity(issuer: str, installation_id: int) -> str:
    """`github-app/<issuer>/<installation>`: the token Secret's credential annotation."""
    return f"{APP_IDENTITY_PREFIX}{issuer}/{installation_id}"


def parse_credential(raw: dict[str, Any]) -> GitHubApp | None:
    """`spec.credential` (its value); None, the device flow, when absent or empty."""
    only(raw, "credential.", {"githubApp"})
    if raw.get("githubApp") is None:
        return None
    where = "credential.githubApp."
    app = only(mapping(raw, "githubApp", "credential."), where, _APP_FIELDS)
    path = f"spec.{where}"
    app_id = text(app, "appId", f"{where}appId", f"{path}appId")
    client_id = text(app, "clientId", f"{where}clientId", f"{path}clientId")
    if bool(app_id) == bool(client_id):
        raise SpecError(
            f"{where}appId",
            "set exactly one of appId (the App's number) and clientId (Iv...), both on the"
            " App's settings page",
        )
    if app_id:
        matching(
            app_id, APP_ID, f"{where}appId", 'the App ID, a number written as a string ("123456")'
        )
    if client_id:
        matching(client_id, CLIENT_ID, f"{where}clientId", "a GitHub App client ID (Iv...)")
    for key, what in _REQUIRED.items():
        if app.get(key) is None:
            raise SpecError(f"{where}{key}", f"required: {what}")
    ref = only(
        mapping(app, "privateKeySecretRef", where), f"{where}privateKeySecretRef.", {"name", "key"}
    )
    return GitHubApp(
        app_id=app_id,
        client_id=client_id,
        installation_id=bounds.integer(app, where, "installationId", 0, 1, MAX_INSTALLATION_ID),
        key_secret=_key_secret(ref, f"{where}privateKeySecretRef."),
        key_name=text(
            ref,
            "key",
            f"{where}privateKeySecretRef.key",
            f"{path}privateKeySecretRef.key",
            DEFAULT_KEY,
        ),
        repository_ids=_repository_ids(app.get("repositoryIds"), f"{where}repositoryIds"),
        permissions=_permissions(app.get("permissions"), f"{where}permissions"),
    )


def _key_secret(ref: dict[str, Any], where: str) -> str:
    name = text(ref, "name", f"{where}name", f"spec.{where}name")
    if not name:
        raise SpecError(f"{where}name", "required: the Secret that holds the App's private key")
    return matching(name, bounds.SECRET_NAME, f"{where}name", "a Secret name")


def _repository_ids(raw: Any, field: str) -> tuple[int, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SpecError(field, "must be a list of repository ids (numbers)")
    for i, item in enumerate(raw):
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            raise SpecError(
                f"{field}[{i}]", f"must be a repository id (a number >= 1), not {item!r}"
            )
    if len(set(raw)) != len(raw):
        raise SpecError(field, "lists a repository twice")
    return tuple(raw)


def _permissions(raw: Any, field: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return DEFAULT_PERMISSIONS
    if not isinstance(raw, dict) or not raw:
        raise SpecError(
            field, "must map permission names to read or write, e.g. copilot_requests: write"
        )
    for key, value in raw.items():
        if not isinstance(key, str) or not PERMISSION.match(key):
            raise SpecError(
                field, "has a key that is not a GitHub permission name (e.g. copilot_requests)"
            )
        if value not in ("read", "write"):
            raise SpecError(f"{field}.{key}", f"must be read or write, not {value!r}")
    return tuple(sorted(raw.items()))


_REQUIRED = {
    "installationId": "the number at the end of the installation's settings URL",
    "privateKeySecretRef": "the Secret that holds the App's private key",
}
_APP_FIELDS = {
    "appId",
    "clientId",
    "installationId",
    "privateKeySecretRef",
    "repositoryIds",
    "permissions",
}


# --- renewal ------------------------------------------------------------------------


def renew_at(minted_at: datetime, expires_at: datetime) -> datetime:
    """Half way through the token's life: well before expiry, and few mints an hour."""
    return minted_at + (expires_at - minted_at) / 2


def due(now: datetime, renew: datetime | None, token_present: bool) -> bool:
    """Mint now? When there is no usable token or its renewal time has come."""
    return not token_present or renew is None or now >= renew


def wait_seconds(now: datetime, renew: datetime | None) -> float:
    """How long until the next look: the renewal, or the periodic check if sooner."""
    if renew is None:
        return 0.0
    return max(0.0, min((renew - now).total_seconds(), CHECK_SECONDS))


# --- what the operator shows --------------------------------------------------------


def status_credential(
    app: GitHubApp | None,
    account: str = "",
    expires_at: datetime | None = None,
    renew: datetime | None = None,
) -> dict[str, Any]:
    """`status.credential`: the kind, who, and when; never a key or a token.

    For the device flow, `account` is the login that signed in (if known).
    """
    if app is None:
        return {"kind": "DeviceFlow", **({"account": account} if account else {})}
    entry: dict[str, Any] = {"kind": "GitHubApp"}
    entry["clientId" if app.client_id else "appId"] = app.issuer
    entry["installationId"] = app.installation_id
    if account:
        entry["account"] = account
    if expires_at is not None:
        entry["expiresAt"] = rfc3339(expires_at)
    if renew is not None:
        entry["renewAt"] = rfc3339(renew)
    return entry


def identity_hash(app: GitHubApp) -> str:
    """The pod template's `copilot-proxy.dev/credential`: changes with the App or installation
    only, so a token rotation does not roll the pods."""
    return hashlib.sha256(app.identity.encode()).hexdigest()[:16]


def key_refusal(secret: Mapping[str, Any], proxy: str, uid: str) -> str:
    """'' when proxy `proxy` may read the App key in `secret`, else what to do (owners.py)."""
    return owners.refusal(secret, proxy, uid, KEY_MARKING)
