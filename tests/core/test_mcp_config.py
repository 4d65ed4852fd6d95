"""The semantic tool filter in the rendered LiteLLM config: off by default; on, it embeds with
Copilot's text-embedding-3-small served by the same proxy, in a group that never falls back
into the chat chain."""

from __future__ import annotations

from typing import Any

from copilot_proxy.core import mcp_config
from copilot_proxy.core.render import render_config
from copilot_proxy.core.spec import parse_spec

MEMORY = {"memory": {"preset": "memory"}}


def render(**fields: Any) -> dict[str, Any]:
    spec = {"models": [{"name": "claude-opus-4.6"}, {"name": "gpt-5-mini"}], **fields}
    return render_config(parse_spec("team", "ai", spec))


def groups(config: dict[str, Any]) -> list[str]:
    return [m["model_name"] for m in config["model_list"]]


def test_off_by_default() -> None:
    config = render(mcpServers=MEMORY, embeddingModels=[])  # no embedding model of its own
    assert "mcp_semantic_tool_filter" not in config["litellm_settings"]
    assert "text-embedding-3-small" not in groups(config)


def test_on_it_embeds_with_the_proxys_own_copilot_model() -> None:
    config = render(
        mcpServers=MEMORY,
        mcpSemanticFilter={"enabled": True, "topK": 4, "similarityThreshold": 0.2},
    )
    assert config["litellm_settings"]["mcp_semantic_tool_filter"] == {
        "enabled": True,
        "embedding_model": "text-embedding-3-small",
        "top_k": 4,
        "similarity_threshold": 0.2,
    }
    (group,) = [m for m in config["model_list"] if m["model_name"] == "text-embedding-3-small"]
    assert group["litellm_params"] == {"model": "github_copilot/text-embedding-3-small"}
    assert group["model_info"] == {"mode": "embedding"}
    # An embedding request never climbs into the chat chain (the catch-all's fallbacks).
    assert {"text-embedding-3-small": []} in config["router_settings"]["fallbacks"]


def test_an_embedding_group_already_rendered_is_not_added_twice() -> None:
    config = render(mcpSemanticFilter={"enabled": True})
    before = list(config["model_list"])
    raw = {"models": [{"name": "gpt-5-mini"}], "mcpSemanticFilter": {"enabled": True}}
    spec = parse_spec("team", "ai", raw)
    mcp_config.add_semantic_filter(config, spec)
    assert config["model_list"] == before
    assert groups(config).count("text-embedding-3-small") == 1
