"""The CRD's bounds are the operator's: what the API server refuses, `parse_spec` (so the
local mode and `copilot-proxy render`) refuses too, naming the same field; and the
LiteLLM settings the CRD lists are exactly the allow-list."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from copilot_proxy.core import bounds, render
from copilot_proxy.core.litellm_settings import ALLOWED
from copilot_proxy.core.mcp_spec import SERVER_NAME
from copilot_proxy.core.spec import SpecError, parse_spec

from .schema import Obj, openapi_schema, validate, walk

SIZES = ("minItems", "maxItems", "minLength", "maxLength", "maxProperties")
BASE: Obj = {"models": [{"name": "gpt-5-mini"}]}


@pytest.fixture(scope="module")
def schema() -> Obj:
    return openapi_schema()


def crd_sizes(schema: Obj) -> dict[str, dict[str, int]]:
    return {
        path: {k: node[k] for k in SIZES if k in node}
        for path, node in walk(schema)
        if path.startswith("spec.")
        and not path.startswith("spec.litellm")
        and any(k in node for k in SIZES)
    }


def test_the_crd_says_exactly_the_operators_bounds(schema: Obj) -> None:
    assert crd_sizes(schema) == bounds.LIMITS


def models(n: int) -> list[Obj]:
    return [{"name": f"m{i}"} for i in range(n)]


def one_past(path: str) -> int:
    limits = bounds.LIMITS[path]
    return max(limits.get(k, 0) for k in ("maxItems", "maxLength", "maxProperties")) + 1


# A server the operator runs, one field at a time one past its bound: (fields, field named).
RUN_FIELDS: dict[str, Any] = {
    "spec.mcpServers.*.command": lambda n: ({"command": "c" * n}, "command"),
    "spec.mcpServers.*.args": lambda n: ({"args": ["a"] * n}, "args"),
    "spec.mcpServers.*.args[]": lambda n: ({"args": ["a" * n]}, "args[0]"),
    "spec.mcpServers.*.image": lambda n: ({"image": "i" * n}, "image"),
    "spec.mcpServers.*.env": lambda n: (
        {"env": [{"name": f"E{i}", "value": "v"} for i in range(n)]},
        "env",
    ),
    "spec.mcpServers.*.env[].name": lambda n: (
        {"env": [{"name": "E" * n, "value": "v"}]},
        "env[0].name",
    ),
    "spec.mcpServers.*.env[].value": lambda n: (
        {"env": [{"name": "E", "value": "v" * n}]},
        "env[0].value",
    ),
    "spec.mcpServers.*.env[].secretKeyRef.name": lambda n: (
        {"env": [{"name": "E", "secretKeyRef": {"name": "s" * n, "key": "k"}}]},
        "env[0].secretKeyRef.name",
    ),
    "spec.mcpServers.*.env[].secretKeyRef.key": lambda n: (
        {"env": [{"name": "E", "secretKeyRef": {"name": "s", "key": "k" * n}}]},
        "env[0].secretKeyRef.key",
    ),
    "spec.mcpServers.*.volume.persistentVolumeClaim.claimName": lambda n: (
        {"volume": {"persistentVolumeClaim": {"claimName": "c" * n}}},
        "volume.persistentVolumeClaim.claimName",
    ),
    "spec.mcpServers.*.paths": lambda n: ({"paths": [f"p{i}" for i in range(n)]}, "paths"),
    "spec.mcpServers.*.paths[]": lambda n: ({"paths": ["p" * n]}, "paths[0]"),
    "spec.mcpServers.*.egress": lambda n: (
        {"egress": [{"cidr": "10.0.0.0/8"}] * n},
        "egress",
    ),
    "spec.mcpServers.*.egress[].cidr": lambda n: (
        {"egress": [{"cidr": "1" * n}]},
        "egress[0].cidr",
    ),
    "spec.mcpServers.*.egress[].except": lambda n: (
        {"egress": [{"cidr": "10.0.0.0/8", "except": ["10.0.0.0/16"] * n}]},
        "egress[0].except",
    ),
    "spec.mcpServers.*.egress[].except[]": lambda n: (
        {"egress": [{"cidr": "10.0.0.0/8", "except": ["1" * n]}]},
        "egress[0].except[0]",
    ),
    "spec.mcpServers.*.egress[].ports": lambda n: (
        {"egress": [{"cidr": "10.0.0.0/8", "ports": [443] * n}]},
        "egress[0].ports",
    ),
}


def runs(path: str, n: int) -> tuple[Obj, str]:
    """A `command` server (a filesystem preset for `paths`) with one field too big."""
    fields, field = RUN_FIELDS[path](n)
    kind = {"preset": "filesystem"} if "paths" in fields else {"command": "mcp-x"}
    server = {**kind, **fields} if "command" not in fields else fields
    if "paths" in fields:
        server["volume"] = {"persistentVolumeClaim": {"claimName": "docs"}}
    return {"mcpServers": {"m": server}}, f"mcpServers.m.{field}"


# A GitHub App credential, one field at a time one past its bound: (fields, field named).
APP: Obj = {"appId": "1", "installationId": 1, "privateKeySecretRef": {"name": "k"}}
APP_FIELDS: dict[str, Any] = {
    "spec.credential.githubApp.appId": lambda n: ({"appId": "1" * n}, "appId"),
    "spec.credential.githubApp.clientId": lambda n: (
        {"appId": None, "clientId": "Iv" + "a" * (n - 2)},
        "clientId",
    ),
    "spec.credential.githubApp.privateKeySecretRef.name": lambda n: (
        {"privateKeySecretRef": {"name": "k" * n}},
        "privateKeySecretRef.name",
    ),
    "spec.credential.githubApp.privateKeySecretRef.key": lambda n: (
        {"privateKeySecretRef": {"name": "k", "key": "k" * n}},
        "privateKeySecretRef.key",
    ),
    "spec.credential.githubApp.repositoryIds": lambda n: (
        {"repositoryIds": list(range(1, n + 1))},
        "repositoryIds",
    ),
    "spec.credential.githubApp.permissions": lambda n: (
        {"permissions": {"p" + "_" * i: "read" for i in range(n)}},
        "permissions",
    ),
}


def app(path: str, n: int) -> tuple[Obj, str]:
    fields, field = APP_FIELDS[path](n)
    github_app = {k: v for k, v in {**APP, **fields}.items() if v is not None}
    return {"credential": {"githubApp": github_app}}, f"credential.githubApp.{field}"


def over(path: str) -> tuple[Obj, str]:
    """A spec one past the upper bound of `path`, and the field both must name."""
    n = one_past(path)
    route = {"name": "r", "models": ["gpt-5-mini"]}
    cases: dict[str, tuple[Obj, str]] = {
        "spec.models": ({"models": models(n)}, "models"),
        "spec.models[].name": ({"models": [{"name": "m" * n}]}, "models[0].name"),
        "spec.models[].dropParams": (
            {"models": [{"name": "m", "dropParams": [f"p{i}" for i in range(n)]}]},
            "models[0].dropParams",
        ),
        "spec.models[].dropParams[]": (
            {"models": [{"name": "m", "dropParams": ["p" * n]}]},
            "models[0].dropParams[0]",
        ),
        "spec.routes": ({"routes": [{**route, "name": f"r{i}"} for i in range(n)]}, "routes"),
        "spec.routes[].name": ({"routes": [{**route, "name": "r" * n}]}, "routes[0].name"),
        "spec.routes[].models": (
            {"routes": [{**route, "models": ["gpt-5-mini"] * n}]},
            "routes[0].models",
        ),
        "spec.routes[].models[]": (
            {"routes": [{**route, "models": ["m" * n]}]},
            "routes[0].models[0]",
        ),
        "spec.image": ({"image": "i" * n}, "image"),
        "spec.github.host": ({"github": {"host": "a.b" + "c" * (n - 3)}}, "github.host"),
        "spec.github.apiUrl": ({"github": {"apiUrl": "https://" + "a" * n}}, "github.apiUrl"),
        "spec.tokenSecret.name": ({"tokenSecret": {"name": "t" * n}}, "tokenSecret.name"),
        "spec.mcpServers": (
            {"mcpServers": {f"s{i}": {"url": "http://m"} for i in range(n)}},
            "mcpServers",
        ),
        "spec.mcpServers.*.url": (
            {"mcpServers": {"m": {"url": "http://" + "u" * n}}},
            "mcpServers.m.url",
        ),
        "spec.mcpServers.*.description": (
            {"mcpServers": {"m": {"url": "http://m", "description": "d" * n}}},
            "mcpServers.m.description",
        ),
        "spec.smallModel": ({"smallModel": "m" * n}, "smallModel"),
        "spec.embeddingModels": (
            {"embeddingModels": [f"e{i}" for i in range(n)]},
            "embeddingModels",
        ),
        "spec.embeddingModels[]": ({"embeddingModels": ["e" * n]}, "embeddingModels[0]"),
        **{path: runs(path, n) for path in RUN_FIELDS},
        **{path: app(path, n) for path in APP_FIELDS},
    }
    fields, field = cases[path]
    return {**copy.deepcopy(BASE), **fields}, field


@pytest.mark.parametrize("path", sorted(bounds.LIMITS))
def test_one_past_each_upper_bound_is_refused_by_both(path: str, schema: Obj) -> None:
    raw, field = over(path)
    assert f"spec.{field}" in {e.path for e in validate({"spec": raw}, schema)}
    with pytest.raises(SpecError) as caught:
        parse_spec("p", "default", raw)
    assert caught.value.field == field


@pytest.mark.parametrize("key", ["", "ünï cødé/../x", "x" * 64, "a\nb", "a/b"])
def test_an_mcp_server_key_that_is_no_name_is_refused_unechoed(key: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec("p", "default", {**BASE, "mcpServers": {key: {"url": "http://m"}}})
    assert caught.value.field == "mcpServers"
    if key:
        assert key not in str(caught.value)  # not echoed into status


def crd_server_name(schema: Obj) -> str:
    """The pattern of the CRD's CEL rule on MCP server names (jsonschema runs no CEL)."""
    servers = schema["properties"]["spec"]["properties"]["mcpServers"]
    (rule,) = [v["rule"] for v in servers["x-kubernetes-validations"]]
    match = re.fullmatch(r"self\.all\(k, k\.matches\('(.+)'\)\)", rule)
    assert match, rule
    return match.group(1)


def test_the_crd_and_the_operator_agree_on_mcp_server_names(schema: Obj) -> None:
    assert crd_server_name(schema) == SERVER_NAME.pattern


@pytest.mark.parametrize("key", ["UPPER", "-x", "a.b", "a-b", "x" * 41])
def test_other_mcp_server_names_the_crd_refuses_are_refused_naming_them(
    key: str, schema: Obj
) -> None:
    raw = {**BASE, "mcpServers": {key: {"url": "http://m"}}}
    assert not re.fullmatch(crd_server_name(schema), key)  # the API server refuses it too
    with pytest.raises(SpecError) as caught:
        parse_spec("p", "default", raw)
    assert caught.value.field == f"mcpServers.{key}"


def test_a_spec_the_crd_admits_but_that_renders_over_a_configmap_is_refused(schema: Obj) -> None:
    """32 routes of 16 long models: within every bound, 2 MB of fallbacks."""
    names = [f"{'m' * 90}{i:02d}" for i in range(16)]
    raw = {
        "models": [{"name": n} for n in names],
        "routes": [{"name": f"{'r' * 90}{i:02d}", "models": names} for i in range(32)],
    }
    assert validate({"spec": raw}, schema) == []
    spec = parse_spec("p", "default", raw)
    with pytest.raises(SpecError) as caught:
        render.config_text(spec)
    assert "ConfigMap" in str(caught.value) and "KiB" in str(caught.value)


# --- spec.litellm: the CRD lists the allow-list -------------------------------------------


def crd_settings(schema: Obj) -> dict[str, dict[str, Any]]:
    sections = schema["properties"]["spec"]["properties"]["litellm"]["properties"]
    return {name: node["properties"] for name, node in sections.items()}


def test_the_crd_lists_exactly_the_allowed_litellm_settings(schema: Obj) -> None:
    crd = crd_settings(schema)
    assert {s: set(keys) for s, keys in crd.items()} == {s: set(k) for s, k in ALLOWED.items()}
    for section, keys in ALLOWED.items():
        for key, setting in keys.items():
            node = crd[section][key]
            if setting.many:
                assert node["type"] == "array" and node["items"]["enum"] == list(setting.choices)
                continue
            kind = {bool: "boolean", int: "integer", str: "string"}[setting.kind]
            assert node["type"] == kind, key
            if setting.kind is int:
                assert (node["minimum"], node["maximum"]) == (setting.low, setting.high), key
            assert node.get("enum", []) == list(setting.choices), key


def test_an_unknown_litellm_setting_is_refused_by_both(schema: Obj) -> None:
    raw = {**BASE, "litellm": {"general_settings": {"pass_through_endpoints": []}}}
    assert [e.path for e in validate({"spec": raw}, schema)] == [
        "spec.litellm.general_settings.pass_through_endpoints"
    ]
    with pytest.raises(SpecError) as caught:
        parse_spec("p", "default", raw)
    assert caught.value.field == "litellm.general_settings.pass_through_endpoints"
