"""What kubectl reads besides objects: discovery, OpenAPI v3, Tables, list kinds, field selectors.

`ApiSurface` sits between kmock's emulator (through the adapter) and the
cluster behaviour of server.py. It answers, as a v1.32 API server does:
- /version, /api, /api/v1, /apis, /apis/GROUP[/VERSION] (discovery.py);
- /openapi/v3 and /openapi/v3/apis/GROUP/VERSION (openapi.py);
- a list with its `kind` (`CopilotProxyList`) and `apiVersion`;
- a list or an object as a Table when the client asks for one (tables.py),
  with a CRD's additionalPrinterColumns;
- `labelSelector` (labels.py) and `fieldSelector` (fields.py) on a list, a
  field selector on a watch (server.py filters a watch by labels);
- an object's metadata only (`as=PartialObjectMetadata`), never a Secret's data.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any, cast

from testkit.kube import discovery, openapi, tables
from testkit.kube.fields import field_selector
from testkit.kube.kmock_adapter import (
    Handler,
    KmockEmulator,
    KubernetesError,
    Request,
    resource_key,
)
from testkit.kube.labels import label_selector, labels_of

Obj = dict[str, Any]


class ApiSurface(KmockEmulator):
    """Discovery, OpenAPI, Tables and field selectors over kmock's store."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.printer_columns: dict[str, list[tables.Column]] = {}  # by 'group/version/plural'
        self.crd_schemas: dict[str, Obj] = {}  # openAPIV3Schema by 'group/version/kind'

    def declare_crd_version(self, group: str, plural: str, kind: str, version: Obj) -> None:
        """Remember what kubectl prints and explains of one served version of a CRD."""
        key = f"{group}/{version['name']}"
        self.printer_columns[f"{key}/{plural}"] = tables.printer_columns(
            version.get("additionalPrinterColumns") or []
        )
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if schema:
            self.crd_schemas[f"{key}/{kind}"] = schema

    # -- what is served ------------------------------------------------------------------

    def served(self) -> list[discovery.Served]:
        found = []
        for resource in self.resources:
            info = self.resources[resource]
            kind = str(info.kind)
            found.append(
                discovery.Served(
                    group=resource.group or "",
                    version=str(resource.version),
                    plural=str(resource.plural),
                    kind=kind,
                    singular=info.singular or kind.lower(),
                    namespaced=bool(info.namespaced),
                    verbs=tuple(info.verbs),
                    shortnames=tuple(info.shortnames),
                    categories=tuple(info.categories),
                    subresources=tuple(info.subresources),
                )
            )
        return found

    def openapi_docs(self) -> dict[str, Obj]:
        """The OpenAPI v3 document of every served group/version, by its index path."""
        by_path: dict[str, list[discovery.Served]] = {}
        for s in self.served():
            by_path.setdefault(openapi.doc_path(s), []).append(s)
        docs = {}
        for path, served in by_path.items():
            schemas = {
                s.kind: self.crd_schemas[f"{s.group_version}/{s.kind}"]
                for s in served
                if f"{s.group_version}/{s.kind}" in self.crd_schemas
            }
            docs[path] = openapi.group_version_doc(served, schemas)
        return docs

    # -- routing -------------------------------------------------------------------------

    def route(self, request: Request) -> Handler | None:
        path = request.url.path.rstrip("/") or "/"
        if request.method.value.upper() == "GET":
            answer = self._document(path)
            if answer is not None:
                return answer
        return super().route(request)

    def _document(self, path: str) -> Handler | None:
        """The handler of a discovery or OpenAPI path (404 for a group or version not served)."""
        served = self.served()
        parts = path.strip("/").split("/")
        found: Obj | None
        if path == "/version":
            found = discovery.SERVER_VERSION
        elif path == "/api":
            found = discovery.api_versions()
        elif path == "/apis":
            found = discovery.api_groups(served)
        elif parts[0] == "api" and len(parts) == 2:
            found = discovery.resource_list(served, parts[1])
        elif parts[0] == "apis" and len(parts) == 2:
            found = discovery.api_group(served, parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            found = discovery.resource_list(served, f"{parts[1]}/{parts[2]}")
        elif parts[:2] == ["openapi", "v3"]:
            docs = self.openapi_docs()
            found = openapi.index(docs) if len(parts) == 2 else docs.get("/".join(parts[2:]))
        else:
            return None
        return _answer(found)

    # -- answers -------------------------------------------------------------------------

    def _next_version(self) -> str:
        """A new resourceVersion (server.py keeps the counter)."""
        raise NotImplementedError

    async def serve_list(self, request: Request) -> Any:
        result = cast(Obj, await super().serve_list(request))
        labels, fields = request.params.get("labelSelector"), request.params.get("fieldSelector")
        if labels:
            has_labels = label_selector(labels)
            result["items"] = [item for item in result["items"] if has_labels(labels_of(item))]
        if fields:
            has_fields = field_selector(fields)
            result["items"] = [item for item in result["items"] if has_fields(item)]
        result["metadata"]["resourceVersion"] = self._next_version()
        assert request.resource is not None
        key = resource_key(request.resource)
        info = self.resources[request.resource]
        result["kind"] = f"{info.kind}List"
        result["apiVersion"] = key.rsplit("/", 1)[0]
        if tables.wants_table(request.headers.get("Accept", "")):
            return self._table(request, result["items"], result["metadata"]["resourceVersion"])
        return result

    async def serve_fetch(self, request: Request) -> Any:
        obj = cast(Obj, await super().serve_fetch(request))
        if "as=PartialObjectMetadata" in request.headers.get("Accept", ""):
            # What the API server answers: the metadata, never a Secret's data.
            meta = copy.deepcopy(obj.get("metadata") or {})
            return {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": meta,
            }
        if tables.wants_table(request.headers.get("Accept", "")) and not request.subresource:
            version = (obj.get("metadata") or {}).get("resourceVersion", "")
            return self._table(request, [obj], str(version))
        return obj

    def _table(self, request: Request, items: list[Obj], version: str) -> Obj:
        assert request.resource is not None
        columns = tables.columns_for(resource_key(request.resource), self.printer_columns)
        include = request.params.get("includeObject", "Metadata")
        return tables.table(items, columns, version, include)

    async def serve_watch(self, request: Request) -> AsyncIterator[Any]:
        selector = request.params.get("fieldSelector")
        matches = field_selector(selector) if selector else None
        async for event in super().serve_watch(request):
            obj = event.get("object") if isinstance(event, dict) else None
            if matches is None or not isinstance(obj, dict) or matches(obj):
                yield event


def _answer(found: Obj | None) -> Handler:
    async def serve(request: Request) -> Obj:
        if found is None:
            raise KubernetesError(
                status=404,
                reason="NotFound",
                message="the server could not find the requested resource",
                details={},
            )
        return found

    return serve
