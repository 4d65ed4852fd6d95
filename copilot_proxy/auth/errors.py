"""The API's errors: one JSON shape `{"error": code, "message": text}`, safe to show."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from copilot_proxy.auth.stores.protocol import StoreError


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse({"error": code, "message": message}, status, headers=headers)


async def _api_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error_response(error.status, error.code, error.message, error.headers)


async def _store_error(_: Request, error: Exception) -> Response:
    return error_response(503, "store_unavailable", str(error))


async def _bad_request(_: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    # FastAPI's default echoes the input, which may be a credential: name the field only.
    fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "body" for e in error.errors())
    return error_response(422, "bad_request", f"Invalid or missing field: {fields}.")


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(RequestValidationError, _bad_request)
