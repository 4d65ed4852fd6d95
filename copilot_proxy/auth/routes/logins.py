"""/api/logins/{id}: one sign-in as the page and scripts follow it (no device code
once finished, never a token); DELETE cancels it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from copilot_proxy.auth import login_flow as flow
from copilot_proxy.auth.deps import Service, ServiceDep, authorize
from copilot_proxy.auth.errors import ApiError

router = APIRouter(prefix="/api/logins")


async def login_for(svc: Service, login_id: str, request: Request) -> flow.Login:
    login = svc.manager.get(login_id)
    # Authorized for the login's proxy (a master key unlocks only its own proxy's logins).
    who = await authorize(svc, request, login.proxy if login else None)
    if login is None or not who.scope.allows(login.proxy):
        raise ApiError(404, "unknown_login", "No such sign-in (finished long ago?).")
    return login


@router.get("/{login_id}")
async def get_login(login_id: str, request: Request, svc: ServiceDep) -> dict[str, Any]:
    return flow.view(await login_for(svc, login_id, request), svc.clock())


@router.delete("/{login_id}")
async def cancel_login(login_id: str, request: Request, svc: ServiceDep) -> dict[str, Any]:
    login = await login_for(svc, login_id, request)
    cancelled = await svc.manager.cancel(login.id)
    return flow.view(cancelled or login, svc.clock())
