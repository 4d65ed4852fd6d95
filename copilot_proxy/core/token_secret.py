"""The token Secret: the one contract between the login side and the operator side (pure).

A CopilotProxy's GitHub token lives in one Secret (docs/contracts.md): data key
`access-token` (the token), label `copilot-proxy.dev/proxy: <proxy>`, and the
annotations `copilot-proxy.dev/login` and `copilot-proxy.dev/token-updated-at`
(RFC 3339). Its life:
- the operator creates it empty (`empty`) when absent and never overwrites it;
  a Secret the user made only gets the label (`label_patch`), so its changes
  wake the operator;
- the login service fills it (`filled`: the body of a create, or of a merge
  patch of the operator's) and empties it on sign-out (`CLEAR_PATCH`), keeping
  the Secret (the operator owns its lifecycle);
- both read it with one rule (`read`, `data_value`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copilot_proxy.core import manifests, names
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
    namespace: str, secret_name: str, proxy_name: str, token: str, login: str, when: datetime
) -> Obj:
    """The Secret with a token: the body of a create, or of a merge patch of the operator's."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": secret_name,
            "namespace": namespace,
            "labels": {names.PROXY_LABEL: proxy_name},
            "annotations": {
                names.LOGIN_ANNOTATION: login,
                names.TOKEN_UPDATED_ANNOTATION: rfc3339(when),
            },
        },
        "data": {names.TOKEN_KEY: base64.b64encode(token.encode()).decode()},
    }


# Signing out empties the Secret but keeps it (the operator owns its lifecycle).
CLEAR_PATCH: Obj = {
    "metadata": {
        "annotations": {names.LOGIN_ANNOTATION: None, names.TOKEN_UPDATED_ANNOTATION: None}
    },
    "data": {names.TOKEN_KEY: None},
}


def is_labelled(secret: Obj) -> bool:
    """Whether the Secret carries the proxy label (the operator's watch finds it)."""
    return names.PROXY_LABEL in ((secret.get("metadata") or {}).get("labels") or {})


def label_patch(proxy_name: str) -> Obj:
    """Label a Secret the user made, so its changes wake the operator (not adopted)."""
    return {"metadata": {"labels": {names.PROXY_LABEL: proxy_name}}}


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
