"""parse_spec: defaults, and the mistakes the CRD schema admits but the operator cannot serve.

Each refused spec must name the field to fix, because that text becomes the
CopilotProxy's Ready=False message.
"""

from __future__ import annotations

from typing import Any

import pytest

from copilot_proxy.core.github import GitHub
from copilot_proxy.core.mcp_spec import McpServer
from copilot_proxy.core.spec import (
    DEFAULT_CHAIN,
    Model,
    Route,
    Router,
    SpecError,
    parse_spec,
    token_secret_of,
)

CHAIN = [{"name": name} for name in DEFAULT_CHAIN]


def spec(**fields: Any) -> dict[str, Any]:
    return {"models": [dict(m) for m in CHAIN], **fields}


def refused(raw: dict[str, Any]) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse_spec("p", "ns", raw)
    return caught.value


def test_minimal_spec_gets_the_defaults_that_fall_back_at_once() -> None:
    parsed = parse_spec("copilot", "team-a", {"models": [{"name": "claude-opus-4.6"}]})
    assert parsed.name == "copilot" and parsed.namespace == "team-a"
    assert parsed.models == (Model("claude-opus-4.6"),)
    assert parsed.routes == () and parsed.mcp_servers == () and parsed.litellm == {}
    assert parsed.catch_all is True and parsed.prefixed_names is True
    assert parsed.router == Router(
        num_retries=0, allowed_fails=0, cooldown_seconds=60, timeout_seconds=600
    )
    assert parsed.replicas == 1
    assert parsed.image == "" and parsed.image_pull_policy == "IfNotPresent"
    assert parsed.resources == {}
    assert parsed.github == GitHub(
        host="github.com", web_base="https://github.com", api_base="https://api.github.com"
    )
    assert parsed.token_secret == "copilot-github-token"
    assert parsed.small_model == "claude-opus-4.6"  # the only model


def test_small_model_defaults_to_the_cheapest_model_of_the_chain() -> None:
    # By GitHub's AI-credit prices, wherever it stands in the chain.
    assert parse_spec("p", "ns", spec()).small_model == "gpt-5-mini"
    chain = [{"name": m} for m in ("gpt-5-mini", "claude-haiku-4.5", "gpt-5.4-nano")]
    assert parse_spec("p", "ns", {"models": chain}).small_model == "gpt-5.4-nano"


def test_small_model_is_a_model_of_the_chain() -> None:
    assert parse_spec("p", "ns", spec(smallModel="claude-opus-4.6")).small_model == (
        "claude-opus-4.6"
    )
    error = refused(spec(smallModel="claude-haiku-4.5"))
    assert error.field == "smallModel"
    assert "not in spec.models" in str(error) and "gpt-5-mini" in str(error)


def test_token_secret_is_known_even_for_a_refused_spec() -> None:
    # The status of an invalid spec and the operator's index still name the token Secret.
    named = {"models": "oops", "tokenSecret": {"name": "shared-login"}}
    assert refused(named)
    assert token_secret_of("copilot", named) == "shared-login"
    assert token_secret_of("copilot", {"models": "oops"}) == "copilot-github-token"
    assert token_secret_of("copilot", {"tokenSecret": "oops"}) == "copilot-github-token"
    for raw in ({}, {"tokenSecret": {"name": "shared-login"}}):
        assert (
            token_secret_of("copilot", raw) == parse_spec("copilot", "ns", spec(**raw)).token_secret
        )


def test_default_chain_is_the_original_setup() -> None:
    assert DEFAULT_CHAIN == ("claude-opus-4.6", "gemini-3-pro-preview", "gpt-5-mini")


def test_chain_keeps_the_declared_order_and_drop_params() -> None:
    raw = spec()
    raw["models"][2]["dropParams"] = ["thinking"]
    parsed = parse_spec("p", "ns", raw)
    assert parsed.chain == DEFAULT_CHAIN
    assert parsed.models[2] == Model("gpt-5-mini", ("thinking",))


def test_full_spec_is_read_field_by_field() -> None:
    parsed = parse_spec(
        "acme",
        "ai",
        spec(
            routes=[{"name": "fast", "models": ["gpt-5-mini"]}],
            catchAll=False,
            prefixedNames=False,
            router={"numRetries": 2, "allowedFails": 3, "cooldownSeconds": 5, "timeoutSeconds": 7},
            replicas=3,
            image="registry.example.com/proxy:1",
            imagePullPolicy="Always",
            resources={"requests": {"cpu": "1"}},
            tokenSecret={"name": "acme-token"},
            mcpServers={
                "b": {"url": "https://b/sse", "transport": "sse"},
                "a": {"url": "http://a"},
            },
            litellm={"router_settings": {"routing_strategy": "simple-shuffle"}},
        ),
    )
    assert parsed.routes == (Route("fast", ("gpt-5-mini",)),)
    assert not parsed.catch_all and not parsed.prefixed_names
    assert parsed.router == Router(2, 3, 5, 7)
    assert parsed.replicas == 3
    assert parsed.image == "registry.example.com/proxy:1" and parsed.image_pull_policy == "Always"
    assert parsed.resources == {"requests": {"cpu": "1"}}
    assert parsed.token_secret == "acme-token"
    # Sorted by name, so the rendered config does not depend on the map's order.
    assert parsed.mcp_servers == (
        McpServer("a", "http://a", "http", ""),
        McpServer("b", "https://b/sse", "sse", ""),
    )
    assert parsed.litellm == {"router_settings": {"routing_strategy": "simple-shuffle"}}


# --- GitHub hosts: the operator's configuration picks them, never the resource -------

ACME = GitHub.named("acme.ghe.com")
GATEWAY = GitHub.named("gw.ghe.com", api_url="https://gateway.acme.example/api/")
HOSTS = (GitHub(), ACME, GATEWAY)


@pytest.mark.parametrize(
    ("github", "web", "api"),
    [
        ({}, "https://github.com", "https://api.github.com"),
        ({"host": "github.com"}, "https://github.com", "https://api.github.com"),
        ({"host": "acme.ghe.com"}, "https://acme.ghe.com", "https://api.acme.ghe.com"),
        (
            {"host": "acme.ghe.com", "apiUrl": "https://api.acme.ghe.com/"},
            "https://acme.ghe.com",
            "https://api.acme.ghe.com",
        ),
        ({"host": "gw.ghe.com"}, "https://gw.ghe.com", "https://gateway.acme.example/api"),
    ],
)
def test_github_host_gives_the_configured_web_and_api_bases(
    github: dict[str, str], web: str, api: str
) -> None:
    parsed = parse_spec("p", "ns", spec(github=github), HOSTS)
    assert parsed.github.web_base == web
    assert parsed.github.api_base == api


@pytest.mark.parametrize(
    ("github", "field", "says"),
    [
        ({"host": "attacker.example"}, "github.host", "github.com, acme.ghe.com, gw.ghe.com"),
        ({"apiUrl": "http://attacker.example/"}, "github.apiUrl", "https://api.github.com"),
        ({"host": "acme.ghe.com", "apiUrl": "https://api.github.com"}, "github.apiUrl", "acme"),
    ],
)
def test_a_github_the_configuration_does_not_list_is_refused(
    github: dict[str, str], field: str, says: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec("p", "ns", spec(github=github), HOSTS)
    assert caught.value.field == field and says in caught.value.message


def test_without_configuration_only_github_com_is_allowed() -> None:
    assert parse_spec("p", "ns", spec()).github == GitHub()
    with pytest.raises(SpecError) as caught:
        parse_spec("p", "ns", spec(github={"host": "acme.ghe.com"}))
    assert "Helm values github.hosts" in caught.value.message


# --- what the schema admits but the operator refuses --------------------------------


@pytest.mark.parametrize(
    ("routes", "field", "says"),
    [
        ([{"name": "fast", "models": ["gpt-5-mini", "o3"]}], "routes[0].models[1]", "'o3'"),
        (
            [{"name": "a", "models": ["gpt-5-mini"]}, {"name": "b", "models": ["claude-3"]}],
            "routes[1].models[0]",
            "not in spec.models",
        ),
        (
            [{"name": "fast", "models": ["gpt-5-mini"]}, {"name": "fast", "models": ["o3"]}],
            "routes[1].name",
            "twice",
        ),
        ([{"name": "gpt-5-mini", "models": ["gpt-5-mini"]}], "routes[0].name", "already"),
        (
            [{"name": "github_copilot/claude-opus-4.6", "models": ["gpt-5-mini"]}],
            "routes[0].name",
            "already",
        ),
        ([{"name": "fast", "models": ["gpt-5-mini", "gpt-5-mini"]}], "routes[0].models", "twice"),
        ([{"name": "fast", "models": []}], "routes[0].models", "at least one"),
        ([{"name": "*", "models": ["gpt-5-mini"]}], "routes[0].name", "'*'"),
    ],
)
def test_bad_route_is_refused_naming_the_field(
    routes: list[dict[str, Any]], field: str, says: str
) -> None:
    error = refused(spec(routes=routes))
    assert error.field == field
    assert says in error.message
    assert str(error).startswith(f"spec.{field}: ")


def test_route_to_a_model_outside_the_chain_lists_the_choices() -> None:
    error = refused(spec(routes=[{"name": "fast", "models": ["gpt-4o"]}]))
    assert all(name in error.message for name in DEFAULT_CHAIN)


@pytest.mark.parametrize(
    ("litellm", "field"),
    [
        ({"router_settings": {"fallbacks": [{"a": ["b"]}]}}, "litellm.router_settings.fallbacks"),
        ({"router_settings": {"model_list": []}}, "litellm.router_settings.model_list"),
        ({"litellm_settings": {"fallbacks": []}}, "litellm.litellm_settings.fallbacks"),
        ({"general_settings": {"master_key": "sk-mine"}}, "litellm.general_settings.master_key"),
        ({"general_settings": {"database_url": "x"}}, "litellm.general_settings.database_url"),
        ({"environment_variables": {"A": "b"}}, "litellm.environment_variables"),
        ({"router_settings": "fast"}, "litellm.router_settings"),
    ],
)
def test_pass_through_cannot_take_over_what_the_operator_owns(
    litellm: dict[str, Any], field: str
) -> None:
    error = refused(spec(litellm=litellm))
    assert error.field == field


def test_refusal_does_not_echo_a_key_the_user_put_in_the_pass_through() -> None:
    secret = "sk-do-not-print-" + "x" * 32
    error = refused(spec(litellm={"general_settings": {"master_key": secret}}))
    assert secret not in str(error)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"models": []}, "models"),
        ({}, "models"),
        ({"models": "gpt-5-mini"}, "models"),
        ({"models": [{"name": "gpt-5-mini"}, {}]}, "models[1].name"),
        ({"models": [{"name": "gpt-5-mini"}, {"name": "gpt-5-mini"}]}, "models[1].name"),
        ({"models": [{"name": "github_copilot/gpt-5-mini"}]}, "models[0].name"),
        ({"models": [{"name": "GPT-5"}]}, "models[0].name"),
        ({"models": [{"name": "gpt-5-mini", "dropParams": ["a", "a"]}]}, "models[0].dropParams"),
        (spec(replicas=-1), "replicas"),
        (spec(replicas=True), "replicas"),
        (spec(router={"numRetries": 6}), "router.numRetries"),
        (spec(router={"allowedFails": 101}), "router.allowedFails"),
        (spec(router={"cooldownSeconds": 86401}), "router.cooldownSeconds"),
        (spec(router={"timeoutSeconds": 3601}), "router.timeoutSeconds"),
        (spec(prefixedNames="no"), "prefixedNames"),
        (spec(github={"host": "acme.ghe.com/"}), "github.host"),
        (spec(mcpServers={"m": {"transport": "http"}}), "mcpServers.m"),
        (spec(mcpServers={"m": {"url": "ftp://m"}}), "mcpServers.m.url"),
        (
            spec(mcpServers={"m": {"url": "http://m", "transport": "stdio"}}),
            "mcpServers.m.transport",
        ),
        # Shapes only the API server would catch; the local mode has none.
        ({"models": [{"name": "gpt-5-mini", "dropParams": "thinking"}]}, "models[0].dropParams"),
        (spec(routes={"fast": ["gpt-5-mini"]}), "routes"),
        (spec(router=3), "router"),
        (spec(github="acme.ghe.com"), "github"),
        (spec(tokenSecret="my-token"), "tokenSecret"),
        (spec(mcpServers=[{"url": "http://m"}]), "mcpServers"),
        (spec(litellm=[{"router_settings": {}}]), "litellm"),
        (spec(resources=["cpu"]), "resources"),
    ],
)
def test_malformed_spec_is_refused_naming_the_field(raw: dict[str, Any], field: str) -> None:
    assert refused(raw).field == field


def test_prefixed_model_name_says_how_to_write_it() -> None:
    error = refused({"models": [{"name": "github_copilot/claude-opus-4.6"}]})
    assert "'claude-opus-4.6'" in error.message


def test_spec_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(SpecError):
        parse_spec("p", "ns", ["models"])  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["a", "copilot", "team-a-proxy-2", "x" * 63])
def test_proxy_names_that_can_name_a_service_are_accepted(name: str) -> None:
    assert parse_spec(name, "ns", spec()).name == name


@pytest.mark.parametrize("name", ["copilot.prod", "2fast", "Copilot", "proxy-", "x" * 64, ""])
def test_proxy_name_that_cannot_name_a_service_is_refused(name: str) -> None:
    """The CRD admits any object name; the Service `<name>` needs a DNS-1035 label."""
    with pytest.raises(SpecError) as caught:
        parse_spec(name, "ns", spec())
    assert caught.value.field == "metadata.name"
    assert str(caught.value).startswith("metadata.name: ")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"models": [{"name": "gpt-5-mini"}], "fallbacks": ["x"]}, "fallbacks"),
        ({"models": [{"name": "gpt-5-mini", "fallback": "x"}]}, "models[0].fallback"),
        ({"models": [{"name": "gpt-5-mini"}], "router": {"retries": 2}}, "router.retries"),
        (
            {"models": [{"name": "a"}], "routes": [{"name": "f", "models": ["a"], "x": 1}]},
            "routes[0].x",
        ),
        ({"models": [{"name": "a"}], "github": {"hostname": "x.ghe.com"}}, "github.hostname"),
    ],
)
def test_unknown_field_is_refused_not_ignored(raw: dict[str, Any], field: str) -> None:
    # A manifest in local mode has no API server to refuse a typo: parse_spec must.
    with pytest.raises(SpecError) as caught:
        parse_spec("p", "ns", raw)
    assert caught.value.field == field
    assert "unknown field" in str(caught.value)
