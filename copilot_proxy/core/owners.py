"""Whose object it is: the one rule for every object a proxy reads that a user names (pure).

Whoever may create a CopilotProxy must not be able to name another application's
Secret (or another proxy's) and have the operator mount it, read it or send it to
GitHub (docs/contracts.md, "Tenant isolation"). A proxy uses an object it owns
(a controller ownerReference with its uid), or one that someone who can write it
marked for it with an annotation listing proxies, `<annotation>: <proxy>[,<proxy>...]`;
never one another object controls (deleting that owner would delete it). The
annotation says what the object is for:
- `copilot-proxy.dev/token-for`: the GitHub token Secret (core/token_secret.py);
- `copilot-proxy.dev/app-key-for`: the GitHub App's private key (core/credential.py);
- `copilot-proxy.dev/mcp-for`: what an MCP server reads (core/mcp_access.py).
The operator never writes these annotations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from copilot_proxy.core import names

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Marking:
    """What a marked Secret is for, in the words of the refusals."""

    annotation: str
    what: str  # "a token Secret"
    holds: str  # "its GitHub token"
    otherwise: str = ""  # another way out, e.g. ", or leave spec.tokenSecret out ..."
    # Whether a Secret the operator made for the proxy (it owns it) serves: its token
    # Secret does; an App key never is one (the operator makes only tokens and keys).
    own_serves: bool = True


def owner_refs(obj: Obj | None) -> list[Obj]:
    refs = ((obj or {}).get("metadata") or {}).get("ownerReferences") or []
    return [r for r in refs if isinstance(r, Mapping)]


def owned_by(obj: Obj | None, uid: str) -> bool:
    """Whether `obj`'s controller (its owner reference with controller: true) has `uid`."""
    return bool(uid) and any(r.get("controller") and r.get("uid") == uid for r in owner_refs(obj))


def controlled(obj: Obj | None) -> bool:
    """Whether any object controls `obj`."""
    return any(r.get("controller") for r in owner_refs(obj))


def marked_for(obj: Obj | None, annotation: str) -> tuple[str, ...]:
    """The proxies `annotation` (a comma-separated list of names) names on `obj`."""
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    raw = str(annotations.get(annotation) or "")
    return tuple(n.strip() for n in raw.split(",") if n.strip())


def refusal(secret: Obj, proxy: str, uid: str, marking: Marking) -> str:
    """'' when proxy `proxy` (uid `uid`) may use this existing Secret, else what to do.

    `secret` may be metadata only (a PartialObjectMetadata answer).
    """
    meta = secret.get("metadata") or {}
    where = f"Secret {meta.get('namespace', '')}/{meta.get('name', '')}"
    if owned_by(secret, uid):
        if marking.own_serves:
            return ""
        return (
            f"{where} is one the operator made for this proxy (its token or master key),"
            f" not {marking.what}: store {marking.holds} in a Secret of your own and mark it:"
            f" kubectl annotate secret NAME {marking.annotation}={proxy}"
        )
    others = [
        r
        for r in owner_refs(secret)
        if r.get("uid") != uid and (r.get("controller") or r.get("kind") == names.KIND)
    ]
    if others:
        owner = f"{others[0].get('kind', '')} {others[0].get('name', '')}".strip()
        return (
            f"{where} belongs to {owner}: a proxy never uses a Secret another object"
            " controls (deleting it would delete the Secret); create a Secret of your own"
            f" and mark it: kubectl annotate secret NAME {marking.annotation}={proxy}"
        )
    if secret.get("type", "Opaque") != "Opaque":
        return f"{where} is of type {secret.get('type')}; {marking.what} is an Opaque Secret"
    if proxy not in marked_for(secret, marking.annotation):
        return (
            f"{where} was not made for this proxy; if it holds {marking.holds}, mark it:"
            f" kubectl annotate secret -n {meta.get('namespace', '')} {meta.get('name', '')}"
            f" {marking.annotation}={proxy} (several proxies: comma-separated)"
            f"{marking.otherwise}"
        )
    return ""
