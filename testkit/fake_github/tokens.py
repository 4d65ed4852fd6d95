"""How many tokens the fake Copilot says a prompt has: its `usage`, its `count_tokens` and its
prompt-limit check (400 `model_max_prompt_tokens_exceeded`) all use this one count.

A claim about Copilot, by vendor:
- GPT: the real tokenizer, `o200k_base` (OpenAI's tiktoken; the GPT-4o and GPT-5 families),
  from the copy LiteLLM bundles (no download);
- Claude: Claude 4's tokenizer is not public; Anthropic's own rule of thumb, "a token
  approximately represents 3.5 English characters" (docs.anthropic.com, Glossary, "Tokens");
- Gemini (and others): "a token is equivalent to about 4 characters" (Google AI for
  Developers, "Understand and count tokens").
The characters counted are what the model reads: the text of the system prompt, the messages
(tool calls and results included) and the tool definitions (as JSON), not the JSON framing of
the request. docs/upstream.md ("Copilot: prompt limits and token counts") says how the proxy's
own estimate compares.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

CHARS_PER_TOKEN = {"Anthropic": 3.5}  # by vendor; 4 for the others
DEFAULT_CHARS_PER_TOKEN = 4.0
TOKENIZED = ("Azure OpenAI", "OpenAI")  # vendors whose tokenizer is public
_TOOL_KEYS = ("input_schema", "parameters", "function")  # a tool definition has one of them
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
    return max(1, text_tokens(vendor, prompt_text(body)))


def part_tokens(vendor: str, part: Any) -> int:
    """The tokens of one part of a prompt (a tool, a system block, a message): the billing's
    prompt cache sums them into the sizes of the prefixes it caches."""
    if isinstance(part, dict) and any(key in part for key in _TOOL_KEYS):
        return text_tokens(vendor, json.dumps(part, separators=(",", ":")))  # as prompt_text
    texts: list[str] = []
    _strings(part, texts)
    return text_tokens(vendor, "".join(texts))


def text_tokens(vendor: str, text: str) -> int:
    if vendor in TOKENIZED:
        return len(_o200k().encode(text, disallowed_special=()))
    return math.ceil(len(text) / CHARS_PER_TOKEN.get(vendor, DEFAULT_CHARS_PER_TOKEN))


@functools.cache
def _o200k() -> Any:
    # LiteLLM points tiktoken at the encodings it bundles (TIKTOKEN_CACHE_DIR) on import.
    import litellm.litellm_core_utils.default_encoding  # noqa: F401
    import tiktoken

    return tiktoken.get_encoding("o200k_base")


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
