"""One reconciliation of one CopilotProxy: fetch, call the core, apply.

Level-triggered: whatever woke it (the resource, a child's drift, the token
Secret, the periodic resync), it reads the current state and converges the
children on what the spec declares. Every step is idempotent, so a restart or
a re-run mid-way leaves no duplicates.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from copilot_proxy.core import manifests, names, render, rollout, status, token_secret
from copilot_proxy.core.keys import generate_master_key
from copilot_proxy.core.spec import (
    API_GROUP,
    API_VERSION,
    KIND,
    ProxySpec,
    SpecError,
    parse_spec,
    token_secret_of,
)
from copilot_proxy.kube import Conflict, Kube, object_path, path_of
from copilot_proxy.operator import mcp_servers
from copilot_proxy.operator.catalogue import CatalogueStep, Looked, served

log = logging.getLogger(__name__)

Obj = dict[str, Any]
EventSink = Callable[[Obj, str, str, str], None]


@dataclass(frozen=True)
class OperatorConfig:
    image: str
    login_hint: str = ""
    catalogue: CatalogueStep | None = None  # None: the account's catalogue is not read
    mcp_image: str = ""  # runs the MCP servers of spec.mcpServers (the Dockerfile's `mcp` target)


@dataclass(frozen=True)
class Outcome:
    ready: bool
    reason: str
    status: Obj
    rolled: bool = False


_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(namespace: str, name: str) -> threading.Lock:
    # Handlers of the resource, its children and its Secret run in threads:
    # one reconciliation per proxy at a time.
    with _locks_guard:
        return _locks.setdefault((namespace, name), threading.Lock())


def proxy_path(namespace: str, name: str) -> str:
    return object_path(f"{API_GROUP}/{API_VERSION}", KIND, namespace, name)


def reconcile(
    kube: Kube, namespace: str, name: str, cfg: OperatorConfig, emit: EventSink
) -> Outcome | None:
    """Converge one proxy; None when the CopilotProxy no longer exists."""
    with _lock(namespace, name):
        body = kube.get(proxy_path(namespace, name))
        if body is None or body["metadata"].get("deletionTimestamp"):
            return None
        return _reconcile(kube, body, cfg, emit)


def _reconcile(kube: Kube, body: Obj, cfg: OperatorConfig, emit: EventSink) -> Outcome:
    meta = body["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    owner = manifests.owner_reference(name, meta.get("uid", ""))
    obs: dict[str, Any] = dict(
        name=name,
        namespace=namespace,
        generation=meta.get("generation", 0),
        login_hint=cfg.login_hint,
    )

    try:
        spec = parse_spec(name, namespace, body.get("spec") or {})
    except SpecError as error:
        return _report_bad_spec(kube, body, obs, error, emit)

    _ensure_master_key(kube, spec, owner)
    token = _ensure_token_secret(kube, spec, owner)
    has_token = token.present
    looked = (
        cfg.catalogue.look(spec, token.value, body.get("status") or {})
        if cfg.catalogue
        else Looked(None)
    )

    # The proxy is rendered with the MCP servers that run: never one blocked or whose
    # name a foreign Service holds (it would receive the proxy's tool calls).
    running = mcp_servers.reconcile(kube, body, spec, owner, cfg.mcp_image, emit)
    text = render.config_text(running, looked.catalogue)
    config_hash = render.config_hash(text)
    kube.ensure(manifests.config_map(spec, text, owner), rollout.differs)
    kube.ensure(manifests.service(spec, owner), rollout.differs)

    desired = manifests.deployment(
        spec,
        image=cfg.image,
        replicas=rollout.desired_replicas(spec.replicas, has_token),
        pod_annotations=rollout.pod_annotations(config_hash, rollout.token_hash(token.value)),
        owner=owner,
    )
    before = kube.get(path_of(desired))
    live = kube.ensure(desired, rollout.differs, live=before)
    rolled = _announce_rollout(body, before, desired, emit)

    observed = status.Observation(
        **obs,
        config_hash=config_hash,
        token_secret=spec.token_secret,
        token_present=has_token,
        token_login=token.login,
        token_updated_at=token.updated_at,
        **_replica_counts(live),
        catalogue=looked.catalogue,
        catalogue_error=looked.error,
        catalogue_checked_at=looked.checked_at,
        served=served(spec),
        web_base=spec.github.web_base,
    )
    return _report(kube, body, observed, emit, rolled=rolled)


def _report_bad_spec(
    kube: Kube, body: Obj, obs: dict[str, Any], error: SpecError, emit: EventSink
) -> Outcome:
    """Report the spec error and keep the last good children running: a typo must not
    take the proxy down."""
    name, namespace = obs["name"], obs["namespace"]
    secret_name = token_secret_of(name, body.get("spec") or {})
    token = _read_token(kube, namespace, secret_name)
    observed = status.Observation(
        **obs,
        config_error=str(error),
        config_hash=(body.get("status") or {}).get("configHash", ""),
        token_secret=secret_name,
        token_present=token.present,
        **_replica_counts(
            kube.get(object_path("apps/v1", "Deployment", namespace, names.deployment(name)))
        ),
    )
    return _report(kube, body, observed, emit, rolled=False)


def _report(
    kube: Kube, body: Obj, obs: status.Observation, emit: EventSink, rolled: bool
) -> Outcome:
    old = body.get("status") or {}
    new = status.build_status(obs, old, datetime.now(UTC))
    if new != {k: old.get(k) for k in new}:
        kube.merge_patch(proxy_path(obs.namespace, obs.name) + "/status", {"status": new})
    for kind, reason, message in status.transitions(old, new):
        emit(body, kind, reason, message)
    ready = new["conditions"][0]
    return Outcome(
        ready=ready["status"] == "True", reason=ready["reason"], status=new, rolled=rolled
    )


def _announce_rollout(body: Obj, before: Obj | None, desired: Obj, emit: EventSink) -> bool:
    """True when the pod template's hashes changed, i.e. the proxy pods roll."""
    if before is None:
        return False
    old = before["spec"]["template"]["metadata"].get("annotations") or {}
    new = desired["spec"]["template"]["metadata"]["annotations"]
    if old == new:
        return False
    if (
        old.get(names.TOKEN_HASH)
        and new[names.TOKEN_HASH]
        and old[names.TOKEN_HASH] != new[names.TOKEN_HASH]
    ):
        emit(body, "Normal", "TokenReplaced", "a new GitHub token arrived: rolling proxy pods")
    return True


def _ensure_master_key(kube: Kube, spec: ProxySpec, owner: Obj) -> None:
    """Generate the proxy's master key once; later reconciliations keep it."""
    path = object_path("v1", "Secret", spec.namespace, names.master_key_secret(spec.name))
    live = kube.get(path)
    if live is not None and (live.get("data") or {}).get(names.MASTER_KEY_KEY):
        return
    desired = manifests.master_key_secret(spec, generate_master_key(), owner)
    if live is not None:  # The key was removed by hand: a new one, or the proxy cannot start.
        kube.merge_patch(path, {"data": desired["data"]})
        return
    with contextlib.suppress(Conflict):  # made meanwhile (or our answer was lost): keep that key
        kube.create(desired)


def _ensure_token_secret(kube: Kube, spec: ProxySpec, owner: Obj) -> token_secret.StoredToken:
    """Create the token Secret empty when absent; never overwrite a token."""
    path = object_path("v1", "Secret", spec.namespace, spec.token_secret)
    live = kube.get(path)
    if live is None:
        try:
            kube.create(token_secret.empty(spec, owner))
        except Conflict:  # the login service was quicker: its Secret is the one to read
            return _read_token(kube, spec.namespace, spec.token_secret)
        return token_secret.StoredToken()
    if not token_secret.is_labelled(live):
        # A Secret the user made: label it so its changes wake the operator. Not adopted:
        # deleting the proxy must not delete a Secret the user owns. Proxies sharing it
        # keep the first label (the handlers find every user through an index).
        kube.merge_patch(path, token_secret.label_patch(spec.name))
    return token_secret.read(live)


def _read_token(kube: Kube, namespace: str, secret_name: str) -> token_secret.StoredToken:
    return token_secret.read(kube.get(object_path("v1", "Secret", namespace, secret_name)))


def _replica_counts(deployment: Obj | None) -> dict[str, Any]:
    """The Observation's replica fields, from the live Deployment (None: not made yet)."""
    live = deployment or {}
    return {
        "replicas": (live.get("spec") or {}).get("replicas", 0),
        "ready_replicas": (live.get("status") or {}).get("readyReplicas", 0),
    }
