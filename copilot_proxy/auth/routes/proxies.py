"""/api/proxies: the proxies served here, their tokens and Copilot quota; start a
sign-in for one (202, the login then runs in the background) or sign it out."""

from __future__ import annotations

import asyncio
import logging
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
from copilot_proxy.auth.manager import LoginManager, RateLimited
from copilot_proxy.auth.stores.protocol import ProxyInfo
from copilot_proxy.auth.views import proxy_view
from copilot_proxy.github.device_flow import DeviceFlowError, GitHubUnreachable

log = logging.getLogger("copilot_auth")

router = APIRouter(prefix="/api/proxies")


async def views(
    manager: LoginManager, clock: Callable[[], float], infos: Sequence[ProxyInfo]
) -> list[dict[str, Any]]:
    usages = await asyncio.gather(*(manager.usage(i) for i in infos))
    now = clock()
    return [
        proxy_view(i, u, e, manager.active_login(i.ref) is not None, now)
        for i, (u, e) in zip(infos, usages, strict=True)
    ]


@router.get("")
async def list_proxies(store: StoreDep, manager: ManagerDep, clock: ClockDep) -> dict[str, Any]:
    infos = await manager.call_store(store.list_proxies)
    return {"store": store.kind, "proxies": await views(manager, clock, infos)}


@router.get("/{namespace}/{name}")
async def get_proxy(
    ref: ProxyRefDep, store: StoreDep, manager: ManagerDep, clock: ClockDep
) -> dict[str, Any]:
    info = await proxy_or_404(manager, store, ref)
    return (await views(manager, clock, [info]))[0]


@router.post("/{namespace}/{name}/login", status_code=202)
async def start_login(
    ref: ProxyRefDep, who: AdminForProxy, store: StoreDep, manager: ManagerDep, clock: ClockDep
) -> dict[str, Any]:
    info = await proxy_or_404(manager, store, ref)
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
    await proxy_or_404(manager, store, ref)
    await manager.sign_out(ref)
    return (await views(manager, clock, [await proxy_or_404(manager, store, ref)]))[0]
