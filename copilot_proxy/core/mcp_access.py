"""Which Secrets and PersistentVolumeClaims an MCP server of a proxy may use (pure).

The rule of the token Secret (docs/contracts.md, "Tenant isolation") applied to
what an MCP server mounts or reads: an object is used only when this proxy owns
it (a controller ownerReference with its uid) or when someone who may write it
marked it for this proxy, `copilot-proxy.dev/mcp-for: "<proxy>[,<proxy>...]"`,
and it has no controller that is anything else. The operator never writes the
annotation: a CopilotProxy author cannot reach a Secret or a volume of the
namespace that nobody gave them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from copilot_proxy.core import names, owners

ANNOTATION = f"{names.PREFIX}/mcp-for"
KIND_FLAGS = {"Secret": "secret", "PersistentVolumeClaim": "pvc"}


def allowed(obj: Mapping[str, Any], proxy: str, uid: str) -> bool:
    """core/owners.py's rule; a claim has no type, so none is asked of Secrets either."""
    if owners.controlled(obj):
        return owners.owned_by(obj, uid)
    return proxy in owners.marked_for(obj, ANNOTATION)


def refusal(kind: str, name: str, proxy: str, obj: Mapping[str, Any]) -> str:
    """Why `obj` is not used, and the command that allows it (when one can)."""
    if owners.controlled(obj):
        return f"{kind} {name} is controlled by another object: this proxy may not use it"
    value = ",".join([*owners.marked_for(obj, ANNOTATION), proxy])
    return (
        f"{kind} {name} is not marked for this proxy; if it may read it: kubectl annotate"
        f" --overwrite {KIND_FLAGS[kind]} {name} {ANNOTATION}={value}"
    )


def secret_hash(values: Mapping[tuple[str, str], str]) -> str:
    """A fingerprint of the Secret values a server reads: it rolls the pods when one changes.

    A truncated SHA-256 over high-entropy values reveals nothing usable (as rollout.token_hash).
    """
    if not values:
        return ""
    text = "\n".join(f"{s}/{k}={v}" for (s, k), v in sorted(values.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
