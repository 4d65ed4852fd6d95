"""What the routes depend on, as FastAPI dependencies reading `app.state.service`.

`create_app` builds one `Service` (settings, store, manager, sessions, the
credential limit, clock) and puts it on `app.state`; routes ask for the parts
they use (`store: StoreDep`, `manager: ManagerDep`, ...), for the proxy a path
names (`ProxyRefDep`) and for who is asking (`Admin`, `AdminForProxy`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from copilot_proxy.auth.config import Settings
from copilot_proxy.auth.errors import ApiError
from copilot_proxy.auth.manager import LoginManager
from copilot_proxy.auth.metrics import Metrics
from copilot_proxy.auth.security import (
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    RateLimiter,
    Scope,
    Sessions,
    credential_scope,
    csrf_ok,
    fingerprint,
)
from copilot_proxy.auth.stores.protocol import ProxyInfo, ProxyRef, TokenStore

# Kubernetes object names (RFC 1123 subdomain): nothing else reaches an API path.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


@dataclass(frozen=True)
class CredentialLimit:
    """Wrong admin credentials per client address before it must wait."""

    failures: RateLimiter
    metrics: Metrics
    clock: Callable[[], float]

    def check(self, request: Request) -> str:
        """The client's rate-limit key; 429 while it has sent too many wrong credentials."""
        key = request.client.host if request.client else "unknown"
        wait = self.failures.retry_after(key, self.clock())
        if wait:
            self.metrics.rate_limited.labels("credential").inc()
            raise ApiError(
                429,
                "rate_limited",
                f"Too many wrong credentials; try again in {math.ceil(wait)} s.",
                {"retry-after": str(math.ceil(wait))},
            )
        return key

    def failed(self, key: str) -> None:
        self.failures.record(key, self.clock())
        self.metrics.credential_failures.inc()


@dataclass(frozen=True)
class Service:
    """The login service's parts, one per app."""

    settings: Settings
    store: TokenStore
    manager: LoginManager
    metrics: Metrics
    sessions: Sessions
    credential_limit: CredentialLimit
    clock: Callable[[], float]


@dataclass(frozen=True)
class Principal:
    scope: Scope
    client: str  # rate-limit key: the session or the credential, never the secret itself


def service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


ServiceDep = Annotated[Service, Depends(service)]


def _settings(svc: ServiceDep) -> Settings:
    return svc.settings


def _store(svc: ServiceDep) -> TokenStore:
    return svc.store


def _manager(svc: ServiceDep) -> LoginManager:
    return svc.manager


def _sessions(svc: ServiceDep) -> Sessions:
    return svc.sessions


def _metrics(svc: ServiceDep) -> Metrics:
    return svc.metrics


def _credential_limit(svc: ServiceDep) -> CredentialLimit:
    return svc.credential_limit


def _clock(svc: ServiceDep) -> Callable[[], float]:
    return svc.clock


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[TokenStore, Depends(_store)]
ManagerDep = Annotated[LoginManager, Depends(_manager)]
SessionsDep = Annotated[Sessions, Depends(_sessions)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
CredentialLimitDep = Annotated[CredentialLimit, Depends(_credential_limit)]
ClockDep = Annotated[Callable[[], float], Depends(_clock)]


def proxy_ref(namespace: str, name: str) -> ProxyRef:
    """The proxy a path names; 404 for what cannot be a Kubernetes name."""
    if not (_NAME.match(namespace) and _NAME.match(name)) or len(namespace) > 63:
        raise ApiError(404, "unknown_proxy", f"No CopilotProxy {namespace}/{name} is served here.")
    return ProxyRef(namespace, name)


ProxyRefDep = Annotated[ProxyRef, Depends(proxy_ref)]


async def proxy_or_404(manager: LoginManager, store: TokenStore, ref: ProxyRef) -> ProxyInfo:
    info = await manager.call_store(store.get_proxy, ref)
    if info is None:
        raise ApiError(404, "unknown_proxy", f"No CopilotProxy {ref.id} is served here.")
    return info


# -- who is asking --------------------------------------------------------------------


async def authorize(svc: Service, request: Request, ref: ProxyRef | None) -> Principal:
    """The admin behind the request, allowed to act on `ref` (any proxy when None)."""
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and bearer.strip():
        return await _bearer(svc, request, bearer.strip(), ref)
    session = svc.sessions.get(request.cookies.get(SESSION_COOKIE, ""), svc.clock())
    if session is None:
        raise ApiError(401, "unauthenticated", "Unlock the page with the admin credential first.")
    if request.method not in SAFE_METHODS and not csrf_ok(
        session, request.headers.get(CSRF_HEADER, "")
    ):
        raise ApiError(403, "csrf", "Missing or stale CSRF token; reload the page and try again.")
    if ref is not None and not session.scope.allows(ref):
        raise ApiError(
            403, "forbidden", f"The credential you unlocked with does not cover {ref.id}."
        )
    return Principal(session.scope, "session:" + fingerprint(session.id))


async def _bearer(
    svc: Service, request: Request, credential: str, ref: ProxyRef | None
) -> Principal:
    """A script's `Authorization: Bearer <master key or admin password>`."""
    key = svc.credential_limit.check(request)
    keys = {ref: await svc.manager.call_store(svc.store.master_key, ref)} if ref else {}
    scope = credential_scope(credential, svc.settings.admin_password, keys)
    if not scope:
        svc.credential_limit.failed(key)
        raise ApiError(401, "bad_credential", "The credential does not unlock this proxy.")
    return Principal(scope, "bearer:" + fingerprint(credential))


async def _admin(svc: ServiceDep, request: Request) -> Principal:
    return await authorize(svc, request, None)


async def _admin_for_proxy(svc: ServiceDep, request: Request, ref: ProxyRefDep) -> Principal:
    return await authorize(svc, request, ref)


Admin = Annotated[Principal, Depends(_admin)]
AdminForProxy = Annotated[Principal, Depends(_admin_for_proxy)]
