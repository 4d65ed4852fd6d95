"""A GitHub App-backed CopilotProxy as the login service sees it (pure; issue 15).

The operator mints the App's installation token into the proxy's token Secret
and describes it there (annotations login = the organisation, token-updated-at,
token-expires-at, credential = github-app/<issuer>/<installation>) and in the
proxy's status (status.credential, condition CredentialReady). This module reads
only those: the login service never reads the App's private key Secret (it has
no need, and no RBAC beyond the token Secrets it already reads).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from copilot_proxy.auth.stores.protocol import AppCredential
from copilot_proxy.core import credential, names
from copilot_proxy.core.timestamps import parse_rfc3339, rfc3339

Obj = dict[str, Any]
CONDITION = "CredentialReady"


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _installation(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def app_of(cpx: Obj) -> AppCredential | None:
    """The App credential a CopilotProxy object declares (spec.credential.githubApp) with
    what its status says of it; None for a device-flow proxy.

    Read leniently (not core.credential.parse_credential): a githubApp the operator
    refuses still makes no device-flow proxy, and its status says what is wrong.
    """
    spec, status = _dict(cpx.get("spec")), _dict(cpx.get("status"))
    declared = _dict(spec.get("credential")).get("githubApp")
    if not isinstance(declared, dict):
        return None
    seen = _dict(status.get("credential"))
    conditions = status.get("conditions") or []
    ready: Obj = next((c for c in conditions if _dict(c).get("type") == CONDITION), {})
    return AppCredential(
        issuer=str(declared.get("clientId") or declared.get("appId") or ""),
        installation_id=_installation(declared.get("installationId")),
        account=str(seen.get("account") or ""),
        expires_at=str(seen.get("expiresAt") or ""),
        renew_at=str(seen.get("renewAt") or ""),
        ready=str(ready.get("status") or ""),
        reason=str(ready.get("reason") or ""),
        message=str(ready.get("message") or ""),
    )


def identity(app: AppCredential) -> str:
    """The token Secret's credential annotation for a token of this App (core.credential)."""
    return credential.app_identity(app.issuer, app.installation_id)


def renew_time(updated_at: str, expires_at: str) -> str:
    """When a token minted at `updated_at` is renewed (core.credential's rule)."""
    minted, expires = parse_rfc3339(updated_at), parse_rfc3339(expires_at)
    if minted is None or expires is None or expires < minted:
        return ""
    return rfc3339(credential.renew_at(minted, expires))


def with_token(app: AppCredential, secret: Obj | None) -> AppCredential:
    """`app` with what the token Secret's annotations say of the token it holds now (they
    change with each renewal; the status may lag behind)."""
    notes = _dict(_dict((secret or {}).get("metadata")).get("annotations"))
    expires = str(notes.get(names.TOKEN_EXPIRES_ANNOTATION) or "")
    minted_for = str(notes.get(names.CREDENTIAL_ANNOTATION) or "")
    if not expires or expires == app.expires_at or minted_for != identity(app):
        return app  # the status's word, or no App token yet (e.g. a person's, before)
    renew = renew_time(str(notes.get(names.TOKEN_UPDATED_ANNOTATION) or ""), expires)
    return dataclasses.replace(
        app,
        account=str(notes.get(names.LOGIN_ANNOTATION) or app.account),
        expires_at=expires,
        renew_at=renew or app.renew_at,
    )


def managed(proxy: str, app: AppCredential, where: str) -> str:
    """Why nobody signs in to (or out of) an App-backed proxy, with where to look."""
    org = f" on {app.account}" if app.account else ""
    return (
        f"{proxy} gets its GitHub token from GitHub App {app.issuer}, installation"
        f" {app.installation_id}{org}: {where} mints and renews it, there is nothing to sign in"
        " or out. To use a person's account instead, remove spec.credential."
    )
