"""What a GitHub App proxy's token Secret holds, and how the operator writes a new token.

The Secret is the one of docs/contracts.md (core/token_secret.py: data key
`access-token`, label and login annotations), plus `copilot-proxy.dev/token-expires-at`
and `copilot-proxy.dev/credential` (`github-app/<issuer>/<installation>`): the
renewal time follows from the Secret alone, so a restarted operator renews on time.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copilot_proxy.core import credential, names, token_secret
from copilot_proxy.core.credential import GitHubApp
from copilot_proxy.core.spec import ProxySpec
from copilot_proxy.core.timestamps import parse_rfc3339, rfc3339
from copilot_proxy.github.app_tokens import InstallationToken
from copilot_proxy.kube import Kube, object_path
from copilot_proxy.operator.ownership import TokenState

Obj = dict[str, Any]


@dataclass(frozen=True)
class Held:
    """The token the Secret holds, and for whom and until when."""

    token: token_secret.StoredToken
    identity: str = ""
    minted_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def renew_at(self) -> datetime | None:
        if self.minted_at is None or self.expires_at is None:
            return None
        return credential.renew_at(self.minted_at, self.expires_at)


def held_token(tok: TokenState) -> Held:
    notes = tok.annotations
    return Held(
        tok.stored,
        str(notes.get(names.CREDENTIAL_ANNOTATION) or ""),
        parse_rfc3339(tok.stored.updated_at),
        parse_rfc3339(str(notes.get(names.TOKEN_EXPIRES_ANNOTATION) or "")),
    )


def write(kube: Kube, spec: ProxySpec, app: GitHubApp, minted: InstallationToken) -> Held:
    """Into the token Secret (it exists: the reconcile made it, or it is marked for us)."""
    body = token_secret.filled(
        spec.namespace,
        spec.token_secret,
        spec.name,
        minted.token,
        minted.account,
        minted.minted_at,
    )
    body["metadata"]["annotations"].update(
        {
            names.TOKEN_EXPIRES_ANNOTATION: rfc3339(minted.expires_at),
            names.CREDENTIAL_ANNOTATION: app.identity,
        }
    )
    patch = {"metadata": {k: body["metadata"][k] for k in ("labels", "annotations")}}
    patch["data"] = body["data"]
    kube.merge_patch(object_path("v1", "Secret", spec.namespace, spec.token_secret), patch)
    stored = token_secret.StoredToken(minted.token, minted.account, rfc3339(minted.minted_at))
    return Held(stored, app.identity, minted.minted_at, minted.expires_at)


def drop_app_token(kube: Kube, spec: ProxySpec, tok: TokenState) -> token_secret.StoredToken:
    """A proxy back on the device flow: an App's token left in its Secret is emptied (it
    would expire within the hour, and it is the organisation's, not a person's), so the
    status asks for a sign-in. Any other token is the person's: kept."""
    minted_for = str(tok.annotations.get(names.CREDENTIAL_ANNOTATION) or "")
    if tok.refused or not minted_for.startswith(credential.APP_IDENTITY_PREFIX):
        return tok.stored
    patch = copy.deepcopy(token_secret.CLEAR_PATCH)
    patch["metadata"]["annotations"] |= dict.fromkeys(_APP_ANNOTATIONS)
    kube.merge_patch(object_path("v1", "Secret", spec.namespace, spec.token_secret), patch)
    return token_secret.StoredToken()


_APP_ANNOTATIONS = (names.TOKEN_EXPIRES_ANNOTATION, names.CREDENTIAL_ANNOTATION)
