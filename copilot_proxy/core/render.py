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
  metrics, the model serving Claude Code's small/fast model, and how long a
  spent quota keeps a model out;
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
  and in `x-litellm-model-group`;
- what the account's Copilot catalogue says of a model (core/catalogue.py) goes
  into `model_info`, identically on every entry of that model (LiteLLM shares
  one backend key per Copilot model, so limits and modes leak between entries):
  `max_input_tokens`/`max_output_tokens` (its prompt window, shown by /v1/models
  and checked by the request logger before any upstream call) and
  `mode: responses` for a model served on /responses only, which makes LiteLLM
  bridge chat completions and messages to it;
- embedding models are groups of their own with no fallbacks: the catch-all
  `*` is for chat-type requests, and the request logger refuses an embedding
  model the spec does not declare.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import yaml

from copilot_proxy.core import mcp_config
from copilot_proxy.core.bounds import MAX_CONFIG_BYTES
from copilot_proxy.core.catalogue import Catalogue
from copilot_proxy.core.spec import Model, ProxySpec, SpecError

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


def render_config(spec: ProxySpec, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The whole LiteLLM config for a proxy, as a plain dict ready for YAML.

    `catalogue`: the account's catalogue as last observed (None: not read yet).
    """
    catalogue = catalogue or Catalogue()
    model_list, fallbacks = _groups(spec, catalogue)
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
        PLUGIN_KEY: plugin_settings(spec, catalogue),
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


def _groups(
    spec: ProxySpec, catalogue: Catalogue
) -> tuple[list[dict[str, Any]], list[dict[str, list[str]]]]:
    """The model groups (`model_list`) and their fallbacks: the chain, routes, catch-all,
    embedding models."""
    by_name = {m.name: m for m in spec.models}
    model_list: list[dict[str, Any]] = []
    fallbacks: list[dict[str, list[str]]] = []

    def entry(group: str, model: Model) -> dict[str, Any]:
        info = _model_info(catalogue, model.name)
        return {
            "model_name": group,
            "litellm_params": _params(model),
            **({"model_info": info} if info else {}),
        }

    def add_group(group: str, chain: tuple[str, ...]) -> None:
        # A group is served by its first model; the rest of its chain are fallbacks.
        # An empty rest is written too: LiteLLM gives a group it finds no entry for
        # the catch-all's `*` chain, so the last resort would climb back up the chain.
        model_list.append(entry(group, by_name[chain[0]]))
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
            model_list.append(entry(hops[i], by_name[name]))
            fallbacks.append({hops[i]: hops[i + 1 :]})
    if spec.catch_all:
        add_group(CATCH_ALL, spec.chain)
    for name in spec.embedding_models:
        for group in [name, f"{PROVIDER}/{name}"][: 2 if spec.prefixed_names else 1]:
            model_list.append(
                {
                    "model_name": group,
                    "litellm_params": {"model": f"{PROVIDER}/{name}"},
                    "model_info": {"mode": "embedding"},
                }
            )
            fallbacks.append({group: []})
    return model_list, fallbacks


def _model_info(catalogue: Catalogue, model: str) -> dict[str, Any]:
    """What LiteLLM should know of a model from the catalogue; {} when it is not known."""
    facts = catalogue.facts(model)
    if facts is None:
        return {}
    info: dict[str, Any] = {}
    if facts.max_prompt_tokens:
        info["max_input_tokens"] = facts.max_prompt_tokens
    if facts.max_output_tokens:
        info["max_output_tokens"] = facts.max_output_tokens
    if facts.responses_only:
        info["mode"] = "responses"
    return info


def plugin_settings(spec: ProxySpec, catalogue: Catalogue) -> dict[str, Any]:
    """The `copilot_proxy:` section: what the plugin (copilot_proxy/litellm/) needs to know.

    `proxy`: its identity for the metrics; `names`: the model serving Claude Code's
    small/fast model; `cooldowns`: how long a failing model or a spent quota keeps a model
    out (`seconds` too: LiteLLM's Router reads a `cooldown_time` of 0 as its 5 s default).
    """
    cooldowns: dict[str, Any] = {
        "seconds": spec.router.cooldown_seconds,
        "quotaSeconds": spec.router.quota_cooldown_seconds,
    }
    if catalogue.quota_reset_date:
        cooldowns["quotaResetDate"] = catalogue.quota_reset_date
    return {
        "proxy": {"namespace": spec.namespace, "name": spec.name},
        "names": {"smallModel": spec.small_model},
        "cooldowns": cooldowns,
    }


def config_yaml(config: dict[str, Any]) -> str:
    """Stable YAML text: the same config always gives the same bytes (and hash)."""
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def config_text(spec: ProxySpec, catalogue: Catalogue | None = None) -> str:
    """The config file a proxy runs: what the ConfigMap holds and `copilot-proxy render` prints.

    SpecError when it would not fit a ConfigMap: the CRD's bounds admit specs
    (many routes of many long names) that render to more than 1 MiB.
    """
    text = config_yaml(render_config(spec, catalogue))
    size = len(text.encode())
    if size > MAX_CONFIG_BYTES:
        raise SpecError(
            "",
            f"the LiteLLM config it renders is {size // 1024} KiB, over the"
            f" {MAX_CONFIG_BYTES // 1024} KiB a ConfigMap can hold; use fewer or shorter"
            " routes, models or MCP servers",
        )
    return text


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
