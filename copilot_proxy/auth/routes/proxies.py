"""/api/proxies: the proxies served here, their tokens and Copilot quota; start a
sign-in for one (202, the login then runs in the background) or sign it out.
A proxy whose token a GitHub App provides has neither: 409 credential_managed."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter

from copilot_proxy.auth import login_flow as flow
from copilot_proxy.auth.deps import (
    AdminForProxy,
    ClockDep,
    ManagerDep,
    ProxyRefDep,
    StoreDep,
    proxy_or_404,
)
from copilot_proxy.auth.errors import ApiError
from copilot_proxy.auth.logs import log
from copilot_proxy.auth.manager import (
    CredentialManaged,
    LoginManager,
    RateLimited,
    TokenSecretNotAllowed,
)
from copilot_proxy.auth.stores.protocol import ProxyInfo
from copilot_proxy.auth.views import proxy_view
from copilot_proxy.core.github import HostNotAllowed
from copilot_proxy.github.device_flow import DeviceFlowError, GitHubUnreachable

router = APIRouter(prefix="/api/proxies")


def views(
    manager: LoginManager, clock: Callable[[], float], infos: Sequence[ProxyInfo]
) -> list[dict[str, Any]]:
    """The proxies as the page shows them; the quota is the last one read in the background
    (these answers need no credential: they must not make the service call GitHub)."""
    now = clock()
    return [
        proxy_view(i, *manager.usage(i), manager.active_login(i.ref) is not None, now)
        for i in infos
    ]


@router.get("")
async def list_proxies(store: StoreDep, manager: ManagerDep, clock: ClockDep) -> dict[str, Any]:
    infos = await manager.call_store(store.list_proxies)
    return {"store": store.kind, "proxies": views(manager, clock, infos)}


@router.get("/{namespace}/{name}")
async def get_proxy(
    ref: ProxyRefDep, store: StoreDep, manager: ManagerDep, clock: ClockDep
) -> dict[str, Any]:
    info = await proxy_or_404(manager, store, ref)
    return views(manager, clock, [info])[0]


@router.post("/{namespace}/{name}/login", status_code=202)
async def start_login(
    ref: ProxyRefDep, who: AdminForProxy, store: StoreDep, manager: ManagerDep, clock: ClockDep
) -> dict[str, Any]:
    info = await proxy_or_404(manager, store, ref)
    try:
        login = await manager.start(info, who.client)
    except CredentialManaged as managed:
        raise ApiError(409, "credential_managed", str(managed)) from None
    except HostNotAllowed as refused:
        raise ApiError(409, "github_host_not_allowed", str(refused)) from None
    except TokenSecretNotAllowed as refused:
        raise ApiError(409, "token_secret_not_allowed", str(refused)) from None
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
        message = f"{error.host} did not answer. Check the network, then try again."
        log.warning("GitHub sign-in for %s could not start: %s", ref.id, message)
        raise ApiError(502, "github_unreachable", message) from None
    except DeviceFlowError as error:
        log.warning("GitHub sign-in for %s could not start: %s", ref.id, error.message)
        raise ApiError(502, error.code, error.message) from None
    return flow.view(login, clock())


@router.delete("/{namespace}/{name}/token")
async def sign_out(
    ref: ProxyRefDep, _: AdminForProxy, store: StoreDep, manager: ManagerDep, clock: ClockDep
) -> dict[str, Any]:
    info = await proxy_or_404(manager, store, ref)
    try:
        manager.not_app(info)  # the operator would mint a new token at once anyway
    except CredentialManaged as managed:
        raise ApiError(409, "credential_managed", str(managed)) from None
    if info.token_refused:  # not the proxy's Secret: nothing of it is ours to clear
        raise ApiError(409, "token_secret_not_allowed", info.token_refused)
    await manager.sign_out(ref)
    return views(manager, clock, [await proxy_or_404(manager, store, ref)])[0]
