"""The spec's bounds (sizes, lengths, patterns) and the small checks that apply them (pure).

The CRD's schema and `parse_spec` must refuse the same specs: the local mode and
`copilot-proxy render` have no API server in front of them, and a spec the API
server stores must not render to something it refuses later (a ConfigMap over
1 MiB). `LIMITS` is keyed by the CRD's schema paths; tests/crds checks that the
CRD says exactly this.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
ROUTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The proxy's name is its Service's name and a label value: a DNS-1035 label.
PROXY_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
SECRET_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# A map key (an MCP server's name) that may be named in an error: anything else is
# not echoed, since errors land in status and events.
SAFE_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,63}$")
HTTP_URL = re.compile(r"^https?://[^\s]+$")
QUANTITY = re.compile(
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|"
    r"([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
PULL_POLICIES = ("Always", "IfNotPresent", "Never")

LIMITS: dict[str, dict[str, int]] = {
    "spec.models": {"minItems": 1, "maxItems": 16},
    "spec.models[].name": {"minLength": 1, "maxLength": 100},
    "spec.models[].dropParams": {"maxItems": 32},
    "spec.models[].dropParams[]": {"minLength": 1, "maxLength": 64},
    "spec.routes": {"maxItems": 32},
    "spec.routes[].name": {"minLength": 1, "maxLength": 100},
    "spec.routes[].models": {"minItems": 1, "maxItems": 16},
    "spec.routes[].models[]": {"minLength": 1, "maxLength": 100},
    "spec.smallModel": {"minLength": 1, "maxLength": 100},
    "spec.embeddingModels": {"maxItems": 16},
    "spec.embeddingModels[]": {"minLength": 1, "maxLength": 100},
    "spec.image": {"minLength": 1, "maxLength": 512},
    "spec.github.host": {"minLength": 1, "maxLength": 253},
    "spec.github.apiUrl": {"maxLength": 512},
    "spec.tokenSecret.name": {"minLength": 1, "maxLength": 253},
    "spec.credential.githubApp.appId": {"minLength": 1, "maxLength": 20},
    "spec.credential.githubApp.clientId": {"minLength": 1, "maxLength": 64},
    "spec.credential.githubApp.privateKeySecretRef.name": {"minLength": 1, "maxLength": 253},
    "spec.credential.githubApp.privateKeySecretRef.key": {"minLength": 1, "maxLength": 253},
    "spec.credential.githubApp.repositoryIds": {"maxItems": 500},
    "spec.credential.githubApp.permissions": {"maxProperties": 32},
    "spec.mcpServers": {"maxProperties": 32},
    "spec.mcpServers.*.url": {"maxLength": 2048},
    "spec.mcpServers.*.description": {"maxLength": 1024},
    "spec.mcpServers.*.command": {"minLength": 1, "maxLength": 512},
    "spec.mcpServers.*.args": {"maxItems": 64},
    "spec.mcpServers.*.args[]": {"maxLength": 1024},
    "spec.mcpServers.*.image": {"maxLength": 512},
    "spec.mcpServers.*.env": {"maxItems": 64},
    "spec.mcpServers.*.env[].name": {"maxLength": 128},
    "spec.mcpServers.*.env[].value": {"maxLength": 4096},
    "spec.mcpServers.*.env[].secretKeyRef.name": {"maxLength": 253},
    "spec.mcpServers.*.env[].secretKeyRef.key": {"maxLength": 253},
    "spec.mcpServers.*.volume.persistentVolumeClaim.claimName": {"maxLength": 253},
    "spec.mcpServers.*.paths": {"minItems": 1, "maxItems": 16},
    "spec.mcpServers.*.paths[]": {"maxLength": 256},
    "spec.mcpServers.*.egress": {"maxItems": 16},
    "spec.mcpServers.*.egress[].cidr": {"maxLength": 64},
    "spec.mcpServers.*.egress[].except": {"maxItems": 16},
    "spec.mcpServers.*.egress[].except[]": {"maxLength": 64},
    "spec.mcpServers.*.egress[].ports": {"maxItems": 16},
}

# A ConfigMap holds at most 1 MiB (data and metadata together): what the proxy runs
# must fit with room to spare.
MAX_CONFIG_BYTES = 1024 * 1024 - 64 * 1024


class SpecError(ValueError):
    """A spec the operator cannot serve; `field` is the path a user must fix."""

    def __init__(self, field: str, message: str) -> None:
        where = field if field.startswith("metadata.") else f"spec.{field}" if field else "spec"
        super().__init__(f"{where}: {message}")
        self.field = field
        self.message = message


def _limit(path: str, key: str) -> int | None:
    return LIMITS.get(path, {}).get(key)


def sized(value: Any, field: str, path: str, at_least: bool = True) -> Any:
    """Refuse a list, map or string outside LIMITS[path] (or over it), naming `field`."""
    if isinstance(value, str):
        low, high, what = _limit(path, "minLength"), _limit(path, "maxLength"), "characters"
    elif isinstance(value, list):
        low, high, what = _limit(path, "minItems"), _limit(path, "maxItems"), "entries"
    else:
        low, high, what = None, _limit(path, "maxProperties"), "entries"
    if high is not None and len(value) > high:
        raise SpecError(field, f"has {len(value)} {what}; at most {high} are allowed")
    if at_least and low is not None and len(value) < low:
        raise SpecError(field, f"needs at least {low} {what}")
    return value


def upper_bounds(spec: Any) -> None:
    """Refuse anything in a raw spec over an upper bound of LIMITS, naming the field.

    Run before the field parsers, so a size is refused as the API server would
    refuse it; wrong types are left to them. A map key that is not a plain name is
    refused without being echoed.
    """
    for path in LIMITS:
        for value, field in _found(spec, _steps(path.removeprefix("spec.")), ""):
            if isinstance(value, str | list | dict):
                sized(value, field, path, at_least=False)


def _steps(path: str) -> list[str]:
    return path.replace("[]", ".[]").split(".")


def _found(value: Any, steps: list[str], field: str) -> Iterator[tuple[Any, str]]:
    """The values at `steps` below `value` (`[]`: each list item, `*`: each map value)."""
    if not steps:
        yield value, field
        return
    step, rest = steps[0], steps[1:]
    if step == "[]" and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _found(item, rest, f"{field}[{i}]")
    elif step == "*" and isinstance(value, dict):
        for key, item in value.items():
            if not (isinstance(key, str) and SAFE_KEY.match(key)):
                raise SpecError(field, "has a key that is not a name (letters, digits, _ . -)")
            yield from _found(item, rest, f"{field}.{key}")
    elif isinstance(value, dict) and step in value:
        yield from _found(value[step], rest, f"{field}.{step}" if field else step)


def text(raw: dict[str, Any], key: str, field: str, path: str, default: str = "") -> str:
    """An optional string field, within its bounds."""
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise SpecError(field, f"must be a string, not {value!r}")
    return str(sized(value, field, path))


def matching(value: str, pattern: re.Pattern[str], field: str, what: str) -> str:
    if not pattern.match(value):
        raise SpecError(field, f"{value!r} is not {what}")
    return value


def only(raw: dict[str, Any], where: str, known: set[str]) -> dict[str, Any]:
    """Refuse unknown fields, as `kubectl apply` does: a typo must not be ignored."""
    for key in raw:
        if key not in known:
            raise SpecError(f"{where}{key}", "unknown field; known: " + ", ".join(sorted(known)))
    return raw


def mapping(raw: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise SpecError(where + key, "must be a mapping")
    return value


def listed(raw: dict[str, Any], key: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise SpecError(key, "must be a list")
    return value


def boolean(raw: dict[str, Any], key: str, default: bool, where: str = "") -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise SpecError(where + key, f"must be true or false, not {value!r}")
    return value


def integer(raw: dict[str, Any], where: str, key: str, default: int, low: int, high: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(where + key, f"must be a whole number from {low} to {high}, not {value!r}")
    return value


def no_environment_references(value: Any, field: str) -> None:
    """LiteLLM replaces `os.environ/NAME` by that variable (the master key, for one)."""
    if isinstance(value, str) and "os.environ/" in value:
        raise SpecError(field, "must not contain 'os.environ/' (it would read the proxy's secrets)")
    if isinstance(value, dict):
        for key, item in value.items():
            no_environment_references(key, field)
            no_environment_references(item, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            no_environment_references(item, f"{field}[{i}]")
