"""The emulated API server: kmock's emulator (through the adapter), a little closer to the real one.

What it adds to kmock's store of dicts: `metadata.uid`, `creationTimestamp`,
`resourceVersion` (also on a deletion mark) and a `generation` that moves on
spec changes only; `generateName`; 201 on create; the defaults a real server
fills in (defaults.py); the status subresource (a patch of the object leaves
`status` alone, a patch of `/status` changes nothing else); 422 when a JSON
patch's `test` fails (kopf's optimistic concurrency); a Secret's `stringData`
stored as `data`; label selectors on list and watch, and watches that start
from a list's resourceVersion; background garbage collection through
`ownerReferences`; injected faults (faults.py); a log of every request as RBAC
sees it (`requests`: who, verb, resource). What happens to a write's body
before it is stored is in writes.py.

To serve more of the API (e.g. what kubectl asks for), override `route` for
paths that name no object, or `serve_list`/`serve_fetch` to answer in another
form; each `serve_*` gets kmock's request (`Request`) and answers a dict.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import AsyncIterator
from typing import Any

import aiohttp.web

from testkit.kube.audit import ApiRequest, as_rbac_sees_it
from testkit.kube.defaults import apply_defaults
from testkit.kube.faults import Faults
from testkit.kube.kmock_adapter import (
    Action,
    Request,
    ResourceInfo,
    resource_key,
    resource_ref,
)
from testkit.kube.labels import label_selector, labels_of
from testkit.kube.surface import ApiSurface
from testkit.kube.writes import (
    check_data_size,
    keep_status,
    now,
    stamp_new,
    stamp_update,
    store_string_data,
)

Obj = dict[str, Any]

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")

# Built-in resources kopf and the project's processes touch. kopf waits forever
# (silently) without CRDs and namespaces; it posts core v1 events.
BUILTINS: dict[str, dict[str, Any]] = {
    "apiextensions.k8s.io/v1/customresourcedefinitions": dict(
        kind="CustomResourceDefinition", namespaced=False, shortnames={"crd", "crds"}
    ),
    "v1/namespaces": dict(kind="Namespace", namespaced=False, shortnames={"ns"}),
    "v1/events": dict(kind="Event", namespaced=True, shortnames={"ev"}),
    "events.k8s.io/v1/events": dict(kind="Event", namespaced=True, shortnames={"ev"}),
    "v1/secrets": dict(kind="Secret", namespaced=True),
    "v1/configmaps": dict(kind="ConfigMap", namespaced=True, shortnames={"cm"}),
    "v1/services": dict(
        kind="Service", namespaced=True, shortnames={"svc"}, subresources={"status"}
    ),
    "apps/v1/deployments": dict(
        kind="Deployment", namespaced=True, shortnames={"deploy"}, subresources={"status", "scale"}
    ),
    "v1/pods": dict(kind="Pod", namespaced=True, shortnames={"po"}, subresources={"status"}),
    "v1/persistentvolumeclaims": dict(
        kind="PersistentVolumeClaim", namespaced=True, shortnames={"pvc"}, subresources={"status"}
    ),
    "networking.k8s.io/v1/networkpolicies": dict(
        kind="NetworkPolicy", namespaced=True, shortnames={"netpol"}
    ),
}


class ClusterEmulator(ApiSurface):
    """kmock's emulator with the API-server behaviour the project's code relies on."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.faults = Faults()
        self.requests: list[ApiRequest] = []
        self._versions = itertools.count(1)

    def _next_version(self) -> str:
        return str(next(self._versions))

    # -- declarations ------------------------------------------------------------------

    def declare_builtins(self) -> None:
        for key, info in BUILTINS.items():
            self.resources[key] = ResourceInfo(
                singular=info["kind"].lower(), verbs=ALL_VERBS, **info
            )

    def declare_crd(self, crd: Obj) -> None:
        """Serve a CustomResourceDefinition's resources and store the CRD object itself."""
        spec = crd["spec"]
        names = spec["names"]
        for version in spec["versions"]:
            if not version.get("served", True):
                continue
            self.resources[f"{spec['group']}/{version['name']}/{names['plural']}"] = ResourceInfo(
                kind=names["kind"],
                singular=names.get("singular", names["kind"].lower()),
                namespaced=spec["scope"] == "Namespaced",
                verbs=ALL_VERBS,
                shortnames=names.get("shortNames", []),
                categories=names.get("categories", []),
                subresources=list((version.get("subresources") or {}).keys()),
            )
            self.declare_crd_version(spec["group"], names["plural"], names["kind"], version)
        stored = copy.deepcopy(crd)
        stamp_new(stored, self._next_version)
        stored.setdefault("status", {})["acceptedNames"] = names
        key = ("apiextensions.k8s.io/v1/customresourcedefinitions", None, crd["metadata"]["name"])
        self.objects[key] = stored

    def declare_namespace(self, name: str) -> None:
        obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        stamp_new(obj, self._next_version)
        self.objects["v1/namespaces", None, name] = obj

    def kinds(self) -> dict[str, str]:
        """'group/version/plural' by kind, plural and short name (also in lower case)."""
        kinds: dict[str, str] = {}
        for resource in self.resources:
            info = self.resources[resource]
            key = resource_key(resource)
            for alias in (info.kind, resource.plural, *info.shortnames):
                if alias:
                    kinds.setdefault(alias, key)
                    kinds.setdefault(alias.lower(), key)
        return kinds

    async def history(self, key: str, namespace: str | None, name: str) -> list[Obj | None]:
        """Every stored version of an object (None: deleted), oldest first."""
        ref = (resource_ref(key), namespace, name)
        async with self.locked():
            if ref not in self.objects:
                return []
            versions = self.objects[ref].history.raw
            return [None if v is None else copy.deepcopy(v.raw) for v in versions]

    # -- request handling --------------------------------------------------------------

    async def handle(self, request: Request) -> aiohttp.web.StreamResponse:
        self._record(request)
        fault = self.faults.take(request)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.status is not None and not fault.commit:
            raise fault.error()
        if request.resource is not None:
            async with self.locked():
                self._prepare(request)
                await self._mark_deleted(request)
        response = await self.store_and_answer(request)
        if request.action in (Action.CREATE, Action.UPDATE, Action.DELETE):
            # An owner goes on DELETE or when its finalizers go; a child created for an
            # owner already gone is collected as well, as the real garbage collector does.
            await self._collect_garbage()
        if fault is not None and fault.status is not None:
            raise fault.error()  # the change is stored; the answer is "lost"
        if request.action == Action.CREATE and response.status == 200:
            response.set_status(201)  # as the API server answers a create
        return response

    def _record(self, request: Request) -> None:
        seen = as_rbac_sees_it(request)
        if seen is not None:
            self.requests.append(seen)

    def _has_status_subresource(self, request: Request) -> bool:
        return (
            request.resource is not None
            and request.resource in self.resources
            and "status" in self.resources[request.resource].subresources
        )

    def _prepare(self, request: Request) -> None:
        """Edit the request's body in place before kmock stores it (the lock is held)."""
        data = request.data
        key = resource_key(request.resource)
        if (
            key == "v1/secrets"
            and isinstance(data, dict)
            and isinstance(data.get("stringData"), dict)
        ):
            store_string_data(data)
        if isinstance(data, dict):
            apply_defaults(key, data, request.action == Action.CREATE)
            if key in ("v1/configmaps", "v1/secrets"):
                check_data_size(key.split("/")[1][:-1].capitalize(), data)
        if request.action == Action.CREATE and isinstance(data, dict):
            stamp_new(data, self._next_version)
            if request.namespace and not data["metadata"].get("namespace"):
                data["metadata"]["namespace"] = request.namespace
            if self._has_status_subresource(request):
                data.pop("status", None)  # status is written through /status only
        elif request.action == Action.UPDATE and request.name and data is not None:
            assert request.resource is not None
            stored = (request.resource, request.namespace, request.name)
            if stored not in self.objects or self.objects[stored].deleted:
                return  # kmock answers 404
            if self._has_status_subresource(request):
                keep_status(data, only=request.subresource == "status")
            stamp_update(data, self.objects[stored].raw, self._next_version)

    async def _mark_deleted(self, request: Request) -> None:
        """A DELETE of an object with finalizers: set deletionTimestamp in a new version.

        kmock sets it without a new resourceVersion, and kopf overlooks an event
        whose version it has seen: the deletion would wait for the next change.
        """
        if request.action != Action.DELETE or request.resource is None or not request.name:
            return
        key = (request.resource, request.namespace, request.name)
        if key not in self.objects or self.objects[key].deleted:
            return
        meta = self.objects[key].raw.get("metadata") or {}
        if meta.get("finalizers") and not meta.get("deletionTimestamp"):
            stamp = {"deletionTimestamp": now(), "resourceVersion": self._next_version()}
            self.objects[key].patch({"metadata": stamp})
            await self.publish(
                request.resource, {"type": "MODIFIED", "object": self.objects[key].raw}
            )

    async def _collect_garbage(self) -> None:
        """Delete the dependents of deleted owners (background propagation), transitively."""
        while True:
            async with self.locked():
                alive_uids = {
                    obj.raw["metadata"].get("uid")
                    for obj in self.objects.values()
                    if not obj.deleted
                }
                orphans = [
                    (key, obj.raw)
                    for key, obj in self.objects.items()
                    if not obj.deleted
                    and (refs := obj.raw.get("metadata", {}).get("ownerReferences"))
                    and not any(ref.get("uid") in alive_uids for ref in refs)
                ]
                for key, raw in orphans:
                    self.objects[key].delete()
                    await self.publish(key[0], {"type": "DELETED", "object": raw})
            if not orphans:
                return

    # -- answers -----------------------------------------------------------------------

    async def serve_watch(self, request: Request) -> AsyncIterator[Any]:
        selector = request.params.get("labelSelector")
        matches = label_selector(selector) if selector else None
        since = request.params.get("resourceVersion", "")
        since_version = int(since) if since.isdigit() else 0
        async for event in super().serve_watch(request):
            if not isinstance(event, dict):
                yield event
                continue
            obj = event.get("object") or {}
            version = str((obj.get("metadata") or {}).get("resourceVersion", ""))
            # kmock replays every object as ADDED when a watch starts; a watch from the
            # resourceVersion of a list must not repeat what the list returned.
            if event.get("type") == "ADDED" and version.isdigit() and int(version) <= since_version:
                continue
            if matches is None or matches(labels_of(obj)):
                yield event
