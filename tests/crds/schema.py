"""What the Kubernetes API server does with a CopilotProxy, mirrored in Python.

The CRD's openAPIV3Schema is Kubernetes' dialect of JSON Schema. `jsonschema`
checks the common part once the extensions are translated:
- `x-kubernetes-int-or-string: true` -> an integer or a string;
- an object with `properties` rejects other fields, as the API server does under
  strict field validation (`kubectl apply`'s default); in the CRD itself such a
  `additionalProperties: false` is forbidden, unknown fields are pruned instead;
- `x-kubernetes-preserve-unknown-fields: true` keeps such an object open.
What JSON Schema cannot say is mirrored by hand: `x-kubernetes-list-type: map`
(unique keys) and `set` (unique items), the CEL rules of `x-kubernetes-validations`
(`CEL`: each rule's text with a Python twin; an unknown rule fails the tests), and
the API server's defaulting.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
CRD_FILE = ROOT / "crds" / "copilotproxies.copilot-proxy.dev.yaml"
VERSION = "v1alpha1"

Obj = dict[str, Any]


@dataclass(frozen=True, order=True)
class FieldError:
    """One rejected field, as `kubectl apply` would name it: `spec.models[0].name`."""

    path: str
    message: str


def load_crd() -> Obj:
    crd: Obj = yaml.safe_load(CRD_FILE.read_text())
    return crd


def openapi_schema(crd: Obj | None = None) -> Obj:
    """The served version's openAPIV3Schema, as written in the CRD."""
    crd = crd or load_crd()
    (version,) = (v for v in crd["spec"]["versions"] if v["name"] == VERSION)
    schema: Obj = version["schema"]["openAPIV3Schema"]
    return schema


def to_json_schema(node: Any) -> Any:
    """Translate a Kubernetes structural schema to plain JSON Schema (see module doc)."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _schema_errors(schema: Obj, obj: Obj) -> Iterator[FieldError]:
    validator = jsonschema.Draft202012Validator(to_json_schema(schema))
    for error in validator.iter_errors(obj):
        where = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            for name in sorted(set(error.instance) - set(known)):
                yield FieldError(_path([*where, name]), "unknown field")
        elif error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    yield FieldError(_path([*where, name]), "Required value")
        else:
            yield FieldError(_path(where), error.message)


def list_type_errors(schema: Obj, obj: Any, path: str = "") -> Iterator[FieldError]:
    """Duplicates in `x-kubernetes-list-type: map` / `set` lists, as the API server reports them."""
    if isinstance(obj, dict):
        props = schema.get("properties", {})
        for key, value in obj.items():
            sub = props.get(key, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                yield from list_type_errors(sub, value, f"{path}.{key}" if path else key)
    elif isinstance(obj, list):
        kind = schema.get("x-kubernetes-list-type")
        keys = schema.get("x-kubernetes-list-map-keys", [])
        seen: list[Any] = []
        for i, item in enumerate(obj):
            if kind == "map" and isinstance(item, dict):
                identity: Any = tuple(item.get(k) for k in keys)
            elif kind == "set":
                identity = item
            else:
                identity = None
            if identity is not None and identity in seen:
                yield FieldError(f"{path}[{i}]", f"Duplicate value: {identity!r}")
            seen.append(identity)
            if isinstance(schema.get("items"), dict):
                yield from list_type_errors(schema["items"], item, f"{path}[{i}]")


# The CRD's CEL rules, by their exact text, and what each says of `self` (a present value).
CEL: dict[str, Callable[[Any], bool]] = {
    # spec.credential.githubApp: exactly one of the App's two names.
    "has(self.appId) != has(self.clientId)": lambda s: ("appId" in s) != ("clientId" in s),
}
# A map's keys all match a pattern (CEL's matches() is RE2's unanchored search).
KEYS_MATCH = re.compile(r"self\.all\(k, k\.matches\('(.+)'\)\)")


def cel_rule(rule: str) -> Callable[[Any], bool]:
    """The Python twin of one rule; a KeyError for a rule nobody mirrored."""
    keys = KEYS_MATCH.fullmatch(rule)
    if keys:
        return lambda s: all(re.search(keys.group(1), k) for k in s)
    return CEL[rule]


def cel_errors(schema: Obj, obj: Any, path: str = "") -> Iterator[FieldError]:
    """The `x-kubernetes-validations` rules `obj` breaks, at the rule's `fieldPath` if set."""
    typed = isinstance(obj, dict) if schema.get("type") == "object" else True
    for rule in schema.get("x-kubernetes-validations", []) if typed else []:
        if not cel_rule(rule["rule"])(obj):
            yield FieldError(path + rule.get("fieldPath", ""), rule["message"])
    if isinstance(obj, dict):
        props = schema.get("properties", {})
        for key, value in obj.items():
            sub = props.get(key, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                yield from cel_errors(sub, value, f"{path}.{key}" if path else key)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(obj):
            yield from cel_errors(schema["items"], item, f"{path}[{i}]")


def validate(obj: Obj, schema: Obj | None = None) -> list[FieldError]:
    """Every error the API server would answer to `kubectl apply` of `obj`; [] when accepted."""
    schema = schema or openapi_schema()
    errors = set(_schema_errors(schema, obj)) | set(list_type_errors(schema, obj))
    return sorted(errors | set(cel_errors(schema, obj)))


def apply_defaults(schema: Obj, obj: Any) -> Any:
    """The object as stored: `default:` filled in for absent fields of objects that exist."""
    obj = copy.deepcopy(obj)
    if isinstance(obj, dict):
        props = schema.get("properties", {})
        for key, sub in props.items():
            if key not in obj and "default" in sub:
                obj[key] = copy.deepcopy(sub["default"])
        for key, value in obj.items():
            sub = props.get(key, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                obj[key] = apply_defaults(sub, value)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        obj = [apply_defaults(schema["items"], item) for item in obj]
    return obj


def walk(schema: Obj, path: str = "") -> Iterator[tuple[str, Obj]]:
    """Every sub-schema with its path: `spec.models[].name`, `spec.mcpServers.*.url`."""
    yield path, schema
    for key, sub in schema.get("properties", {}).items():
        yield from walk(sub, f"{path}.{key}" if path else key)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}.*")
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[]")
