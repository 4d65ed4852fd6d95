"""ProxySpec -> LiteLLM config: what the proxy will do with it.

The last tests hand the rendered config to LiteLLM itself: its Router (and its
real fallback code, with mocked upstream answers) and the proxy's own config
loader, so "fallbacks land where LiteLLM reads them" is checked by LiteLLM.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from copilot_proxy.core.catalogue import Catalogue, ModelFacts, observe
from copilot_proxy.core.render import config_hash, config_yaml, render_config
from copilot_proxy.core.spec import DEFAULT_CHAIN, ProxySpec, SpecError, parse_spec
from copilot_proxy.litellm.internals.authenticator import stamp, token_identity

PRIMARY, SECOND, LAST = DEFAULT_CHAIN
DATED_ID = "claude-sonnet-4-5-20250929"  # what Claude Code sends; listed nowhere


def parsed(**fields: Any) -> ProxySpec:
    raw: dict[str, Any] = {"models": [{"name": n} for n in DEFAULT_CHAIN], **fields}
    return parse_spec("copilot", "default", raw)


def render(**fields: Any) -> dict[str, Any]:
    return render_config(parsed(**fields))


def fallbacks_of(config: dict[str, Any]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for entry in config["router_settings"]["fallbacks"]:
        assert len(entry) == 1, entry  # LiteLLM's shape: [{group: [next, ...]}]
        merged.update(entry)
    return merged


def served_by(config: dict[str, Any]) -> dict[str, str]:
    return {m["model_name"]: m["litellm_params"]["model"] for m in config["model_list"]}


# --- the shape of the config ----------------------------------------------------------


def test_default_chain_falls_back_in_order_from_router_settings() -> None:
    config = render()
    fallbacks = fallbacks_of(config)
    assert fallbacks[PRIMARY] == [SECOND, LAST]
    assert fallbacks[SECOND] == [LAST]
    assert fallbacks[f"github_copilot/{PRIMARY}"] == [SECOND, LAST]
    assert fallbacks["*"] == [SECOND, LAST]
    # LiteLLM ignores a `fallbacks` key inside a model entry: there must be none.
    assert all("fallbacks" not in json.dumps(entry) for entry in config["model_list"])
    assert "fallbacks" not in config.get("litellm_settings", {})


def test_no_retries_before_falling_back() -> None:
    config = render()
    assert config["router_settings"]["num_retries"] == 0
    assert config["litellm_settings"]["num_retries"] == 0


def test_router_numbers_come_from_the_spec() -> None:
    config = render(
        router={"numRetries": 2, "allowedFails": 3, "cooldownSeconds": 30, "timeoutSeconds": 90}
    )
    settings = config["router_settings"]
    assert (settings["num_retries"], settings["allowed_fails"]) == (2, 3)
    assert (settings["cooldown_time"], settings["timeout"]) == (30, 90)
    assert config["litellm_settings"]["request_timeout"] == 90


def test_every_model_is_served_by_plain_and_prefixed_name() -> None:
    groups = served_by(render())
    for name in DEFAULT_CHAIN:
        assert groups[name] == f"github_copilot/{name}"
        assert groups[f"github_copilot/{name}"] == f"github_copilot/{name}"


def test_prefixed_names_can_be_turned_off() -> None:
    groups = served_by(render(prefixedNames=False))
    assert not [g for g in groups if g.startswith("github_copilot/")]
    assert set(DEFAULT_CHAIN) <= set(groups)


def test_catch_all_is_served_by_the_primary_and_can_be_turned_off() -> None:
    assert served_by(render())["*"] == f"github_copilot/{PRIMARY}"
    config = render(catchAll=False)
    assert "*" not in served_by(config) and "*" not in fallbacks_of(config)


def test_route_is_its_own_group_with_its_own_chain() -> None:
    config = render(routes=[{"name": "smart", "models": [SECOND, PRIMARY]}])
    assert served_by(config)["smart"] == f"github_copilot/{SECOND}"
    # Not PRIMARY's own group: LiteLLM would go on into PRIMARY's chain (SECOND, LAST).
    assert fallbacks_of(config)["smart"] == [f"smart#{PRIMARY}"]
    assert served_by(config)[f"smart#{PRIMARY}"] == f"github_copilot/{PRIMARY}"
    assert fallbacks_of(config)[f"smart#{PRIMARY}"] == []


def test_every_hop_of_a_route_falls_back_to_the_rest_of_the_route_only() -> None:
    config = render(routes=[{"name": "fast", "models": [LAST, PRIMARY, SECOND]}])
    fallbacks, groups = fallbacks_of(config), served_by(config)
    assert fallbacks["fast"] == [f"fast#{PRIMARY}", f"fast#{SECOND}"]
    assert fallbacks[f"fast#{PRIMARY}"] == [f"fast#{SECOND}"]
    assert fallbacks[f"fast#{SECOND}"] == []
    assert groups[f"fast#{PRIMARY}"] == f"github_copilot/{PRIMARY}"
    assert groups[f"fast#{SECOND}"] == f"github_copilot/{SECOND}"
    # The model groups keep the main chain.
    assert fallbacks[PRIMARY] == [SECOND, LAST]


def test_hop_names_are_no_name_a_client_can_declare() -> None:
    """`#` marks the hop groups; a route or model named with it would be refused."""
    config = render(routes=[{"name": "fast", "models": [LAST, PRIMARY]}])
    assert [g for g in served_by(config) if "#" in g] == [f"fast#{PRIMARY}"]
    with pytest.raises(SpecError):
        parsed(routes=[{"name": f"fast#{PRIMARY}", "models": [PRIMARY]}])
    with pytest.raises(SpecError):
        parsed(models=[{"name": "gpt#5"}])


def test_groups_without_fallbacks_say_so() -> None:
    """A group missing from the list would get the catch-all's `*` chain from LiteLLM."""
    fallbacks = fallbacks_of(render(routes=[{"name": "fast", "models": [LAST]}]))
    assert fallbacks[LAST] == [] and fallbacks[f"github_copilot/{LAST}"] == []
    assert fallbacks["fast"] == []


def test_drop_params_go_to_every_entry_of_that_model() -> None:
    config = render(
        models=[{"name": PRIMARY}, {"name": LAST, "dropParams": ["thinking"]}],
        routes=[{"name": "fast", "models": [LAST]}, {"name": "smart", "models": [PRIMARY, LAST]}],
    )
    for entry in config["model_list"]:
        params = entry["litellm_params"]
        if params["model"] == f"github_copilot/{LAST}":
            assert params["additional_drop_params"] == ["thinking"], entry["model_name"]
        else:
            assert "additional_drop_params" not in params, entry["model_name"]
    assert {
        e["model_name"]
        for e in config["model_list"]
        if "additional_drop_params" in e["litellm_params"]
    } == {LAST, f"github_copilot/{LAST}", "fast", f"smart#{LAST}"}


def _seen(*names: str, reset: str = "") -> Catalogue:
    listed = {
        PRIMARY: ModelFacts(PRIMARY, max_prompt_tokens=128000, max_output_tokens=64000,
                            endpoints=("/chat/completions", "/v1/messages")),
        "gpt-5.3-codex": ModelFacts("gpt-5.3-codex", max_prompt_tokens=272000,
                                    endpoints=("/responses",)),
    }  # fmt: skip
    return observe(listed, names, "2026-12-01T00:00:00Z", reset)


def test_catalogue_limits_go_to_every_entry_of_that_model() -> None:
    spec = parsed(
        models=[{"name": PRIMARY}, {"name": LAST}],
        routes=[{"name": "smart", "models": [LAST, PRIMARY]}],
    )
    config = render_config(spec, _seen(PRIMARY, LAST))
    limits = {"max_input_tokens": 128000, "max_output_tokens": 64000}
    with_limits = {e["model_name"] for e in config["model_list"] if e.get("model_info") == limits}
    assert with_limits == {PRIMARY, f"github_copilot/{PRIMARY}", "*", f"smart#{PRIMARY}"}
    unknown = [e for e in config["model_list"] if e["litellm_params"]["model"].endswith(LAST)]
    assert unknown and all("model_info" not in e for e in unknown)  # not in the catalogue


def test_responses_only_models_are_bridged() -> None:
    spec = parsed(models=[{"name": PRIMARY}, {"name": "gpt-5.3-codex"}])
    config = render_config(spec, _seen(PRIMARY, "gpt-5.3-codex"))
    modes = {e["model_name"]: e.get("model_info", {}).get("mode") for e in config["model_list"]}
    assert modes["gpt-5.3-codex"] == modes["github_copilot/gpt-5.3-codex"] == "responses"
    assert modes[PRIMARY] is None  # Claude keeps the native /v1/messages path


def test_without_a_catalogue_nothing_is_assumed() -> None:
    chat = [e for e in render()["model_list"] if e["model_name"] in DEFAULT_CHAIN]
    assert chat and all("model_info" not in e for e in chat)


def test_embedding_models_are_groups_of_their_own_without_fallbacks() -> None:
    config = render()
    served = served_by(config)
    assert served["text-embedding-3-small"] == "github_copilot/text-embedding-3-small"
    assert (
        served["github_copilot/text-embedding-3-small"] == "github_copilot/text-embedding-3-small"
    )
    assert fallbacks_of(config)["text-embedding-3-small"] == []
    none = render(embeddingModels=[])
    assert "text-embedding-3-small" not in served_by(none)


def test_an_embedding_model_in_the_chain_is_left_to_the_chain() -> None:
    spec = parsed(models=[{"name": PRIMARY}, {"name": "text-embedding-3-small"}])
    assert spec.embedding_models == ()
    with pytest.raises(SpecError, match=r"spec.embeddingModels\[0\]: .* chat model"):
        parsed(
            models=[{"name": "text-embedding-3-small"}], embeddingModels=["text-embedding-3-small"]
        )


def test_plugin_settings_carry_the_quota_cooldown_and_reset_date() -> None:
    config = render_config(
        parsed(router={"quotaCooldownSeconds": 7200}), _seen(PRIMARY, reset="2027-01-01")
    )
    assert config["copilot_proxy"]["cooldowns"] == {
        "seconds": 60,
        "quotaSeconds": 7200,
        "quotaResetDate": "2027-01-01",
    }
    assert render()["copilot_proxy"]["cooldowns"] == {"seconds": 60, "quotaSeconds": 3600}


def test_mcp_servers_are_rendered_top_level() -> None:
    config = render(
        mcpServers={
            "memory": {"url": "http://mcp-memory:8080/mcp"},
            "search": {"url": "https://s.example/sse", "transport": "sse", "description": "Web"},
        }
    )
    assert config["mcp_servers"] == {
        "memory": {"url": "http://mcp-memory:8080/mcp", "transport": "http"},
        "search": {"url": "https://s.example/sse", "transport": "sse", "description": "Web"},
    }
    assert "mcp_servers" not in render()


def test_pass_through_merges_over_the_rendered_settings() -> None:
    base = render()
    config = render(
        litellm={
            "litellm_settings": {"drop_params": False, "set_verbose": False},
            "router_settings": {"routing_strategy": "simple-shuffle", "retry_after": 1},
            "general_settings": {"disable_spend_logs": True},
        }
    )
    assert config["litellm_settings"]["drop_params"] is False
    assert config["litellm_settings"]["set_verbose"] is False
    assert config["router_settings"]["routing_strategy"] == "simple-shuffle"
    assert config["router_settings"]["retry_after"] == 1
    assert config["router_settings"]["fallbacks"] == base["router_settings"]["fallbacks"]
    assert config["general_settings"]["disable_spend_logs"] is True
    assert config["general_settings"]["master_key"] == base["general_settings"]["master_key"]
    assert config["model_list"] == base["model_list"]


def test_extra_callbacks_keep_the_request_logger() -> None:
    """Adding e.g. prometheus must not drop the callback that logs and cools models down."""
    ours = render()["litellm_settings"]["callbacks"]
    config = render(litellm={"litellm_settings": {"callbacks": ["prometheus"]}})
    assert config["litellm_settings"]["callbacks"] == [*ours, "prometheus"]


def test_master_key_is_only_a_reference_to_the_environment() -> None:
    config = render(litellm={"general_settings": {"disable_spend_logs": True}})
    assert config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    text = config_yaml(config)
    assert "sk-" not in text and text.count("LITELLM_MASTER_KEY") == 1


# --- the text and its hash --------------------------------------------------------------


def test_yaml_round_trips_to_the_same_config() -> None:
    config = render(routes=[{"name": "fast", "models": [LAST]}])
    assert yaml.safe_load(config_yaml(config)) == config


def test_same_spec_gives_the_same_text_and_hash() -> None:
    servers = {"b": {"url": "http://b"}, "a": {"url": "http://a"}}
    first = config_yaml(render(mcpServers=servers))
    second = config_yaml(render(mcpServers=dict(reversed(servers.items()))))
    assert first == second
    assert config_hash(first) == config_hash(second)
    assert len(config_hash(first)) == 16


def test_a_changed_chain_changes_the_hash() -> None:
    before = config_hash(config_yaml(render()))
    reordered = [{"name": n} for n in (SECOND, PRIMARY, LAST)]
    assert config_hash(config_yaml(render(models=reordered))) != before
    assert config_hash(config_yaml(render(router={"cooldownSeconds": 61}))) != before


def test_fields_outside_the_config_leave_the_hash_alone() -> None:
    before = config_hash(config_yaml(render()))
    after = render(
        replicas=5,
        image="registry.example.com/proxy:2",
        resources={"requests": {"cpu": "2"}},
        tokenSecret={"name": "other"},
        github={"apiUrl": "https://api.github.com"},
    )
    assert config_hash(config_yaml(after)) == before


def test_system_messages_stay_system_for_every_model() -> None:
    """LiteLLM turns `system` into `assistant` on Copilot's chat path unless told not to;
    Copilot takes system messages (docs/upstream.md): Claude Code's system prompt must
    reach a GPT or Gemini fallback as instructions, not as something the model said."""
    assert render()["litellm_settings"]["disable_copilot_system_to_assistant"] is True


def test_metrics_need_no_key() -> None:
    assert render()["litellm_settings"]["require_auth_for_metrics_endpoint"] is False


def test_plugin_settings_name_the_proxy_and_its_small_model(tmp_path: Path) -> None:
    from copilot_proxy.litellm import settings

    spec = parse_spec("acme", "ai", {"models": [{"name": PRIMARY}, {"name": LAST}]})
    path = tmp_path / "config.yaml"
    path.write_text(config_yaml(render_config(spec)))
    plugin = settings.read(path)  # as the plugin reads the file the proxy runs
    assert settings.section(plugin, "proxy") == {"namespace": "ai", "name": "acme"}
    assert settings.section(plugin, "names") == {"smallModel": LAST}
    chosen = render(smallModel=SECOND)
    assert chosen["copilot_proxy"]["names"]["smallModel"] == SECOND


# --- LiteLLM's own Router ---------------------------------------------------------------


@pytest.fixture
def copilot_token_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A GitHub token and an unexpired Copilot key, as the proxy pod has them.

    LiteLLM drops github_copilot/ deployments it has no token for; with these
    files it builds them without any network call.
    """
    (tmp_path / "access-token").write_text("gho_test_token\n")
    key = {
        "token": "tid=test",
        "expires_at": time.time() + 3600,
        "endpoints": {"api": "http://127.0.0.1:9"},
        # The proxy renews a key it cannot trace to the token file (litellm/internals).
        **stamp(token_identity(tmp_path / "access-token"), time.time()),
    }
    (tmp_path / "api-key.json").write_text(json.dumps(key))
    monkeypatch.setenv("GITHUB_COPILOT_TOKEN_DIR", str(tmp_path))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return tmp_path


@pytest.fixture
def litellm_module(copilot_token_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import litellm

    # A Router registers itself in these module-wide lists; keep other tests clear of ours.
    for name in ("callbacks", "success_callback", "failure_callback"):
        monkeypatch.setattr(litellm, name, list(getattr(litellm, name)))
    for name in ("_async_success_callback", "_async_failure_callback"):
        monkeypatch.setattr(litellm, name, list(getattr(litellm, name)))
    yield litellm


def router_from(litellm: Any, config: dict[str, Any], answers: dict[str, str] | None = None) -> Any:
    """litellm.Router built the way the proxy builds it from router_settings.

    `answers` mocks the upstream per Copilot model (LiteLLM's `mock_response`):
    a text, or "litellm.RateLimitError" for a 429.
    """
    model_list = copy.deepcopy(config["model_list"])
    for entry in model_list:
        model = entry["litellm_params"]["model"].removeprefix("github_copilot/")
        if answers is not None:
            entry["litellm_params"]["mock_response"] = answers.get(model, f"answer of {model}")
    return litellm.Router(model_list=model_list, **config["router_settings"])


def test_litellm_router_knows_every_group_and_its_settings(litellm_module: Any) -> None:
    config = render(routes=[{"name": "fast", "models": [LAST]}])
    router = router_from(litellm_module, config)
    assert router.model_names == {m["model_name"] for m in config["model_list"]}
    assert router.num_retries == 0
    assert router.allowed_fails == 0
    assert router.cooldown_time == 60
    assert router.timeout == 600
    assert router.fallbacks == config["router_settings"]["fallbacks"]


def test_litellm_finds_the_rest_of_the_chain_for_each_name(litellm_module: Any) -> None:
    from litellm.router_utils.fallback_event_handlers import get_fallback_model_group

    config = render(
        routes=[{"name": "fast", "models": [LAST]}, {"name": "smart", "models": [SECOND, PRIMARY]}]
    )
    router = router_from(litellm_module, config)

    def chain(group: str) -> list[str] | None:
        found, _ = get_fallback_model_group(fallbacks=router.fallbacks, model_group=group)
        return found

    assert chain(PRIMARY) == [SECOND, LAST]
    assert chain(f"github_copilot/{PRIMARY}") == [SECOND, LAST]
    assert chain(DATED_ID) == [SECOND, LAST]  # through the catch-all
    # The last resort and a one-model route do not climb back up the chain.
    assert chain(LAST) == [] and chain(f"github_copilot/{LAST}") == []
    assert chain("fast") == []
    assert chain("smart") == [f"smart#{PRIMARY}"] and chain(f"smart#{PRIMARY}") == []


async def ask(router: Any, model: str) -> str:
    try:
        response = await router.acompletion(
            model=model, messages=[{"role": "user", "content": "hi"}]
        )
    except Exception as error:
        return f"error {type(error).__name__}"
    text: str = response.choices[0].message.content
    return text


async def test_litellm_falls_back_down_the_chain(litellm_module: Any) -> None:
    config = render()
    rate_limited = "litellm.RateLimitError"
    router = router_from(litellm_module, config, {PRIMARY: rate_limited})
    assert await ask(router, PRIMARY) == f"answer of {SECOND}"
    router = router_from(litellm_module, config, {PRIMARY: rate_limited, SECOND: rate_limited})
    assert await ask(router, f"github_copilot/{PRIMARY}") == f"answer of {LAST}"
    router = router_from(litellm_module, config, {PRIMARY: rate_limited})
    assert await ask(router, DATED_ID) == f"answer of {SECOND}"


async def test_litellm_keeps_a_route_to_its_own_models(litellm_module: Any) -> None:
    config = render(routes=[{"name": "smart", "models": [PRIMARY, SECOND]}])
    failing = {PRIMARY: "litellm.RateLimitError", SECOND: "litellm.RateLimitError"}
    # SECOND's own chain goes on to LAST; the route's ends at SECOND.
    assert await ask(router_from(litellm_module, config, failing), "smart") == (
        "error RateLimitError"
    )
    assert await ask(router_from(litellm_module, config, failing), SECOND) == f"answer of {LAST}"
    router = router_from(litellm_module, config, {PRIMARY: "litellm.RateLimitError"})
    assert await ask(router, "smart") == f"answer of {SECOND}"


async def test_litellm_walks_a_long_route_to_its_last_model(litellm_module: Any) -> None:
    """Past LiteLLM's max_fallbacks (5), which bounds nested fallbacks, not a list."""
    names = [f"model-{i}" for i in range(10)]
    config = render(
        models=[{"name": n} for n in names], routes=[{"name": "long", "models": names[::-1]}]
    )
    failing = {n: "litellm.RateLimitError" for n in names[1:]}
    router = router_from(litellm_module, config, failing)
    assert router.max_fallbacks == 5
    assert await ask(router, "long") == f"answer of {names[0]}"


async def test_litellm_does_not_fall_back_past_the_end_of_a_chain(litellm_module: Any) -> None:
    config = render(routes=[{"name": "fast", "models": [LAST]}])
    router = router_from(litellm_module, config, {LAST: "litellm.RateLimitError"})
    assert await ask(router, "fast") == "error RateLimitError"
    router = router_from(litellm_module, config, {LAST: "litellm.RateLimitError"})
    assert await ask(router, LAST) == "error RateLimitError"


# --- the proxy's own config loader ------------------------------------------------------

LOADER = textwrap.dedent(
    """
    import asyncio, json, os, sys

    from litellm.proxy import proxy_server
    from litellm.proxy._experimental.mcp_server.mcp_server_manager import (
        global_mcp_server_manager,
    )

    async def main():
        config = proxy_server.ProxyConfig()
        router, models, _ = await config.load_config(router=None, config_file_path=sys.argv[1])
        import litellm
        servers = global_mcp_server_manager.get_registry().values()
        print(json.dumps({
            "groups": sorted(router.model_names),
            "deployments": {
                m["model_name"]: [m["litellm_params"]["model"],
                                  m["litellm_params"].get("additional_drop_params")]
                for m in models
            },
            "fallbacks": router.fallbacks,
            "num_retries": router.num_retries,
            "cooldown_time": router.cooldown_time,
            "timeout": router.timeout,
            "master_key_from_env": proxy_server.master_key == os.environ["LITELLM_MASTER_KEY"],
            "callbacks": sorted(type(c).__name__ for c in litellm.callbacks),
            "drop_params": litellm.drop_params,
            "system_kept": litellm.disable_copilot_system_to_assistant,
            "metrics_open": litellm.require_auth_for_metrics_endpoint,
            "metrics_mounted": any(getattr(r, "path", "") == "/metrics"
                                   for r in proxy_server.app.routes),
            "config_path": proxy_server.user_config_file_path,
            "mcp_urls": sorted(str(getattr(s, "url", "")) for s in servers),
        }), flush=True)
        os._exit(0)  # the proxy module leaves threads behind

    asyncio.run(main())
    """
)


@pytest.mark.timeout(120)
def test_litellm_proxy_loads_the_rendered_file(
    copilot_token_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = parsed(
        models=[{"name": PRIMARY}, {"name": SECOND}, {"name": LAST, "dropParams": ["thinking"]}],
        routes=[{"name": "fast", "models": [LAST]}, {"name": "smart", "models": [SECOND, LAST]}],
        mcpServers={"memory": {"url": "http://mcp-memory:8080/mcp"}},
    )
    config = render_config(spec)
    path = tmp_path / "config.yaml"
    path.write_text(config_yaml(config))
    env = {
        **os.environ,
        "LITELLM_MASTER_KEY": "sk-test-" + os.urandom(16).hex(),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    done = subprocess.run(
        [sys.executable, "-c", LOADER, str(path)],
        capture_output=True,
        text=True,
        timeout=110,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["groups"] == sorted(m["model_name"] for m in config["model_list"])
    assert seen["deployments"][LAST] == [f"github_copilot/{LAST}", ["thinking"]]
    assert seen["deployments"]["*"] == [f"github_copilot/{PRIMARY}", None]
    assert seen["deployments"][f"smart#{LAST}"] == [f"github_copilot/{LAST}", ["thinking"]]
    assert seen["fallbacks"] == config["router_settings"]["fallbacks"]
    assert (seen["num_retries"], seen["cooldown_time"], seen["timeout"]) == (0, 60, 600)
    assert seen["master_key_from_env"] is True
    assert seen["drop_params"] is True
    assert "RequestLogger" in seen["callbacks"]
    assert seen["mcp_urls"] == ["http://mcp-memory:8080/mcp"]
    # The settings of issue 13: system messages stay system, /metrics is open to the
    # scraper and served, and the plugin finds the file its settings are in.
    assert seen["system_kept"] is True
    assert seen["metrics_open"] is False
    assert seen["metrics_mounted"] is True
    assert seen["config_path"] == str(path)
