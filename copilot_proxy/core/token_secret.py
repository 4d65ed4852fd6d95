"""The token Secret: the one contract between the login side and the operator side (pure).

A CopilotProxy's GitHub token lives in one Secret (docs/contracts.md): data key
`access-token` (the token), label `copilot-proxy.dev/proxy: <proxy>`, and the
annotations `copilot-proxy.dev/login` and `copilot-proxy.dev/token-updated-at`
(RFC 3339). Its life:
- the operator creates it empty (`empty`), owned by the proxy, when absent and
  never overwrites it;
- the login service fills it (`filled`: the body of a create, or of a merge
  patch of the operator's) and empties it on sign-out (`CLEAR_PATCH`), keeping
  the Secret (the operator owns its lifecycle);
- both read it with one rule (`read`, `data_value`).

Whose Secret it is decides whether it is used at all (`refusal`): whoever may
create a CopilotProxy must not be able to name another application's Secret
(or another proxy's) and have the operator mount it or the login service read
it and send it to GitHub. A proxy uses a Secret it owns (the operator made it
for it), or one someone who can write it marked for it with the annotation
`copilot-proxy.dev/token-for`; never one another object controls (deleting that
owner would delete it). The rule is core/owners.py's, shared with the App key and
what MCP servers read.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copilot_proxy.core import manifests, names, owners
from copilot_proxy.core.spec import ProxySpec
from copilot_proxy.core.timestamps import rfc3339

Obj = dict[str, Any]


@dataclass(frozen=True)
class StoredToken:
    """What a token Secret holds; login and time only count along with a token."""

    value: str = ""
    login: str = ""
    updated_at: str = ""  # RFC 3339, as the login service writes it

    @property
    def present(self) -> bool:
        return bool(self.value)


# The rule is core/owners.py's; these names stay for the callers that read a token Secret.
owned_by = owners.owned_by


def refusal(secret: Obj, proxy: str, uid: str) -> str:
    """'' when proxy `proxy` (uid `uid`) may use this existing Secret, else what to do.

    `secret` may be metadata only (a PartialObjectMetadata answer).
    """
    marking = owners.Marking(
        annotation=names.TOKEN_FOR_ANNOTATION,
        what="a token Secret",
        holds="its GitHub token",
        otherwise=f", or leave spec.tokenSecret out to use {names.token_secret(proxy)}",
    )
    return owners.refusal(secret, proxy, uid, marking)


def empty(spec: ProxySpec, owner: Obj | None) -> Obj:
    """The Secret the operator creates for the login service to fill; never overwritten."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": manifests.metadata(spec.token_secret, spec, owner),
        "data": {},
    }


def filled(
    namespace: str,
    secret_name: str,
    proxy_name: str,
    token: str,
    login: str,
    when: datetime,
    owner: Obj | None = None,
) -> Obj:
    """The Secret with a token: the body of a create (with the proxy as `owner`), or of a
    merge patch of a Secret the proxy may use."""
    meta: Obj = {
        "name": secret_name,
        "namespace": namespace,
        "labels": {names.PROXY_LABEL: proxy_name},
        "annotations": {
            names.LOGIN_ANNOTATION: login,
            names.TOKEN_UPDATED_ANNOTATION: rfc3339(when),
        },
    }
    if owner:
        meta["ownerReferences"] = [owner]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": meta,
        "data": {names.TOKEN_KEY: base64.b64encode(token.encode()).decode()},
    }


# Signing out empties the Secret but keeps it (the operator owns its lifecycle).
CLEAR_PATCH: Obj = {
    "metadata": {
        "annotations": {names.LOGIN_ANNOTATION: None, names.TOKEN_UPDATED_ANNOTATION: None}
    },
    "data": {names.TOKEN_KEY: None},
}


def data_value(secret: Obj | None, key: str) -> str:
    """One Secret data value as text: '' when absent, not base64, or not UTF-8.

    The one decoding rule for every Secret this product reads (token, master key):
    strict base64, surrounding whitespace dropped (a token pasted with a newline).
    """
    raw = ((secret or {}).get("data") or {}).get(key) or ""
    try:
        return base64.b64decode(raw, validate=True).decode().strip()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return ""


def read(secret: Obj | None) -> StoredToken:
    """The token and who stored it when; an absent or empty Secret holds no token."""
    value = data_value(secret, names.TOKEN_KEY)
    if not value:
        return StoredToken()
    annotations = ((secret or {}).get("metadata") or {}).get("annotations") or {}
    return StoredToken(
        value=value,
        login=str(annotations.get(names.LOGIN_ANNOTATION) or ""),
        updated_at=str(annotations.get(names.TOKEN_UPDATED_ANNOTATION) or ""),
    )
