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
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from copilot_proxy.litellm.failures import Error
from copilot_proxy.litellm.routing import RouterView

OTEL_LOGGER = "litellm.integrations.otel.logger"  # imported by LiteLLM on every request
GROUP_HEADER = "x-litellm-model-group"  # the response header naming the group that answered
ROUTER_REFUSAL = "RouterRateLimitError"  # "No deployments available": every one cooling down
NO_DB = "no_db_connection"  # ProxyException.type of a wrong client key without a database
NO_KEY = "No api key passed in"  # the auth error of a request without a client key


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
