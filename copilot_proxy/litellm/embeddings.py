"""The catch-all `*` is for chat-type requests only (pure).

An embedding (or image, audio, moderation, rerank) request for a name the proxy does not
serve as a model group of its own would otherwise reach the chain's primary, a chat
model: Copilot's /embeddings was asked for `claude-opus-4.6`. The hook refuses such a
request before routing, with a 400 that lists what is served
(spec.embeddingModels, rendered as groups with `model_info.mode: embedding`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from copilot_proxy.core.render import CATCH_ALL

EMBEDDING_CALLS = frozenset({"aembedding", "embedding"})
# LiteLLM call types that are not chat-type: the catch-all must not serve them.
OTHER_CALLS = frozenset(
    {"aimage_generation", "image_generation", "aimage_edit", "image_edit", "atranscription",
     "transcription", "aspeech", "speech", "amoderation", "moderation", "arerank", "rerank"}
)  # fmt: skip


def call_name(call_type: object) -> str:
    """LiteLLM hands the call type as an enum (CallTypes) or a string."""
    return str(getattr(call_type, "value", call_type) or "")


def served_embeddings(model_list: Iterable[Mapping[str, Any]]) -> list[str]:
    """The embedding models the config serves (without the prefixed names)."""
    names = []
    for entry in model_list:
        info = entry.get("model_info")
        name = str(entry.get("model_name") or "")
        embedding = isinstance(info, Mapping) and info.get("mode") == "embedding"
        if embedding and not name.startswith("github_copilot/") and name not in names:
            names.append(name)
    return names


def refusal(
    call_type: object, model: object, groups: Collection[str], embeddings: list[str]
) -> str | None:
    """Why a non-chat request is refused; None when its model is a group of its own (or it
    is a chat-type request, which the catch-all may serve)."""
    kind = call_name(call_type)
    if kind not in EMBEDDING_CALLS | OTHER_CALLS:
        return None
    name = str(model or "")
    if name in groups and name != CATCH_ALL:
        return None
    if kind in EMBEDDING_CALLS:
        offered = ", ".join(embeddings) or "none"
        return (
            f"Embedding model {name!r} is not served by this proxy (served: {offered}); add it"
            " to spec.embeddingModels if Copilot offers it."
        )
    return f"Model {name!r} is not served for {kind.lstrip('a')} requests by this proxy."
