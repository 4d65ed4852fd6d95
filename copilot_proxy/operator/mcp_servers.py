"""The reconcile step of the MCP servers the operator runs for a proxy: fetch, call the core, apply.

For each preset or command server of the spec: check the Secrets and the claim
it would use (core/mcp_access.py), then ensure its NetworkPolicy, Service and
Deployment (core/mcp_workloads.py), never touching a same-named object this
proxy does not own. Servers no longer declared, or no longer allowed, are
deleted. What each server's state is goes to `status.mcpServers` (a patch of
its own, only when it changed), with a Warning event when one cannot run; the
proxy's config then leaves that server out, so its tool calls never reach a
Service it does not own.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from copilot_proxy.core import mcp_access, mcp_workloads, names, rollout
from copilot_proxy.core.mcp_config import endpoint
from copilot_proxy.core.mcp_spec import McpServer
from copilot_proxy.core.spec import API_GROUP, API_VERSION, KIND, ProxySpec
from copilot_proxy.kube import Kube, object_path, path_of

Obj = dict[str, Any]
EventSink = Callable[[Obj, str, str, str], None]
KINDS = (("networking.k8s.io/v1", "NetworkPolicy"), ("v1", "Service"), ("apps/v1", "Deployment"))


@dataclass(frozen=True)
class Blocked:
    reason: str
    message: str


def reconcile(
    kube: Kube, body: Obj, spec: ProxySpec, owner: Obj, image: str, emit: EventSink
) -> ProxySpec:
    """Converge the run servers; `spec` without those that cannot run (what the proxy serves)."""
    uid = owner["uid"]
    ours = _listed(kube, spec)  # one list per kind: the usual reconcile reads nothing else
    entries: list[Obj] = []
    kept: set[str] = set()
    cannot: set[str] = set()
    for server in (s for s in spec.mcp_servers if s.runs):
        entry = {"name": server.name, "url": endpoint(spec, server), "ready": False}
        outcome = _check(kube, spec, uid, server)
        if isinstance(outcome, Blocked):
            entries.append({**entry, "reason": outcome.reason, "message": outcome.message})
            cannot.add(server.name)
            continue
        objects = mcp_workloads.objects(spec, server, image=image, secret_hash=outcome, owner=owner)
        kept.add(server.name)
        # Not among ours: absent, or someone else's object of that name (read it to know).
        lives = [ours.get(path_of(o)) or kube.get(path_of(o)) for o in objects]
        conflict = _foreign(objects, lives, uid)
        if conflict:  # and not ours to delete either
            entries.append({**entry, "reason": "NameConflict", "message": conflict})
            cannot.add(server.name)
            continue
        ensured = [
            kube.ensure(o, rollout.differs, live=v) for o, v in zip(objects, lives, strict=True)
        ]
        entries.append({**entry, **_readiness(ensured[-1])})
    _delete_others(kube, ours, uid, kept)
    _report(kube, body, entries, emit)
    served = tuple(s for s in spec.mcp_servers if s.name not in cannot)
    return dataclasses.replace(spec, mcp_servers=served)


def _listed(kube: Kube, spec: ProxySpec) -> dict[str, Obj]:
    """The MCP servers' objects labelled as this proxy's, by API path."""
    selector = f"{names.PROXY_LABEL}={spec.name},{mcp_workloads.SERVER_LABEL}"
    found: dict[str, Obj] = {}
    for api_version, kind in KINDS:
        for live in kube.list(object_path(api_version, kind, spec.namespace), selector):
            live.setdefault("apiVersion", api_version)
            live.setdefault("kind", kind)
            live["metadata"].setdefault("namespace", spec.namespace)
            found[path_of(live)] = live
    return found


def _check(kube: Kube, spec: ProxySpec, uid: str, server: McpServer) -> Blocked | str:
    """Blocked, or the fingerprint of the Secret values the server reads."""
    if server.volume is not None and server.volume.claim:
        claim = kube.get(
            object_path("v1", "PersistentVolumeClaim", spec.namespace, server.volume.claim)
        )
        if claim is None:
            return Blocked(
                "VolumeMissing", f"PersistentVolumeClaim {server.volume.claim} not found"
            )
        if not mcp_access.allowed(claim, spec.name, uid):
            kind = "PersistentVolumeClaim"
            return Blocked(
                "VolumeNotAllowed", mcp_access.refusal(kind, server.volume.claim, spec.name, claim)
            )
    values: dict[tuple[str, str], str] = {}
    for var in (v for v in server.env if v.secret):
        secret = kube.get(object_path("v1", "Secret", spec.namespace, var.secret))
        if secret is None:
            return Blocked("SecretMissing", f"Secret {var.secret} not found")
        if not mcp_access.allowed(secret, spec.name, uid):
            return Blocked(
                "SecretNotAllowed", mcp_access.refusal("Secret", var.secret, spec.name, secret)
            )
        value = _decoded((secret.get("data") or {}).get(var.key))
        if value is None:
            return Blocked("SecretMissing", f"Secret {var.secret} has no key {var.key}")
        values[(var.secret, var.key)] = value
    return mcp_access.secret_hash(values)


def _decoded(data: Any) -> str | None:
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data, validate=True).decode(errors="replace")
    except (binascii.Error, ValueError):
        return None


def _foreign(objects: list[Obj], lives: list[Obj | None], uid: str) -> str:
    """A same-named object this proxy does not own: never patched."""
    for obj, live in zip(objects, lives, strict=True):
        if live is not None and not _owned(live, uid):
            return (
                f"{obj['kind']} {obj['metadata']['name']} exists and is not this proxy's;"
                " rename the server or remove that object"
            )
    return ""


def _owned(obj: Obj, uid: str) -> bool:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("controller") and r.get("uid") == uid for r in refs)


def _readiness(deployment: Obj) -> Obj:
    if ((deployment.get("status") or {}).get("readyReplicas") or 0) >= 1:
        return {"ready": True, "reason": "Ready", "message": "a server pod is ready"}
    return {"ready": False, "reason": "Starting", "message": "waiting for the server pod"}


def _delete_others(kube: Kube, ours: dict[str, Obj], uid: str, kept: set[str]) -> None:
    for path, live in ours.items():
        server = (live["metadata"].get("labels") or {}).get(mcp_workloads.SERVER_LABEL)
        if server not in kept and _owned(live, uid):
            kube.delete(path)


def _report(kube: Kube, body: Obj, entries: list[Obj], emit: EventSink) -> None:
    old = (body.get("status") or {}).get("mcpServers") or []
    if old == entries:
        return
    before = {e.get("name"): e for e in old}
    for entry in entries:
        was = before.get(entry["name"], {})
        if entry["reason"] not in ("Ready", "Starting") and was.get("reason") != entry["reason"]:
            emit(
                body, "Warning", entry["reason"], f"MCP server {entry['name']}: {entry['message']}"
            )
    meta = body["metadata"]
    path = object_path(f"{API_GROUP}/{API_VERSION}", KIND, meta["namespace"], meta["name"])
    kube.merge_patch(path + "/status", {"status": {"mcpServers": entries or None}})
