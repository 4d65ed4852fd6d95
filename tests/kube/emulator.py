"""A Kubernetes API server for tests: kmock's emulator, a little closer to the real one.

Every test that needs Kubernetes (the operator, the auth service's Secret
store, the local mode, benchmarks) uses this one set-up; see
../shared/notes/real-parts-offline.md for why it is kmock and not a cluster.

Use (fixtures in tests/kube/plugin.py):

    def test_x(kube_api: KubeCluster) -> None:   # COPILOT_PROXY_KUBE_API points at it
        kube_api.create({"apiVersion": "v1", "kind": "Secret", "metadata": {...}}, "ns")
        kube_api.patch("Secret", "ns", "name", {"data": {...}})     # a JSON merge patch
        assert kube_api.get("Secret", "ns", "name")["data"] == ...
        fault = kube_api.fail("create", "Secret", status=500)       # the next create fails
        wait_for_sync(lambda: ..., timeout=5)        # or `await wait_for(...)` in async tests

`KubeCluster` runs a `ClusterEmulator` on 127.0.0.1:<free port> in a thread
with its own event loop, so any client works against it, sync or async: kopf
(tests/kube/kopf_runner.py runs it in a thread too), the `kubernetes` package,
httpx. Its helpers are plain sync calls over HTTP; name resources by kind
("Deployment"), plural, short name or 'group/version/plural'.

What the emulator adds to kmock's `KubernetesEmulator` (which only stores
dicts): `metadata.uid`, `creationTimestamp`, `resourceVersion` (also on a
deletion mark) and a `generation` that moves on spec changes only;
`generateName`; 201 on create; the defaults a real server fills in for
Deployments, Services and Secrets (see `_apply_defaults`); the status
subresource (a patch of the object leaves `status` alone, a patch of
`/status` changes nothing else); 422 when a JSON patch's `test` fails (kopf's
optimistic concurrency); a Secret's `stringData` stored as `data`; label
selectors on list and watch, and watches that start from a list's
resourceVersion; background garbage collection through `ownerReferences`;
fault injection (`KubeCluster.fail`) that answers an error (or is slow)
before or after the change is stored; and requests served without kmock's
reaction matching, which slows down as a test runs.

Not emulated, so covered elsewhere or not relied on: schema validation and
CRD defaulting (CRD schema tests use jsonschema), resourceVersion conflicts on
writes (inject a 409), strategic-merge semantics (every patch is a JSON merge
patch; lists are replaced), PUT, field selectors, RBAC, controllers and the
kubelet (a Deployment gets a status only when a test sets one:
`set_deployment_ready`).
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import concurrent.futures
import copy
import datetime
import itertools
import logging
import re
import secrets
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import aiohttp.web
import httpx
import jsonpatch
import jsonpointer
import kmock
import yaml
from kmock._internal import dicts, enums, rendering

ROOT = Path(__file__).resolve().parents[2]
CRD_PATH = ROOT / "crds" / "copilotproxies.copilot-proxy.dev.yaml"

Obj = dict[str, Any]
T = TypeVar("T")

HELPER_AGENT = "kube-cluster-test-helper"  # the User-Agent of KubeCluster's own requests
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
}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key(resource: Any) -> str:
    """'group/version/plural' (core: 'v1/plural') of a kmock resource."""
    group = f"{resource.group}/" if resource.group else ""
    return f"{group}{resource.version}/{resource.plural}"


# ---------------------------------------------------------------------------
# Label selectors (equality- and set-based), as list and watch apply them.

_REQUIREMENT = re.compile(
    r"\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9._/-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9._-]*)"
    r"|\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?\s*(?:,|$)"
)


def label_selector(selector: str) -> Callable[[Mapping[str, str]], bool]:
    """A predicate on an object's labels for a `labelSelector` string."""
    requirements: list[tuple[str, str, set[str]]] = []  # (operator, key, values)
    pos = 0
    while pos < len(selector):
        match = _REQUIREMENT.match(selector, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"unparsable label selector: {selector!r}")
        pos = match.end()
        if match["neg"]:
            requirements.append(("absent", match["key"], set()))
        elif match["op"]:
            op = "notin" if match["op"] == "!=" else "in"
            requirements.append((op, match["key"], {match["value"]}))
        elif match["setop"]:
            values = {v.strip() for v in match["values"].split(",") if v.strip()}
            requirements.append((match["setop"], match["key"], values))
        else:
            requirements.append(("present", match["key"], set()))

    def matches(labels: Mapping[str, str]) -> bool:
        for op, key, values in requirements:
            ok = {
                "absent": key not in labels,
                "present": key in labels,
                "in": labels.get(key) in values,
                "notin": labels.get(key) not in values,
            }[op]
            if not ok:
                return False
        return True

    return matches


def _labels_of(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


# ---------------------------------------------------------------------------
# Faults


@dataclass
class Fault:
    """An injected API failure; see `KubeCluster.fail`."""

    action: str | None = None  # list, watch, fetch (GET one), create, update (PATCH), delete
    resource: str | None = None  # 'group/version/plural', e.g. 'apps/v1/deployments'
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    status: int | None = 500  # None: no error, only the delay
    delay: float = 0.0
    times: int | None = 1  # None: until removed
    commit: bool = False  # store the change, then answer the error (an answer lost on the way)
    message: str = "injected fault"
    agent: str | None = None  # a part of the client's User-Agent, e.g. 'kopf'
    hits: int = 0

    def matches(self, request: rendering.Request) -> bool:
        if request.resource is None or (self.times is not None and self.hits >= self.times):
            return False
        agent = request.headers.get("User-Agent", "")
        if agent == HELPER_AGENT or (self.agent is not None and self.agent not in agent):
            return False  # a test's own reads and writes never fail
        action = request.action.value.lower() if request.action is not None else None
        return (
            (self.action is None or self.action == action)
            and (self.resource is None or self.resource == _key(request.resource))
            and (self.namespace is None or self.namespace == request.namespace)
            and (self.name is None or self.name == _request_name(request))
            and (self.subresource is None or self.subresource == request.subresource)
        )


def _request_name(request: rendering.Request) -> str | None:
    if request.name is not None:
        return request.name
    if isinstance(request.data, dict):  # a create names the object in its body
        name = (request.data.get("metadata") or {}).get("name")
        return str(name) if name is not None else None
    return None


# ---------------------------------------------------------------------------
# The emulator


# The discovery paths, as KubernetesScaffold routes them.
_DISCOVERY = [
    (re.compile(r"/apis/[^/]+/[^/]+"), "_serve_version"),
    (re.compile(r"/apis/[^/]+"), "_serve_group"),
    (re.compile(r"/api/[^/]+"), "_serve_version"),
    (re.compile(r"/version"), "_serve_server_version"),
    (re.compile(r"/apis"), "_serve_apis"),
    (re.compile(r"/api"), "_serve_api"),
    (re.compile(r"/"), "_serve_root"),
]


class _DirectDispatch(kmock.RawHandler):
    """Serve object requests straight from the emulator's handlers.

    kmock matches every request against its reactions by walking every request
    recorded so far, so a request costs more the longer a test runs (130 ms
    after a few hundred; kopf's discovery at a restart took seconds). Without
    reactions of a test's own, there is nothing to match: the emulator's
    fallback handlers answer. Reactions added with
    kmock's DSL (`emulator['get /x'] << ...`) still work, the slow way.
    """

    def _direct(self, request: rendering.Request) -> Any:
        emulator: Any = self  # the handlers are KubernetesEmulator's, next in the MRO
        if len(self._payloads) != emulator._builtin_payloads:
            return None
        if request.resource is None or request.resource.plural is None:
            if request.method != enums.method.GET:
                return None
            path = request.url.path.rstrip("/") or "/"
            for pattern, serve in _DISCOVERY:
                if pattern.fullmatch(path):
                    return getattr(emulator, serve)
            return None
        handlers = {
            enums.action.LIST: emulator._serve_list,
            enums.action.WATCH: emulator._serve_watch,
            enums.action.FETCH: emulator._serve_fetch,
            enums.action.CREATE: emulator._serve_create,
            enums.action.UPDATE: emulator._serve_update,
            enums.action.DELETE: emulator._serve_delete,
        }
        return handlers.get(request.action) if request.action is not None else None

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        serve = self._direct(request)
        if serve is None:
            return await super()._handle(request)
        return await rendering.Response.guess(serve)(request)


class ClusterEmulator(kmock.KubernetesEmulator, _DirectDispatch):
    """kmock's emulator with the API-server behaviour the project's code relies on."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self._builtin_payloads = len(self._payloads)
        self.faults: list[Fault] = []
        self._faults_lock = threading.Lock()  # tests add faults from another thread
        self._versions = itertools.count(1)

    # -- declarations --------------------------------------------------------

    def declare_builtins(self) -> None:
        for key, info in BUILTINS.items():
            self.resources[key] = kmock.ResourceInfo(
                singular=info["kind"].lower(), verbs=ALL_VERBS, **info
            )

    def declare_crd(self, crd: Obj) -> None:
        """Serve a CustomResourceDefinition's resources and store the CRD object itself."""
        spec = crd["spec"]
        names = spec["names"]
        for version in spec["versions"]:
            if not version.get("served", True):
                continue
            self.resources[f"{spec['group']}/{version['name']}/{names['plural']}"] = (
                kmock.ResourceInfo(
                    kind=names["kind"],
                    singular=names.get("singular", names["kind"].lower()),
                    namespaced=spec["scope"] == "Namespaced",
                    verbs=ALL_VERBS,
                    shortnames=names.get("shortNames", []),
                    categories=names.get("categories", []),
                    subresources=list((version.get("subresources") or {}).keys()),
                )
            )
        stored = copy.deepcopy(crd)
        self._stamp_new(stored)
        stored.setdefault("status", {})["acceptedNames"] = names
        key = ("apiextensions.k8s.io/v1/customresourcedefinitions", None, crd["metadata"]["name"])
        self.objects[key] = stored

    # -- request handling ----------------------------------------------------

    def _take_fault(self, request: rendering.Request) -> Fault | None:
        with self._faults_lock:
            for fault in self.faults:
                if fault.matches(request):
                    fault.hits += 1
                    return fault
        return None

    def _error(self, fault: Fault) -> Exception:
        reasons = {404: "NotFound", 409: "Conflict", 429: "TooManyRequests", 500: "InternalError"}
        return kmock.KubernetesError(
            status=fault.status or 500,
            reason=reasons.get(fault.status or 500, "InjectedFault"),
            message=fault.message,
            details={},
        )

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        fault = self._take_fault(request)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.status is not None and not fault.commit:
            return await self._render_error(self._error(fault))
        if request.resource is not None:
            async with self._lock:
                self._prepare(request)
                await self._mark_deleted(request)
        response: aiohttp.web.StreamResponse = await super()._handle(request)
        if request.action in (enums.action.CREATE, enums.action.UPDATE, enums.action.DELETE):
            # An owner goes on DELETE or when its finalizers go; a child created for an
            # owner already gone is collected as well, as the real garbage collector does.
            await self._collect_garbage()
        if fault is not None and fault.status is not None:
            return await self._render_error(self._error(fault))
        if request.action == enums.action.CREATE and response.status == 200:
            response.set_status(201)  # as the API server answers a create
        return response

    def _has_status_subresource(self, request: rendering.Request) -> bool:
        return (
            request.resource is not None
            and request.resource in self.resources
            and "status" in self.resources[request.resource].subresources
        )

    def _stamp_new(self, obj: Obj) -> None:
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = _now()
        meta["resourceVersion"] = str(next(self._versions))
        meta["generation"] = 1

    def _prepare(self, request: rendering.Request) -> None:
        """Edit the request's body in place before kmock stores it (the lock is held)."""
        data = request.data
        if (
            request.resource is not None
            and _key(request.resource) == "v1/secrets"
            and isinstance(data, dict)
            and isinstance(data.get("stringData"), dict)
        ):
            # The API server stores stringData as base64 data and never returns it.
            plain = data.pop("stringData")
            encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in plain.items()}
            data["data"] = {**(data.get("data") or {}), **encoded}
        if request.resource is not None and isinstance(data, dict):
            _apply_defaults(_key(request.resource), data, request.action == enums.action.CREATE)
        if request.action == enums.action.CREATE and isinstance(data, dict):
            self._stamp_new(data)
            if request.namespace and not data["metadata"].get("namespace"):
                data["metadata"]["namespace"] = request.namespace
            if self._has_status_subresource(request):
                data.pop("status", None)  # status is written through /status only
        elif (
            request.action == enums.action.UPDATE
            and request.resource is not None
            and request.name
            and data is not None
        ):
            key = (request.resource, request.namespace, request.name)
            if key not in self.objects or self.objects[key].deleted:
                return  # kmock answers 404
            if self._has_status_subresource(request):
                _keep_status(data, only=request.subresource == "status")
            live = self.objects[key].raw
            try:
                patched = dicts.patch_dict(live, data)
            except jsonpatch.JsonPatchTestFailed as error:
                # kopf guards its JSON patches with a test of resourceVersion: 422 means "retry".
                raise kmock.KubernetesError(422, "Invalid", f"test failed: {error}", {}) from None
            except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as error:
                raise kmock.KubernetesError(422, "Invalid", str(error), {}) from None
            except ValueError as error:  # a dict merged into a scalar or the reverse
                raise kmock.KubernetesError(400, "BadRequest", str(error), {}) from None
            meta = live.get("metadata") or {}
            stamp: Obj = {"resourceVersion": str(next(self._versions))}
            if _content(patched) != _content(live):
                stamp["generation"] = int(meta.get("generation") or 1) + 1
            for immutable in ("uid", "creationTimestamp"):
                if immutable in meta:
                    stamp[immutable] = meta[immutable]
            _add_metadata(data, stamp)

    async def _mark_deleted(self, request: rendering.Request) -> None:
        """A DELETE of an object with finalizers: set deletionTimestamp in a new version.

        kmock sets it without a new resourceVersion, and kopf overlooks an event
        whose version it has seen: the deletion would wait for the next change.
        """
        if request.action != enums.action.DELETE or request.resource is None or not request.name:
            return
        key = (request.resource, request.namespace, request.name)
        if key not in self.objects or self.objects[key].deleted:
            return
        meta = self.objects[key].raw.get("metadata") or {}
        if meta.get("finalizers") and not meta.get("deletionTimestamp"):
            stamp = {"deletionTimestamp": _now(), "resourceVersion": str(next(self._versions))}
            self.objects[key].patch({"metadata": stamp})
            await self._buses[request.resource].put(
                {"type": "MODIFIED", "object": self.objects[key].raw}
            )

    async def _collect_garbage(self) -> None:
        """Delete the dependents of deleted owners (background propagation), transitively."""
        while True:
            async with self._lock:
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
                    await self._buses[key[0]].put({"type": "DELETED", "object": raw})
            if not orphans:
                return

    async def _serve_list(self, request: rendering.Request) -> rendering.Payload:
        result = cast(Obj, await super()._serve_list(request))
        selector = request.params.get("labelSelector")
        if selector:
            matches = label_selector(selector)
            result["items"] = [item for item in result["items"] if matches(_labels_of(item))]
        result["metadata"]["resourceVersion"] = str(next(self._versions))
        return result

    async def _serve_watch(self, request: rendering.Request) -> AsyncIterator[rendering.Payload]:
        selector = request.params.get("labelSelector")
        matches = label_selector(selector) if selector else None
        since = request.params.get("resourceVersion", "")
        since_version = int(since) if since.isdigit() else 0
        async for event in super()._serve_watch(request):
            if not isinstance(event, dict):
                yield event
                continue
            obj = event.get("object") or {}
            version = str((obj.get("metadata") or {}).get("resourceVersion", ""))
            # kmock replays every object as ADDED when a watch starts; a watch from the
            # resourceVersion of a list must not repeat what the list returned.
            if event.get("type") == "ADDED" and version.isdigit() and int(version) <= since_version:
                continue
            if matches is None or matches(_labels_of(obj)):
                yield event


# -- defaulting ------------------------------------------------------------------
# The API server fills in defaults on every write; an operator that compares its
# desired object with the live one must not take them for drift (or it patches
# forever). A representative set, applied wherever the structures appear in a
# create's body or a merge patch (lists are replaced whole, so defaults go in
# again, as the server would add them again).

_PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1}


def _fill(target: Any, defaults: Mapping[str, Any]) -> None:
    if isinstance(target, dict):
        for key, value in defaults.items():
            target.setdefault(key, copy.deepcopy(value))


def _default_pod_spec(pod: Any) -> None:
    if not isinstance(pod, dict):
        return
    _fill(
        pod,
        {
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "terminationGracePeriodSeconds": 30,
        },
    )
    for container in pod.get("containers") or []:
        if not isinstance(container, dict):
            continue
        _fill(
            container,
            {
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent",
            },
        )
        for port in container.get("ports") or []:
            _fill(port, {"protocol": "TCP"})
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if isinstance(container.get(probe), dict):
                _fill(container[probe], {**_PROBE_DEFAULTS, "failureThreshold": 3})
                _fill(container[probe].get("httpGet"), {"scheme": "HTTP"})


def _apply_defaults(resource: str, obj: Obj, creating: bool) -> None:
    spec = obj.get("spec")
    if resource == "apps/v1/deployments" and isinstance(spec, dict):
        if creating:
            _fill(spec, {"revisionHistoryLimit": 10, "progressDeadlineSeconds": 600})
        _default_pod_spec((spec.get("template") or {}).get("spec"))
    elif resource == "v1/services" and isinstance(spec, dict):
        if creating:
            _fill(
                spec,
                {
                    "type": "ClusterIP",
                    "sessionAffinity": "None",
                    "clusterIP": "10.96.0.10",
                    "clusterIPs": ["10.96.0.10"],
                    "ipFamilies": ["IPv4"],
                    "ipFamilyPolicy": "SingleStack",
                    "internalTrafficPolicy": "Cluster",
                },
            )
        for port in spec.get("ports") or []:
            _fill(port, {"protocol": "TCP"})
            if isinstance(port, dict) and "port" in port:
                port.setdefault("targetPort", port["port"])
    elif resource == "v1/secrets" and creating:
        obj.setdefault("type", "Opaque")
        if obj.get("data") == {}:
            del obj["data"]  # an empty map is not stored


def _content(obj: Mapping[str, Any]) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _keep_status(data: Any, *, only: bool) -> None:
    """Status subresource: /status changes only status; the object never changes status."""
    if isinstance(data, dict):
        for key in list(data):
            if (key == "status") != only:
                del data[key]
    elif isinstance(data, list):
        data[:] = [
            op
            for op in data
            if isinstance(op, dict)
            and (op.get("op") == "test" or str(op.get("path", "")).startswith("/status") == only)
        ]


def _add_metadata(data: Any, stamp: Obj) -> None:
    if isinstance(data, dict):
        meta = data.get("metadata")
        if not isinstance(meta, dict):
            meta = data["metadata"] = {}
        meta.update(stamp)
    elif isinstance(data, list):
        data.extend({"op": "add", "path": f"/metadata/{k}", "value": v} for k, v in stamp.items())


# ---------------------------------------------------------------------------
# The emulator in a thread, with helpers


class KubeCluster:
    """A `ClusterEmulator` served over HTTP from a thread; sync helpers for tests.

    `url` is the API server (http, no auth). The helpers name resources by kind
    (`"Deployment"`) or by 'group/version/plural'. Reads and writes go through
    HTTP, so watchers see every change a test makes, as with `kubectl`.
    """

    def __init__(
        self,
        crds: Iterable[Path | Obj] | None = None,
        namespaces: Iterable[str] = ("default",),
    ) -> None:
        """`crds`: CRD files or dicts to serve; default: the project's CRD file."""
        crds = (CRD_PATH,) if crds is None else crds
        self._crds = [yaml.safe_load(c.read_text()) if isinstance(c, Path) else c for c in crds]
        self._namespaces = list(namespaces)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: aiohttp.web.ServerRunner | None = None
        self.emulator: ClusterEmulator
        self.url = ""
        self.kinds: dict[str, str] = {}  # kind, plural, short name -> 'group/version/plural'
        self.http = httpx.Client(timeout=10, headers={"User-Agent": HELPER_AGENT})

    # -- life cycle ----------------------------------------------------------

    def start(self) -> KubeCluster:
        logging.getLogger("httpx").addFilter(self._quiet)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="kube-emulator", daemon=True
        )
        self._thread.start()
        self._run(self._astart())
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        bugs = self.internal_errors()
        self._run(self._astop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = None
        self.http.close()
        logging.getLogger("httpx").removeFilter(self._quiet)
        assert not bugs, f"the emulator failed on requests: {bugs!r}"

    def internal_errors(self) -> builtins.list[BaseException]:
        """Exceptions in the emulator itself (not the API errors it answers on purpose)."""
        return [e for e in self.emulator.errors if not isinstance(e, kmock.KubernetesError)]

    def _quiet(self, record: logging.LogRecord) -> bool:
        """Keep the helpers' own requests out of the captured log tests read."""
        return not (self.url and self.url in str(record.args))

    def __enter__(self) -> KubeCluster:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _run(self, coro: Awaitable[T], timeout: float = 10) -> T:
        assert self._loop is not None, "the cluster is not started"
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(
            coro,  # type: ignore[arg-type]
            self._loop,
        )
        return future.result(timeout)

    async def _astart(self) -> None:
        self.emulator = ClusterEmulator()
        await self.emulator.__aenter__()
        self.emulator.declare_builtins()
        for crd in self._crds:
            self.emulator.declare_crd(crd)
        for resource, info in self.emulator.resources._resources.items():
            key = _key(resource)
            for alias in (info.kind, resource.plural, *info.shortnames):
                if alias:
                    self.kinds.setdefault(alias, key)
                    self.kinds.setdefault(alias.lower(), key)
        for ns in self._namespaces:
            obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
            self.emulator._stamp_new(obj)
            self.emulator.objects["v1/namespaces", None, ns] = obj
        # Handlers are cancelled when their client goes (kopf's watches), and no
        # access log: the operator's log is what tests read.
        server = aiohttp.web.Server(self.emulator, handler_cancellation=True, access_log=None)
        self._runner = aiohttp.web.ServerRunner(server, shutdown_timeout=1.0)
        await self._runner.setup()
        site = aiohttp.web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def _astop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self.emulator.__aexit__(None, None, None)

    # -- paths ---------------------------------------------------------------

    def resource(self, kind: str) -> str:
        """'group/version/plural' of a kind, plural, short name or 'group/version/plural'."""
        return self.kinds.get(kind) or self.kinds.get(kind.lower()) or kind

    def path(self, kind: str, namespace: str | None = None, name: str | None = None) -> str:
        key = self.resource(kind)
        group_version, plural = key.rsplit("/", 1)
        root = f"/api/{group_version}" if "/" not in group_version else f"/apis/{group_version}"
        path = f"{root}/namespaces/{namespace}/{plural}" if namespace else f"{root}/{plural}"
        return f"{path}/{name}" if name else path

    # -- REST ----------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, self.url + path, **kwargs)

    def _ok(self, response: httpx.Response) -> Obj:
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.text)
        return dict(response.json())

    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        """The object, or None when it does not exist."""
        response = self.request("GET", self.path(kind, namespace, name))
        return None if response.status_code == 404 else self._ok(response)

    def list(
        self, kind: str, namespace: str | None = None, labels: Mapping[str, str] | str = ""
    ) -> builtins.list[Obj]:
        selector = (
            labels if isinstance(labels, str) else ",".join(f"{k}={v}" for k, v in labels.items())
        )
        params = {"labelSelector": selector} if selector else {}
        return list(
            self._ok(self.request("GET", self.path(kind, namespace), params=params))["items"]
        )

    def create(self, obj: Obj, namespace: str | None = None) -> Obj:
        kind = obj["kind"]
        ns = namespace or obj.get("metadata", {}).get("namespace")
        if ns:
            obj = {**obj, "metadata": {**obj.get("metadata", {}), "namespace": ns}}
        return self._ok(self.request("POST", self.path(kind, ns), json=obj))

    def patch(
        self,
        kind: str,
        namespace: str | None,
        name: str,
        patch: Obj | Sequence[Obj],
        subresource: str | None = None,
    ) -> Obj:
        """A JSON merge patch (dict; None deletes a key) or a JSON patch (list of ops)."""
        path = self.path(kind, namespace, name) + (f"/{subresource}" if subresource else "")
        content_type = (
            "application/json-patch+json"
            if isinstance(patch, list)
            else "application/merge-patch+json"
        )
        return self._ok(
            self.request("PATCH", path, json=patch, headers={"Content-Type": content_type})
        )

    def apply(self, obj: Obj, namespace: str | None = None) -> Obj:
        """Create, or merge-patch what the manifest declares (roughly `kubectl apply`)."""
        ns = namespace or obj.get("metadata", {}).get("namespace")
        name = obj["metadata"]["name"]
        if self.get(obj["kind"], ns, name) is None:
            return self.create(obj, ns)
        return self.patch(obj["kind"], ns, name, {k: v for k, v in obj.items() if k != "status"})

    def delete(self, kind: str, namespace: str | None, name: str) -> Obj:
        return self._ok(self.request("DELETE", self.path(kind, namespace, name)))

    # -- kubelet stand-in, events, history, faults ---------------------------

    def set_deployment_ready(self, namespace: str, name: str, ready: int | None = None) -> Obj:
        """Report `ready` (default: spec.replicas) pods ready, as the kubelet would."""
        live = self.get("Deployment", namespace, name)
        assert live is not None, f"no Deployment {namespace}/{name}"
        count = live["spec"].get("replicas", 1) if ready is None else ready
        status = {
            "observedGeneration": live["metadata"]["generation"],
            "replicas": count,
            "readyReplicas": count,
            "availableReplicas": count,
            "updatedReplicas": count,
        }
        return self.patch("Deployment", namespace, name, {"status": status}, "status")

    def events(
        self, namespace: str | None = None, involved: str | None = None
    ) -> builtins.list[Obj]:
        """Core v1 events, optionally only those about the object named `involved`."""
        return [
            e
            for e in self.list("Event", namespace)
            if involved is None or (e.get("involvedObject") or {}).get("name") == involved
        ]

    def history(self, kind: str, namespace: str | None, name: str) -> builtins.list[Obj | None]:
        """Every stored version of an object (None: deleted), oldest first."""
        key = (kmock.resource(self.resource(kind)), namespace, name)

        async def read() -> builtins.list[Obj | None]:
            async with self.emulator._lock:
                if key not in self.emulator.objects:
                    return []
                versions = self.emulator.objects[key].history.raw
                return [None if v is None else copy.deepcopy(v.raw) for v in versions]

        return self._run(read())

    def fail(
        self,
        action: str | None = None,
        kind: str | None = None,
        *,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
        status: int | None = 500,
        delay: float = 0.0,
        times: int | None = 1,
        commit: bool = False,
        message: str = "injected fault",
        agent: str | None = None,
    ) -> Fault:
        """Make matching requests fail: `status` (None: only slow by `delay`), `times` times.

        `action`: list, watch, fetch, create, update (PATCH), delete. With
        `commit`, the change is stored and then the error is answered, as when an
        answer is lost on the way. `agent`: only clients whose User-Agent holds
        it (kopf says 'kopf', the `kubernetes` package 'OpenAPI-Generator'). The
        helpers' own requests never fail. `Fault.hits` tells how often it struck.
        """
        fault = Fault(
            action=action,
            resource=self.resource(kind) if kind else None,
            namespace=namespace,
            name=name,
            subresource=subresource,
            status=status,
            delay=delay,
            times=times,
            commit=commit,
            message=message,
            agent=agent,
        )
        with self.emulator._faults_lock:
            self.emulator.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.emulator._faults_lock:
            self.emulator.faults.clear()


class ApiError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:500]}")
        self.status = status


# ---------------------------------------------------------------------------
# Waiting


@dataclass
class _Last:
    """What a polled predicate last answered, for the message when time runs out."""

    value: Any = None
    error: BaseException | None = None

    def timed_out(self, predicate: Callable[[], Any], timeout: float, message: str) -> Exception:
        what = message or getattr(predicate, "__name__", repr(predicate))
        detail = f"error {self.error!r}" if self.error else f"last value {self.value!r}"
        return AssertionError(f"not true within {timeout}s: {what}; {detail}")


async def wait_for(
    predicate: Callable[[], T | Awaitable[T]],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "",
) -> T:
    """Poll `predicate` until it returns something truthy; return that.

    A predicate that raises LookupError or TypeError (an object not there yet)
    counts as false. On timeout: AssertionError with the last value or error.
    """
    last = _Last()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            value = predicate()
            if asyncio.iscoroutine(value) or isinstance(value, Awaitable):
                value = await value
            last.value, last.error = value, None
            if value:
                return value
        except (LookupError, TypeError) as error:
            last.error = error
        if loop.time() >= deadline:
            raise last.timed_out(predicate, timeout, message)
        await asyncio.sleep(interval)


def wait_for_sync(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "",
) -> T:
    """`wait_for` for sync tests (the emulator runs in its own thread)."""
    import time

    last = _Last()
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
            last.value, last.error = value, None
            if value:
                return value
        except (LookupError, TypeError) as error:
            last.error = error
        if time.monotonic() >= deadline:
            raise last.timed_out(predicate, timeout, message)
        time.sleep(interval)
