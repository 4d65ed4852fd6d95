"""Sync helpers over HTTP for tests: read and write objects by kind, as `kubectl` would.

Resources are named by kind (`"Deployment"`), plural, short name or
'group/version/plural'. Every call goes over HTTP, so watchers see each change
a test makes; faults never strike these calls (see faults.HELPER_AGENT).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from testkit.kube.faults import HELPER_AGENT

Obj = dict[str, Any]


class ApiError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:500]}")
        self.status = status


class KubeClient:
    """The API server at `url` (http, no auth); `kinds` maps names to 'group/version/plural'."""

    def __init__(self, url: str = "", kinds: Mapping[str, str] | None = None) -> None:
        self.url = url
        self.kinds: dict[str, str] = dict(kinds or {})  # kind, plural, short name -> key
        self.http = httpx.Client(timeout=10, headers={"User-Agent": HELPER_AGENT})

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

    # -- kubelet stand-in, events --------------------------------------------

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
