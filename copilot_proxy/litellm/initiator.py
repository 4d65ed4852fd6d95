"""Does a request start a human turn (`user`) or continue one (`agent`)? Pure.

Copilot bills a premium request for every request whose `X-Initiator` is
`user` or missing; `agent` marks the requests an agent makes on its own within
a turn (docs/upstream.md, "Copilot: billing"). The rule, per client format,
looks at the last turn of the conversation:
- Anthropic messages: `user` when the last message (role `system` entries
  aside: Claude Code appends some) is a user message without a `tool_result`;
- OpenAI chat: `user` when the last message is a user message;
- Responses: `user` when the input is text or its last item is a user message
  (not a `function_call_output`).
Anything unreadable is `user`: under-billing a human turn is an account risk,
over-billing one costs a request.

Claude Code (User-Agent `claude-cli/...`) also makes requests no human typed,
measured with the real CLI (docs/billing.md): sub-agents (header
`x-claude-code-agent-id`), the session title (no tools, structured output),
the continuation after auto-compaction and background-task notifications. They
are `agent`, as GitHub's own VS Code marks its title and sub-agent requests.
A message the user typed while a tool ran is merged into the tool results:
it is `user`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

Initiator = Literal["user", "agent"]
USER: Initiator = "user"
AGENT: Initiator = "agent"

MESSAGES = "anthropic_messages"  # LiteLLM's call types, by client format
RESPONSES = ("aresponses", "responses")

CLAUDE_CODE_AGENT = "claude-cli/"  # the start of Claude Code's User-Agent
SUBAGENT_HEADER = "x-claude-code-agent-id"
QUEUED = "The user sent a new message while you were working:"
CONTINUED = "This session is being continued from a previous conversation"
REMINDER = "<system-reminder>"
_INSTRUCTIONS = ("system", "developer")


def of_request(call_type: object, body: Mapping[str, Any], headers: Mapping[str, str]) -> Initiator:
    """The initiator of a client request, by the format its route speaks."""
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    if lower.get("user-agent", "").startswith(CLAUDE_CODE_AGENT):
        return claude_code(body, lower)
    if call_type == MESSAGES:
        return of_messages(body.get("messages"))
    if call_type in RESPONSES:
        return of_responses(body.get("input"))
    return of_chat(body.get("messages"))


def of_messages(messages: object) -> Initiator:
    """Anthropic messages: a user message without tool results starts a human turn."""
    last = _last_turn(messages)
    if last is None:
        return USER
    if last.get("role") != "user":
        return AGENT  # an assistant prefill continues the turn
    return AGENT if any(b.get("type") == "tool_result" for b in _blocks(last)) else USER


def of_chat(messages: object) -> Initiator:
    """OpenAI chat: a user message last starts a human turn; a tool result does not."""
    last = _last_turn(messages)
    return USER if last is None or last.get("role") == "user" else AGENT


def of_responses(items: object) -> Initiator:
    """Responses: text, or a user message last, starts a human turn; a tool output does not.
    System and developer messages after it do not count."""
    if not isinstance(items, list):
        return USER
    turns = [i for i in items if not (isinstance(i, Mapping) and i.get("role") in _INSTRUCTIONS)]
    last = turns[-1] if turns else None
    if not isinstance(last, Mapping):
        return USER
    return USER if last.get("role") == "user" else AGENT


def claude_code(body: Mapping[str, Any], headers: Mapping[str, str]) -> Initiator:
    """Claude Code's /v1/messages requests (headers with lower-case names)."""
    if headers.get(SUBAGENT_HEADER):
        return AGENT
    if _is_side_request(body):
        return AGENT
    last = _last_turn(body.get("messages"))
    texts = [str(b.get("text") or "") for b in _blocks(last or {}) if b.get("type") == "text"]
    if any(t.startswith(QUEUED) for t in texts):
        return USER  # typed while a tool ran, sent with the tool results
    if any(t.startswith(CONTINUED) for t in texts):
        return AGENT  # the conversation goes on after auto-compaction
    if texts and all(t.lstrip().startswith(REMINDER) for t in texts):
        return AGENT  # a background task's notification
    return of_messages(body.get("messages"))


def _is_side_request(body: Mapping[str, Any]) -> bool:
    """A request Claude Code makes beside the conversation: without tools, for a structured
    answer (the session title) or one token (a quota probe). A human turn sent with every
    tool disabled (`--tools ""`) asks for neither."""
    if body.get("tools"):
        return False
    output = body.get("output_config")
    structured = isinstance(output, Mapping) and bool(output.get("format"))
    max_tokens = body.get("max_tokens")
    return structured or (isinstance(max_tokens, int) and max_tokens <= 1)


def _last_turn(messages: object) -> Mapping[str, Any] | None:
    """The last message that is not a `system` one (None when there is none)."""
    if not isinstance(messages, Sequence) or isinstance(messages, str):
        return None
    turns = [m for m in messages if isinstance(m, Mapping) and m.get("role") != "system"]
    return turns[-1] if turns else None


def _blocks(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [b for b in content if isinstance(b, Mapping)]
    return []
