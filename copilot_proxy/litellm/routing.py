"""The rendered model groups as LiteLLM's router holds them (pure).

A name's chain of Copilot models, the model behind a group, the deployments
of one model, and the hop groups of routes (`fast#gpt-5-mini`, named by
core/render.py), which stay internal: hidden from listings, refused by name,
shown as their model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from copilot_proxy.core.render import CATCH_ALL, HOP_MARK, hop_model
from copilot_proxy.litellm.failures import model_id


@dataclass(frozen=True)
class RouterView:
    """What the hook reads of the router (internals.router_view); empty without a router."""

    model_list: Sequence[Mapping[str, Any]] = ()  # the deployments, as in the config
    fallbacks: Sequence[object] = ()  # [{group: [next group, ...]}, ...]
    names: frozenset[str] = frozenset()  # every model group name
    cooldown_time: float = 0.0  # seconds a model is skipped after too many 402/429; 0: never
    allowed_fails: int = 0  # 402/429 answers tolerated per minute


def deployment_model(deployment: Mapping[str, Any]) -> str:
    """The Copilot model a router deployment (a `model_list` entry) calls."""
    return model_id(deployment.get("litellm_params", {}).get("model"))


def chain(router: RouterView, asked: str) -> list[str]:
    """The Copilot models a request for `asked` may use, primary first."""
    group = asked if asked in router.names else CATCH_ALL
    groups = [group]
    for entry in router.fallbacks:
        if isinstance(entry, Mapping) and group in entry:
            groups += [str(g) for g in entry[group]]
    models: list[str] = []
    for g in groups:
        for deployment in router.model_list:
            if deployment.get("model_name") == g:
                model = deployment_model(deployment)
                if model not in models:
                    models.append(model)
    return models


def group_model(router: RouterView, group: object) -> str:
    """The Copilot model serving a model group (a route's name included)."""
    name = str(group or "?")
    for deployment in router.model_list:
        if deployment.get("model_name") == name:
            return deployment_model(deployment)
    return model_id(name)


def deployment_ids(router: RouterView, model: str) -> list[str]:
    """The deployments calling one Copilot model.

    The same model serves several groups (its name, the prefixed name, routes,
    "*"): its quota is spent for all of them.
    """
    return [
        str(d.get("model_info", {}).get("id"))
        for d in router.model_list
        if deployment_model(d) == model
    ]


def shown(group: str) -> str:
    """The name users see for a model group: a hop group's model, else the group."""
    return hop_model(group) or group


def is_hop(name: str) -> bool:
    return HOP_MARK in name


def hop_refusal(model: object) -> str | None:
    """Why a request naming a hop group is refused (it would serve one model of a
    route, out of its chain); None for any other name."""
    if not isinstance(model, str) or not is_hop(model):
        return None
    route = model.split(HOP_MARK, 1)[0]
    return f"Invalid model name {model!r}: it is internal to this proxy; ask for {route!r}."
