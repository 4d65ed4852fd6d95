"""The CopilotProxy spec as typed, defaulted values, with the checks the schema cannot make.

The CRD's openAPIV3Schema rejects what is malformed (types, patterns, ranges,
unknown fields). What it cannot express (duplicates in list-maps, a route to a
model outside the chain, settings the operator must own) is checked here, so
the operator, the local mode and the tests share one definition of "valid".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from copilot_proxy.core import mcp_spec, names, prices
from copilot_proxy.core.github import GitHub
from copilot_proxy.core.mcp_spec import McpServer, McpSpecError, SemanticFilter
from copilot_proxy.core.spec_values import SpecError as SpecError  # one home, known as spec's
from copilot_proxy.core.spec_values import _bool, _int, _list, _mapping, _only

API_GROUP = names.API_GROUP
API_VERSION = "v1alpha1"
KIND = "CopilotProxy"
PLURAL = "copilotproxies"

DEFAULT_CHAIN = ("claude-opus-4.6", "gemini-3-pro-preview", "gpt-5-mini")
DEFAULT_EMBEDDINGS = ("text-embedding-3-small",)

_MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_ROUTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
# The proxy's name is its Service's name and a label value: a DNS-1035 label.
_PROXY_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")

# Keys of `spec.litellm.*` that would take over what the operator must own.
_OWNED_SETTINGS = {
    "router_settings": ("fallbacks", "model_list", "model_group_alias"),
    "general_settings": ("master_key", "database_url"),
    "litellm_settings": ("fallbacks",),
}


@dataclass(frozen=True)
class Model:
    name: str
    drop_params: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    name: str
    models: tuple[str, ...]


@dataclass(frozen=True)
class Router:
    num_retries: int = 0
    allowed_fails: int = 0
    cooldown_seconds: int = 60
    timeout_seconds: int = 600
    # How long a model whose quota is spent (402) is skipped when the reset date is unknown.
    quota_cooldown_seconds: int = 3600


@dataclass(frozen=True)
class ProxySpec:
    name: str
    namespace: str
    models: tuple[Model, ...]
    routes: tuple[Route, ...] = ()
    small_model: str = ""  # serves Claude Code's small/fast model; parse_spec fills it in
    catch_all: bool = True
    prefixed_names: bool = True
    router: Router = Router()
    replicas: int = 1
    image: str = ""
    image_pull_policy: str = "IfNotPresent"
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    github: GitHub = GitHub()  # noqa: RUF009 - frozen, so one shared default is safe
    token_secret: str = ""
    mcp_servers: tuple[McpServer, ...] = ()
    litellm: dict[str, dict[str, Any]] = field(default_factory=dict)
    embedding_models: tuple[str, ...] = DEFAULT_EMBEDDINGS
    mcp_semantic_filter: SemanticFilter = SemanticFilter()  # noqa: RUF009 - frozen

    @property
    def chain(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.models)


def parse_spec(name: str, namespace: str, spec: dict[str, Any]) -> ProxySpec:
    """Turn a CopilotProxy `spec` into a ProxySpec, or raise SpecError naming the field.

    Accepts specs with or without the API server's defaults applied (a manifest
    file in local mode has none).
    """
    if not isinstance(spec, dict):
        raise SpecError("", "must be a mapping")
    if not _PROXY_NAME.match(name):
        raise SpecError(
            "metadata.name",
            f"{name!r} must be at most 63 lower-case letters, digits and '-', starting with a"
            " letter: it is also the proxy's Service name",
        )
    _only(spec, "", _SPEC_FIELDS)
    models = _parse_models(spec.get("models"))
    chain = {m.name for m in models}
    router = _only(_mapping(spec, "router"), "router.", _ROUTER_FIELDS)
    github = _only(_mapping(spec, "github"), "github.", {"host", "apiUrl"})
    host = github.get("host", "github.com")
    if not isinstance(host, str) or not _HOST.match(host):
        raise SpecError("github.host", f"{host!r} is not a host name such as github.com")
    return ProxySpec(
        name=name,
        namespace=namespace,
        models=models,
        routes=_parse_routes(_list(spec, "routes"), chain),
        small_model=_small_model(spec.get("smallModel"), models),
        catch_all=_bool(spec, "catchAll", True),
        prefixed_names=_bool(spec, "prefixedNames", True),
        router=Router(
            num_retries=_int(router, "router.", "numRetries", Router.num_retries, 0, 5),
            allowed_fails=_int(router, "router.", "allowedFails", Router.allowed_fails, 0, 100),
            cooldown_seconds=_int(
                router, "router.", "cooldownSeconds", Router.cooldown_seconds, 0, 86400
            ),
            timeout_seconds=_int(
                router, "router.", "timeoutSeconds", Router.timeout_seconds, 1, 3600
            ),
            quota_cooldown_seconds=_int(
                router, "router.", "quotaCooldownSeconds", Router.quota_cooldown_seconds, 0, 2678400
            ),
        ),
        replicas=_int(spec, "", "replicas", ProxySpec.replicas, 0, 20),
        image=str(spec.get("image") or ""),
        image_pull_policy=str(spec.get("imagePullPolicy") or "IfNotPresent"),
        resources=dict(_only(_mapping(spec, "resources"), "resources.", {"requests", "limits"})),
        github=GitHub(host=host, api_url=str(github.get("apiUrl") or "")),
        token_secret=str(
            _only(_mapping(spec, "tokenSecret"), "tokenSecret.", {"name"}).get("name")
            or names.token_secret(name)
        ),
        litellm=_parse_litellm(_mapping(spec, "litellm")),
        embedding_models=_parse_embeddings(
            # The default leaves out a model the chain already serves (older specs did so).
            spec.get("embeddingModels", [m for m in DEFAULT_EMBEDDINGS if m not in chain]),
            chain,
        ),
        **_parse_mcp(name, spec),
    )


def token_secret_of(name: str, spec: Mapping[str, Any]) -> str:
    """The token Secret a raw spec names, also for a spec parse_spec refuses."""
    secret = spec.get("tokenSecret")
    return str((isinstance(secret, Mapping) and secret.get("name")) or names.token_secret(name))


def _parse_models(raw: Any) -> tuple[Model, ...]:
    if not isinstance(raw, list) or not raw:
        raise SpecError("models", "the chain needs at least one model, primary first")
    models: list[Model] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"models[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise SpecError(f"{where}.name", "every model needs a name, e.g. claude-opus-4.6")
        _only(item, f"{where}.", {"name", "dropParams"})
        name = item["name"]
        if name.startswith("github_copilot/"):
            raise SpecError(f"{where}.name", f"write {name.split('/', 1)[1]!r} without the prefix")
        if not _MODEL_NAME.match(name):
            raise SpecError(f"{where}.name", f"{name!r} is not a Copilot model id")
        if name in seen:
            raise SpecError(f"{where}.name", f"{name!r} is listed twice in the chain")
        seen.add(name)
        drop = item.get("dropParams") or []
        if not isinstance(drop, list) or not all(isinstance(p, str) and p for p in drop):
            raise SpecError(f"{where}.dropParams", "must be a list of parameter names")
        if len(set(drop)) != len(drop):
            raise SpecError(f"{where}.dropParams", "lists a parameter twice")
        models.append(Model(name=name, drop_params=tuple(drop)))
    return tuple(models)


def _parse_embeddings(raw: Any, chain: set[str]) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple):
        raise SpecError("embeddingModels", "must be a list of embedding model ids")
    for i, name in enumerate(raw):
        if not isinstance(name, str) or not _MODEL_NAME.match(name):
            raise SpecError(f"embeddingModels[{i}]", f"{name!r} is not a Copilot model id")
        if name in chain:
            raise SpecError(f"embeddingModels[{i}]", f"{name!r} is a chat model of spec.models")
    if len(set(raw)) != len(raw):
        raise SpecError("embeddingModels", "lists a model twice")
    return tuple(raw)


def _parse_routes(raw: list[Any], chain: set[str]) -> tuple[Route, ...]:
    routes: list[Route] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"routes[{i}]"
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not _ROUTE_NAME.match(name):
            raise SpecError(f"{where}.name", f"{name!r} is not a model name clients can send")
        if name in seen:
            raise SpecError(f"{where}.name", f"route {name!r} is declared twice")
        if name in chain or name.removeprefix("github_copilot/") in chain:
            raise SpecError(f"{where}.name", f"{name!r} is already a model of the chain")
        seen.add(name)
        _only(item, f"{where}.", {"name", "models"})
        models = item.get("models")
        if not isinstance(models, list) or not models:
            raise SpecError(f"{where}.models", "needs at least one model of spec.models")
        if len(set(models)) != len(models):
            raise SpecError(f"{where}.models", "lists a model twice")
        for j, model in enumerate(models):
            if model not in chain:
                raise SpecError(
                    f"{where}.models[{j}]",
                    f"{model!r} is not in spec.models; add it there or pick one of "
                    + ", ".join(sorted(chain)),
                )
        routes.append(Route(name=name, models=tuple(models)))
    return tuple(routes)


def _small_model(raw: Any, models: tuple[Model, ...]) -> str:
    """The model serving Claude Code's small/fast model: one of the chain, by default its
    cheapest (core/prices.py)."""
    chain = [m.name for m in models]
    if raw is None:
        return prices.cheapest(chain)
    if raw not in chain:
        raise SpecError(
            "smallModel", f"{raw!r} is not in spec.models; pick one of " + ", ".join(chain)
        )
    return str(raw)


def _parse_mcp(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """`mcpServers` and `mcpSemanticFilter` (mcp_spec.py), with the names they give objects."""
    try:
        servers = mcp_spec.parse_servers(_mapping(spec, "mcpServers"))
        semantic = mcp_spec.parse_semantic_filter(_mapping(spec, "mcpSemanticFilter"))
    except McpSpecError as error:
        raise SpecError(error.field, error.message) from None
    for server in servers:
        # The server's Service is named <proxy>-mcp-<server>: a DNS label too.
        if server.runs and len(names.mcp_server(name, server.name)) > 63:
            raise SpecError(
                f"mcpServers.{server.name}",
                f"its Service name {names.mcp_server(name, server.name)!r} would be over 63"
                " characters; use a shorter server (or proxy) name",
            )
    return {"mcp_servers": servers, "mcp_semantic_filter": semantic}


def _parse_litellm(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for section, value in raw.items():
        if section not in _OWNED_SETTINGS:
            raise SpecError(
                f"litellm.{section}",
                "unknown section; use litellm_settings, router_settings or general_settings",
            )
        if not isinstance(value, dict):
            raise SpecError(f"litellm.{section}", "must be a mapping")
        for key in _OWNED_SETTINGS[section]:
            if key in value:
                raise SpecError(
                    f"litellm.{section}.{key}",
                    "is set by the operator; declare the chain in spec.models and spec.routes",
                )
        out[section] = dict(value)
    return out


# Without the API server (local mode) nothing else checks the shapes: a wrong one
# must be a SpecError naming the field, not an AttributeError in a handler.
_SPEC_FIELDS = {
    "models", "routes", "smallModel", "catchAll", "prefixedNames", "router", "replicas", "image",
    "imagePullPolicy", "resources", "github", "tokenSecret", "mcpServers", "litellm",
    "embeddingModels",
}  # fmt: skip
_ROUTER_FIELDS = {
    "numRetries", "allowedFails", "cooldownSeconds", "timeoutSeconds", "quotaCooldownSeconds",
    "mcpSemanticFilter",
}  # fmt: skip
