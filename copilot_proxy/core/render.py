"""ProxySpec -> LiteLLM proxy configuration (pure functions).

Where LiteLLM reads things (docs/upstream.md, "The LiteLLM proxy"):
- fallbacks only from `router_settings.fallbacks`, as `[{group: [next, ...]}]`;
  a `fallbacks` key inside a `model_list` entry is silently ignored;
- `num_retries: 0` makes a failing model fall through at once instead of
  retrying for seconds;
- LiteLLM's own cooldowns are off (`disable_cooldowns`): they never skip a
  one-deployment group after a 402 and they charge a skipped model's "cooling
  down" error to the model that served, which soon cools the whole chain. The
  request logger (litellm/cooldowns.py) cools a model down after more than
  `allowed_fails` 402/429 answers, for `cooldown_time`;
- the master key is read from the environment, never written into the config;
- `system` messages reach Copilot's chat endpoint as `system`
  (`disable_copilot_system_to_assistant`): LiteLLM would turn them into
  `assistant` turns, a 2025 workaround Copilot no longer needs (docs/upstream.md);
- `/metrics` (the plugin's counters) answers without the key
  (`require_auth_for_metrics_endpoint: false`): Prometheus scrapes every proxy
  with one ServiceMonitor and cannot hold each proxy's key;
- the plugin's own settings travel in the top-level `copilot_proxy:` key, which
  LiteLLM ignores (litellm/settings.py reads it): the proxy's identity for its
  metrics and the model serving Claude Code's small/fast model;
- LiteLLM follows fallbacks recursively: when a fallback group fails, its own
  chain is tried. A route falling back to the model groups would run on into
  the main chain after its last model. A route's 2nd..nth models are therefore
  served by hop groups `<route>#<model>` (`#` is in no name a client may
  declare), each falling back to the rest of the route only, the last to an
  explicit empty list. The rest and not just the next hop: LiteLLM stops
  nesting fallbacks at `max_fallbacks` (5), so a chain of next hops would end
  after six models, while a list is walked whole (as for the main chain). The
  request logger hides hop groups from the model listings, refuses requests
  that name one, and names the model instead of the hop group in its log line
  and in `x-litellm-model-group`.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import yaml

from copilot_proxy.core import mcp_config
from copilot_proxy.core.spec import Model, ProxySpec

PROVIDER = "github_copilot"
CATCH_ALL = "*"
MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
PLUGIN_KEY = "copilot_proxy"  # the request logger's settings (copilot_proxy/litellm/settings.py)
# The callback LiteLLM loads: request log line, cooldowns, errors (copilot_proxy/litellm/).
REQUEST_LOGGER = "copilot_proxy.litellm.hook.request_logger"
# Joins a route and one of its 2nd..nth models into that hop's group name,
# `fast#gpt-5-mini`. Route and model names cannot contain it (spec.py, CRD
# patterns): no client name collides, and where LiteLLM shows the group name
# (a metric label, an error) it still names the model.
HOP_MARK = "#"


def hop_group(route: str, model: str) -> str:
    return f"{route}{HOP_MARK}{model}"


def hop_model(group: str) -> str | None:
    """The model a hop group stands for; None for any other group."""
    route, mark, model = group.partition(HOP_MARK)
    return model if mark and route and model else None


def plugin_settings(spec: ProxySpec) -> dict[str, Any]:
    """The `copilot_proxy:` section: what the plugin (copilot_proxy/litellm/) needs to know."""
    return {
        "proxy": {"namespace": spec.namespace, "name": spec.name},
        "names": {"smallModel": spec.small_model},
    }


def render_config(spec: ProxySpec) -> dict[str, Any]:
    """The whole LiteLLM config for a proxy, as a plain dict ready for YAML."""
    model_list, fallbacks = _groups(spec)
    config: dict[str, Any] = {
        "model_list": model_list,
        "router_settings": {
            "num_retries": spec.router.num_retries,
            "allowed_fails": spec.router.allowed_fails,
            "cooldown_time": spec.router.cooldown_seconds,
            "disable_cooldowns": True,
            "timeout": spec.router.timeout_seconds,
            "fallbacks": fallbacks,
        },
        "litellm_settings": {
            "drop_params": True,
            "num_retries": spec.router.num_retries,
            "request_timeout": spec.router.timeout_seconds,
            "callbacks": [REQUEST_LOGGER],
            "disable_copilot_system_to_assistant": True,
            "require_auth_for_metrics_endpoint": False,
        },
        "general_settings": {
            "master_key": f"os.environ/{MASTER_KEY_ENV}",
        },
        PLUGIN_KEY: plugin_settings(spec),
    }
    if spec.mcp_servers:
        config["mcp_servers"] = mcp_config.servers(spec)
    mcp_config.add_semantic_filter(config, spec)
    for section, overrides in spec.litellm.items():
        config[section] = _merge(config.get(section, {}), overrides)
    # Extra callbacks (e.g. prometheus) add to ours: the request logger is the
    # proxy's only source of cooldowns.
    extra = spec.litellm.get("litellm_settings", {}).get("callbacks", [])
    extra = extra if isinstance(extra, list) else [extra]
    config["litellm_settings"]["callbacks"] = [
        REQUEST_LOGGER,
        *(c for c in extra if c != REQUEST_LOGGER),
    ]
    return config


def _groups(spec: ProxySpec) -> tuple[list[dict[str, Any]], list[dict[str, list[str]]]]:
    """The model groups (`model_list`) and their fallbacks: the chain, routes, catch-all."""
    by_name = {m.name: m for m in spec.models}
    model_list: list[dict[str, Any]] = []
    fallbacks: list[dict[str, list[str]]] = []

    def add_group(group: str, chain: tuple[str, ...]) -> None:
        # A group is served by its first model; the rest of its chain are fallbacks.
        # An empty rest is written too: LiteLLM gives a group it finds no entry for
        # the catch-all's `*` chain, so the last resort would climb back up the chain.
        model_list.append({"model_name": group, "litellm_params": _params(by_name[chain[0]])})
        fallbacks.append({group: list(chain[1:])})

    for i, model in enumerate(spec.models):
        rest = spec.chain[i:]
        add_group(model.name, rest)
        if spec.prefixed_names:
            add_group(f"{PROVIDER}/{model.name}", rest)
    for route in spec.routes:
        # Hop groups, not the model groups: those fall back into the main chain.
        hops = [route.name, *(hop_group(route.name, m) for m in route.models[1:])]
        for i, name in enumerate(route.models):
            model_list.append({"model_name": hops[i], "litellm_params": _params(by_name[name])})
            fallbacks.append({hops[i]: hops[i + 1 :]})
    if spec.catch_all:
        add_group(CATCH_ALL, spec.chain)
    return model_list, fallbacks


def config_yaml(config: dict[str, Any]) -> str:
    """Stable YAML text: the same config always gives the same bytes (and hash)."""
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def config_text(spec: ProxySpec) -> str:
    """The config file a proxy runs: what the ConfigMap holds and `copilot-proxy render` prints."""
    return config_yaml(render_config(spec))


def config_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _params(model: Model) -> dict[str, Any]:
    params: dict[str, Any] = {"model": f"{PROVIDER}/{model.name}"}
    if model.drop_params:
        params["additional_drop_params"] = list(model.drop_params)
    return params


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
