"""When proxy pods roll: the pod template carries a hash of the config and of the token.

LiteLLM reads its config once and drops Copilot models when no token exists at
start-up, so a new config or a new token needs new pods; anything else (a label
on the CopilotProxy, a status update, a re-render to the same text) must leave
the template, and so the pods, alone. A GitHub App's token is different: the
operator renews it every half hour and the pods read the mounted file in place,
so the template carries a hash of the App's identity (`copilot-proxy.dev/credential`)
instead: a rotation does not roll, another App or installation does.
"""

from __future__ import annotations

import hashlib
from typing import Any

from copilot_proxy.core import names


def token_hash(token: str) -> str:
    """A short fingerprint of the token; '' when there is none.

    A truncated SHA-256 of a high-entropy token reveals nothing usable, and lets
    the pod template change exactly when the token does.
    """
    token = token.strip()
    return hashlib.sha256(token.encode()).hexdigest()[:16] if token else ""


def pod_annotations(
    config_hash: str, token_fingerprint: str, credential: str = ""
) -> dict[str, str]:
    """`credential` (a GitHub App's identity hash) replaces the token's fingerprint."""
    if credential:
        return {names.CONFIG_HASH: config_hash, names.CREDENTIAL_ANNOTATION: credential}
    return {names.CONFIG_HASH: config_hash, names.TOKEN_HASH: token_fingerprint}


_ROLL_REASONS = (
    (names.TOKEN_HASH, "TokenReplaced", "a new GitHub token arrived"),
    (names.CREDENTIAL_ANNOTATION, "CredentialChanged", "another GitHub App or installation"),
)


def announce(before: Any, desired: Any) -> tuple[bool, list[tuple[str, str]]]:
    """Whether the pod template's hashes change (the proxy pods roll), and the events
    (reason, message) that say why when a credential is the cause."""
    if before is None:
        return False, []
    old = before["spec"]["template"]["metadata"].get("annotations") or {}
    new = desired["spec"]["template"]["metadata"]["annotations"]
    if old == new:
        return False, []
    said = [
        (reason, f"{what}: rolling proxy pods")
        for key, reason, what in _ROLL_REASONS
        if old.get(key) and new.get(key) and old[key] != new[key]
    ]
    return True, said


def desired_replicas(wanted: int, has_token: bool) -> int:
    """No token, no pods: a proxy started without one never serves Copilot models."""
    return wanted if has_token else 0


def differs(desired: Any, actual: Any) -> bool:
    """True when `actual` lacks or contradicts something `desired` declares.

    Fields only in `actual` (defaults and status the API server adds) are not
    drift; this keeps the operator from patching, and so re-triggering itself,
    on every event.
    """
    # Checked first: the API server omits empty maps and lists (a Secret's `data: {}`).
    if desired in ({}, []) and actual is None:
        return False
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            return True
        return any(differs(v, actual.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(actual, list) or len(desired) != len(actual):
            return True
        return any(differs(d, a) for d, a in zip(desired, actual, strict=True))
    return bool(desired != actual)
