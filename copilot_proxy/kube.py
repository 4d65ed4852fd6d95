"""A small Kubernetes REST client for plain dicts, shared by the operator and the auth service.

It rides on the `kubernetes` package's ApiClient (in-cluster config, kubeconfig,
TLS, tokens, connection pooling) but speaks plain JSON: the core builds dicts,
and the typed models of the generated client would only get in the way.

`COPILOT_PROXY_KUBE_API=http://host:port` points it (and the operator's kopf
login) at another API server without credentials: that is how the tests and
benchmarks reach the Kubernetes emulator.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config

log = logging.getLogger(__name__)

KUBE_API_ENV = "COPILOT_PROXY_KUBE_API"
# Asks the API server for an object's metadata only (no Secret data crosses the wire).
METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
Obj = dict[str, Any]
T = TypeVar("T")

PLURALS = {
    "ConfigMap": "configmaps",
    "Secret": "secrets",
    "Service": "services",
    "Deployment": "deployments",
    "CopilotProxy": "copilotproxies",
    "NetworkPolicy": "networkpolicies",
    "PersistentVolumeClaim": "persistentvolumeclaims",
}
# Transient answers worth another try: throttling, server trouble, timeouts.
RETRY_STATUSES = {429, 500, 502, 503, 504}
BACKOFFS = (0.2, 0.5, 1.0, 2.0)


class KubeError(Exception):
    """An API answer other than success; the message is the server's, never a request body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Kubernetes API answered {status}: {message}")
        self.status = status


class NotFound(KubeError):
    pass


class Conflict(KubeError):
    pass


def describe(obj: Obj) -> str:
    """`Service team-a/billing-api`: an object as people name it in messages."""
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind', 'object')} {meta.get('namespace', '')}/{meta.get('name', '')}"


class NotOwned(Exception):
    """An object exists under the name but is not the caller's: it was not changed."""

    def __init__(self, live: Obj) -> None:
        self.what = describe(live)
        super().__init__(f"{self.what} exists and is not ours")


def object_path(api_version: str, kind: str, namespace: str, name: str = "") -> str:
    plural = PLURALS[kind]
    root = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    path = f"{root}/namespaces/{namespace}/{plural}"
    return f"{path}/{name}" if name else path


def path_of(obj: Obj) -> str:
    meta = obj["metadata"]
    return object_path(obj["apiVersion"], obj["kind"], meta["namespace"], meta["name"])


def api_client_from_environment() -> client.ApiClient:
    """The API server of the test override, in-cluster service account, or kubeconfig."""
    server = os.environ.get(KUBE_API_ENV)
    if server:
        configuration = client.Configuration()
        configuration.host = server.rstrip("/")
        configuration.verify_ssl = False
        return client.ApiClient(configuration)
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config()  # type: ignore[no-untyped-call]
    return client.ApiClient()


class Kube:
    def __init__(self, api: client.ApiClient, timeout: float = 30.0) -> None:
        self.api = api
        self.timeout = timeout

    @classmethod
    def from_environment(cls, user_agent: str = "") -> Kube:
        """The client of this environment; `user_agent` names the component in audit logs."""
        api = api_client_from_environment()
        if user_agent:
            api.user_agent = user_agent
        return cls(api)

    def request(
        self,
        method: str,
        path: str,
        body: Obj | None = None,
        content_type: str = "application/json",
        query: list[tuple[str, str]] | None = None,
        accept: str = "application/json",
    ) -> Obj:
        _method, url, headers, payload, _ = self.api.param_serialize(
            method=method,
            resource_path=path,
            query_params=query or [],
            header_params={"Content-Type": content_type, "Accept": accept},
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(
            _method, url, header_params=headers, body=payload, _request_timeout=self.timeout
        )
        raw = response.read()  # type: ignore[no-untyped-call]
        if response.status >= 400:
            message = _server_message(raw) or str(response.reason)
            error = {404: NotFound, 409: Conflict}.get(response.status, KubeError)
            raise error(response.status, message)
        return json.loads(raw) if raw else {}

    def get(self, path: str) -> Obj | None:
        try:
            return retrying(lambda: self.request("GET", path))
        except NotFound:
            return None

    def get_metadata(self, path: str) -> Obj | None:
        """An object's metadata only (a PartialObjectMetadata): whose it is, without its data."""
        try:
            return retrying(lambda: self.request("GET", path, accept=METADATA_ONLY))
        except NotFound:
            return None

    def list(self, path: str, label_selector: str) -> list[Obj]:
        """The items of a collection path (object_path without a name) matching the selector."""
        query = [("labelSelector", label_selector)]
        found = retrying(lambda: self.request("GET", path, query=query))
        return list(found.get("items") or [])

    def delete(self, path: str) -> None:
        """Delete an object; gone already is fine. Owned children go with it (background)."""
        with contextlib.suppress(NotFound):
            retrying(lambda: self.request("DELETE", path))

    def create(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        collection = object_path(obj["apiVersion"], obj["kind"], meta["namespace"])
        return retrying(lambda: self.request("POST", collection, obj))

    def merge_patch(self, path: str, patch: Obj) -> Obj:
        return retrying(lambda: self.request("PATCH", path, patch, "application/merge-patch+json"))

    def ensure(
        self,
        desired: Obj,
        differs: Callable[[Obj, Obj], bool],
        live: Obj | None = None,
        mine: Callable[[Obj], bool] | None = None,
    ) -> Obj:
        """Create `desired`, or patch the live object where `differs` says it drifted.

        Returns the live object after the change. A create that races another
        writer (409) falls back to compare-and-patch; a patch of an object deleted
        meanwhile (404) falls back to create. `live`: the object as just read by
        the caller, to save a second read. `mine`: whether an existing object may
        be patched at all; NotOwned (nothing changed) when it may not.
        """
        path = path_of(desired)
        if live is None:
            live = self.get(path)
        if live is None:
            try:
                return self.create(desired)
            except Conflict:
                live = self.get(path)
                if live is None:
                    raise
        if mine is not None and not mine(live):
            raise NotOwned(live)
        if not differs(desired, live):
            return live
        try:
            return self.merge_patch(path, desired)
        except NotFound:
            return self.create(desired)


def retrying(call: Callable[[], T]) -> T:
    """Retry transient API failures with backoff; other errors surface at once."""
    for delay in (*BACKOFFS, None):
        try:
            return call()
        except KubeError as error:
            if error.status not in RETRY_STATUSES or delay is None:
                raise
            log.info("Kubernetes API answered %s; retrying in %.1fs", error.status, delay)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            if delay is None:
                raise KubeError(0, f"API server unreachable: {type(error).__name__}") from None
            log.info(
                "Kubernetes API unreachable (%s); retrying in %.1fs", type(error).__name__, delay
            )
        time.sleep(delay)
    raise AssertionError("unreachable")


def _server_message(raw: bytes) -> str:
    try:
        return str(json.loads(raw).get("message", ""))
    except (ValueError, AttributeError):
        return ""
