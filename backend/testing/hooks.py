"""Test hooks, mounted only when AUTH_TEST_HOOKS=1 and AUTH_DEV_MODE=1: request counters, injected
faults and a header echo, so browser tests can assert what reached the server
(for example: exactly one refresh) and produce every failure for real."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..deps import State


@dataclass
class Fault:
    status: int
    times: int
    retry_after: int | None
    body: str
    delay_ms: int


class TestHooks:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.faults: dict[str, Fault] = {}

    def record(self, path: str) -> Fault | None:
        """Count the request and take one use of a fault on its path, if any."""
        with self._lock:
            self.requests[path] += 1
            fault = self.faults.get(path)
            if fault is None:
                return None
            fault.times -= 1
            if fault.times <= 0:
                del self.faults[path]
            return fault

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults.clear()


def fault_response(fault: Fault) -> Response:
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    if fault.body == "html":
        return Response(
            "<!doctype html><html><body><h1>Bad Gateway</h1></body></html>",
            status_code=fault.status,
            media_type="text/html",
            headers=headers,
        )
    if fault.body == "empty":
        return Response(b"", status_code=fault.status, headers=headers)
    if fault.body == "unsendable_token":
        # A token pair whose access token no HTTP header can carry (a newline in it).
        return JSONResponse(
            {"access_token": "opaque\ntoken", "token_type": "Bearer", "expires_in": 900, "refresh_token": "r"},
            status_code=fault.status,
            headers=headers,
        )
    code = "rate_limited" if fault.status == 429 else "server" if fault.status >= 500 else "fault"
    return JSONResponse(
        {"detail": "Injected fault", "code": code}, status_code=fault.status, headers=headers
    )


class TestHooksMiddleware:
    """Pure ASGI middleware (sits inside CORS so faulted answers still carry CORS headers)."""

    def __init__(self, app: ASGIApp, hooks: TestHooks) -> None:
        self.app = app
        self.hooks = hooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith("/_test/"):
            await self.app(scope, receive, send)
            return
        fault = self.hooks.record(path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        await fault_response(fault)(scope, receive, send)


class FaultIn(BaseModel):
    path: str = Field(pattern=r"^/")
    status: int = Field(ge=200, le=599)
    times: int = Field(default=1, ge=1, le=1000)
    retry_after: int | None = Field(default=None, ge=0)
    body: Literal["json", "html", "empty", "unsendable_token"] = "json"
    delay_ms: int = Field(default=0, ge=0, le=60_000)


router = APIRouter(prefix="/_test", tags=["test hooks"], include_in_schema=False)


def _hooks(request: Request) -> TestHooks:
    hooks: TestHooks = request.app.state.test_hooks
    return hooks


@router.get("/stats")
def stats(request: Request) -> dict[str, object]:
    return {"requests": dict(_hooks(request).requests)}


@router.post("/reset", status_code=204)
def reset(request: Request, state: State) -> Response:
    _hooks(request).reset()
    state.auth_limiter.reset()
    state.refresh_limiter.reset()
    return Response(status_code=204)


@router.post("/faults", status_code=204)
def add_fault(body: FaultIn, request: Request) -> Response:
    hooks = _hooks(request)
    with hooks._lock:
        hooks.faults[body.path] = Fault(
            body.status, body.times, body.retry_after, body.body, body.delay_ms
        )
    return Response(status_code=204)


@router.get("/echo")
def echo(request: Request) -> dict[str, object]:
    # Whether a bearer arrived, never its value.
    return {"has_authorization": "authorization" in request.headers}
