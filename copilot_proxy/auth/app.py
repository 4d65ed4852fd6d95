"""HTTP shell: the login page at /github, the JSON API under /api/, /metrics, health.

`create_app` only assembles: it builds the service's parts (deps.Service) onto
`app.state`, adds the error handlers, admission.py (an allowed Host, a small
body: outermost) and the guard below, and includes one router per resource
(routes/). Routes fetch (store, session), call the core,
and apply. State-changing routes need the admin credential (session cookie +
CSRF token, or a Bearer header for scripts) and refuse cross-site requests;
see security.py and deps.py.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from copilot_proxy.auth.admission import Admission
from copilot_proxy.auth.config import ADMIN_PASSWORD_ENV, Settings
from copilot_proxy.auth.deps import CredentialLimit, Service
from copilot_proxy.auth.errors import add_error_handlers, error_response
from copilot_proxy.auth.logs import log
from copilot_proxy.auth.manager import LoginManager
from copilot_proxy.auth.metrics import Metrics
from copilot_proxy.auth.routes import logins, monitoring, page, proxies, session
from copilot_proxy.auth.security import (
    SECURITY_HEADERS,
    RateLimiter,
    Sessions,
    cross_site_problem,
)
from copilot_proxy.auth.stores.directory import DirectoryStore
from copilot_proxy.auth.stores.kubernetes import KubernetesStore
from copilot_proxy.auth.stores.protocol import TokenStore


def create_app(
    settings: Settings,
    store: TokenStore,
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The login service for `store`; `http` reaches GitHub (one is made when omitted)."""
    client = http or httpx.AsyncClient(timeout=settings.limits.http_timeout)
    metrics = Metrics()
    manager = LoginManager(settings, store, metrics, client, clock)
    limits = settings.limits

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        manager.quota.start()
        yield
        await manager.close()
        if http is None:
            await client.aclose()

    app = FastAPI(
        title="copilot-proxy login",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.service = Service(
        settings=settings,
        store=store,
        manager=manager,
        metrics=metrics,
        sessions=Sessions(limits.session_ttl),
        credential_limit=CredentialLimit(
            per_client=RateLimiter(limits.credential_failures, limits.credential_window),
            overall=RateLimiter(limits.credential_failures_global, limits.credential_window),
            delay=limits.credential_delay,
            metrics=metrics,
            clock=clock,
        ),
        clock=clock,
    )
    app.mount("/static", StaticFiles(directory=page.STATIC), name="static")
    add_error_handlers(app)
    app.middleware("http")(guard)
    # Added last, so outermost: before routing, the guard and any body parsing.
    app.add_middleware(Admission, allowed_hosts=settings.allowed_hosts, max_body=limits.max_body)
    for routes in (page, monitoring, session, proxies, logins):
        app.include_router(routes.router)
    return app


async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Refuse cross-site requests; security headers on every answer, no caching of the API."""
    problem = cross_site_problem(request.method, request.headers, request.headers.get("host", ""))
    response = error_response(403, "cross_site", problem) if problem else await call_next(request)
    response.headers.update(SECURITY_HEADERS)
    if request.url.path.startswith("/api/"):
        response.headers["cache-control"] = "no-store"
    return response


def make_store(store: str, token_dir: str | None, namespaces: Sequence[str]) -> TokenStore:
    """The store `copilot-proxy auth-service --store ...` names."""
    if store == "kubernetes":
        return KubernetesStore.from_environment(namespaces)
    if store == "directory":
        if not token_dir:
            raise ValueError("--store directory needs --token-dir")
        return DirectoryStore.single(Path(token_dir))
    raise ValueError(f"unknown store {store!r} (kubernetes or directory)")


def serve(
    store: TokenStore,
    host: str = "0.0.0.0",  # noqa: S104  (in a pod; the Service is ClusterIP)
    port: int = 4001,
) -> None:
    """Run the login service on `store` until interrupted (`copilot-proxy auth-service ...`)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    # One line per GitHub request (usage refreshes) drowns what happened; keep warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = Settings.from_env(os.environ)
    if not settings.admin_password:
        log.info("No %s set: a proxy's master key unlocks the page.", ADMIN_PASSWORD_ENV)
    uvicorn.run(
        create_app(settings, store),
        host=host,
        port=port,
        log_config=None,
        server_header=False,
        proxy_headers=False,
    )
