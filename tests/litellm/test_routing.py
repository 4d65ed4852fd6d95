"""The rendered model groups as the router holds them: chains, group models, hop groups."""

from __future__ import annotations

from typing import Any

import pytest

from copilot_proxy.core.render import render_config
from copilot_proxy.core.spec import parse_spec
from copilot_proxy.litellm import routing
from copilot_proxy.litellm.routing import RouterView

CHAIN = ["claude-opus-4.6", "gemini-3-pro-preview", "gpt-5-mini"]


def view(**fields: Any) -> RouterView:
    """The router LiteLLM builds from our rendered config (it adds each deployment's id)."""
    raw = {"models": [{"name": n} for n in CHAIN], **fields}
    config = render_config(parse_spec("copilot", "default", raw))
    model_list = [
        {**d, "model_info": {"id": f"id-{i}"}} for i, d in enumerate(config["model_list"])
    ]
    return RouterView(
        model_list=model_list,
        fallbacks=config["router_settings"]["fallbacks"],
        names=frozenset(d["model_name"] for d in model_list),
        cooldown_time=60.0,
        allowed_fails=0,
    )


ROUTES = [{"name": "fast", "models": ["gpt-5-mini", "gemini-3-pro-preview"]}]


@pytest.mark.parametrize(
    ("asked", "chain"),
    [
        ("claude-opus-4.6", CHAIN),
        ("gemini-3-pro-preview", CHAIN[1:]),
        ("github_copilot/gemini-3-pro-preview", CHAIN[1:]),
        ("claude-3-5-sonnet-20241022", CHAIN),  # unknown: the catch-all
        ("fast", ["gpt-5-mini", "gemini-3-pro-preview"]),
    ],
)
def test_chain_of_a_name(asked: str, chain: list[str]) -> None:
    assert routing.chain(view(routes=ROUTES), asked) == chain


def test_no_chain_without_a_router_or_a_catch_all() -> None:
    assert routing.chain(RouterView(), "gpt-5-mini") == []
    assert routing.chain(view(catchAll=False), "claude-3-5-sonnet-20241022") == []


def test_group_model_of_a_route_a_hop_and_an_unknown_group() -> None:
    router = view(routes=ROUTES)
    assert routing.group_model(router, "fast") == "gpt-5-mini"
    assert routing.group_model(router, "fast#gemini-3-pro-preview") == "gemini-3-pro-preview"
    assert routing.group_model(router, "*") == "claude-opus-4.6"
    assert routing.group_model(router, "github_copilot/o3") == "o3"
    assert routing.group_model(RouterView(), None) == "?"


def test_deployment_ids_of_a_model_under_every_name() -> None:
    router = view(routes=ROUTES)
    ids = routing.deployment_ids(router, "gemini-3-pro-preview")
    groups = {d["model_name"] for d in router.model_list if d["model_info"]["id"] in ids}
    assert groups == {
        "gemini-3-pro-preview",
        "github_copilot/gemini-3-pro-preview",
        "fast#gemini-3-pro-preview",
    }
    assert len(routing.deployment_ids(router, "claude-opus-4.6")) == 3  # with "*"


def test_hop_groups_are_shown_as_their_model() -> None:
    assert routing.shown("fast#gemini-3-pro-preview") == "gemini-3-pro-preview"
    assert routing.shown("fast") == "fast"
    assert routing.shown("gpt-5-mini") == "gpt-5-mini"


def test_hop_groups_are_hidden_from_listings() -> None:
    names = sorted(view(routes=ROUTES).names)
    embedding = ["text-embedding-3-small", "github_copilot/text-embedding-3-small"]
    assert [n for n in names if not routing.is_hop(n)] == sorted(
        [*CHAIN, *(f"github_copilot/{m}" for m in CHAIN), "fast", "*", *embedding]
    )


def test_asking_for_a_hop_group_is_refused_naming_its_route() -> None:
    assert routing.hop_refusal("fast#gemini-3-pro-preview") == (
        "Invalid model name 'fast#gemini-3-pro-preview': it is internal to this proxy;"
        " ask for 'fast'."
    )
    assert routing.hop_refusal("fast") is None
    assert routing.hop_refusal(None) is None


def test_a_model_reached_under_two_names_is_in_the_chain_once() -> None:
    model_list = [
        {"model_name": "a", "litellm_params": {"model": "github_copilot/gpt-5"}},
        {"model_name": "b", "litellm_params": {"model": "github_copilot/gpt-5-mini"}},
        {
            "model_name": "github_copilot/b",
            "litellm_params": {"model": "github_copilot/gpt-5-mini"},
        },
    ]
    router = RouterView(
        model_list=model_list,
        fallbacks=[{"a": ["b", "github_copilot/b"]}],
        names=frozenset({"a", "b", "github_copilot/b"}),
    )
    assert routing.chain(router, "a") == ["gpt-5", "gpt-5-mini"]
