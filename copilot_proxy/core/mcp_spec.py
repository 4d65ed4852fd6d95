"""`spec.mcpServers` and `spec.mcpSemanticFilter`: the MCP servers a proxy offers at `/mcp`.

A server is one of three kinds, exactly one of `url`, `preset`, `command`:
- `url`: a server someone else runs, reached over streamable HTTP (or SSE);
- `preset`: `memory` or `filesystem`, the original setup's servers, run by the
  operator from its MCP image (the locked npm packages, baked in);
- `command` (+ `args`): any stdio server, run by the operator the same way
  (from `image` when the MCP image does not hold it).
The operator runs a preset or command server as its own Deployment behind the
stdio-to-HTTP bridge (mcp_workloads.py); LiteLLM only ever talks HTTP to it and
never spawns a process in the proxy pod.

LiteLLM names a server's tools `<server>-<tool>` and refuses server names with
that separator, so a server name is lower-case letters, digits and `_`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from copilot_proxy.core import bounds, mcp_fields
from copilot_proxy.core.mcp_fields import EgressRule, EnvVar, McpSpecError, Volume, only

__all__ = ["EgressRule", "EnvVar", "McpServer", "McpSpecError", "SemanticFilter", "Volume"]

PRESETS = ("memory", "filesystem")
SERVER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_SERVERS = 32
EMBEDDING_MODEL = "text-embedding-3-small"

_COMMON = {"description", "transport"}
_RUN = {"image", "env", "volume", "egress", "resources"}
FIELDS = {
    "url": _COMMON | {"url"},
    "memory": _COMMON | _RUN | {"preset"},
    "filesystem": _COMMON | _RUN | {"preset", "paths", "readOnly"},
    "command": _COMMON | _RUN | {"command", "args", "readOnly"},
}
_ALL = set().union(*FIELDS.values())


@dataclass(frozen=True)
class McpServer:
    name: str
    url: str = ""
    transport: str = "http"
    description: str = ""
    preset: str = ""
    command: str = ""
    args: tuple[str, ...] = ()
    image: str = ""
    env: tuple[EnvVar, ...] = ()
    volume: Volume | None = None
    paths: tuple[str, ...] = ()
    read_only: bool = False
    egress: tuple[EgressRule, ...] = ()
    resources: dict[str, dict[str, Any]] = field(default_factory=dict, hash=False)

    @property
    def runs(self) -> bool:
        """True when the operator (or the local mode) runs it; False for a `url` server."""
        return not self.url

    @property
    def kind(self) -> str:
        return "url" if self.url else self.preset or "command"


@dataclass(frozen=True)
class SemanticFilter:
    """LiteLLM's MCP semantic tool filter; the embeddings come from the proxy's own Copilot."""

    enabled: bool = False
    top_k: int = 10
    similarity_threshold: float = 0.3


def parse_servers(raw: dict[str, Any]) -> tuple[McpServer, ...]:
    if len(raw) > MAX_SERVERS:
        raise McpSpecError("mcpServers", f"at most {MAX_SERVERS} servers")
    return tuple(_server(name, item) for name, item in sorted(raw.items()))


def parse_semantic_filter(raw: dict[str, Any]) -> SemanticFilter:
    where = "mcpSemanticFilter."
    only(raw, where, {"enabled", "topK", "similarityThreshold"})
    enabled = raw.get("enabled", False)
    top_k = raw.get("topK", SemanticFilter.top_k)
    threshold = raw.get("similarityThreshold", SemanticFilter.similarity_threshold)
    if not isinstance(enabled, bool):
        raise McpSpecError(where + "enabled", "must be true or false")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 100:
        raise McpSpecError(where + "topK", f"must be a whole number from 1 to 100, not {top_k!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise McpSpecError(where + "similarityThreshold", "must be a number from 0 to 1")
    if not 0 <= threshold <= 1:
        raise McpSpecError(where + "similarityThreshold", f"must be 0 to 1, not {threshold!r}")
    return SemanticFilter(enabled, top_k, float(threshold))


def _server(name: str, item: Any) -> McpServer:
    where = f"mcpServers.{name}."
    if not SERVER_NAME.match(name):
        raise McpSpecError(
            f"mcpServers.{name}",
            "a server name is up to 40 lower-case letters, digits and '_', starting with a"
            " letter (LiteLLM names its tools <server>-<tool>)",
        )
    kinds = [k for k in ("url", "preset", "command") if k in only(item, where, _ALL)]
    if len(kinds) != 1:
        raise McpSpecError(
            f"mcpServers.{name}",
            "needs exactly one of url (a server someone runs), preset (memory, filesystem)"
            " or command (a stdio server the operator runs)",
        )
    preset = item.get("preset", "")
    if kinds == ["preset"] and preset not in PRESETS:
        raise McpSpecError(where + "preset", f"{preset!r} is not one of {', '.join(PRESETS)}")
    kind = preset or kinds[0]
    only(item, where, FIELDS[kind])
    transport = item.get("transport", "http")
    if transport not in ("http", "sse") or (kind != "url" and transport != "http"):
        allowed = "http or sse" if kind == "url" else "http (the operator serves it over HTTP)"
        raise McpSpecError(where + "transport", f"must be {allowed}")
    description = _text(item, where, "description", 1024)
    if kind == "url":
        url = item["url"]
        if not isinstance(url, str) or not bounds.HTTP_URL.match(url):
            raise McpSpecError(where + "url", f"{url!r} is not an http(s) URL")
        return McpServer(name, url=url, transport=transport, description=description)
    return McpServer(name, description=description, **_run_fields(kind, item, where))


def _run_fields(kind: str, item: dict[str, Any], where: str) -> dict[str, Any]:
    read_only = item.get("readOnly", kind == "filesystem")
    if not isinstance(read_only, bool):
        raise McpSpecError(where + "readOnly", "must be true or false")
    volume = mcp_fields.volume(item.get("volume"), where + "volume")
    if kind == "filesystem" and (volume is None or not volume.claim):
        raise McpSpecError(
            where + "volume",
            "the filesystem preset serves paths of a PersistentVolumeClaim:"
            " volume: {persistentVolumeClaim: {claimName: <pvc>}}",
        )
    resources = item.get("resources") or {}
    fields: dict[str, Any] = {
        "image": _text(item, where, "image", 512),
        "env": mcp_fields.env(item.get("env") or [], where + "env"),
        "volume": volume,
        "read_only": read_only,
        "egress": mcp_fields.egress(item.get("egress") or [], where + "egress"),
        "resources": dict(only(resources, where + "resources.", {"requests", "limits"})),
    }
    if kind == "filesystem":
        return {
            **fields,
            "preset": kind,
            "paths": mcp_fields.paths(item.get("paths"), where + "paths"),
        }
    if kind == "memory":
        return {**fields, "preset": kind}
    command, args = item["command"], item.get("args") or []
    if not isinstance(command, str) or not command.strip():
        raise McpSpecError(where + "command", "must name the program, e.g. mcp-server-memory")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise McpSpecError(where + "args", "must be a list of strings")
    return {**fields, "command": command, "args": tuple(args)}


def _text(raw: dict[str, Any], where: str, key: str, limit: int) -> str:
    value = raw.get(key) or ""
    if not isinstance(value, str) or len(value) > limit:
        raise McpSpecError(where + key, f"must be a string of at most {limit} characters")
    return value
