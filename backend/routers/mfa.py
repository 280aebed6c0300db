"""Two-factor endpoints: enroll a TOTP authenticator, confirm it with a first code
(which also issues ten recovery codes), new recovery codes, disable it (all four
with step-up: the password again), and the second step of a sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from .. import mfa
from ..db import RecoveryCode, TotpFactor, User
from ..deps import AppState, CurrentPrincipal, CurrentUser, Db, DpopIssuance, State
from ..errors import ApiError, rate_limited
from ..notices import security_notice
from ..ratelimit import enforce
from ..schemas import (
    MfaStatusOut,
    MfaVerifyIn,
    RecoveryCodesOut,
    StepUpIn,
    TokenPair,
    TotpConfirmIn,
    TotpDisableIn,
    TotpEnrollOut,
)
from ..step_up import require_step_up
from .auth import _deliver, _sign_in

router = APIRouter(prefix="/auth/mfa", tags=["two-factor"])

# No body at all is allowed where the password is the only field (social-only accounts).
OptionalStepUp = Annotated[StepUpIn | None, Body()]


def invalid_code(status: int = 401) -> ApiError:
    return ApiError(status, "invalid_code", "The code is not valid (or was already used)")


# Signed-in endpoints answer a wrong code with 403: a 401 would make auth.fetch refresh
# the session and replay the request, counting one wrong code twice.
WRONG_CODE_SIGNED_IN = 403


def challenge_expired(detail: str = "The sign-in took too long: enter your password again") -> ApiError:
    return ApiError(401, "challenge_expired", detail)


def _limit(state: AppState, user_id: str) -> None:
    enforce(state.auth_limiter, f"mfa:{user_id}")


def _not_locked(factor: TotpFactor) -> None:
    """429 while wrong codes in a row have locked the factor (mfa.record_failure)."""
    wait = mfa.locked_for(factor)
    if wait is not None:
        raise rate_limited(wait)


def _wrong_code(state: AppState, db: Db, user: User) -> None:
    # Told once per run of wrong codes: when the first lockout starts.
    if mfa.record_failure(db, user.id) == mfa.LOCKOUT_BASE:
        security_notice(state, user, "mfa_locked")


@router.get("", response_model=MfaStatusOut)
def status(user: CurrentUser, db: Db) -> MfaStatusOut:
    factor = db.get(TotpFactor, user.id)
    return MfaStatusOut(totp=bool(factor and factor.enabled), recovery_codes_left=mfa.recovery_codes_left(db, user.id))


@router.post("/totp/enroll", response_model=TotpEnrollOut)
def enroll(principal: CurrentPrincipal, state: State, db: Db, body: OptionalStepUp = None) -> TotpEnrollOut:
    """A new secret to scan; it takes effect once confirmed with a code from it."""
    user = principal.user
    require_step_up(state, db, principal, body.password if body else None)
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
def confirm(body: TotpConfirmIn, principal: CurrentPrincipal, state: State, db: Db) -> RecoveryCodesOut:
    user = principal.user
    _limit(state, user.id)
    require_step_up(state, db, principal, body.password)
    factor = db.get(TotpFactor, user.id)
    if factor is None or factor.enabled:
        raise ApiError(409, "not_enrolling", "Start with /auth/mfa/totp/enroll")
    if not mfa.accept_totp(db, factor, body.code):
        raise invalid_code(WRONG_CODE_SIGNED_IN)
    factor.enabled, factor.failed_attempts, factor.locked_until = True, 0, 0
    db.commit()
    codes = state.recovery_codes.issue(db, user.id)
    security_notice(state, user, "totp_enabled")
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/recovery-codes", response_model=RecoveryCodesOut)
def new_recovery_codes(principal: CurrentPrincipal, state: State, db: Db, body: OptionalStepUp = None) -> RecoveryCodesOut:
    """Ten new recovery codes; the earlier ones stop working."""
    user = principal.user
    require_step_up(state, db, principal, body.password if body else None)
    factor = db.get(TotpFactor, user.id)
    if factor is None or not factor.enabled:
        raise ApiError(409, "not_enabled", "Two-factor sign-in is off")
    codes = state.recovery_codes.issue(db, user.id)
    security_notice(state, user, "recovery_codes_regenerated")
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/totp/disable", status_code=204)
def disable(body: TotpDisableIn, principal: CurrentPrincipal, state: State, db: Db) -> Response:
    """Turning it off takes the password and a current code (or a recovery code)."""
    user = principal.user
    _limit(state, user.id)
    require_step_up(state, db, principal, body.password)
    factor = db.get(TotpFactor, user.id)
    if factor is None or not factor.enabled:
        raise ApiError(409, "not_enabled", "Two-factor sign-in is off")
    _not_locked(factor)
    if not (mfa.accept_totp(db, factor, body.code) or state.recovery_codes.accept(db, user.id, body.code)):
        _wrong_code(state, db, user)
        raise invalid_code(WRONG_CODE_SIGNED_IN)
    db.delete(factor)
    db.query(RecoveryCode).filter(RecoveryCode.user_id == user.id).delete()
    db.commit()
    security_notice(state, user, "totp_disabled")
    return Response(status_code=204)


# DpopIssuance: under DPOP=required a proofless request is refused before its code
# and challenge are spent (the client would have to sign in again).
@router.post("/verify", response_model=TokenPair, dependencies=DpopIssuance)
def verify(body: MfaVerifyIn, request: Request, response: Response, state: State, db: Db) -> TokenPair:
    """The second step of a sign-in: the challenge and a TOTP or recovery code. A
    challenge gives one session, and dies after five wrong codes."""
    ref = state.challenges.open(body.challenge)
    if ref is None:
        raise challenge_expired()
    _limit(state, ref.user_id)
    user = db.get(User, ref.user_id)
    factor = db.get(TotpFactor, ref.user_id)
    if user is None or not user.is_active or factor is None or not factor.enabled:
        raise challenge_expired()
    if not (body.code or body.recovery_code):
        raise ApiError(422, "validation", "Enter a code", fields={"code": "Enter the code from your app"})
    _not_locked(factor)
    if not mfa.claim_challenge(db, ref):
        raise challenge_expired("This sign-in was already finished or had too many wrong codes: enter your password again")
    if body.code:
        ok = mfa.accept_totp(db, factor, body.code)
    else:
        ok = state.recovery_codes.accept(db, ref.user_id, body.recovery_code or "")
    if not ok:
        alive = mfa.release_challenge(db, ref)
        _wrong_code(state, db, user)
        if not alive:
            raise challenge_expired("Too many wrong codes: enter your password again")
        raise invalid_code()
    mfa.record_success(db, user.id)
    if body.recovery_code:
        security_notice(state, user, "recovery_code_used")
    return _deliver(state, request, response, _sign_in(state, db, request, user))
