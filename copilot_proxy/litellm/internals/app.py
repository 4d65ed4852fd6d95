"""The LiteLLM proxy process and its ASGI app: what the plugin adds to it at load time.

- fail_otel_import_fast: `sys.modules` entry for LiteLLM's OTel logger, which it imports
  on every request (~10% of the proxy's CPU without the SDK);
- install_gate: wraps `proxy_server.app.middleware_stack` (no setting or public API puts
  a gate in front of every route);
- add_route_first: inserts an APIRoute ahead of LiteLLM's own in `app.router.routes`
  (count_tokens answered by Copilot), behind LiteLLM's `user_api_key_auth`;
- mount_metrics: mounts prometheus_client's registry at `/metrics` unless LiteLLM's
  prometheus callback does;
- config_path: `proxy_server.user_config_file_path`, the file the plugin's settings are in.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from typing import Any

OTEL_LOGGER = "litellm.integrations.otel.logger"  # imported by LiteLLM on every request
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


def add_route_first(path: str, endpoint: Any) -> bool:
    """Serve `path` (POST) by `endpoint` ahead of LiteLLM's own route, behind LiteLLM's key
    check. False when the proxy's app is not there (outside the proxy)."""
    try:
        from fastapi import Depends
        from fastapi.routing import APIRoute
        from litellm.proxy.auth.user_api_key_auth import user_api_key_auth
        from litellm.proxy.proxy_server import app
    except ImportError:
        return False
    routes = app.router.routes
    if any(getattr(r, "endpoint", None) is endpoint for r in routes):
        return True
    route = APIRoute(path, endpoint, methods=["POST"], dependencies=[Depends(user_api_key_auth)])
    routes.insert(0, route)
    return True


def mount_metrics() -> None:
    """Serve prometheus_client's default registry at `/metrics/` of the proxy's app, unless
    something (LiteLLM's own prometheus callback) already does."""
    from litellm.proxy.proxy_server import app
    from prometheus_client import REGISTRY, make_asgi_app

    if not any(getattr(route, "path", None) == METRICS_PATH for route in app.routes):
        app.mount(METRICS_PATH, make_asgi_app(REGISTRY))


def config_path() -> str | None:
    """The config file the proxy was started with (`litellm --config FILE`)."""
    from litellm.proxy import proxy_server

    path = getattr(proxy_server, "user_config_file_path", None)
    return str(path) if path else None
