"""The refresh token as an httpOnly cookie (REFRESH_TOKEN_TRANSPORT=cookie), for
clients that keep the access token in memory only: script on the page can never
read the refresh token. Cookie-authenticated endpoints are CSRF-checked: they
require the X-CSRF header (a cross-site form cannot send one, and a cross-origin
script cannot without passing CORS) and an allowed Origin when one is sent."""

from __future__ import annotations

from fastapi import Request, Response

from .errors import ApiError
from .settings import Settings

COOKIE = "refresh_token"
# Sent only to the endpoints that take it (/auth/refresh, /auth/logout).
COOKIE_PATH = "/auth"
CSRF_HEADER = "X-CSRF"


def uses_cookie(settings: Settings) -> bool:
    return settings.refresh_token_transport == "cookie"  # noqa: S105 (a setting, not a secret)


def _loopback(request: Request) -> bool:
    host = request.url.hostname or ""
    return host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")


def set_refresh_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        # Plain http is only ever acceptable on loopback (the demo, the tests).
        secure=not _loopback(request),
        samesite="strict",
    )


def clear_refresh_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, secure=not _loopback(request), samesite="strict")


def presented_cookie(request: Request) -> str | None:
    token = request.cookies.get(COOKIE)
    return token if token and len(token) <= 512 else None


def check_csrf(request: Request, settings: Settings) -> None:
    """Refuse what a cross-site page could send: no X-CSRF header, or a foreign Origin."""
    if request.headers.get(CSRF_HEADER) != "1":
        raise ApiError(403, "csrf", "This request needs the X-CSRF: 1 header")
    origin = request.headers.get("origin")
    if origin is None:
        return
    if not settings.origin_allowed(origin):
        raise ApiError(403, "csrf", "This origin may not use the refresh cookie")
