"""One reconciliation of one CopilotProxy: fetch, call the core, apply.

Level-triggered: whatever woke it (the resource, a child's drift, the token
Secret, the periodic resync), it reads the current state and converges the
children on what the spec declares. Every step is idempotent, so a restart or
a re-run mid-way leaves no duplicates.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from copilot_proxy.core import (
    manifests,
    names,
    network_policy,
    owners,
    render,
    rollout,
    status,
)
from copilot_proxy.core.github import DEFAULT_HOSTS, GitHub
from copilot_proxy.core.network_policy import PolicyConfig
from copilot_proxy.core.spec import (
    API_GROUP,
    API_VERSION,
    KIND,
    PLURAL,
    ProxySpec,
    SpecError,
    parse_spec,
    token_secret_of,
)
from copilot_proxy.kube import Kube, NotOwned, object_path
from copilot_proxy.operator import credential, mcp_servers, ownership
from copilot_proxy.operator.catalogue import CatalogueStep, Looked, served
from copilot_proxy.operator.credential import CredentialStep

log = logging.getLogger(__name__)

Obj = dict[str, Any]
EventSink = Callable[[Obj, str, str, str], None]


@dataclass(frozen=True)
class OperatorConfig:
    image: str
    login_hint: str = ""
    # The GitHub hosts a CopilotProxy may pick (core/github.py); never its own URLs.
    github_hosts: tuple[GitHub, ...] = DEFAULT_HOSTS
    # Who may call the proxies (core/network_policy.py); None: no NetworkPolicy.
    network_policy: PolicyConfig | None = None
    catalogue: CatalogueStep | None = None  # None: the account's catalogue is not read
    mcp_image: str = ""  # runs the MCP servers of spec.mcpServers (the Dockerfile's `mcp` target)
    credential: CredentialStep | None = None  # None: GitHub App tokens are not minted


@dataclass(frozen=True)
class Outcome:
    ready: bool
    reason: str
    status: Obj
    rolled: bool = False
    wake_in: float | None = None  # reconcile again in this many seconds (a token's renewal)


_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(namespace: str, name: str) -> threading.Lock:
    # Handlers of the resource, its children and its Secret run in threads:
    # one reconciliation per proxy at a time.
    with _locks_guard:
        return _locks.setdefault((namespace, name), threading.Lock())


def proxy_path(namespace: str, name: str) -> str:
    return object_path(f"{API_GROUP}/{API_VERSION}", KIND, namespace, name)


def proxy_collection(namespace: str) -> str:
    """The CopilotProxies of a namespace; of the whole cluster for ''."""
    if namespace:
        return object_path(f"{API_GROUP}/{API_VERSION}", KIND, namespace)
    return f"/apis/{API_GROUP}/{API_VERSION}/{PLURAL}"


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
    name, namespace, uid = meta["name"], meta["namespace"], meta.get("uid", "")
    obs: dict[str, Any] = dict(
        name=name,
        namespace=namespace,
        generation=meta.get("generation", 0),
        login_hint=cfg.login_hint,
    )

    try:
        spec = parse_spec(name, namespace, body.get("spec") or {}, cfg.github_hosts)
        render.config_text(spec)  # fits a ConfigMap? Checked before anything is written.
    except SpecError as error:
        return _report_bad_spec(kube, body, obs, error, emit)

    # Children are named after the proxy: a name another object already has is not ours
    # to patch (a proxy named like another app's Service must not rewrite it).
    live = ownership.children(kube, spec, cfg.network_policy is not None)
    taken = ownership.conflicts(live, uid)
    if taken:
        return _report_conflict(kube, body, obs, spec, taken, emit)
    try:
        return _converge(kube, body, obs, spec, live, cfg, emit)
    except NotOwned as raced:  # made by someone else between our read and our write
        return _report_conflict(kube, body, obs, spec, [raced.what], emit)
    except SpecError as error:  # rendered with the catalogue, it outgrew a ConfigMap
        return _report_bad_spec(kube, body, obs, error, emit)


def _converge(
    kube: Kube,
    body: Obj,
    obs: dict[str, Any],
    spec: ProxySpec,
    live: dict[str, Obj | None],
    cfg: OperatorConfig,
    emit: EventSink,
) -> Outcome:
    uid = body["metadata"].get("uid", "")
    owner = manifests.owner_reference(spec.name, uid)
    ownership.master_key(kube, spec, owner, live[ownership.MASTER_KEY])
    token = ownership.token(kube, spec.namespace, spec.token_secret, spec.name, uid, spec)
    cred = credential.step(cfg.credential, kube, body, spec, token, emit)
    stored = cred.token if cred.app else token.stored
    has_token = stored.present
    # Only a token the proxy may use is sent to read the account's catalogue.
    looked = (
        cfg.catalogue.look(spec, stored.value, body.get("status") or {}, cred.identity)
        if cfg.catalogue
        else Looked(None)
    )

    # The proxy is rendered with the MCP servers that run: never one blocked or whose
    # name a foreign Service holds (it would receive the proxy's tool calls).
    running = mcp_servers.reconcile(kube, body, spec, owner, cfg.mcp_image, emit)
    text = render.config_text(running, looked.catalogue)
    config_hash = render.config_hash(text)
    _ensure_around(kube, spec, text, owner, live, cfg.network_policy)

    desired = manifests.deployment(
        spec,
        image=cfg.image,
        replicas=rollout.desired_replicas(spec.replicas, has_token),
        pod_annotations=rollout.pod_annotations(
            config_hash, rollout.token_hash(stored.value), cred.identity
        ),
        owner=owner,
        token_volume=not token.refused,
    )
    deployed, rolled = _apply_deployment(kube, body, desired, live[ownership.DEPLOYMENT], emit)
    observed = status.Observation(
        **obs,
        config_hash=config_hash,
        token_secret=spec.token_secret,
        token_present=has_token,
        token_login=stored.login,
        token_updated_at=stored.updated_at,
        token_refused=token.refused,
        **cred.observed,
        **_replica_counts(deployed),
        catalogue=looked.catalogue,
        catalogue_error=looked.error,
        catalogue_checked_at=looked.checked_at,
        served=served(spec),
        web_base=spec.github.web_base,
    )
    return _report(kube, body, observed, emit, rolled=rolled, wake_in=cred.wake_in)


def _apply_deployment(
    kube: Kube, body: Obj, desired: Obj, before: Obj | None, emit: EventSink
) -> tuple[Obj, bool]:
    """Create or patch the Deployment (if ours); whether its pods roll, and why if a credential."""
    mine = functools.partial(owners.owned_by, uid=body["metadata"].get("uid", ""))
    deployed = kube.ensure(desired, rollout.differs, before, mine)
    rolled, said = rollout.announce(before, desired)
    for reason, message in said:
        emit(body, "Normal", reason, message)
    return deployed, rolled


def _ensure_around(
    kube: Kube,
    spec: ProxySpec,
    text: str,
    owner: Obj,
    live: dict[str, Obj | None],
    policy: PolicyConfig | None,
) -> None:
    """The ConfigMap, the Service and the NetworkPolicy (when made), patched only if ours."""
    mine = functools.partial(owners.owned_by, uid=owner["uid"])
    kube.ensure(
        manifests.config_map(spec, text, owner), rollout.differs, live[ownership.CONFIG], mine
    )
    kube.ensure(manifests.service(spec, owner), rollout.differs, live[ownership.SERVICE], mine)
    if policy is not None:
        desired = network_policy.network_policy(spec, policy, owner)
        kube.ensure(desired, rollout.differs, live[ownership.POLICY], mine)


def _report_bad_spec(
    kube: Kube, body: Obj, obs: dict[str, Any], error: SpecError, emit: EventSink
) -> Outcome:
    """Report the spec error and keep the last good children running: a typo must not
    take the proxy down."""
    name, namespace = obs["name"], obs["namespace"]
    uid = body["metadata"].get("uid", "")
    secret_name = token_secret_of(name, body.get("spec") or {})
    token = ownership.token(kube, namespace, secret_name, name, uid, None)
    deployment = kube.get(object_path("apps/v1", "Deployment", namespace, names.deployment(name)))
    observed = status.Observation(
        **obs,
        config_error=str(error),
        config_hash=(body.get("status") or {}).get("configHash", ""),
        token_secret=secret_name,
        token_present=token.stored.present,
        token_refused=token.refused,
        **_replica_counts(deployment if owners.owned_by(deployment, uid) else None),
    )
    return _report(kube, body, observed, emit, rolled=False)


def _report_conflict(
    kube: Kube,
    body: Obj,
    obs: dict[str, Any],
    spec: ProxySpec,
    taken: list[str],
    emit: EventSink,
) -> Outcome:
    """Touch nothing; say which names are taken and what to do."""
    message = ownership.conflict_message(spec.name, taken)
    log.warning("%s/%s: %s", spec.namespace, spec.name, message)
    observed = status.Observation(
        **obs,
        config_hash=(body.get("status") or {}).get("configHash", ""),
        token_secret=spec.token_secret,
        conflict=message,
    )
    return _report(kube, body, observed, emit, rolled=False)


def _report(
    kube: Kube,
    body: Obj,
    obs: status.Observation,
    emit: EventSink,
    rolled: bool,
    wake_in: float | None = None,
) -> Outcome:
    old = body.get("status") or {}
    new = status.build_status(obs, old, datetime.now(UTC))
    if new != {k: old.get(k) for k in new}:
        patch = {"status": status.merge_patch(old, new)}
        kube.merge_patch(proxy_path(obs.namespace, obs.name) + "/status", patch)
    for kind, reason, message in status.transitions(old, new):
        emit(body, kind, reason, message)
    ready = new["conditions"][0]
    return Outcome(
        ready=ready["status"] == "True",
        reason=ready["reason"],
        status=new,
        rolled=rolled,
        wake_in=wake_in,
    )


def _replica_counts(deployment: Obj | None) -> dict[str, Any]:
    """The Observation's replica fields, from the live Deployment (None: not made yet)."""
    live = deployment or {}
    return {
        "replicas": (live.get("spec") or {}).get("replicas", 0),
        "ready_replicas": (live.get("status") or {}).get("readyReplicas", 0),
    }
