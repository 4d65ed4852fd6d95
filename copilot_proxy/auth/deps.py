"""What the routes depend on, as FastAPI dependencies reading `app.state.service`.

`create_app` builds one `Service` (settings, store, manager, sessions, the
credential limit, clock) and puts it on `app.state`; routes ask for the parts
they use (`store: StoreDep`, `manager: ManagerDep`, ...), for the proxy a path
names (`ProxyRefDep`) and for who is asking (`Admin`, `AdminForProxy`).
"""

from __future__ import annotations

import asyncio
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
    """Wrong admin credentials, per client address and from everyone (security.py).

    Past either limit, every credential check first waits `delay` seconds,
    right or wrong alike (the timing tells a guesser nothing), and a wrong one
    answers 429. The right credential is never refused: behind port-forward or
    an ingress, admins share their address with whoever guesses.
    """

    per_client: RateLimiter
    overall: RateLimiter
    delay: float
    metrics: Metrics
    clock: Callable[[], float]

    async def slow_down(self, request: Request) -> str:
        """Wait while too many wrong credentials came in; the client's rate-limit key."""
        key = request.client.host if request.client else "unknown"
        if self._wait(key):
            self.metrics.rate_limited.labels("credential").inc()
            await asyncio.sleep(self.delay)
        return key

    def wrong(self, key: str, message: str) -> ApiError:
        """Count a wrong credential from `key`; the error to answer it with."""
        wait = self._wait(key)
        now = self.clock()
        self.per_client.record(key, now)
        self.overall.record("", now)
        self.metrics.credential_failures.inc()
        if not wait:
            return ApiError(401, "bad_credential", message)
        seconds = math.ceil(wait)
        return ApiError(
            429,
            "rate_limited",
            f"{message} Too many wrong credentials: every try waits {self.delay:g} s "
            f"for the next {seconds} s.",
            {"retry-after": str(seconds)},
        )

    def _wait(self, key: str) -> float:
        now = self.clock()
        return max(self.per_client.retry_after(key, now), self.overall.retry_after("", now))


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
    """A script's `Authorization: Bearer <master key or admin password>`.

    Only a credential that unlocks nothing at all counts as wrong: a proxy's
    key used on another proxy is forbidden, not a guess.
    """
    key = await svc.credential_limit.slow_down(request)
    scope = await _scope_of(svc, credential, ref)
    if not scope:
        raise svc.credential_limit.wrong(key, "The credential unlocks nothing here.")
    if ref is not None and not scope.allows(ref):
        raise ApiError(403, "forbidden", f"The credential does not cover {ref.id}.")
    return Principal(scope, "bearer:" + fingerprint(credential))


async def _scope_of(svc: Service, credential: str, ref: ProxyRef | None) -> Scope:
    """What `credential` unlocks: `ref`'s own key is tried first, then every proxy's."""
    if ref is not None:
        own = {ref: await svc.manager.call_store(svc.store.master_key, ref)}
        scope = credential_scope(credential, svc.settings.admin_password, own)
        if scope:
            return scope
    keys = await master_keys(svc.manager, svc.store)
    return credential_scope(credential, svc.settings.admin_password, keys)


async def master_keys(manager: LoginManager, store: TokenStore) -> dict[ProxyRef, str]:
    """Every served proxy's master key."""
    return await manager.call_store(
        lambda: {i.ref: store.master_key(i.ref) for i in store.list_proxies()}
    )


async def _admin(svc: ServiceDep, request: Request) -> Principal:
    return await authorize(svc, request, None)


async def _admin_for_proxy(svc: ServiceDep, request: Request, ref: ProxyRefDep) -> Principal:
    return await authorize(svc, request, ref)


Admin = Annotated[Principal, Depends(_admin)]
AdminForProxy = Annotated[Principal, Depends(_admin_for_proxy)]
