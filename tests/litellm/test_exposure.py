"""Which paths reach LiteLLM, and the gate that applies it (no proxy: a stand-in ASGI app)."""

from __future__ import annotations

import asyncio
import json
import sys
import types
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from copilot_proxy.litellm import internals
from copilot_proxy.litellm.exposure import NOT_FOUND, Gate, served

Message = dict[str, Any]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/chat/completions",
        "/chat/completions",
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/responses",
        "/responses",
        "/v1/embeddings",
        "/embeddings",
        "/v1/models",
        "/models",
        "/v1/models/github_copilot/gpt-5-mini",
        "/model/info",
        "/v1/model/info",
        "/model_group/info",
        "/mcp",
        "/mcp/",
        "/mcp/tools/list",
        "/health/liveliness",
        "/health/readiness",
        "/metrics",
        "/metrics/",
    ],
)
def test_what_clients_and_probes_use_is_served(path: str) -> None:
    assert served(path)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/ui",
        "/ui/",
        "/docs",
        "/openapi.json",
        "/redoc",
        "/routes",
        "/sso/key/generate",
        "/health",
        "/health/services",
        "/health/drain",
        "/key/generate",
        "/v1/completions",
        "/messages",
        "/v1/models/",
        "/v1/chat/completions/",
        "//v1/chat/completions",
        "/V1/chat/completions",
        "/v1/chat/completions/../../ui",
        "/anthropic/v1/messages",
        "/v1/realtime",
        "/mcpx",
        "/metrics/x",
        "",
    ],
)
def test_everything_else_is_not(path: str) -> None:
    assert not served(path)


class App:
    """A stand-in for LiteLLM's app: answers 200 with the header that names the upstream."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append(scope["type"] + " " + scope.get("path", ""))
        if scope["type"] == "http":
            headers = [(b"x-litellm-model-api-base", b"https://api.x"), (b"x-other", b"1")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"ok"})


def call(app: Any, scope: dict[str, Any]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_the_gate_refuses_other_paths_before_the_app_sees_them() -> None:
    app = App()
    start, body = call(Gate(app), {"type": "http", "path": "/ui/"})
    assert start["status"] == 404 and json.loads(body["body"]) == NOT_FOUND
    assert call(Gate(app), {"type": "websocket", "path": "/v1/realtime"}) == [
        {"type": "websocket.close", "code": 1008}
    ]
    assert app.seen == []


def test_the_gate_drops_the_upstream_header_from_served_answers() -> None:
    app = App()
    start, body = call(Gate(app), {"type": "http", "path": "/v1/chat/completions"})
    assert start["headers"] == [(b"x-other", b"1")] and body["body"] == b"ok"
    call(Gate(app), {"type": "lifespan"})
    assert app.seen == ["http /v1/chat/completions", "lifespan "]


def test_install_gate_wraps_the_proxy_app_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "litellm.proxy.proxy_server", raising=False)
    assert not internals.install_gate(Gate)  # not inside a proxy: nothing to wrap

    class Starlette:
        middleware_stack: Any = None

        def build_middleware_stack(self) -> Any:
            return App()

    proxy_server = types.ModuleType("litellm.proxy.proxy_server")
    proxy_server.app = Starlette()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "litellm.proxy.proxy_server", proxy_server)
    assert internals.install_gate(Gate) and internals.install_gate(Gate)
    stack = proxy_server.app.middleware_stack
    assert isinstance(stack, Gate) and isinstance(stack.app, App)
