"""The CopilotProxy CRD: what `kubectl apply` accepts and refuses, what `kubectl get`
and `kubectl explain` show, and that the operator's parser agrees with it.

Manifests live in manifests/{valid,invalid}/; an invalid one says in its header
comments which fields the API server names (`# error: spec.replicas`) and, when
the operator's own parser catches it too (the local mode has no API server),
which field `SpecError` names (`# parse_spec: replicas`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from copilot_proxy.core import bounds, credential
from copilot_proxy.core import spec as spec_module
from copilot_proxy.core.credential import GitHubApp
from copilot_proxy.core.github import HOST_PATTERN, GitHub
from copilot_proxy.core.spec import ProxySpec, SpecError, parse_spec

from .schema import (
    FieldError,
    Obj,
    apply_defaults,
    cel_rule,
    list_type_errors,
    load_crd,
    openapi_schema,
    to_json_schema,
    validate,
    walk,
)

MANIFESTS = Path(__file__).parent / "manifests"
# The manifests use a GHE.com host: configured here, as an administrator would.
HOSTS = (GitHub(), GitHub.named("acme.ghe.com"))
VALID = sorted((MANIFESTS / "valid").glob("*.yaml"))
INVALID = sorted((MANIFESTS / "invalid").glob("*.yaml"))


def header(path: Path, key: str) -> list[str]:
    prefix = f"# {key}: "
    return [
        line.removeprefix(prefix).strip()
        for line in path.read_text().splitlines()
        if line.startswith(prefix)
    ]


def load(path: Path) -> Obj:
    obj: Obj = yaml.safe_load(path.read_text())
    return obj


@pytest.fixture(scope="module")
def crd() -> Obj:
    return load_crd()


@pytest.fixture(scope="module")
def schema(crd: Obj) -> Obj:
    return openapi_schema(crd)


def test_there_are_enough_manifests() -> None:
    assert len(VALID) >= 8 and len(INVALID) >= 15
    for path in INVALID:
        assert header(path, "error"), f"{path.name} does not say which field is wrong"
        assert header(path, "parse_spec"), f"{path.name} does not say what parse_spec names"


# --- what the API server accepts and refuses ---------------------------------------


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_manifest_is_accepted(path: Path, schema: Obj) -> None:
    assert validate(load(path), schema) == []


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_manifest_is_refused_naming_the_field(path: Path, schema: Obj) -> None:
    errors = validate(load(path), schema)
    assert {e.path for e in errors} == set(header(path, "error")), errors


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_operator_refuses_it_too_naming_the_field(path: Path) -> None:
    """The local mode and `copilot-proxy render` have no API server: parse_spec refuses all."""
    manifest = load(path)
    with pytest.raises(SpecError) as caught:
        parse_spec("bad", "default", manifest.get("spec") or {}, HOSTS)
    assert [caught.value.field] == header(path, "parse_spec")
    assert caught.value.field in str(caught.value)


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_operator_parses_every_valid_manifest_alike_with_or_without_defaults(
    path: Path, schema: Obj
) -> None:
    manifest = load(path)
    name = manifest["metadata"]["name"]
    as_written = parse_spec(name, "default", manifest["spec"], HOSTS)
    as_stored = parse_spec(name, "default", apply_defaults(schema, manifest)["spec"], HOSTS)
    assert as_written == as_stored


def test_examples_are_valid(schema: Obj) -> None:
    examples = sorted((MANIFESTS.parent.parent.parent / "examples").glob("*.yaml"))
    assert examples
    for path in examples:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == spec_module.KIND:
                assert validate(doc, schema) == [], path.name
                parse_spec(doc["metadata"]["name"], "default", doc["spec"], HOSTS)


# --- the Python mirror of what JSON Schema cannot say --------------------------------

LISTS: Obj = {
    "type": "object",
    "properties": {
        "byName": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name", "port"],
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "port": {"type": "integer"},
                    "tags": {
                        "type": "array",
                        "x-kubernetes-list-type": "set",
                        "items": {"type": "string"},
                    },
                },
            },
        },
        "atomic": {"type": "array", "items": {"type": "string"}},
    },
}


def test_list_map_keys_must_be_unique_together() -> None:
    ok = {"byName": [{"name": "a", "port": 1}, {"name": "a", "port": 2}], "atomic": ["x", "x"]}
    assert list(list_type_errors(LISTS, ok)) == []
    clash = {"byName": [{"name": "a", "port": 1}, {"name": "b"}, {"name": "a", "port": 1}]}
    assert [e.path for e in list_type_errors(LISTS, clash)] == ["byName[2]"]


def test_list_set_items_must_be_unique_in_nested_lists() -> None:
    ok = {"byName": [{"name": "a", "tags": ["x", "y"]}, {"name": "b", "tags": ["x"]}]}
    assert list(list_type_errors(LISTS, ok)) == []
    clash = {"byName": [{"name": "a"}, {"name": "b", "tags": ["x", "y", "x"]}]}
    assert [e.path for e in list_type_errors(LISTS, clash)] == ["byName[1].tags[2]"]


def test_int_or_string_takes_both_but_nothing_else() -> None:
    node = {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]}
    check = jsonschema.Draft202012Validator(to_json_schema(node))
    assert check.is_valid(1) and check.is_valid("1")
    assert not check.is_valid(1.5) and not check.is_valid(True) and not check.is_valid([])


def test_unknown_fields_are_refused_except_where_preserved() -> None:
    node = {
        "type": "object",
        "properties": {
            "closed": {"type": "object", "properties": {"a": {"type": "string"}}},
            "open": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "properties": {"a": {"type": "string"}},
            },
        },
    }
    assert validate({"open": {"b": {"c": 1}}}, node) == []
    assert validate({"closed": {"b": 1}}, node) == [FieldError("closed.b", "unknown field")]


# --- the CRD itself: accepted by the API server, readable with kubectl -------------


def _nodes(schema: Obj) -> list[tuple[str, Obj]]:
    return list(walk(schema))


def test_crd_schema_is_structural(schema: Obj) -> None:
    """Rules of apiextensions.k8s.io/v1 a CRD must follow or `kubectl apply` refuses it."""
    problems = []
    for path, node in _nodes(schema):
        where = path or "<root>"
        if "properties" in node and "additionalProperties" in node:
            problems.append(f"{where}: additionalProperties and properties are mutually exclusive")
        if node.get("additionalProperties") is False:
            problems.append(f"{where}: additionalProperties: false is not allowed")
        if node.get("uniqueItems"):
            problems.append(f"{where}: uniqueItems is forbidden; use x-kubernetes-list-type")
        if not node.get("type") and not node.get("x-kubernetes-int-or-string"):
            problems.append(f"{where}: every node needs a type")
        if "properties" in node and node.get("type") != "object":
            problems.append(f"{where}: properties on a non-object")
        if node.get("type") == "array" and not isinstance(node.get("items"), dict):
            problems.append(f"{where}: an array needs items")
        kind = node.get("x-kubernetes-list-type")
        if kind == "map":
            items = node["items"]
            for key in node.get("x-kubernetes-list-map-keys", []):
                if key not in items.get("required", []) and "default" not in items.get(
                    "properties", {}
                ).get(key, {}):
                    problems.append(f"{where}: map key {key} must be required or defaulted")
        if kind == "set" and node["items"].get("type") in ("object", "array"):
            problems.append(f"{where}: a set holds scalars")
        if "default" in node:
            json_node = to_json_schema(node)
            if not jsonschema.Draft202012Validator(json_node).is_valid(node["default"]):
                problems.append(f"{where}: default {node['default']!r} fails its own schema")
    assert schema["properties"]["metadata"] == {"type": "object"}
    assert problems == []


def test_every_field_is_described_for_kubectl_explain(schema: Obj) -> None:
    # The values of a scalar map (resources.requests.*) have no entry in `kubectl explain`.
    undescribed = [
        path
        for path, node in _nodes(schema)
        if path.startswith(("spec", "status"))
        and not (path.endswith(".*") and node.get("type") != "object")
        and not str(node.get("description", "")).strip()
    ]
    assert len(_nodes(schema)) > 60
    assert undescribed == []


def test_names_scope_and_status_follow_the_contract(crd: Obj) -> None:
    names = crd["spec"]["names"]
    assert crd["spec"]["group"] == spec_module.API_GROUP
    assert crd["metadata"]["name"] == f"{spec_module.PLURAL}.{spec_module.API_GROUP}"
    assert names["kind"] == spec_module.KIND and names["plural"] == spec_module.PLURAL
    assert "cpx" in names["shortNames"]
    assert crd["spec"]["scope"] == "Namespaced"
    (version,) = crd["spec"]["versions"]
    assert version["name"] == spec_module.API_VERSION and version["served"] and version["storage"]
    assert version["subresources"] == {"status": {}}


def _json_path(obj: Any, path: str) -> Any:
    """The few JSONPath forms printer columns use: `.a.b`, `[0]`, `[?(@.k=="v")]`."""
    for part in re.findall(r"\.(\w+)|\[(\d+)\]|\[\?\(@\.(\w+)==\"([^\"]*)\"\)\]", path):
        key, index, fkey, fvalue = part
        if obj is None:
            return None
        if key:
            obj = obj.get(key)
        elif index:
            obj = obj[int(index)] if len(obj) > int(index) else None
        else:
            obj = next((item for item in obj if item.get(fkey) == fvalue), None)
    return obj


def test_kubectl_get_shows_ready_primary_token_replicas_and_age(crd: Obj) -> None:
    columns = {c["name"]: c for c in crd["spec"]["versions"][0]["additionalPrinterColumns"]}
    assert {"Ready", "Primary", "Token", "Replicas", "Age"} <= set(columns)
    wanted = ("Ready", "Primary", "Token", "Replicas", "Age")
    assert all(columns[name].get("priority", 0) == 0 for name in wanted)
    stored = load(MANIFESTS / "valid" / "with-status.yaml")
    stored["metadata"]["creationTimestamp"] = "2026-11-01T00:00:00Z"
    shown = {name: _json_path(stored, c["jsonPath"]) for name, c in columns.items()}
    assert shown["Ready"] == "True"
    assert shown["Primary"] == "claude-opus-4.6"
    assert shown["Token"] == "Present"
    assert shown["Replicas"] == 1
    assert shown["Reason"] == "Serving"
    assert shown["Endpoint"] == "http://copilot.default.svc:4000"
    assert shown["Age"] == "2026-11-01T00:00:00Z"
    assert columns["Age"]["type"] == "date" and columns["Replicas"]["type"] == "integer"


def test_kubectl_get_wide_shows_the_credential_the_operator_reports(crd: Obj, schema: Obj) -> None:
    columns = {c["name"]: c for c in crd["spec"]["versions"][0]["additionalPrinterColumns"]}
    assert columns["Credential"]["priority"] == 1 and columns["Account"]["priority"] == 1
    app = parse_spec("team", "default", {**copy.deepcopy(BARE), "credential": {"githubApp": APP}})
    minted = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    expires = minted + timedelta(hours=1)
    for reported, kind, account in [
        (
            credential.status_credential(
                app.credential, "acme", expires, credential.renew_at(minted, expires)
            ),
            "GitHubApp",
            "acme",
        ),
        (credential.status_credential(None, "octocat"), "DeviceFlow", "octocat"),
    ]:
        stored = {**load(MANIFESTS / "valid" / "minimal.yaml"), "status": {"credential": reported}}
        assert validate(stored, schema) == []
        assert _json_path(stored, columns["Credential"]["jsonPath"]) == kind
        assert _json_path(stored, columns["Account"]["jsonPath"]) == account


def test_every_cel_rule_of_the_crd_is_mirrored(schema: Obj) -> None:
    rules = [
        r["rule"] for _, node in walk(schema) for r in node.get("x-kubernetes-validations", [])
    ]
    assert len(rules) >= 3
    for rule in rules:
        cel_rule(rule)  # a KeyError names a rule nobody mirrored
    app = dict(walk(schema))["spec.credential.githubApp.permissions"]
    (keys,) = [r["rule"] for r in app["x-kubernetes-validations"]]
    assert keys == f"self.all(k, k.matches('{credential.PERMISSION.pattern}'))"


# --- the CRD's defaults are the operator's defaults ---------------------------------

# Where each `default:` of the CRD lands in a parsed ProxySpec.
DEFAULTED: dict[str, Callable[[ProxySpec], Any]] = {
    "spec.catchAll": lambda s: s.catch_all,
    "spec.prefixedNames": lambda s: s.prefixed_names,
    "spec.router.numRetries": lambda s: s.router.num_retries,
    "spec.router.allowedFails": lambda s: s.router.allowed_fails,
    "spec.router.cooldownSeconds": lambda s: s.router.cooldown_seconds,
    "spec.router.timeoutSeconds": lambda s: s.router.timeout_seconds,
    "spec.router.quotaCooldownSeconds": lambda s: s.router.quota_cooldown_seconds,
    "spec.replicas": lambda s: s.replicas,
    "spec.github.host": lambda s: s.github.host,
    "spec.mcpServers.*.transport": lambda s: s.mcp_servers[0].transport,
    "spec.credential.githubApp.privateKeySecretRef.key": lambda s: _app(s).key_name,
    "spec.credential.githubApp.permissions": lambda s: dict(_app(s).permissions),
}
# The fields a GitHub App credential needs: the rest of it is defaulted.
APP: Obj = {"appId": "123456", "installationId": 1, "privateKeySecretRef": {"name": "key"}}
# Every defaulted object present but empty, so the API server fills it in.
BARE: Obj = {
    "models": [{"name": "gpt-5-mini"}],
    "router": {},
    "github": {},
    "mcpServers": {"memory": {"url": "http://mcp:8080/mcp"}},
    "credential": {"githubApp": APP},
}


def _app(spec: ProxySpec) -> GitHubApp:
    assert spec.credential is not None
    return spec.credential


def crd_defaults(schema: Obj) -> dict[str, Any]:
    return {path: node["default"] for path, node in walk(schema) if "default" in node}


def test_every_crd_default_is_mapped(schema: Obj) -> None:
    assert set(crd_defaults(schema)) == set(DEFAULTED)


@pytest.mark.parametrize("path", sorted(DEFAULTED))
def test_operator_default_equals_crd_default(path: str, schema: Obj) -> None:
    parsed = parse_spec("p", "default", copy.deepcopy(BARE))
    assert DEFAULTED[path](parsed) == crd_defaults(schema)[path]


def test_parsing_a_bare_spec_equals_parsing_it_as_stored(schema: Obj) -> None:
    stored = apply_defaults(schema, {"spec": copy.deepcopy(BARE)})["spec"]
    assert stored != BARE  # the API server did fill something in
    assert parse_spec("p", "default", BARE) == parse_spec("p", "default", stored)


# --- the CRD's limits are the operator's limits ---------------------------------------


def _integer_fields(schema: Obj) -> list[tuple[str, Obj]]:
    # Numbers inside maps and lists (mcpServers.*.egress[].ports[]) are checked by their
    # own tests (tests/core/test_mcp_spec.py): _with() builds plain object paths only.
    return [
        (path, node)
        for path, node in walk(schema)
        if path.startswith("spec.")
        and node.get("type") == "integer"
        and "*" not in path
        and "[]" not in path
    ]


def _with(path: str, value: Any) -> Obj:
    raw: Obj = {"models": [{"name": "gpt-5-mini"}]}
    if path.startswith("spec.credential.githubApp."):
        raw["credential"] = {"githubApp": copy.deepcopy(APP)}
    *parents, leaf = path.removeprefix("spec.").split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return raw


def test_every_number_of_the_spec_has_a_range(schema: Obj) -> None:
    fields = _integer_fields(schema)
    assert {p for p, _ in fields} >= {"spec.replicas", "spec.router.numRetries"}
    assert all("minimum" in n and "maximum" in n for _, n in fields)


def test_operator_range_equals_crd_range(schema: Obj) -> None:
    for path, node in _integer_fields(schema):
        low, high = node["minimum"], node["maximum"]
        for value in (low, high):
            parse_spec("p", "default", _with(path, value))
            assert validate({"spec": _with(path, value)}, schema) == []
        for value in (low - 1, high + 1):
            with pytest.raises(SpecError) as caught:
                parse_spec("p", "default", _with(path, value))
            assert caught.value.field == path.removeprefix("spec.")
            assert [e.path for e in validate({"spec": _with(path, value)}, schema)] == [path]


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("spec.models[].name", bounds.MODEL_NAME),
        ("spec.models[].dropParams[]", bounds.PARAM_NAME),
        ("spec.routes[].name", bounds.ROUTE_NAME),
        ("spec.routes[].models[]", bounds.MODEL_NAME),
        ("spec.github.host", HOST_PATTERN),
        ("spec.github.apiUrl", bounds.HTTP_URL),
        ("spec.tokenSecret.name", bounds.SECRET_NAME),
        ("spec.credential.githubApp.appId", credential.APP_ID),
        ("spec.credential.githubApp.clientId", credential.CLIENT_ID),
        ("spec.credential.githubApp.privateKeySecretRef.name", bounds.SECRET_NAME),
        ("spec.mcpServers.*.url", bounds.HTTP_URL),
        ("spec.resources.requests.*", bounds.QUANTITY),
        ("spec.resources.limits.*", bounds.QUANTITY),
    ],
)
def test_operator_name_patterns_equal_crd_patterns(
    path: str, pattern: re.Pattern[str], schema: Obj
) -> None:
    assert dict(walk(schema))[path]["pattern"] == pattern.pattern
