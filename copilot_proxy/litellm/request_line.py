"""The request log line: one line per client request on the proxy's stderr.

It names the route, the model the client asked for, the model group that
served it (a hop group shown as its model), the models that failed or were
skipped before it, the status, the duration, who started it (`user`: a
premium request), its tokens and AI credits; never keys, headers or message
content. Logger `copilot_proxy.requests`; the local mode picks these
lines out of the proxy's log by that name, so this module must not import
LiteLLM.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

LOGGER_NAME = "copilot_proxy.requests"
MCP_PREFIX = "MCP: "  # LiteLLM names an MCP tool call's model group "MCP: <tool>"
# What a model name or path may show as it is; anything else is percent-encoded.
_SHOWN = "/:@#,.-_~+[]()"


def shown(value: object) -> str:
    """A value the client chose (a model name, a path), safe in one `key=value` field:
    no newline can forge a line, no space a field; `unquote` gives it back."""
    return quote(str(value), safe=_SHOWN)


def make_logger() -> logging.Logger:
    # An own handler: LiteLLM reconfigures its loggers and the root level.
    log = logging.getLogger(LOGGER_NAME)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


@dataclass(frozen=True)
class Served:
    """A request some model answered."""

    route: object  # the API path, e.g. /v1/chat/completions
    asked: str  # the model name the client sent
    served: str  # the model group that answered, as users see it
    upstream: str  # the Copilot model that answered
    failed: Sequence[str]  # models that failed or were skipped before, in order
    stream: bool
    ms: int
    initiator: str = "-"  # user: Copilot counted a premium request
    cost: str = ""  # tokens and AI credits (usage.Usage.describe)


def served_line(r: Served) -> str:
    return (
        f"route={shown(r.route)} asked={shown(r.asked)} served={r.served} upstream={r.upstream}"
        f" failed={','.join(r.failed) or '-'} status=200 stream={str(r.stream).lower()}"
        f" ms={r.ms} initiator={r.initiator}" + (f" {r.cost}" if r.cost else "")
    )


def failed_before(failed: Sequence[str], skipped: Iterable[str]) -> list[str]:
    """The models tried or skipped before the one that served, each once, in order: those
    that failed, then those LiteLLM skipped (its `previous_models`)."""
    models = list(failed)
    for model in skipped:
        if model not in models:
            models.append(model)
    return models


def mcp_tool(asked: str) -> str | None:
    """The MCP tool a call was for; None for a model request."""
    return asked.removeprefix(MCP_PREFIX) if asked.startswith(MCP_PREFIX) else None


def mcp_line(route: object, tool: str, ms: int) -> str:
    return f"route={shown(route)} mcp={shown(tool)} status=200 ms={ms}"


def failed_line(
    route: object, asked: str, failed: Sequence[str], status: object, error: str
) -> str:
    """A request no model answered; `status` is the one the client got ("-" unknown)."""
    return (
        f"route={shown(route)} asked={shown(asked)} served=- upstream=-"
        f" failed={','.join(failed) or '-'} status={status} error={error}"
    )


def millis(start: Any, end: Any) -> int:
    """The milliseconds between two datetimes; 0 when LiteLLM gave something else."""
    try:
        return int((end - start).total_seconds() * 1000)
    except (TypeError, AttributeError):
        return 0
