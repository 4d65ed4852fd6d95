"""The login page: static HTML, JS and CSS (copilot_proxy/auth/static)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> Response:
    return RedirectResponse("/github")


@router.get("/github")
async def page() -> Response:
    return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})
