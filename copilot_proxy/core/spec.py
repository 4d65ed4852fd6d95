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

from copilot_proxy.core import bounds, names
from copilot_proxy.core.bounds import (
    SpecError,
    boolean,
    integer,
    listed,
    mapping,
    matching,
    only,
    sized,
    text,
)
from copilot_proxy.core.github import (
    DEFAULT_HOSTS,
    HOST_PATTERN,
    GitHub,
    HostNotAllowed,
    resolve,
)
from copilot_proxy.core.litellm_settings import parse_litellm

API_GROUP = names.API_GROUP
API_VERSION = "v1alpha1"
KIND = "CopilotProxy"
PLURAL = "copilotproxies"

DEFAULT_CHAIN = ("claude-opus-4.6", "gemini-3-pro-preview", "gpt-5-mini")

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


@dataclass(frozen=True)
class McpServer:
    name: str
    url: str
    transport: str = "http"
    description: str = ""


@dataclass(frozen=True)
class ProxySpec:
    name: str
    namespace: str
    models: tuple[Model, ...]
    routes: tuple[Route, ...] = ()
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
    models = _parse_models(spec.get("models"))
    router = only(mapping(spec, "router"), "router.", _ROUTER_FIELDS)
    parsed = ProxySpec(
        name=name,
        namespace=namespace,
        models=models,
        routes=_parse_routes(listed(spec, "routes"), {m.name for m in models}),
        catch_all=boolean(spec, "catchAll", True),
        prefixed_names=boolean(spec, "prefixedNames", True),
        router=Router(
            num_retries=integer(router, "router.", "numRetries", Router.num_retries, 0, 5),
            allowed_fails=integer(router, "router.", "allowedFails", Router.allowed_fails, 0, 100),
            cooldown_seconds=integer(
                router, "router.", "cooldownSeconds", Router.cooldown_seconds, 0, 86400
            ),
            timeout_seconds=integer(
                router, "router.", "timeoutSeconds", Router.timeout_seconds, 1, 3600
            ),
        ),
        replicas=integer(spec, "", "replicas", ProxySpec.replicas, 0, 20),
        image=text(spec, "image", "image", "spec.image"),
        image_pull_policy=_pull_policy(spec),
        resources=_parse_resources(mapping(spec, "resources")),
        github=_parse_github(only(mapping(spec, "github"), "github.", {"host", "apiUrl"}), hosts),
        token_secret=_parse_token_secret(name, mapping(spec, "tokenSecret")),
        mcp_servers=_parse_mcp(sized(mapping(spec, "mcpServers"), "mcpServers", "spec.mcpServers")),
        litellm=parse_litellm(mapping(spec, "litellm")),
    )
    # LiteLLM reads `os.environ/NAME` as that variable in many places: none in a spec.
    bounds.no_environment_references(spec, "")
    return parsed


def token_secret_of(name: str, spec: Mapping[str, Any]) -> str:
    """The token Secret a raw spec names, also for a spec parse_spec refuses."""
    secret = spec.get("tokenSecret")
    return str((isinstance(secret, Mapping) and secret.get("name")) or names.token_secret(name))


def _parse_models(raw: Any) -> tuple[Model, ...]:
    if not isinstance(raw, list) or not raw:
        raise SpecError("models", "the chain needs at least one model, primary first")
    sized(raw, "models", "spec.models")
    models: list[Model] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"models[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise SpecError(f"{where}.name", "every model needs a name, e.g. claude-opus-4.6")
        only(item, f"{where}.", {"name", "dropParams"})
        name = sized(item["name"], f"{where}.name", "spec.models[].name")
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
    sized(drop, field, "spec.models[].dropParams")
    for j, param in enumerate(drop):
        sized(param, f"{field}[{j}]", "spec.models[].dropParams[]")
        matching(param, bounds.PARAM_NAME, f"{field}[{j}]", "a request parameter name")
    if len(set(drop)) != len(drop):
        raise SpecError(field, "lists a parameter twice")
    return tuple(drop)


def _parse_routes(raw: list[Any], chain: set[str]) -> tuple[Route, ...]:
    sized(raw, "routes", "spec.routes")
    routes: list[Route] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"routes[{i}]"
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not bounds.ROUTE_NAME.match(name):
            raise SpecError(f"{where}.name", f"{name!r} is not a model name clients can send")
        sized(name, f"{where}.name", "spec.routes[].name")
        if name in seen:
            raise SpecError(f"{where}.name", f"route {name!r} is declared twice")
        if name in chain or name.removeprefix("github_copilot/") in chain:
            raise SpecError(f"{where}.name", f"{name!r} is already a model of the chain")
        seen.add(name)
        only(item, f"{where}.", {"name", "models"})
        models = item.get("models")
        if not isinstance(models, list) or not models:
            raise SpecError(f"{where}.models", "needs at least one model of spec.models")
        sized(models, f"{where}.models", "spec.routes[].models")
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


def _parse_github(raw: dict[str, Any], hosts: Sequence[GitHub]) -> GitHub:
    host = text(raw, "host", "github.host", "spec.github.host", "github.com")
    matching(host, HOST_PATTERN, "github.host", "a host name such as github.com")
    api_url = text(raw, "apiUrl", "github.apiUrl", "spec.github.apiUrl")
    if api_url:
        matching(api_url, bounds.HTTP_URL, "github.apiUrl", "an http(s) URL")
    try:
        return resolve(hosts, host, api_url)
    except HostNotAllowed as refused:
        raise SpecError(refused.field, refused.message) from None


def _parse_token_secret(proxy: str, raw: dict[str, Any]) -> str:
    only(raw, "tokenSecret.", {"name"})
    name = text(raw, "name", "tokenSecret.name", "spec.tokenSecret.name")
    if not name:
        return names.token_secret(proxy)
    return matching(name, bounds.SECRET_NAME, "tokenSecret.name", "a Secret name")


def _pull_policy(spec: dict[str, Any]) -> str:
    policy = spec.get("imagePullPolicy")
    policy = "IfNotPresent" if policy is None else policy
    if policy not in bounds.PULL_POLICIES:
        raise SpecError("imagePullPolicy", "must be one of " + ", ".join(bounds.PULL_POLICIES))
    return str(policy)


def _parse_resources(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    only(raw, "resources.", {"requests", "limits"})
    for kind in raw:
        for resource, amount in mapping(raw, kind, "resources.").items():
            ok = isinstance(amount, int) and not isinstance(amount, bool)
            if not ok and not (isinstance(amount, str) and bounds.QUANTITY.match(amount)):
                raise SpecError(f"resources.{kind}.{resource}", f"{amount!r} is not a quantity")
    return dict(raw)


def _parse_mcp(raw: dict[str, Any]) -> tuple[McpServer, ...]:
    servers = []
    for name, item in sorted(raw.items(), key=lambda kv: str(kv[0])):
        if not isinstance(name, str) or not bounds.MCP_KEY.match(name):
            raise SpecError(
                "mcpServers",
                "server names are 1 to 63 lower-case letters, digits, '-' and '_',"
                " starting and ending with a letter or digit",
            )
        where = f"mcpServers.{name}"
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise SpecError(f"{where}.url", "needs the server's http(s) URL")
        only(item, f"{where}.", {"url", "transport", "description"})
        url = text(item, "url", f"{where}.url", "spec.mcpServers.*.url")
        matching(url, bounds.HTTP_URL, f"{where}.url", "an http(s) URL")
        transport = item.get("transport", "http")
        if transport not in ("http", "sse"):
            raise SpecError(f"{where}.transport", "must be http or sse")
        description = text(
            item, "description", f"{where}.description", "spec.mcpServers.*.description"
        )
        servers.append(McpServer(name, url, transport, description))
    return tuple(servers)


# Without the API server (local mode) nothing else checks the shapes: a wrong one
# must be a SpecError naming the field, not an AttributeError in a handler.
_SPEC_FIELDS = {
    "models", "routes", "catchAll", "prefixedNames", "router", "replicas", "image",
    "imagePullPolicy", "resources", "github", "tokenSecret", "mcpServers", "litellm",
}  # fmt: skip
_ROUTER_FIELDS = {"numRetries", "allowedFails", "cooldownSeconds", "timeoutSeconds"}
