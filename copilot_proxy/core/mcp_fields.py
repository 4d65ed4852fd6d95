"""The fields of an MCP server the operator runs: env, volume, paths, egress (parsed, typed).

Pure helpers of mcp_spec.py. Each parser raises McpSpecError naming the field
(relative to `spec.`), which parse_spec turns into its SpecError.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_PATH_PART = re.compile(r"^[A-Za-z0-9._-]+$")
MAX_PATHS = 16
# Set by the operator in every run server's container; a declaration may not replace them.
RESERVED_ENV = {"HOME", "PATH", "MEMORY_FILE_PATH"}


class McpSpecError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"spec.{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class EnvVar:
    """`value`, or key `key` of Secret `secret` (used only when allowed: mcp_access.py)."""

    name: str
    value: str = ""
    secret: str = ""
    key: str = ""


@dataclass(frozen=True)
class Volume:
    """Where a run server keeps or reads files: a PVC by claim name, else an emptyDir."""

    claim: str = ""
    size_limit: str = ""


@dataclass(frozen=True)
class EgressRule:
    """Traffic a run server may send: to `cidr` but not `excepted`, on `ports` (all if none)."""

    cidr: str
    excepted: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()


def only(raw: Any, where: str, known: set[str]) -> dict[str, Any]:
    """Refuse unknown fields, as `kubectl apply` does; `where` ends with '.'."""
    if not isinstance(raw, dict):
        raise McpSpecError(where.rstrip("."), "must be a mapping")
    for key in raw:
        if key not in known:
            raise McpSpecError(where + key, "unknown field; known: " + ", ".join(sorted(known)))
    return raw


def volume(raw: Any, where: str) -> Volume | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) != 1:
        raise McpSpecError(where, "needs exactly one of emptyDir or persistentVolumeClaim")
    only(raw, where + ".", {"emptyDir", "persistentVolumeClaim"})
    if "emptyDir" in raw:
        empty = only(raw["emptyDir"] or {}, where + ".emptyDir.", {"sizeLimit"})
        return Volume(size_limit=str(empty.get("sizeLimit") or ""))
    at = where + ".persistentVolumeClaim."
    claim = only(raw["persistentVolumeClaim"] or {}, at, {"claimName"}).get("claimName")
    if not isinstance(claim, str) or not DNS_SUBDOMAIN.match(claim):
        raise McpSpecError(at + "claimName", f"{claim!r} is not a PersistentVolumeClaim name")
    return Volume(claim=claim)


def env(raw: Any, where: str) -> tuple[EnvVar, ...]:
    if not isinstance(raw, list):
        raise McpSpecError(where, "must be a list of {name, value} or {name, secretKeyRef}")
    out: list[EnvVar] = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not ENV_NAME.match(name):
            raise McpSpecError(f"{at}.name", f"{name!r} is not an environment variable name")
        if name in RESERVED_ENV:
            raise McpSpecError(f"{at}.name", f"{name} is set by the operator")
        if name in {e.name for e in out}:
            raise McpSpecError(f"{at}.name", f"{name} is listed twice")
        only(item, at + ".", {"name", "value", "secretKeyRef"})
        if ("value" in item) == ("secretKeyRef" in item):
            raise McpSpecError(at, "needs exactly one of value or secretKeyRef")
        if "value" in item:
            out.append(EnvVar(name, value=str(item["value"])))
            continue
        ref = only(item["secretKeyRef"] or {}, at + ".secretKeyRef.", {"name", "key"})
        secret, key = ref.get("name"), ref.get("key")
        if not isinstance(secret, str) or not DNS_SUBDOMAIN.match(secret):
            raise McpSpecError(f"{at}.secretKeyRef.name", f"{secret!r} is not a Secret name")
        if not isinstance(key, str) or not _SECRET_KEY.match(key):
            raise McpSpecError(f"{at}.secretKeyRef.key", f"{key!r} is not a Secret key")
        out.append(EnvVar(name, secret=secret, key=key))
    return tuple(out)


def paths(raw: Any, where: str) -> tuple[str, ...]:
    """Relative paths inside the volume, normalized; '.' (the whole volume) only alone."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_PATHS:
        raise McpSpecError(where, f"list 1 to {MAX_PATHS} paths of the volume to serve ('.': all)")
    out: list[str] = []
    for i, path in enumerate(raw):
        if path == ".":
            out.append(".")
            continue
        parts = path.strip("/").split("/") if isinstance(path, str) else [""]
        if not isinstance(path, str) or path.startswith("/") or not all(_part(p) for p in parts):
            raise McpSpecError(f"{where}[{i}]", f"{path!r} is not a relative path in the volume")
        out.append("/".join(parts))
    if len(set(out)) != len(out) or ("." in out and len(out) > 1):
        raise McpSpecError(where, "lists a path twice, or '.' (the whole volume) with others")
    return tuple(out)


def _part(part: str) -> bool:
    return part not in ("", ".", "..") and bool(_PATH_PART.match(part))


def egress(raw: Any, where: str) -> tuple[EgressRule, ...]:
    if not isinstance(raw, list):
        raise McpSpecError(where, "must be a list of {cidr, except, ports}")
    rules = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        only(item, at + ".", {"cidr", "except", "ports"})
        cidrs = [item.get("cidr"), *(item.get("except") or [])]
        for cidr in cidrs:
            try:
                ipaddress.ip_network(str(cidr), strict=False)
            except ValueError:
                raise McpSpecError(
                    at + ".cidr", f"{cidr!r} is not a CIDR like 10.0.0.0/8"
                ) from None
        ports = item.get("ports") or []
        if not all(isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in ports):
            raise McpSpecError(at + ".ports", "must be port numbers from 1 to 65535")
        rules.append(EgressRule(str(cidrs[0]), tuple(str(c) for c in cidrs[1:]), tuple(ports)))
    return tuple(rules)
