"""Whose objects these are: a proxy's children are changed only while the proxy owns them,
and its token Secret is used only when core.token_secret allows it.

A CopilotProxy's author chooses its name (and so its children's names) and the
name of its token Secret; neither may reach an object that is not the proxy's.
Owned means: the object's controller owner reference carries the proxy's uid.
The proxy's own Secrets (the master key, an absent token Secret) are made here.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from copilot_proxy.core import manifests, names, owners, token_secret
from copilot_proxy.core.keys import generate_master_key
from copilot_proxy.core.spec import ProxySpec
from copilot_proxy.kube import Conflict, Kube, describe, object_path, path_of

Obj = dict[str, Any]

CONFIG, MASTER_KEY, SERVICE, DEPLOYMENT = "config", "master-key", "service", "deployment"
POLICY = "network-policy"


def children(kube: Kube, spec: ProxySpec, policy: bool) -> dict[str, Obj | None]:
    """The live children by role (None: absent), read before anything is written;
    the NetworkPolicy only when the operator makes one (`policy`)."""
    ns, name = spec.namespace, spec.name
    paths = {
        CONFIG: object_path("v1", "ConfigMap", ns, names.config_map(name)),
        MASTER_KEY: object_path("v1", "Secret", ns, names.master_key_secret(name)),
        SERVICE: object_path("v1", "Service", ns, names.service(name)),
        DEPLOYMENT: object_path("apps/v1", "Deployment", ns, names.deployment(name)),
    }
    if policy:
        paths[POLICY] = object_path(
            "networking.k8s.io/v1", "NetworkPolicy", ns, names.deployment(name)
        )
    return {role: kube.get(path) for role, path in paths.items()}


def conflicts(live: dict[str, Obj | None], uid: str) -> list[str]:
    """The children whose name another object has ("Service ns/name")."""
    return [
        describe(obj) for obj in live.values() if obj is not None and not owners.owned_by(obj, uid)
    ]


def conflict_message(proxy: str, taken: list[str]) -> str:
    return (
        f"{', '.join(taken)} already exist(s) and not as children of this CopilotProxy;"
        " the operator leaves them alone and serves nothing. Rename the CopilotProxy (its"
        f" children are named after it: {proxy}, {names.deployment(proxy)}, ...) or remove"
        " those objects"
    )


@dataclass(frozen=True)
class TokenState:
    stored: token_secret.StoredToken = field(default_factory=token_secret.StoredToken)
    refused: str = ""  # why the Secret is not used; '' when it is
    # The Secret's annotations (a GitHub App token's expiry and identity), when it is used.
    annotations: dict[str, str] = field(default_factory=dict)


def token(
    kube: Kube, namespace: str, secret: str, proxy: str, uid: str, create_for: ProxySpec | None
) -> TokenState:
    """The token of the proxy's Secret, if the proxy may use it.

    An absent Secret is created empty and owned by the proxy when `create_for` is
    given (never overwritten later). A Secret that is not the proxy's is neither
    read for its token nor labelled nor changed: `refused` says how to mark it.
    """
    path = object_path("v1", "Secret", namespace, secret)
    live = kube.get(path)
    if live is None and create_for is not None:
        owner = manifests.owner_reference(proxy, uid)
        with contextlib.suppress(Conflict):  # made meanwhile: judge that one below
            kube.create(token_secret.empty(create_for, owner))
            return TokenState()
        live = kube.get(path)
    if live is None:
        return TokenState()
    refused = token_secret.refusal(live, proxy, uid)
    if refused:
        return TokenState(refused=refused)
    notes = (live.get("metadata") or {}).get("annotations") or {}
    return TokenState(token_secret.read(live), annotations={k: str(v) for k, v in notes.items()})


def master_key(kube: Kube, spec: ProxySpec, owner: Obj, live: Obj | None) -> None:
    """Generate the proxy's master key once; later reconciliations keep it."""
    if live is not None and (live.get("data") or {}).get(names.MASTER_KEY_KEY):
        return
    desired = manifests.master_key_secret(spec, generate_master_key(), owner)
    if live is not None:  # The key was removed by hand: a new one, or the proxy cannot start.
        kube.merge_patch(path_of(desired), {"data": desired["data"]})
        return
    with contextlib.suppress(Conflict):  # made meanwhile (or our answer was lost): keep that key
        kube.create(desired)
