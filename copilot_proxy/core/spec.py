"""The CopilotProxy spec as typed, defaulted values, with the checks the schema cannot make.

The CRD's openAPIV3Schema rejects what is malformed (types, patterns, ranges,
unknown fields). What it cannot express (duplicates in list-maps, a route to a
model outside the chain, settings the operator must own, the GitHub hosts this
operator allows) is checked here, and so are the CRD's own bounds (bounds.py):
the operator, the local mode and the tests share one definition of "valid".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from copilot_proxy.core import bounds, mcp_spec, names, prices, spec_fields
from copilot_proxy.core.bounds import (
    SpecError,
    boolean,
    integer,
    listed,
    mapping,
    matching,
    only,
    text,
)
from copilot_proxy.core.credential import GitHubApp, parse_credential
from copilot_proxy.core.github import DEFAULT_HOSTS, GitHub
from copilot_proxy.core.litellm_settings import parse_litellm
from copilot_proxy.core.mcp_spec import McpServer, McpSpecError, SemanticFilter

API_GROUP = names.API_GROUP
API_VERSION = "v1alpha1"
KIND = names.KIND
PLURAL = "copilotproxies"

DEFAULT_CHAIN = ("claude-opus-4.6", "gemini-3-pro-preview", "gpt-5-mini")
DEFAULT_EMBEDDINGS = ("text-embedding-3-small",)

__all__ = ["SpecError"]  # raised by parse_spec; defined with the bounds it applies


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
    credential: GitHubApp | None = None  # None: the device flow (a person signs in)
    mcp_servers: tuple[McpServer, ...] = ()
    litellm: dict[str, dict[str, Any]] = field(default_factory=dict)
    embedding_models: tuple[str, ...] = DEFAULT_EMBEDDINGS
    mcp_semantic_filter: SemanticFilter = SemanticFilter()  # noqa: RUF009 - frozen

    @property
    def chain(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.models)


def parse_spec(
    name: str, namespace: str, spec: dict[str, Any], hosts: Sequence[GitHub] = DEFAULT_HOSTS
) -> ProxySpec:
    """Turn a CopilotProxy `spec` into a ProxySpec, or raise SpecError naming the field.

    Accepts specs with or without the API server's defaults applied (a manifest
    file in local mode has none). `hosts`: the GitHub hosts the operator's
    configuration allows (core/github.py).
    """
    if not isinstance(spec, dict):
        raise SpecError("", "must be a mapping")
    if not bounds.PROXY_NAME.match(name):
        raise SpecError(
            "metadata.name",
            f"{name!r} must be at most 63 lower-case letters, digits and '-', starting with a"
            " letter: it is also the proxy's Service name",
        )
    only(spec, "", _SPEC_FIELDS)
    bounds.upper_bounds(spec)
    models = _parse_models(spec.get("models"))
    chain = {m.name for m in models}
    parsed = ProxySpec(
        name=name,
        namespace=namespace,
        models=models,
        routes=_parse_routes(listed(spec, "routes"), chain),
        small_model=_small_model(spec.get("smallModel"), models),
        catch_all=boolean(spec, "catchAll", True),
        prefixed_names=boolean(spec, "prefixedNames", True),
        router=_parse_router(mapping(spec, "router")),
        replicas=integer(spec, "", "replicas", ProxySpec.replicas, 0, 20),
        image=text(spec, "image", "image", "spec.image"),
        image_pull_policy=spec_fields.pull_policy(spec),
        resources=spec_fields.resources(mapping(spec, "resources")),
        github=spec_fields.github(
            only(mapping(spec, "github"), "github.", {"host", "apiUrl"}), hosts
        ),
        token_secret=spec_fields.token_secret(name, mapping(spec, "tokenSecret")),
        credential=parse_credential(mapping(spec, "credential")),
        litellm=parse_litellm(mapping(spec, "litellm")),
        embedding_models=_parse_embeddings(
            # The default leaves out a model the chain already serves (older specs did so).
            spec.get("embeddingModels", [m for m in DEFAULT_EMBEDDINGS if m not in chain]),
            chain,
        ),
        **_parse_mcp(name, spec),
    )
    # LiteLLM reads `os.environ/NAME` as that variable in many places: none in a spec.
    bounds.no_environment_references(spec, "")
    return parsed


def _parse_router(raw: dict[str, Any]) -> Router:
    router = only(raw, "router.", _ROUTER_FIELDS)
    return Router(
        num_retries=integer(router, "router.", "numRetries", Router.num_retries, 0, 5),
        allowed_fails=integer(router, "router.", "allowedFails", Router.allowed_fails, 0, 100),
        cooldown_seconds=integer(
            router, "router.", "cooldownSeconds", Router.cooldown_seconds, 0, 86400
        ),
        timeout_seconds=integer(
            router, "router.", "timeoutSeconds", Router.timeout_seconds, 1, 3600
        ),
        quota_cooldown_seconds=integer(
            router, "router.", "quotaCooldownSeconds", Router.quota_cooldown_seconds, 0, 2678400
        ),
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
        only(item, f"{where}.", {"name", "dropParams"})
        name = item["name"]
        if name.startswith("github_copilot/"):
            raise SpecError(f"{where}.name", f"write {name.split('/', 1)[1]!r} without the prefix")
        matching(name, bounds.MODEL_NAME, f"{where}.name", "a Copilot model id")
        if name in seen:
            raise SpecError(f"{where}.name", f"{name!r} is listed twice in the chain")
        seen.add(name)
        models.append(Model(name=name, drop_params=_parse_drop_params(item, where)))
    return tuple(models)


def _parse_drop_params(item: dict[str, Any], where: str) -> tuple[str, ...]:
    field = f"{where}.dropParams"
    drop = item.get("dropParams") or []
    if not isinstance(drop, list) or not all(isinstance(p, str) and p for p in drop):
        raise SpecError(field, "must be a list of parameter names")
    for j, param in enumerate(drop):
        matching(param, bounds.PARAM_NAME, f"{field}[{j}]", "a request parameter name")
    if len(set(drop)) != len(drop):
        raise SpecError(field, "lists a parameter twice")
    return tuple(drop)


def _parse_embeddings(raw: Any, chain: set[str]) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple):
        raise SpecError("embeddingModels", "must be a list of embedding model ids")
    for i, name in enumerate(raw):
        if not isinstance(name, str) or not bounds.MODEL_NAME.match(name):
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
        if not isinstance(name, str) or not bounds.ROUTE_NAME.match(name):
            raise SpecError(f"{where}.name", f"{name!r} is not a model name clients can send")
        if name in seen:
            raise SpecError(f"{where}.name", f"route {name!r} is declared twice")
        if name in chain or name.removeprefix("github_copilot/") in chain:
            raise SpecError(f"{where}.name", f"{name!r} is already a model of the chain")
        seen.add(name)
        only(item, f"{where}.", {"name", "models"})
        models = item.get("models")
        if not isinstance(models, list) or not models:
            raise SpecError(f"{where}.models", "needs at least one model of spec.models")
        if len(set(map(str, models))) != len(models):
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
        servers = mcp_spec.parse_servers(mapping(spec, "mcpServers"))
        semantic = mcp_spec.parse_semantic_filter(mapping(spec, "mcpSemanticFilter"))
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


# Without the API server (local mode) nothing else checks the shapes: a wrong one
# must be a SpecError naming the field, not an AttributeError in a handler.
_SPEC_FIELDS = {
    "models", "routes", "smallModel", "catchAll", "prefixedNames", "router", "replicas", "image",
    "imagePullPolicy", "resources", "github", "tokenSecret", "credential", "mcpServers", "litellm",
    "embeddingModels", "mcpSemanticFilter",
}  # fmt: skip
_ROUTER_FIELDS = {
    "numRetries", "allowedFails", "cooldownSeconds", "timeoutSeconds", "quotaCooldownSeconds",
}  # fmt: skip
