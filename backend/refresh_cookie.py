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
# With Secure, the name carries the __Secure- prefix: a browser then accepts the
# cookie only from an https answer with Secure set, so a plain-http answer (or a
# sibling subdomain over http) cannot plant or overwrite it.
SECURE_COOKIE = "__Secure-refresh_token"
# Sent only to the endpoints that take it (/auth/refresh, /auth/logout).
COOKIE_PATH = "/auth"
CSRF_HEADER = "X-CSRF"


def uses_cookie(settings: Settings) -> bool:
    return settings.refresh_token_transport == "cookie"  # noqa: S105 (a setting, not a secret)


def cookie_name(settings: Settings) -> str:
    return SECURE_COOKIE if settings.cookie_secure else COOKIE


def set_refresh_cookie(response: Response, token: str, settings: Settings) -> None:
    # Secure comes from configuration (REFRESH_COOKIE_SECURE, else on unless
    # AUTH_DEV_MODE), never from the request: its Host header is the client's to choose.
    response.set_cookie(
        cookie_name(settings),
        token,
        max_age=min(settings.session_idle_ttl, settings.session_max_age),
        path=COOKIE_PATH,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
    )


def clear_refresh_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        cookie_name(settings), path=COOKIE_PATH, httponly=True, secure=settings.cookie_secure, samesite="strict"
    )


def presented_cookie(request: Request, settings: Settings) -> str | None:
    token = request.cookies.get(cookie_name(settings))
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
