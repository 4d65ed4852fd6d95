"""How many tokens the fake Copilot says a prompt has: its `usage`, its `count_tokens` and its
prompt-limit check (400 `model_max_prompt_tokens_exceeded`) all use this one count.

The real tokenizers of Claude 4.x and Gemini are not public, so this is a claim, taken from
each vendor's own rule of thumb for English text:
- Claude: "a token approximately represents 3.5 English characters" (Anthropic's glossary,
  docs.anthropic.com/en/docs/resources/glossary, "Tokens");
- GPT: "one token generally corresponds to ~4 characters of text for common English text"
  (OpenAI Help Center, "What are tokens and how to count them?");
- Gemini: "a token is equivalent to about 4 characters" (Google AI for Developers,
  "Understand and count tokens").
The characters counted are what the model reads: the text of the system prompt, the messages
(tool calls and results included) and the tool definitions (as JSON), not the JSON framing of
the request. docs/upstream.md ("Copilot: the catalogue and prompt limits") says how the proxy's
own estimate compares.
"""

from __future__ import annotations

import json
import math
from typing import Any

CHARS_PER_TOKEN = {"Anthropic": 3.5}  # by vendor; 4 for the others
DEFAULT_CHARS_PER_TOKEN = 4.0
# Keys that frame a request rather than carry text the model reads.
_FRAMING = frozenset(
    {"role", "type", "id", "tool_use_id", "tool_call_id", "call_id", "cache_control",
     "signature", "status", "index", "model"}
)  # fmt: skip


def prompt_text(body: Any) -> str:
    """The text a model reads of a chat, messages or responses request."""
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    for key in ("system", "instructions", "messages", "input"):
        _strings(body.get(key), parts)
    if body.get("tools"):
        parts.append(json.dumps(body["tools"], separators=(",", ":")))
    return "".join(parts)


def prompt_tokens(vendor: str, body: Any) -> int:
    chars = len(prompt_text(body))
    return max(1, math.ceil(chars / CHARS_PER_TOKEN.get(vendor, DEFAULT_CHARS_PER_TOKEN)))


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in ("input", "arguments") and not isinstance(item, str):
                out.append(json.dumps(item, separators=(",", ":")))  # a tool call's arguments
            elif key not in _FRAMING:
                _strings(item, out)
