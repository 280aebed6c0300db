"""Step-up: changing two-factor settings asks for more than a bearer token (a stolen
access token alone must not turn two-factor off or read new recovery codes).

Accounts with a password give it again (argon2-verified). Accounts without one
(social sign-in only, or adopted from a foreign token) cannot, so they need a recent
sign-in instead: a session of ours started at most STEP_UP_MAX_AGE seconds ago. A
foreign token names no session of ours, so it cannot step up at all."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from .db import AuthSession, as_utc, utcnow
from .deps import AppState, Principal
from .errors import ApiError
from .ratelimit import enforce

STEP_UP_MAX_AGE = 600


def require_step_up(
    state: AppState,
    db: Session,
    principal: Principal,
    password: str | None,
    action: str = "change two-factor settings",
    *,
    recent_sign_in: bool = False,
) -> None:
    """Returns when the request proved it; else 403 `invalid_credentials` (wrong or
    missing password) or 403 `recent_sign_in_required` (no password, old sign-in).
    `recent_sign_in`: a sign-in of the last STEP_UP_MAX_AGE seconds is enough for an
    account with a password too, when no password is sent (linking a provider: the
    SDK's linkWith sends none)."""
    user = principal.user
    # A stolen session must not turn this into a password oracle.
    enforce(state.auth_limiter, f"step-up:{user.id}")
    if user.password_hash and (password is not None or not recent_sign_in):
        if not password or not state.passwords.verify(user.password_hash, password):
            raise ApiError(403, "invalid_credentials", f"Enter your current password to {action}")
        return
    session = db.get(AuthSession, principal.claims.sid) if principal.claims.sid else None
    if session is None or as_utc(session.created_at) < utcnow() - timedelta(seconds=STEP_UP_MAX_AGE):
        raise ApiError(
            403,
            "recent_sign_in_required",
            f"Sign in again (within {STEP_UP_MAX_AGE // 60} minutes) to {action}",
        )
