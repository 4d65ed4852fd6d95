"""The proxy set-ups under test: ours (rendered from a CopilotProxy), the original one, variants.

- `original_config`: the docker-compose setup this project grows from
  (/work/shared/origin): LiteLLM defaults, a `fallbacks` key inside each
  model entry (which LiteLLM ignores) and no router settings.
- `original_router_fallbacks`: the same with the fallbacks where LiteLLM reads
  them (`router_settings.fallbacks`), every other setting LiteLLM's default:
  what a user of the original setup got once fallbacks worked at all.
- `rendered`: `render_config()` of the benchmark's CopilotProxy spec, with the
  Deployment's pod settings (the harness derives them from manifests.py).
- Variants: the rendered config with one knob turned, to measure its effect.

Each set-up is a `Setup`: the config, environment added or removed, and the
model names a client sends for the serving model and for the quota-exhausted
primary.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copilot_proxy.core.render import render_config
from copilot_proxy.core.spec import ProxySpec, parse_spec

CHAIN = ("claude-opus-4.6", "gemini-3-pro-preview", "gpt-5-mini")
PRIMARY, SECOND, LAST = CHAIN
PREFIX = "github_copilot/"
SPEC: dict[str, Any] = {"models": [{"name": m} for m in CHAIN]}

Config = dict[str, Any]


def bench_spec() -> ProxySpec:
    return parse_spec("bench", "default", SPEC)


def original_config() -> Config:
    """The original config.yaml: catch-all and one entry per model, fallbacks inside entries."""

    def entry(name: str, model: str) -> dict[str, Any]:
        rest = list(CHAIN[CHAIN.index(model) + 1 :])
        item: dict[str, Any] = {
            "model_name": name,
            "litellm_params": {"model": PREFIX + model},
        }
        if rest:
            item["fallbacks"] = [PREFIX + m for m in rest]
        return item

    return {
        "model_list": [entry("*", PRIMARY), *(entry(PREFIX + m, m) for m in CHAIN)],
        # The original had a publicly known key; today's LiteLLM refuses it.
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
    }


def original_router_fallbacks() -> Config:
    config = original_config()
    for item in config["model_list"]:
        item.pop("fallbacks", None)
    config["router_settings"] = {
        "fallbacks": [{group: [PREFIX + m for m in CHAIN[1:]]} for group in ("*", PREFIX + PRIMARY)]
        + [{PREFIX + SECOND: [PREFIX + LAST]}]
    }
    return config


@dataclass(frozen=True)
class Setup:
    name: str
    description: str
    config: Callable[[], Config]
    env: dict[str, str] = field(default_factory=dict)
    unset_env: tuple[str, ...] = ()
    args: tuple[str, ...] = ()  # added to the litellm command line
    # What clients send: the model that serves directly, and the quota-exhausted primary.
    serving: str = LAST
    primary: str = PRIMARY
    fallback_serving: str = SECOND


def rendered() -> Config:
    return render_config(bench_spec())


def _rendered_with(change: Callable[[Config], None]) -> Callable[[], Config]:
    def build() -> Config:
        config = copy.deepcopy(rendered())
        change(config)
        return config

    return build


def _drop_callbacks(config: Config) -> None:
    config["litellm_settings"].pop("callbacks", None)


def _lean(config: Config) -> None:
    config["litellm_settings"].update(
        turn_off_message_logging=True, disable_token_counter=True, suppress_debug_info=True
    )
    config["general_settings"].update(disable_spend_logs=True, disable_error_logs=True)


ROOT = str(Path(__file__).resolve().parent.parent)


def _with_callback(name: str) -> Callable[[], Config]:
    def build() -> Config:
        config = copy.deepcopy(rendered())
        config["litellm_settings"]["callbacks"] = [*config["litellm_settings"]["callbacks"], name]
        return config

    return build


SETUPS: dict[str, Setup] = {
    s.name: s
    for s in [
        Setup(
            "original",
            "original setup: LiteLLM defaults, fallbacks inside model entries (ignored)",
            original_config,
            serving=PREFIX + LAST,
            primary=PREFIX + PRIMARY,
            fallback_serving=PREFIX + SECOND,
        ),
        Setup(
            "original+router-fallbacks",
            "original setup with router_settings.fallbacks, LiteLLM's default retries",
            original_router_fallbacks,
            serving=PREFIX + LAST,
            primary=PREFIX + PRIMARY,
            fallback_serving=PREFIX + SECOND,
        ),
        Setup("rendered", "our rendered config and Deployment settings", rendered),
        Setup(
            "rendered-untuned",
            "rendered, without the benchmark's tuning (LITELLM_LOG unset, as before)",
            rendered,
            unset_env=("LITELLM_LOG",),
        ),
        # Variants: one knob each, for the tuning experiments (--setups).
        Setup(
            "rendered-no-logger",
            "rendered without the request-log callback",
            _rendered_with(_drop_callbacks),
        ),
        Setup(
            "rendered-log-error",
            "rendered, LITELLM_LOG=ERROR (LiteLLM's warnings hidden too)",
            rendered,
            env={"LITELLM_LOG": "ERROR"},
        ),
        Setup(
            "rendered-lean",
            "rendered, LiteLLM's optional bookkeeping off (message logging, token counter, "
            "spend and error logs)",
            _rendered_with(_lean),
        ),
        Setup(
            "rendered-httpx",
            "rendered, httpx transport instead of aiohttp to the upstream",
            rendered,
            env={"DISABLE_AIOHTTP_TRANSPORT": "True"},
        ),
        Setup(
            "rendered-2-workers",
            "rendered, two uvicorn workers (uvicorn kills workers that take more than its "
            "5 s health-check timeout to start: LiteLLM needs a longer one)",
            rendered,
            args=("--num_workers", "2", "--timeout_worker_healthcheck", "60"),
        ),
        Setup(
            "rendered-granian",
            "rendered, served by Granian instead of uvicorn (a supervisor and a worker process)",
            rendered,
            args=("--run_granian",),
        ),
        Setup(
            "rendered-otel-fast-fail",
            "rendered, LiteLLM's per-request OTel import failing at once "
            "(bench/proxy_experiments.py, a proposal for copilot_proxy/litellm/)",
            _with_callback("bench.proxy_experiments.otel_fast_fail"),
            env={"PYTHONPATH": ROOT},
        ),
    ]
}
