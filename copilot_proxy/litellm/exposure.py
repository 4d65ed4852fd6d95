"""What of the LiteLLM proxy anyone can reach: the routes clients and probes use, nothing else.

LiteLLM serves far more than this product uses, much of it without a key: an
admin UI that cannot work without a database (`/ui`), API docs (`/`,
`/openapi.json`, `/redoc`), its route list (`/routes`), SSO and key
management, public model and provider catalogues, and `/health`, which sends
a real request to every model. No setting turns most of it off (docs/upstream.md,
"The LiteLLM proxy"). `Gate`, installed in front of the whole app
(internals.install_gate), answers 404 to every path `served` does not name
and drops the response headers that name the upstream (the account's Copilot
URL, in `x-litellm-model-api-base`).

The paths (docs/upstream.md "Endpoints", the README's clients, tests/proxy):
chat completions, embeddings, responses and the model listings, with or
without `/v1` (the OpenAI SDKs use both); Anthropic messages and token counts
(Claude Code); `/model_group/info` (the listing the plugin filters hop groups
from); MCP; the Deployment's probes; Prometheus metrics (the cost counters,
scraped without a key). A route the product starts to use must be added here.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SERVED = re.compile(
    r"/(v1/)?(chat/completions|embeddings|responses|models(/.+)?|model/info)"
    r"|/v1/messages(/count_tokens)?"
    r"|/model_group/info"
    r"|/mcp(/.*)?"
    r"|/health/(liveliness|readiness)"
    r"|/metrics/?"
)
# Response headers that name where the proxy sends requests.
HIDDEN_HEADERS = frozenset({b"x-litellm-model-api-base"})
NOT_FOUND = {
    "error": {
        "message": "Not found: this proxy serves the OpenAI and Anthropic APIs only.",
        "type": "not_found_error",
        "param": None,
        "code": "404",
    }
}


def served(path: str) -> bool:
    """Whether a request for `path` reaches LiteLLM."""
    return SERVED.fullmatch(path) is not None


def without_hidden(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(name, value) for name, value in headers if name.lower() not in HIDDEN_HEADERS]


class Gate:
    """ASGI: 404 for paths not `served`, hidden headers dropped from every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan
            await self.app(scope, receive, send)
        elif not served(scope.get("path", "")):
            await _refuse(scope, send)
        else:

            async def filtered(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": without_hidden(list(message["headers"]))}
                await send(message)

            await self.app(scope, receive, filtered)


async def _refuse(scope: Scope, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})  # refused before the handshake
        return
    body = json.dumps(NOT_FOUND).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})
