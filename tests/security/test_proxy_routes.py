"""The proxy exposes what clients and probes use, nothing else (the real `litellm` process).

Without a key, LiteLLM answered its admin UI (which cannot work without a
database), its API docs, its full route list, SSO and public catalogue routes;
with the key, admin routes and `/health`, which sends a real request to every
model. Every answer carried `x-litellm-model-api-base`: the account's Copilot
URL. Now all of that is 404, with or without the key, and no header names the
upstream.
"""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import openai
import pytest

from copilot_proxy.litellm.exposure import NOT_FOUND
from testkit.fake_github import FakeGitHub
from testkit.proxy_harness import LiteLLMProxy

pytestmark = pytest.mark.slow

CHAIN = ["claude-opus-4.6", "gpt-5-mini", "text-embedding-3-small", "gpt-5.3-codex"]
HI: Any = [{"role": "user", "content": "hi"}]

# What answered before (method, path, body): UI, docs, route list, SSO, public
# catalogues, key and user management, config, /health and its friends, and the
# provider routes this product does not offer.
HIDDEN: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/", None),
    ("GET", "/ui/", None),
    ("GET", "/ui/login/", None),
    ("GET", "/openapi.json", None),
    ("GET", "/redoc", None),
    ("GET", "/routes", None),
    ("GET", "/sso/key/generate", None),
    ("GET", "/fallback/login", None),
    ("GET", "/.well-known/litellm-ui-config", None),
    ("GET", "/public/model_hub", None),
    ("GET", "/public/litellm_model_cost_map", None),
    ("GET", "/public/providers", None),
    ("GET", "/get_image", None),
    ("GET", "/sso/callback", None),
    ("GET", "/get/ui_settings", None),
    ("GET", "/health", None),
    ("GET", "/health/services?service=slack", None),
    ("GET", "/settings", None),
    ("GET", "/active/callbacks", None),
    ("GET", "/key/info", None),
    ("GET", "/user/info", None),
    ("GET", "/global/spend/logs", None),
    ("POST", "/key/generate", {}),
    ("POST", "/user/new", {}),
    ("POST", "/model/new", {"model_name": "x", "litellm_params": {"model": "openai/x"}}),
    ("POST", "/config/update", {}),
    ("POST", "/health/test_connection", {"litellm_params": {"model": "gpt-5-mini"}}),
    ("POST", "/utils/token_counter", {"model": "gpt-5-mini", "messages": HI}),
    ("POST", "/v1/completions", {"model": "gpt-5-mini", "prompt": "hi"}),
    ("POST", "/openai/deployments/gpt-5-mini/chat/completions", {"messages": HI}),
    ("POST", "/anthropic/v1/messages", {"model": "x", "max_tokens": 5, "messages": HI}),
    ("POST", "/v1/images/generations", {"model": "gpt-5-mini", "prompt": "a cat"}),
]


@pytest.fixture(scope="module")
def proxy_spec() -> dict[str, Any]:
    return {"models": [{"name": m} for m in CHAIN]}


@pytest.mark.parametrize("with_key", [False, True], ids=["anonymous", "with-the-key"])
@pytest.mark.parametrize(("method", "path", "body"), HIDDEN, ids=[f"{m} {p}" for m, p, _ in HIDDEN])
def test_what_clients_do_not_use_is_not_there(
    proxy: LiteLLMProxy,
    upstream: FakeGitHub,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    with_key: bool,
) -> None:
    headers = proxy.auth_headers if with_key else {}
    answer = httpx.request(method, proxy.url + path, json=body, headers=headers, timeout=30)
    assert answer.status_code == 404
    assert answer.json() == NOT_FOUND
    assert upstream.copilot_requests() == []  # nothing reached Copilot either


def test_no_answer_names_the_upstream(proxy: LiteLLMProxy, upstream: FakeGitHub) -> None:
    oai = openai.OpenAI(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)
    claude = anthropic.Anthropic(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)
    answers: dict[str, Any] = {}  # route -> response headers
    chat = oai.chat.completions.with_raw_response.create(model="gpt-5-mini", messages=HI)
    answers["chat"] = chat.headers
    with oai.chat.completions.with_streaming_response.create(
        model="gpt-5-mini", messages=HI, stream=True
    ) as streamed:
        list(streamed.iter_lines())
        answers["chat stream"] = streamed.headers
    said = claude.messages.with_raw_response.create(
        model="claude-opus-4.6", max_tokens=50, messages=HI
    )
    answers["messages"] = said.headers
    with claude.messages.with_streaming_response.create(
        model="claude-opus-4.6", max_tokens=50, messages=HI, stream=True
    ) as streamed_messages:
        list(streamed_messages.iter_lines())
        answers["messages stream"] = streamed_messages.headers
    answers["responses"] = oai.responses.with_raw_response.create(
        model="gpt-5.3-codex", input="hi"
    ).headers
    answers["embeddings"] = oai.embeddings.with_raw_response.create(
        model="text-embedding-3-small", input=["a"]
    ).headers
    assert len(upstream.copilot_requests()) == len(answers)  # each one was answered upstream
    for route, headers in answers.items():
        assert "x-litellm-model-api-base" not in headers, route
        assert not [v for v in headers.values() if upstream.url in v], route
