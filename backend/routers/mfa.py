"""Two-factor endpoints: enroll a TOTP authenticator, confirm it with a first code
(which also issues ten recovery codes), disable it, and the second step of a sign-in."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from .. import mfa
from ..db import RecoveryCode, TotpFactor, User
from ..deps import AppState, CurrentUser, Db, State
from ..errors import ApiError
from ..ratelimit import enforce
from ..schemas import CodeIn, MfaStatusOut, MfaVerifyIn, RecoveryCodesOut, TokenPair, TotpEnrollOut
from .auth import _deliver, _sign_in

router = APIRouter(prefix="/auth/mfa", tags=["two-factor"])


def invalid_code() -> ApiError:
    return ApiError(401, "invalid_code", "The code is not valid (or was already used)")


def _limit(state: AppState, user_id: str) -> None:
    enforce(state.auth_limiter, f"mfa:{user_id}")


@router.get("", response_model=MfaStatusOut)
def status(user: CurrentUser, db: Db) -> MfaStatusOut:
    factor = db.get(TotpFactor, user.id)
    return MfaStatusOut(totp=bool(factor and factor.enabled), recovery_codes_left=mfa.recovery_codes_left(db, user.id))


@router.post("/totp/enroll", response_model=TotpEnrollOut)
def enroll(user: CurrentUser, db: Db) -> TotpEnrollOut:
    """A new secret to scan; it takes effect once confirmed with a code from it."""
    factor = db.get(TotpFactor, user.id)
    if factor is not None and factor.enabled:
        raise ApiError(409, "already_enabled", "Two-factor sign-in is already on: disable it first")
    secret = mfa.new_secret()
    if factor is None:
        db.add(TotpFactor(user_id=user.id, secret=secret))
    else:
        factor.secret, factor.last_step = secret, -1
    db.commit()
    return TotpEnrollOut(secret=secret, otpauth_uri=mfa.otpauth_uri(secret, user.email))


@router.post("/totp/confirm", response_model=RecoveryCodesOut)
def confirm(body: CodeIn, user: CurrentUser, state: State, db: Db) -> RecoveryCodesOut:
    _limit(state, user.id)
    factor = db.get(TotpFactor, user.id)
    if factor is None or factor.enabled:
        raise ApiError(409, "not_enrolling", "Start with /auth/mfa/totp/enroll")
    if not mfa.accept_totp(db, factor, body.code):
        raise invalid_code()
    factor.enabled = True
    db.commit()
    return RecoveryCodesOut(recovery_codes=mfa.new_recovery_codes(db, user.id))


@router.post("/totp/disable", status_code=204)
def disable(body: CodeIn, user: CurrentUser, state: State, db: Db) -> Response:
    """Turning it off takes a current code (or a recovery code), not just a session."""
    _limit(state, user.id)
    factor = db.get(TotpFactor, user.id)
    if factor is None or not factor.enabled:
        raise ApiError(409, "not_enabled", "Two-factor sign-in is off")
    if not (mfa.accept_totp(db, factor, body.code) or mfa.accept_recovery_code(db, user.id, body.code)):
        raise invalid_code()
    db.delete(factor)
    db.query(RecoveryCode).filter(RecoveryCode.user_id == user.id).delete()
    db.commit()
    return Response(status_code=204)


@router.post("/verify", response_model=TokenPair)
def verify(body: MfaVerifyIn, request: Request, response: Response, state: State, db: Db) -> TokenPair:
    """The second step of a sign-in: the challenge and a TOTP or recovery code."""
    user_id = state.challenges.read(body.challenge)
    if user_id is None:
        raise ApiError(401, "challenge_expired", "The sign-in took too long: enter your password again")
    _limit(state, user_id)
    user = db.get(User, user_id)
    factor = db.get(TotpFactor, user_id)
    if user is None or not user.is_active or factor is None or not factor.enabled:
        raise ApiError(401, "challenge_expired", "The sign-in took too long: enter your password again")
    if body.code:
        ok = mfa.accept_totp(db, factor, body.code)
    elif body.recovery_code:
        ok = mfa.accept_recovery_code(db, user_id, body.recovery_code)
    else:
        raise ApiError(422, "validation", "Enter a code", fields={"code": "Enter the code from your app"})
    if not ok:
        raise invalid_code()
    return _deliver(state, request, response, _sign_in(state, db, request, user))
