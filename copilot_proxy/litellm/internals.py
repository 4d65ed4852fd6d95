"""Every LiteLLM internal the request logger touches, with its reason: check them on an upgrade.

Read off LiteLLM 1.108.7 (the pin in requirements/runtime.txt). The hook
methods' arguments are LiteLLM's CustomLogger interface; what is below is not
part of it. tests/litellm/test_internals.py checks what can be checked against
the installed package without a proxy; tests/proxy checks the rest end to end.
LiteLLM is imported inside the functions: most of it only exists in the proxy.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import httpx

from copilot_proxy.litellm import usage
from copilot_proxy.litellm.failures import Error
from copilot_proxy.litellm.routing import RouterView

OTEL_LOGGER = "litellm.integrations.otel.logger"  # imported by LiteLLM on every request
GROUP_HEADER = "x-litellm-model-group"  # the response header naming the group that answered
ROUTER_REFUSAL = "RouterRateLimitError"  # "No deployments available": every one cooling down
NO_DB = "no_db_connection"  # ProxyException.type of a wrong client key without a database
NO_KEY = "No api key passed in"  # the auth error of a request without a client key
METRICS_PATH = "/metrics"  # mounted: Starlette serves it at /metrics/ (and redirects /metrics)


def fail_otel_import_fast() -> None:
    """Make LiteLLM's per-request import of its OTel logger fail at once without opentelemetry-sdk.

    LiteLLM 1.108 imports its OTel V2 logger inside every authenticated request;
    without the SDK that import fails half-way and is retried from disk each
    time (~10% of the proxy's CPU per request, docs/benchmarks.md). None in
    sys.modules fails it at once; LiteLLM already treats the failure as "no
    OTel destinations".
    """
    if not _has_otel_sdk():
        sys.modules.setdefault(OTEL_LOGGER, None)  # type: ignore[arg-type]


def _has_otel_sdk() -> bool:
    try:
        return importlib.util.find_spec("opentelemetry.sdk") is not None
    except ModuleNotFoundError:  # no opentelemetry package at all
        return False


def install_gate(gate: Callable[[Any], Any]) -> bool:
    """Put `gate(app)` in front of the proxy's whole ASGI app; False outside a proxy.

    LiteLLM loads the plugin during the app's lifespan start-up, when
    Starlette has built `app.middleware_stack` (the app's own middleware and
    routes) and calls it for every request from then on; wrapping it puts the
    gate outermost. No setting or public API does this: `app.router.routes`
    cannot be pruned (FastAPI keeps included routers in wrappers) and
    NO_DOCS & co. leave `/ui`, `/routes` and the SSO routes open.
    """
    proxy_server = sys.modules.get("litellm.proxy.proxy_server")
    app = getattr(proxy_server, "app", None)
    if app is None:
        return False
    stack = app.middleware_stack or app.build_middleware_stack()
    if not getattr(stack, "copilot_proxy_gate", False):
        app.middleware_stack = gate(stack)
        app.middleware_stack.copilot_proxy_gate = True
    return True


def proxy_router() -> Any:
    """The proxy's router: proxy_server.llm_router, built from the config at start."""
    from litellm.proxy import proxy_server  # only importable inside the proxy

    return getattr(proxy_server, "llm_router", None)


def view_of(router: Any) -> RouterView:
    """A router's model groups, fallbacks and cooldown settings; empty without a router."""
    if router is None:
        return RouterView()
    return RouterView(
        model_list=router.model_list,
        fallbacks=router.fallbacks or [],
        names=frozenset(router.get_model_names()),
        cooldown_time=float(router.cooldown_time or 0),
        allowed_fails=int(router.allowed_fails or 0),
    )


def router_view() -> RouterView:
    return view_of(proxy_router())


def cool_down(
    router: Any, deployment_ids: Iterable[str], exception: Exception, status: int | None
) -> None:
    """Put deployments into the router's cooldown cache, which it skips for `cooldown_time`.

    The router still reads that cache with `disable_cooldowns: true` (which
    only stops it from adding to it).
    """
    for ident in deployment_ids:
        # cooldown_time None: the router's own, from router_settings.cooldown_time.
        router.cooldown_cache.add_deployment_to_cooldown(
            model_id=ident,
            original_exception=exception,
            exception_status=status,
            cooldown_time=None,
        )


def drop_copilot_key() -> None:
    """Forget LiteLLM's cached Copilot key so the next call fetches a new one.

    LiteLLM refreshes the key (the Authenticator's `api_key_file`) only when the
    `expires_at` it stored has passed; a key Copilot stopped accepting earlier
    would fail every request until then.
    """
    from litellm.llms.github_copilot.authenticator import Authenticator

    with contextlib.suppress(OSError):
        os.remove(Authenticator().api_key_file)


def error_of(exc: BaseException) -> Error:
    """LiteLLM's exceptions carry the HTTP status as `status_code` (some as `code`)
    and the upstream's answer in `message`."""
    return Error(_status(exc), str(getattr(exc, "message", "") or exc), type(exc).__name__)


def _status(exc: BaseException) -> int | None:
    for attr in ("status_code", "code"):
        value = getattr(exc, attr, None)
        try:
            if value is not None:
                return int(value)
        except (TypeError, ValueError):
            continue
    return None


def is_router_refusal(exc: BaseException) -> bool:
    """The router refused before any upstream call (litellm.types.router, matched by name)."""
    return type(exc).__name__ == ROUTER_REFUSAL


def is_wrong_client_key(exc: BaseException) -> bool:
    """A wrong client key: without a database LiteLLM says 400 "No connected db." instead."""
    return getattr(exc, "type", None) == NO_DB


def is_missing_client_key(exc: BaseException) -> bool:
    return NO_KEY in str(exc)


def set_message(exc: Exception, text: str) -> None:
    """/v1/messages ignores the exception a failure hook returns but sends this `message`."""
    exc.message = text  # type: ignore[attr-defined]


def deployment_id(data: Mapping[str, Any]) -> str | None:
    """The router deployment a request attempt used: its `model_info.id`."""
    info = data.get("model_info") or (data.get("litellm_params") or {}).get("model_info") or {}
    ident = info.get("id") if isinstance(info, Mapping) else None
    return str(ident) if ident else None


def extra_headers(response: object) -> dict[str, Any] | None:
    """The headers LiteLLM adds to a response (`_hidden_params["additional_headers"]`).

    A stream that fell back also stamps their model group as `model` on each chunk.
    """
    hidden = getattr(response, "_hidden_params", None)
    headers = hidden.get("additional_headers") if isinstance(hidden, dict) else None
    return headers if isinstance(headers, dict) else None


def logged_model_group(data: Mapping[str, Any]) -> object:
    """The model group, from the request's logging object: /v1/messages has
    dropped a response's hidden params by the time of the headers hook."""
    details = getattr(data.get("litellm_logging_obj"), "model_call_details", None) or {}
    return ((details.get("litellm_params") or {}).get("metadata") or {}).get("model_group")


# ----- billing: Copilot's headers, the usage tee, /metrics, the config file ---------------

INITIATOR_HEADER = "X-Initiator"  # LiteLLM's own spelling (responses/transformation.py)
REQUEST_ID_HEADER = "x-request-id"


def copilot_headers(initiator: str, request_id: str) -> dict[str, str]:
    """The headers of one upstream attempt: LiteLLM's own Copilot headers, this attempt's
    request id and `X-Initiator`.

    Why the whole set: on the chat path a request's `extra_headers` replace the Copilot
    headers LiteLLM merged (llms/openai/openai.py), and Copilot answers 400 without
    `editor-version`. Authorization stays out: each provider adds the Copilot key itself.
    """
    from litellm.llms.github_copilot.common_utils import get_copilot_default_headers

    own = get_copilot_default_headers("")
    kept = {k: v for k, v in own.items() if k.lower() != "authorization"}
    return {**kept, REQUEST_ID_HEADER: request_id, INITIATOR_HEADER: initiator}


def tee_copilot_usage(charged: Callable[[str, float], None]) -> None:
    """Read `copilot_usage.total_nano_aiu` off every upstream answer as its bytes pass.

    LiteLLM drops the field on chat streams and bridged routes. Both of its HTTP
    clients (its own and the OpenAI SDK's) send through LiteLLMAiohttpTransport
    (httpx.AsyncHTTPTransport when aiohttp is off): their `handle_async_request` is
    wrapped once, and an answer to a request carrying an x-request-id is scanned,
    unchanged, by `charged(request_id, nano_aiu)`.
    """
    from litellm.llms.custom_httpx.aiohttp_transport import LiteLLMAiohttpTransport

    for cls in (LiteLLMAiohttpTransport, httpx.AsyncHTTPTransport):
        if getattr(cls.handle_async_request, "_copilot_usage_tee", False):
            continue
        cls.handle_async_request = _teed(cls.handle_async_request, charged)  # type: ignore[method-assign]


def _teed(send: Any, charged: Callable[[str, float], None]) -> Any:
    async def handle_async_request(self: Any, request: Any) -> Any:
        response = await send(self, request)
        request_id = request.headers.get(REQUEST_ID_HEADER)
        if request_id:
            encoding = response.headers.get("content-encoding", "")
            response.stream = _UsageScan(response.stream, request_id, encoding, charged)
        return response

    handle_async_request._copilot_usage_tee = True  # type: ignore[attr-defined]
    return handle_async_request


class _UsageScan(httpx.AsyncByteStream):
    """An httpx async byte stream passing its bytes on unchanged, scanning a decoded copy."""

    def __init__(
        self, inner: Any, request_id: str, encoding: str, charged: Callable[[str, float], None]
    ) -> None:
        self._inner = inner
        self._request_id = request_id
        self._charged = charged
        # gzip or deflate answers are decoded for the scan only (the transport does not)
        packed = encoding.strip().lower() in ("gzip", "deflate")
        self._decoder = zlib.decompressobj(47) if packed else None
        self._readable = packed or not encoding.strip() or encoding.strip() == "identity"
        self._tail = b""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            if self._readable:
                self._scan(chunk)
            yield chunk

    def _scan(self, chunk: bytes) -> None:
        try:
            plain = self._decoder.decompress(chunk) if self._decoder else chunk
        except zlib.error:
            self._readable = False
            return
        data = self._tail + plain
        for nano in usage.scan(data, after=len(self._tail)):
            self._charged(self._request_id, nano)
        self._tail = data[-usage.TAIL :]

    async def aclose(self) -> None:
        await self._inner.aclose()


def mount_metrics() -> None:
    """Serve prometheus_client's default registry at `/metrics/` of the proxy's app, unless
    something (LiteLLM's own prometheus callback) already does."""
    from litellm.proxy.proxy_server import app
    from prometheus_client import REGISTRY, make_asgi_app

    if not any(getattr(route, "path", None) == METRICS_PATH for route in app.routes):
        app.mount(METRICS_PATH, make_asgi_app(REGISTRY))


def client_headers(data: Mapping[str, Any]) -> Mapping[str, str]:
    """The client's request headers (keys removed) LiteLLM keeps with a request's data."""
    request = data.get("proxy_server_request")
    headers = request.get("headers") if isinstance(request, Mapping) else None
    return headers if isinstance(headers, Mapping) else {}


def config_path() -> str | None:
    """The config file the proxy was started with (`litellm --config FILE`)."""
    from litellm.proxy import proxy_server

    path = getattr(proxy_server, "user_config_file_path", None)
    return str(path) if path else None
