"""/api/session: unlock the page with a master key or the admin password, lock it again."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from copilot_proxy.auth.deps import (
    Admin,
    ClockDep,
    CredentialLimitDep,
    ManagerDep,
    SessionsDep,
    SettingsDep,
    StoreDep,
    master_keys,
)
from copilot_proxy.auth.logs import log
from copilot_proxy.auth.security import SESSION_COOKIE, credential_scope
from copilot_proxy.auth.views import session_view

router = APIRouter(prefix="/api/session")


class CredentialIn(BaseModel):
    credential: str = Field(min_length=1, max_length=4096)


@router.get("")
async def get_session(
    request: Request, sessions: SessionsDep, settings: SettingsDep, clock: ClockDep
) -> dict[str, Any]:
    session = sessions.get(request.cookies.get(SESSION_COOKIE, ""), clock())
    return session_view(
        session.scope if session else None,
        session.csrf if session else "",
        bool(settings.admin_password),
    )


@router.post("")
async def open_session(
    body: CredentialIn,
    request: Request,
    response: Response,
    limit: CredentialLimitDep,
    store: StoreDep,
    manager: ManagerDep,
    sessions: SessionsDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Any:
    key = await limit.slow_down(request)
    keys = await master_keys(manager, store)
    scope = credential_scope(body.credential, settings.admin_password, keys)
    if not scope:
        raise limit.wrong(
            key,
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


@router.delete("")
async def close_session(
    _: Admin, request: Request, response: Response, sessions: SessionsDep, settings: SettingsDep
) -> dict[str, Any]:
    sessions.drop(request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return session_view(None, "", bool(settings.admin_password))
