"""What the fake model says, pure: its words in stream pieces, embeddings,
and the tool call it makes.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Mapping
from typing import Any


def pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


# text-embedding-3-small answers 1536 floats of unit length. Its meaning is faked by
# words: each word (lower case, common ones left out) adds to one hashed dimension, so
# texts that share words are close (cosine), as related texts are for the real model.
# LiteLLM's MCP semantic tool filter ranks tools by exactly that.
DIMENSIONS = 1536
_COMMON_WORDS = frozenset(
    {"a", "an", "and", "are", "as", "be", "by", "for", "from", "in", "is", "it", "its"}
    | {"of", "on", "or", "the", "this", "that", "to", "with"}
)


def vector(text: str) -> list[float]:
    values = [0.0] * DIMENSIONS
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word not in _COMMON_WORDS:
            slot = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big")
            values[slot % DIMENSIONS] += 1.0
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def anthropic_as_openai(messages: Any) -> list[dict[str, Any]]:
    """Enough of Anthropic messages for tool_call: a tool_result counts as a tool message."""
    out: list[dict[str, Any]] = []
    for m in messages or []:
        if not isinstance(m, dict):
            continue
        content = m.get("content")
        if isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in content
        ):
            out.append({"role": "tool"})
        else:
            out.append({"role": m.get("role"), "content": content})
    return out


_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.DOTALL)


def tool_call(
    tools: Any,
    tool_choice: Any,
    messages: Any,
    tool_args: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """The tool call the fake model makes, if any.

    It calls the tool the last user message asks for ("use get_weather": a
    tool merely named, as in Claude Code's reminders, is not called), or the
    one `tool_choice` forces; never once the conversation ends with a tool
    result. System messages after the user's (Claude Code sends some) do not
    count. The arguments are `tool_args[name]` when a test set them, else
    samples of the required parameters.
    """
    if not tools or tool_choice == "none":
        return None
    turns = [m for m in messages or [] if isinstance(m, dict) and m.get("role") != "system"]
    last = turns[-1] if turns else None
    if not isinstance(last, dict) or last.get("role") != "user":
        return None
    fns = [t.get("function", {}) for t in tools if isinstance(t, dict)]
    # What the user said: Claude Code's <system-reminder> texts ("Use ToolSearch ...") aside.
    said = _REMINDER.sub("", json.dumps(last.get("content")))
    fn = next((f for f in fns if f.get("name") and _asked_for(str(f["name"]), said)), None)
    if isinstance(tool_choice, dict):
        wanted = (tool_choice.get("function") or {}).get("name") or tool_choice.get("name")
        fn = next((f for f in fns if f.get("name") == wanted), fn or (fns[0] if fns else None))
    elif tool_choice in ("required", "any") and fn is None and fns:
        fn = fns[0]
    if fn is None:
        return None
    name = str(fn.get("name", "tool"))
    args = dict((tool_args or {}).get(name) or _samples(fn.get("parameters") or {}))
    return {
        "id": "call_" + uuid.uuid4().hex[:24],
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }


def _asked_for(tool: str, text: str) -> bool:
    return re.search(rf"\buse (the )?{re.escape(tool)}\b", text, re.IGNORECASE) is not None


def _samples(params: Mapping[str, Any]) -> dict[str, Any]:
    props = params.get("properties") or {}
    return {name: _sample(props.get(name) or {}) for name in params.get("required") or []}


def _sample(schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    return {"integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}.get(
        str(kind), "Paris"
    )
