"""One JSON error shape everywhere: {"detail": str, "code": str[, "fields": {...}]}.
Codes are the SDK's AuthError codes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

log = logging.getLogger("backend")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.fields = fields
        self.headers = headers or {}
        self.extra = extra or {}

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"detail": self.detail, "code": self.code, **self.extra}
        if self.fields:
            body["fields"] = self.fields
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def unauthorized(detail: str = "Not authenticated") -> ApiError:
    return ApiError(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def rate_limited(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        f"Too many attempts; try again in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


def _friendly(err: Mapping[str, Any]) -> str:
    """A sentence for a form, from pydantic's error type. Never echoes the value
    (it may be a password)."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "string_too_short":
        return f"Must be at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"Must be at most {ctx.get('max_length')} characters"
    if kind == "missing":
        return "This field is required"
    if kind == "value_error" and "email" in str(err.get("msg", "")).lower():
        return "Enter a valid email address"
    return str(err.get("msg", "Invalid value")).removeprefix("Value error, ")


def validation_fields(exc: RequestValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        fields.setdefault(".".join(loc) or "body", _friendly(err))
    return fields


_STATUS_CODES = {
    400: "validation",
    401: "unauthorized",
    403: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "validation",
    429: "rate_limited",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = validation_fields(exc)
        return ApiError(422, "validation", "The request has invalid fields", fields=fields).response()

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "server" if exc.status_code >= 500 else "error")
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed"
        return ApiError(exc.status_code, code, detail, headers=dict(exc.headers or {})).response()

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # The type only: a message could carry request data.
        log.error("unhandled error: %s", type(exc).__name__)
        return ApiError(500, "server", "Internal server error").response()
