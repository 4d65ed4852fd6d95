"""The spec's bounds (sizes, lengths, patterns) and the small checks that apply them (pure).

The CRD's schema and `parse_spec` must refuse the same specs: the local mode and
`copilot-proxy render` have no API server in front of them, and a spec the API
server stores must not render to something it refuses later (a ConfigMap over
1 MiB). `LIMITS` is keyed by the CRD's schema paths; tests/crds checks that the
CRD says exactly this.
"""

from __future__ import annotations

import re
from typing import Any

MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
ROUTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The proxy's name is its Service's name and a label value: a DNS-1035 label.
PROXY_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
SECRET_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# An MCP server's key names its tools (`<server>-<tool>`) and a URL path segment.
MCP_KEY = re.compile(r"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$")
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
    "spec.image": {"minLength": 1, "maxLength": 512},
    "spec.github.host": {"minLength": 1, "maxLength": 253},
    "spec.github.apiUrl": {"maxLength": 512},
    "spec.tokenSecret.name": {"minLength": 1, "maxLength": 253},
    "spec.mcpServers": {"maxProperties": 32},
    "spec.mcpServers.*.url": {"maxLength": 2048},
    "spec.mcpServers.*.description": {"maxLength": 1024},
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


def sized(value: Any, field: str, path: str) -> Any:
    """Refuse a list, map or string outside LIMITS[path], naming `field`."""
    if isinstance(value, str):
        low, high, what = _limit(path, "minLength"), _limit(path, "maxLength"), "characters"
    elif isinstance(value, list):
        low, high, what = _limit(path, "minItems"), _limit(path, "maxItems"), "entries"
    else:
        low, high, what = None, _limit(path, "maxProperties"), "entries"
    if high is not None and len(value) > high:
        raise SpecError(field, f"has {len(value)} {what}; at most {high} are allowed")
    if low is not None and len(value) < low:
        raise SpecError(field, f"needs at least {low} {what}")
    return value


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
