"""HTTP shell: the login page at /github, the JSON API under /api/, /metrics, health.

Routes fetch (store, session), call the core, and apply. State-changing
routes need the admin credential (session cookie + CSRF token, or a Bearer
header for scripts) and refuse cross-site requests; see security.py.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field

from copilot_proxy.auth import login_flow as flow
from copilot_proxy.auth.config import ADMIN_PASSWORD_ENV, Settings
from copilot_proxy.auth.device_flow import DeviceFlowError, GitHubUnreachable
from copilot_proxy.auth.manager import LoginManager, RateLimited
from copilot_proxy.auth.metrics import Metrics
from copilot_proxy.auth.security import (
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    RateLimiter,
    Scope,
    Sessions,
    credential_scope,
    cross_site_problem,
    csrf_ok,
    fingerprint,
)
from copilot_proxy.auth.stores.directory import DirectoryStore
from copilot_proxy.auth.stores.kubernetes import KubernetesStore
from copilot_proxy.auth.stores.protocol import ProxyInfo, ProxyRef, StoreError, TokenStore
from copilot_proxy.auth.views import proxy_view, session_view

log = logging.getLogger("copilot_auth")
STATIC = Path(__file__).parent / "static"
# Kubernetes object names (RFC 1123 subdomain): nothing else reaches an API path.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class CredentialIn(BaseModel):
    credential: str = Field(min_length=1, max_length=4096)


@dataclass(frozen=True)
class Principal:
    scope: Scope
    client: str  # rate-limit key: the session or the credential, never the secret itself


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": code, "message": message}, status, headers=headers)


def _ref(namespace: str, name: str) -> ProxyRef:
    if not (_NAME.match(namespace) and _NAME.match(name)) or len(namespace) > 63:
        raise ApiError(404, "unknown_proxy", f"No CopilotProxy {namespace}/{name} is served here.")
    return ProxyRef(namespace, name)


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
    sessions = Sessions(settings.limits.session_ttl)
    credential_failures = RateLimiter(
        settings.limits.credential_failures, settings.limits.credential_window
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
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
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> Response:
        return _error(error.status, error.code, error.message, error.headers)

    @app.exception_handler(StoreError)
    async def store_error(_: Request, error: StoreError) -> Response:
        return _error(503, "store_unavailable", str(error))

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, error: RequestValidationError) -> Response:
        # FastAPI's default echoes the input, which may be a credential: name the field only.
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "body" for e in error.errors())
        return _error(422, "bad_request", f"Invalid or missing field: {fields}.")

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        problem = cross_site_problem(
            request.method, request.headers, request.headers.get("host", "")
        )
        response = _error(403, "cross_site", problem) if problem else await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if request.url.path.startswith("/api/"):
            response.headers["cache-control"] = "no-store"
        return response

    # -- who is asking ----------------------------------------------------------------

    def client_address(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def check_credential_rate(request: Request) -> str:
        key = client_address(request)
        wait = credential_failures.retry_after(key, clock())
        if wait:
            metrics.rate_limited.labels("credential").inc()
            raise ApiError(
                429,
                "rate_limited",
                f"Too many wrong credentials; try again in {math.ceil(wait)} s.",
                {"retry-after": str(math.ceil(wait))},
            )
        return key

    def credential_failed(key: str) -> None:
        credential_failures.record(key, clock())
        metrics.credential_failures.inc()

    async def authorize(request: Request, ref: ProxyRef | None) -> Principal:
        """The admin behind the request, allowed to act on `ref` (any proxy when None)."""
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and bearer.strip():
            key = check_credential_rate(request)
            credential = bearer.strip()
            keys = {ref: await manager.call_store(store.master_key, ref)} if ref else {}
            scope = credential_scope(credential, settings.admin_password, keys)
            if not scope:
                credential_failed(key)
                raise ApiError(401, "bad_credential", "The credential does not unlock this proxy.")
            return Principal(scope, "bearer:" + fingerprint(credential))
        session = sessions.get(request.cookies.get(SESSION_COOKIE, ""), clock())
        if session is None:
            raise ApiError(
                401, "unauthenticated", "Unlock the page with the admin credential first."
            )
        if request.method not in SAFE_METHODS and not csrf_ok(
            session, request.headers.get(CSRF_HEADER, "")
        ):
            raise ApiError(
                403, "csrf", "Missing or stale CSRF token; reload the page and try again."
            )
        if ref is not None and not session.scope.allows(ref):
            raise ApiError(
                403, "forbidden", f"The credential you unlocked with does not cover {ref.id}."
            )
        return Principal(session.scope, "session:" + fingerprint(session.id))

    async def proxy_or_404(ref: ProxyRef) -> ProxyInfo:
        info = await manager.call_store(store.get_proxy, ref)
        if info is None:
            raise ApiError(404, "unknown_proxy", f"No CopilotProxy {ref.id} is served here.")
        return info

    async def views(infos: Sequence[ProxyInfo]) -> list[dict[str, Any]]:
        usages = await asyncio.gather(*(manager.usage(i) for i in infos))
        now = clock()
        return [
            proxy_view(i, u, e, manager.active_login(i.ref) is not None, now)
            for i, (u, e) in zip(infos, usages, strict=True)
        ]

    # -- page, health, metrics --------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/github")

    @app.get("/github", include_in_schema=False)
    async def page() -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        await manager.call_store(store.check)
        return JSONResponse({"status": "ok", "store": store.kind})

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        infos = await manager.call_store(store.list_proxies)
        usages = await asyncio.gather(*(manager.usage(i) for i in infos))
        metrics.observe([(i, u) for i, (u, _) in zip(infos, usages, strict=True)], clock())
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    # -- session ------------------------------------------------------------------------

    @app.get("/api/session")
    async def get_session(request: Request) -> dict[str, Any]:
        session = sessions.get(request.cookies.get(SESSION_COOKIE, ""), clock())
        return session_view(
            session.scope if session else None,
            session.csrf if session else "",
            bool(settings.admin_password),
        )

    @app.post("/api/session")
    async def open_session(body: CredentialIn, request: Request, response: Response) -> Any:
        key = check_credential_rate(request)
        keys = await manager.call_store(
            lambda: {i.ref: store.master_key(i.ref) for i in store.list_proxies()}
        )
        scope = credential_scope(body.credential, settings.admin_password, keys)
        if not scope:
            credential_failed(key)
            raise ApiError(
                401,
                "bad_credential",
                "That credential unlocks nothing: use a proxy's master key"
                + (" or the admin password." if settings.admin_password else "."),
            )
        sessions.drop(request.cookies.get(SESSION_COOKIE, ""))
        session = sessions.create(scope, clock())
        response.set_cookie(
            SESSION_COOKIE,
            session.id,
            max_age=int(settings.limits.session_ttl),
            path="/",
            httponly=True,
            samesite="strict",
            secure=settings.secure_cookies,
        )
        what = "all proxies" if scope.all else ", ".join(sorted(r.id for r in scope.proxies))
        log.info("Page unlocked for %s", what)
        return session_view(scope, session.csrf, bool(settings.admin_password))

    @app.delete("/api/session")
    async def close_session(request: Request, response: Response) -> dict[str, Any]:
        await authorize(request, None)
        sessions.drop(request.cookies.get(SESSION_COOKIE, ""))
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return session_view(None, "", bool(settings.admin_password))

    # -- proxies --------------------------------------------------------------------------

    @app.get("/api/proxies")
    async def list_proxies() -> dict[str, Any]:
        infos = await manager.call_store(store.list_proxies)
        return {"store": store.kind, "proxies": await views(infos)}

    @app.get("/api/proxies/{namespace}/{name}")
    async def get_proxy(namespace: str, name: str) -> dict[str, Any]:
        info = await proxy_or_404(_ref(namespace, name))
        return (await views([info]))[0]

    @app.post("/api/proxies/{namespace}/{name}/login", status_code=202)
    async def start_login(namespace: str, name: str, request: Request) -> dict[str, Any]:
        ref = _ref(namespace, name)
        who = await authorize(request, ref)
        info = await proxy_or_404(ref)
        try:
            login = await manager.start(info, who.client)
        except RateLimited as limited:
            wait = math.ceil(limited.retry_after)
            scope = "from you" if limited.limit == "client" else "in total"
            raise ApiError(
                429,
                "rate_limited",
                f"Too many sign-ins started {scope}; try again in {wait} s.",
                {"retry-after": str(wait)},
            ) from None
        except GitHubUnreachable as error:
            raise ApiError(
                502,
                "github_unreachable",
                f"{error.host} did not answer. Check the network, then try again.",
            ) from None
        except DeviceFlowError as error:
            raise ApiError(502, error.code, error.message) from None
        return flow.view(login, clock())

    @app.delete("/api/proxies/{namespace}/{name}/token")
    async def sign_out(namespace: str, name: str, request: Request) -> dict[str, Any]:
        ref = _ref(namespace, name)
        await authorize(request, ref)
        await proxy_or_404(ref)
        await manager.sign_out(ref)
        return (await views([await proxy_or_404(ref)]))[0]

    # -- logins ---------------------------------------------------------------------------

    async def login_for(login_id: str, request: Request) -> flow.Login:
        login = manager.get(login_id)
        # Authorized for the login's proxy (a master key unlocks only its own proxy's logins).
        who = await authorize(request, login.proxy if login else None)
        if login is None or not who.scope.allows(login.proxy):
            raise ApiError(404, "unknown_login", "No such sign-in (finished long ago?).")
        return login

    @app.get("/api/logins/{login_id}")
    async def get_login(login_id: str, request: Request) -> dict[str, Any]:
        return flow.view(await login_for(login_id, request), clock())

    @app.delete("/api/logins/{login_id}")
    async def cancel_login(login_id: str, request: Request) -> dict[str, Any]:
        login = await login_for(login_id, request)
        cancelled = await manager.cancel(login.id)
        return flow.view(cancelled or login, clock())

    return app


def make_store(
    store: str, token_dir: str | None, namespaces: Sequence[str], proxy_name: str = "local"
) -> TokenStore:
    if store == "kubernetes":
        return KubernetesStore.from_environment(namespaces)
    if store == "directory":
        if not token_dir:
            raise ValueError("--store directory needs --token-dir")
        return DirectoryStore.single(Path(token_dir), proxy_name)
    raise ValueError(f"unknown store {store!r} (kubernetes or directory)")


def serve(
    host: str = "0.0.0.0",  # noqa: S104  (in a pod; the Service is ClusterIP)
    port: int = 4001,
    store: str = "kubernetes",
    token_dir: str | None = None,
    namespaces: Sequence[str] = (),
    proxy_name: str = "local",
) -> None:
    """Run the login service until interrupted (`copilot-proxy auth-service ...`)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    # One line per GitHub request (usage refreshes) drowns what happened; keep warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = Settings.from_env(os.environ)
    token_store = make_store(store, token_dir, namespaces, proxy_name)
    if not settings.admin_password:
        log.info("No %s set: a proxy's master key unlocks the page.", ADMIN_PASSWORD_ENV)
    uvicorn.run(
        create_app(settings, token_store),
        host=host,
        port=port,
        log_config=None,
        server_header=False,
        proxy_headers=False,
    )
