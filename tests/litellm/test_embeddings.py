"""The catch-all is for chat-type requests: embeddings need a group of their own."""

from __future__ import annotations

from copilot_proxy.core.render import render_config
from copilot_proxy.core.spec import parse_spec
from copilot_proxy.litellm.embeddings import refusal, served_embeddings

CONFIG = render_config(parse_spec("p", "default", {"models": [{"name": "claude-opus-4.6"}]}))
GROUPS = {e["model_name"] for e in CONFIG["model_list"]}
SERVED = served_embeddings(CONFIG["model_list"])


def test_the_declared_embedding_models_are_served() -> None:
    assert SERVED == ["text-embedding-3-small"]
    assert refusal("aembedding", "text-embedding-3-small", GROUPS, SERVED) is None
    assert refusal("aembedding", "github_copilot/text-embedding-3-small", GROUPS, SERVED) is None


def test_an_unknown_embedding_model_is_refused_not_sent_to_the_chat_primary() -> None:
    why = refusal("aembedding", "text-embedding-ada-002", GROUPS, SERVED)
    assert why == (
        "Embedding model 'text-embedding-ada-002' is not served by this proxy (served:"
        " text-embedding-3-small); add it to spec.embeddingModels if Copilot offers it."
    )
    assert refusal("aembedding", "claude-opus-4.6", GROUPS, SERVED) is None  # a group: Copilot says
    assert refusal("aimage_generation", "dall-e-3", GROUPS, SERVED) == (
        "Model 'dall-e-3' is not served for image_generation requests by this proxy."
    )


def test_chat_type_requests_still_reach_the_catch_all() -> None:
    for call in ("acompletion", "anthropic_messages", "aresponses", "call_mcp_tool"):
        assert refusal(call, "claude-sonnet-4-5-20250929", GROUPS, SERVED) is None
