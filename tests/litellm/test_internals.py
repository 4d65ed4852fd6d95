"""The LiteLLM internals the hook relies on, checked against the installed LiteLLM.

No proxy process: LiteLLM's own exceptions, Router and Authenticator, so a
LiteLLM upgrade that renames what internals/ reads fails here first.
(This folder has no __init__.py on purpose: as a package named `litellm` on
pytest's sys.path it would hide the real one.)
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import litellm
import pytest
from litellm import exceptions as errors
from litellm.proxy._types import ProxyErrorTypes, ProxyException
from litellm.router import Router
from litellm.types.router import RouterRateLimitError
from litellm.types.utils import ModelResponse

from copilot_proxy.core.render import render_config
from copilot_proxy.core.spec import parse_spec
from copilot_proxy.litellm import internals, routing

WEEKLY = "user_weekly_rate_limited"
CHAIN = ["claude-opus-4.6", "gemini-3-pro-preview", "gpt-5-mini"]


def copilot(cls: Any, message: str) -> Exception:
    """An exception as LiteLLM raises it for a github_copilot/ model."""
    error: Exception = cls(message=message, llm_provider="github_copilot", model="gpt-5-mini")
    return error


@pytest.mark.parametrize(
    ("exc", "status", "reason"),
    [
        (copilot(errors.RateLimitError, "code: rate_limited"), 429, "rate_limited"),
        (copilot(errors.RateLimitError, "Too Many Requests"), 429, "rate_limited"),
        (copilot(errors.RateLimitError, "user_weekly_rate_limited"), 429, WEEKLY),
        (copilot(errors.PaymentRequiredError, "quota_exceeded"), 402, "quota_exceeded"),
        (copilot(errors.InternalServerError, "boom"), 500, "upstream_error"),
        (copilot(errors.ServiceUnavailableError, "down"), 503, "upstream_error"),
        (copilot(errors.Timeout, "no answer"), 408, "Timeout"),
        (copilot(errors.BadRequestError, "model_not_supported"), 400, "model_not_supported"),
        (copilot(errors.AuthenticationError, "token_expired"), 401, "token_expired"),
    ],
)
def test_error_of_litellms_exceptions(exc: Exception, status: int, reason: str) -> None:
    error = internals.error_of(exc)
    assert (error.status, error.reason) == (status, reason)


def test_the_routers_refusal_is_recognised_and_is_no_upstream_failure() -> None:
    refusal = RouterRateLimitError("fast", 60.0, False, ["id-0"])
    assert internals.is_router_refusal(refusal)
    assert not internals.is_router_refusal(copilot(errors.RateLimitError, "x"))


def test_wrong_and_missing_client_keys_are_recognised() -> None:
    wrong = ProxyException("No connected db.", ProxyErrorTypes.no_db_connection, None, 400)
    assert internals.is_wrong_client_key(wrong)
    assert internals.error_of(wrong).status == 400  # what LiteLLM would answer
    assert not internals.is_wrong_client_key(copilot(errors.RateLimitError, "x"))
    assert internals.is_missing_client_key(Exception("No api key passed in."))


@pytest.fixture
def router(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Router:
    """LiteLLM's router for our rendered config, as the proxy builds it.

    It needs a GitHub token and a Copilot key on disk to keep github_copilot/
    deployments, and registers itself in module-wide lists kept from other tests.
    """
    (tmp_path / "access-token").write_text("gho_test_token\n")
    key = {"token": "tid=test", "expires_at": time.time() + 3600, "endpoints": {"api": "x"}}
    (tmp_path / "api-key.json").write_text(json.dumps(key))
    monkeypatch.setenv("GITHUB_COPILOT_TOKEN_DIR", str(tmp_path))
    for name in ("callbacks", "success_callback", "failure_callback"):
        monkeypatch.setattr(litellm, name, list(getattr(litellm, name)))
    for name in ("_async_success_callback", "_async_failure_callback"):
        monkeypatch.setattr(litellm, name, list(getattr(litellm, name)))
    raw = {
        "models": [{"name": n} for n in CHAIN],
        "routes": [{"name": "fast", "models": ["gpt-5-mini", "claude-opus-4.6"]}],
    }
    config = render_config(parse_spec("copilot", "default", raw))
    return Router(model_list=config["model_list"], **config["router_settings"])


def test_view_of_the_router_built_from_the_rendered_config(router: Router) -> None:
    view = internals.view_of(router)
    assert (view.cooldown_time, view.allowed_fails) == (60.0, 0)
    assert routing.chain(view, "gemini-3-pro-preview") == CHAIN[1:]
    assert routing.chain(view, "fast") == ["gpt-5-mini", "claude-opus-4.6"]
    assert routing.group_model(view, "fast#claude-opus-4.6") == "claude-opus-4.6"
    assert len(routing.deployment_ids(view, "claude-opus-4.6")) == 4  # 2 names, hop, "*"
    assert internals.view_of(None) == routing.RouterView()


def test_cool_down_puts_deployments_in_the_routers_cooldown_cache(router: Router) -> None:
    view = internals.view_of(router)
    ids = routing.deployment_ids(view, "claude-opus-4.6")
    quota = copilot(errors.PaymentRequiredError, "quota_exceeded")
    internals.cool_down(router, ids, quota, 402, 7200.0)
    cooling = router.cooldown_cache.get_active_cooldowns(model_ids=ids, parent_otel_span=None)
    assert sorted(ident for ident, _ in cooling) == sorted(ids)
    assert {entry["cooldown_time"] for _, entry in cooling} == {7200.0}  # not the router's 60


def test_deployment_id_of_a_request_attempt() -> None:
    assert internals.deployment_id({"model_info": {"id": "abc"}}) == "abc"
    assert internals.deployment_id({"litellm_params": {"model_info": {"id": "abc"}}}) == "abc"
    assert internals.deployment_id({"model": "github_copilot/gpt-5-mini"}) is None


def test_extra_headers_are_the_responses_own() -> None:
    response = ModelResponse()
    response._hidden_params["additional_headers"] = {internals.GROUP_HEADER: "fast#gpt-5-mini"}
    headers = internals.extra_headers(response)
    assert headers is not None
    headers[internals.GROUP_HEADER] = "gpt-5-mini"
    assert response._hidden_params["additional_headers"][internals.GROUP_HEADER] == "gpt-5-mini"
    assert internals.extra_headers(object()) is None


def test_drop_copilot_key_removes_litellms_cached_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_COPILOT_TOKEN_DIR", str(tmp_path))
    key = tmp_path / "api-key.json"
    key.write_text('{"token": "tid=1", "expires_at": 9999999999}')
    (tmp_path / "access-token").write_text("ghu_x")
    internals.drop_copilot_key()
    assert not key.exists()
    assert (tmp_path / "access-token").exists()
    internals.drop_copilot_key()  # nothing to drop: no error


def test_otel_import_fails_at_once_without_the_sdk() -> None:
    import importlib.util

    if importlib.util.find_spec("opentelemetry.sdk") is not None:
        pytest.skip("opentelemetry-sdk is installed: LiteLLM's OTel import works")
    assert importlib.util.find_spec(internals.OTEL_LOGGER) is not None, "renamed in LiteLLM?"
    had = internals.OTEL_LOGGER in sys.modules
    try:
        internals.fail_otel_import_fast()
        with pytest.raises(ImportError):
            __import__(internals.OTEL_LOGGER)
    finally:
        if not had:
            sys.modules.pop(internals.OTEL_LOGGER, None)


def test_the_session_limit_code_comes_from_the_error_body() -> None:
    limited = copilot(errors.RateLimitError, "Please retry after 2733 seconds.")
    limited.body = {"code": "user_global_rate_limited"}  # type: ignore[attr-defined]
    assert internals.error_of(limited).reason == "user_global_rate_limited"


def test_response_headers_of_an_upstream_error() -> None:
    limited = copilot(errors.RateLimitError, "rate limited")
    limited.litellm_response_headers = {"Retry-After": "33"}  # type: ignore[attr-defined]
    assert internals.response_headers(limited) == {"Retry-After": "33"}
    assert internals.response_headers(ValueError("no answer")) == {}


def test_answers_of_our_own_are_what_the_proxy_sends_as_given() -> None:
    answer = internals.answer_now(402, "No model can answer", "models_unavailable", {"a": "b"})
    assert isinstance(answer, ProxyException)
    assert (answer.code, answer.type, answer.headers) == ("402", "models_unavailable", {"a": "b"})
    too_long = internals.context_window_error("claude-opus-4.6", "prompt is too long")
    assert isinstance(too_long, errors.ContextWindowExceededError)
    assert internals.is_context_window(too_long) and not internals.is_context_window(answer)


def test_the_prompt_count_takes_system_tools_and_responses_input(router: Router) -> None:
    messages = [{"role": "user", "content": "hello there"}]
    bare = internals.count_prompt(router, messages, {})
    system = internals.count_prompt(router, messages, {"system": "be brief " * 50})
    tools = internals.count_prompt(
        router, messages, {"tools": [{"name": "Read", "description": "read " * 50,
                                      "input_schema": {"type": "object"}}]}
    )  # fmt: skip
    assert system > bare + 50 and tools > bare + 50
    assert internals.count_prompt(router, None, {"input": "hello there"}) > 0


# ----- billing: Copilot's headers, the usage tee ------------------------------------


def test_copilot_headers_are_litellms_own_with_the_initiator_and_no_key() -> None:
    """The chat path sends a request's extra_headers instead of LiteLLM's Copilot headers:
    ours must carry all of them (Copilot refuses a request without editor-version)."""
    from litellm.llms.github_copilot.common_utils import get_copilot_default_headers

    headers = internals.copilot_headers("agent", "rid-1")
    litellms = {k for k in get_copilot_default_headers("k") if k.lower() != "authorization"}
    assert litellms <= set(headers)
    assert {"editor-version", "copilot-integration-id", "x-github-api-version"} <= litellms
    assert not any(k.lower() == "authorization" for k in headers)
    assert headers["X-Initiator"] == "agent" and headers["x-request-id"] == "rid-1"


@pytest.fixture
def teed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float]]:
    """The usage tee on LiteLLM's transports for one test (undone after it)."""
    import httpx
    from litellm.llms.custom_httpx.aiohttp_transport import LiteLLMAiohttpTransport

    for cls in (LiteLLMAiohttpTransport, httpx.AsyncHTTPTransport):
        monkeypatch.setattr(cls, "handle_async_request", cls.handle_async_request)
    charged: list[tuple[str, float]] = []
    internals.tee_copilot_usage(lambda rid, nano: charged.append((rid, nano)))
    internals.tee_copilot_usage(lambda rid, nano: charged.append((rid, -1)))  # once only
    return charged


async def _upstream_answers() -> Any:
    """A server answering a gzip JSON body and an SSE stream cut mid-field."""
    import gzip

    from aiohttp import web
    from aiohttp.test_utils import TestServer

    body = json.dumps({"choices": [], "copilot_usage": {"total_nano_aiu": 31250000}}).encode()

    async def packed(request: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(body), headers={"content-encoding": "gzip"})

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        event = b'data: {"type":"message_delta","copilot_usage":{"total_nano_aiu":4200}}\n\n'
        for i in range(0, len(event), 7):  # the field arrives in pieces
            await resp.write(event[i : i + 7])
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_post("/packed", packed)
    app.router.add_post("/stream", stream)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_usage_tee_reads_copilot_usage_off_litellms_transport(
    teed: list[tuple[str, float]],
) -> None:
    import httpx
    from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler

    server = await _upstream_answers()
    transport = AsyncHTTPHandler.create_async_transport()
    assert type(transport).__name__ == "LiteLLMAiohttpTransport"  # what the proxy uses
    try:
        async with httpx.AsyncClient(transport=transport) as client:
            base = str(server.make_url(""))
            packed = await client.post(f"{base}/packed", headers={"x-request-id": "r1"})
            assert packed.json()["copilot_usage"]["total_nano_aiu"] == 31250000  # unchanged
            async with client.stream("POST", f"{base}/stream", headers={"x-request-id": "r2"}) as r:
                raw = b"".join([chunk async for chunk in r.aiter_raw()])
            assert raw.count(b"total_nano_aiu") == 1
            await client.post(f"{base}/packed")  # no request id: not ours, not scanned
    finally:
        await server.close()
    assert teed == [("r1", 31250000.0), ("r2", 4200.0)]


def test_the_authenticator_reads_the_token_file_at_each_exchange(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What internals.watch_credential replaces and relies on (internals/authenticator.py)."""
    from litellm.llms.github_copilot import authenticator

    monkeypatch.setenv("GITHUB_COPILOT_TOKEN_DIR", str(tmp_path))
    auth = authenticator.Authenticator()
    (tmp_path / "access-token").write_text("one")
    assert auth.get_access_token() == "one"
    (tmp_path / "access-token").write_text("two")
    assert auth.get_access_token() == "two"  # no copy kept in memory
    for name in ("get_api_key", "_refresh_api_key", "_get_github_headers"):
        assert callable(getattr(auth, name))
    assert auth.token_dir == str(tmp_path) and authenticator.DEFAULT_GITHUB_API_KEY_URL


def test_the_api_base_is_never_read_from_a_half_written_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LiteLLM rewrites api-key.json in place when it renews the Copilot key, and reads the
    API base from it for every request: read mid-write, the base was None and the request
    went to LiteLLM's default host (tests/operator/test_app_pod: 1 failure in 980 requests
    with 6 s tokens). A reader waits for the writer (the key exchange) instead."""
    from litellm.llms.github_copilot.authenticator import Authenticator

    from copilot_proxy.litellm.credential import Memo
    from copilot_proxy.litellm.internals import authenticator

    monkeypatch.setenv("GITHUB_COPILOT_TOKEN_DIR", str(tmp_path))
    internals.watch_credential(Memo())
    key = tmp_path / "api-key.json"
    answers: list[str | None] = []
    reader = threading.Thread(target=lambda: answers.append(Authenticator().get_api_base()))
    with authenticator._lock:  # as during a key exchange, which writes the file
        key.write_text('{"token": "tid=1", "endpoi')
        reader.start()
        reader.join(0.3)
        assert answers == [], "read a half-written key file"
        base = "https://api.business.githubcopilot.com"
        key.write_text(json.dumps({"token": "tid=1", "endpoints": {"api": base}}))
    reader.join(5)
    assert answers == [base]


def test_a_request_skips_the_key_lookup_only_while_the_key_it_knows_stands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path of every request: no lookup while the token file and the key file are
    the ones the last lookup saw and the key's renewal time has not come."""
    from litellm.llms.github_copilot.authenticator import Authenticator

    from copilot_proxy.litellm.credential import Memo
    from copilot_proxy.litellm.internals import authenticator

    monkeypatch.setenv("GITHUB_COPILOT_TOKEN_DIR", str(tmp_path))
    token_file = tmp_path / "access-token"
    token_file.write_text("ghs_first")
    monkeypatch.setenv("GITHUB_COPILOT_ACCESS_TOKEN_FILE", str(token_file))
    internals.watch_credential(Memo())
    now = time.time()

    def cache_key() -> None:
        info = {"token": "tid=1", "expires_at": now + 1500, "refresh_in": 1200}
        info |= authenticator.stamp(internals.token_identity(token_file), now)
        (tmp_path / "api-key.json").write_text(json.dumps(info))
        assert Authenticator().get_api_key() == "tid=1"

    cache_key()
    assert internals.key_known_fresh(now + 1)
    assert not internals.key_known_fresh(now + 1201)  # Copilot's refresh_in has come
    (tmp_path / "api-key.json").unlink()  # dropped after a 401
    assert not internals.key_known_fresh(now + 1)
    cache_key()
    part = tmp_path / "access-token.part"
    part.write_text("ghs_second")
    part.replace(token_file)  # a rotation
    assert not internals.key_known_fresh(now + 1)
