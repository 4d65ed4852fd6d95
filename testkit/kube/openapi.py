"""OpenAPI v3 as kubectl reads it: /openapi/v3 and /openapi/v3/apis/GROUP/VERSION (pure).

Two kubectl commands need it:
- `kubectl apply` (validation on, the default) asks whether the server takes
  `fieldValidation` on a PATCH of the kind (the PATCH operation's
  `x-kubernetes-group-version-kind` and its query parameters); when it does,
  kubectl leaves validation to the server and needs no OpenAPI v2 (protobuf);
- `kubectl explain` reads the kind's schema, found by the schema's
  `x-kubernetes-group-version-kind`.
A custom resource's schema is its CRD's openAPIV3Schema (metadata as a
reference to ObjectMeta, as the API server publishes it); a built-in kind gets
an open object schema (the emulator does not carry Kubernetes' own schemas).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from testkit.kube.discovery import Served

Obj = dict[str, Any]

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_META_SCHEMA: Obj = {
    "type": "object",
    "description": "ObjectMeta is metadata that all persisted resources must have.",
    "properties": {
        name: {"type": "string", "description": description}
        for name, description in (
            ("name", "Name must be unique within a namespace."),
            ("namespace", "Namespace defines the space within which each name must be unique."),
            ("generateName", "An optional prefix used to generate a unique name."),
            ("uid", "UID is the unique in time and space value for this object."),
            ("resourceVersion", "An opaque value that represents the internal version."),
            ("creationTimestamp", "When this object was created (RFC 3339)."),
        )
    }
    | {
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "generation": {"type": "integer", "format": "int64"},
    },
}
_PATCH_PARAMETERS = [
    {"name": name, "in": "query", "description": description, "schema": {"type": "string"}}
    for name, description in (
        ("dryRun", "When present, modifications are not persisted."),
        ("fieldManager", "The name of the actor making the change."),
        (
            "fieldValidation",
            "How to handle unknown or duplicate fields: Ignore, Warn or Strict.",
        ),
    )
]


def schema_name(served: Served) -> str:
    """The schema's name as the API server publishes it: the group reversed, e.g.
    `dev.copilot-proxy.v1alpha1.CopilotProxy`, `io.k8s.api.core.v1.Secret`."""
    group = ".".join(reversed(served.group.split("."))) if served.group else "io.k8s.api.core"
    return f"{group}.{served.version}.{served.kind}"


def _gvk(served: Served) -> Obj:
    return {"group": served.group, "version": served.version, "kind": served.kind}


def _root(served: Served) -> str:
    return f"/apis/{served.group_version}" if served.group else "/api/v1"


def group_version_doc(served: Iterable[Served], schemas: Mapping[str, Obj]) -> Obj:
    """The OpenAPI v3 document of one group/version; `schemas`: openAPIV3Schema by kind."""
    paths: Obj = {}
    components: Obj = {OBJECT_META: _META_SCHEMA}
    for s in served:
        ref = {"$ref": f"#/components/schemas/{schema_name(s)}"}
        schema = copy.deepcopy(schemas.get(s.kind) or _open_schema(s))
        schema.setdefault("properties", {})["metadata"] = {
            "description": "Standard object's metadata.",
            "allOf": [{"$ref": f"#/components/schemas/{OBJECT_META}"}],
        }
        schema["x-kubernetes-group-version-kind"] = [_gvk(s)]
        components[schema_name(s)] = schema
        scope = f"{_root(s)}/namespaces/{{namespace}}/{s.plural}" if s.namespaced else ""
        one = f"{scope or _root(s) + '/' + s.plural}/{{name}}"
        answer = {"200": {"content": {"application/json": {"schema": ref}}}}
        paths[one] = {
            "get": {"responses": answer, "x-kubernetes-action": "get"},
            "patch": {
                "parameters": _PATCH_PARAMETERS,
                "responses": answer,
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": _gvk(s),
            },
        }
        paths[scope or f"{_root(s)}/{s.plural}"] = {
            "post": {
                "parameters": _PATCH_PARAMETERS,
                "responses": answer,
                "x-kubernetes-action": "post",
                "x-kubernetes-group-version-kind": _gvk(s),
            }
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (emulated)", "version": "v1.32.3"},
        "paths": paths,
        "components": {"schemas": components},
    }


def _open_schema(served: Served) -> Obj:
    return {
        "type": "object",
        "description": f"{served.kind} (the emulator serves no schema for built-in kinds).",
        "x-kubernetes-preserve-unknown-fields": True,
    }


def doc_hash(doc: Obj) -> str:
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper()


def index(docs: Mapping[str, Obj]) -> Obj:
    """/openapi/v3: where each group/version's document is ('api/v1', 'apis/G/V')."""
    return {
        "paths": {
            path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={doc_hash(doc)}"}
            for path, doc in sorted(docs.items())
        }
    }


def doc_path(served: Served) -> str:
    """The index key of `served`'s group/version: 'api/v1' or 'apis/GROUP/VERSION'."""
    return _root(served).lstrip("/")
