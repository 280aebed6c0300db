"""Sign-up, sign-in (JSON and OAuth2 form), refresh with rotation, logout, me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Form, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import email_verification, mailer, mfa, session_store
from ..db import TotpFactor, User, as_utc
from ..deps import (
    AppState,
    CurrentUser,
    Db,
    DpopBinding,
    DpopIssuance,
    LocalAccounts,
    State,
    client_ip,
    client_key,
    issuance_jkt,
    user_agent,
)
from ..errors import ApiError
from ..ratelimit import enforce
from ..refresh_cookie import check_csrf, clear_refresh_cookie, presented_cookie, set_refresh_cookie, uses_cookie
from ..schemas import LoginIn, MfaChallengeOut, RefreshIn, RegisterIn, TokenPair, UserOut, VerifyEmailIn

router = APIRouter(prefix="/auth", tags=["auth"])

INVALID_CREDENTIALS = "Invalid email or password"


def _token_pair(state: AppState, user: User, issued: session_store.Issued, jkt: str | None) -> TokenPair:
    """`jkt`: the DPoP key the access token is bound to (token_type "DPoP")."""
    access = state.tokens.issue_access(user.id, issued.session.id, user.email, user.name, jkt=jkt)
    return TokenPair(
        access_token=access,
        token_type="DPoP" if jkt else "bearer",  # noqa: S106 (a token type, not a secret)
        expires_in=state.tokens.access_ttl,
        refresh_token=issued.refresh_token,
    )


def _limit_auth(state: AppState, request: Request, account: str) -> None:
    enforce(state.auth_limiter, f"ip:{client_key(request)}", f"account:{account}")


# Past the account-wide ceiling, each (account, client) gets one try per this window:
# a flood from many addresses slows the owner down (a short Retry-After) but cannot
# lock them out, since their own address has not been trying.
OVERLOADED_ACCOUNT_RATE = (1, 30)


def _limit_sign_in(state: AppState, request: Request, account: str) -> None:
    """Password attempts: RATE_LIMIT_AUTH per (account, client); RATE_LIMIT_LOGIN_CEILING
    per client over all accounts (refused) and per account over all clients (slowed)."""
    client = client_key(request)
    ceiling = state.settings.login_ceiling
    pair = f"sign-in:{account}|{client}"
    enforce(state.auth_limiter, pair)
    enforce(state.auth_limiter, f"sign-in-client:{client}", rate=ceiling)
    if state.auth_limiter.hit(f"sign-in-account:{account}", rate=ceiling) is not None:
        enforce(state.auth_limiter, f"sign-in-slow:{pair}", rate=OVERLOADED_ACCOUNT_RATE)


def _authenticate(state: AppState, db: Session, request: Request, identifier: str, password: str) -> User | None:
    _limit_sign_in(state, request, identifier)
    user = db.scalars(select(User).where(User.email == identifier)).first()
    # Always run one argon2 verification so timing does not reveal whether the account exists.
    ok = state.passwords.verify(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        return None
    return user


def _sign_in(state: AppState, db: Session, request: Request, user: User) -> TokenPair:
    """A new session; bound to the request's DPoP key when it proved one."""
    jkt = issuance_jkt(state, request)
    issued = session_store.start_session(
        db,
        user,
        state.settings.session_idle_ttl,
        user_agent(request),
        client_ip(request),
        max_age=state.settings.session_max_age,
        dpop_jkt=jkt,
    )
    return _token_pair(state, user, issued, jkt)


def _deliver(state: AppState, request: Request, response: Response, pair: TokenPair) -> TokenPair:
    """In cookie transport the refresh token leaves only as the httpOnly cookie."""
    if uses_cookie(state.settings) and pair.refresh_token is not None:
        set_refresh_cookie(response, pair.refresh_token, state.settings)
        pair.refresh_token = None
    return pair


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id, email=user.email, name=user.name, email_verified=user.email_verified, created_at=as_utc(user.created_at)
    )


def _send_verification(state: AppState, tasks: BackgroundTasks, user: User) -> None:
    tasks.add_task(mailer.deliver, state.mailer, state.verifier.mail(user))


# DpopIssuance, not DpopBinding alone: under DPOP=required a sign-up without a proof
# is refused before the account exists (it used to be created, then refused).
@router.post("/register", status_code=201, response_model=TokenPair, dependencies=[*LocalAccounts, *DpopIssuance])
def register(
    body: RegisterIn, request: Request, response: Response, tasks: BackgroundTasks, state: State, db: Db
) -> TokenPair:
    """A new account, signed in at once but unverified until the owner of the address
    follows the link mailed to it (nothing links to an unverified account by email)."""
    email = body.email.strip().lower()
    _limit_auth(state, request, email)
    user = User(email=email, name=body.name.strip(), password_hash=state.passwords.hash(body.password), email_verified=False)
    db.add(user)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise ApiError(409, "user_exists", "An account with this email already exists") from None
    _send_verification(state, tasks, user)
    return _deliver(state, request, response, _sign_in(state, db, request, user))


@router.post("/verify-email", response_model=UserOut, dependencies=LocalAccounts)
def verify_email(body: VerifyEmailIn, request: Request, state: State, db: Db) -> UserOut:
    """Follow a verification link (no sign-in needed: the token is the proof)."""
    enforce(state.auth_limiter, f"ip:{client_key(request)}")
    outcome, user = state.verifier.use(db, body.token)
    if outcome is not email_verification.Outcome.VERIFIED or user is None:
        raise email_verification.refusal(outcome)
    return user_out(user)


@router.post("/verify-email/resend", status_code=204, dependencies=LocalAccounts)
def resend_verification(request: Request, tasks: BackgroundTasks, user: CurrentUser, state: State) -> Response:
    """Another verification mail for the signed-in user (rate-limited per account)."""
    if user.email_verified:
        raise ApiError(409, "already_verified", "This email address is already verified")
    enforce(state.auth_limiter, f"ip:{client_key(request)}", f"verify:{user.id}")
    _send_verification(state, tasks, user)
    return Response(status_code=204)


def _has_second_factor(db: Session, user: User) -> bool:
    factor = db.get(TotpFactor, user.id)
    return factor is not None and factor.enabled


@router.post("/login", response_model=TokenPair | MfaChallengeOut, dependencies=[*LocalAccounts, *DpopBinding])
def login(body: LoginIn, request: Request, response: Response, state: State, db: Db) -> TokenPair | MfaChallengeOut:
    user = _authenticate(state, db, request, body.identifier, body.password)
    if user is None:
        raise ApiError(401, "invalid_credentials", INVALID_CREDENTIALS)
    if _has_second_factor(db, user):
        # No tokens yet: the password was right, the second step is pending.
        return MfaChallengeOut(
            challenge=state.challenges.issue(user.id), methods=mfa.METHODS, expires_in=mfa.CHALLENGE_TTL
        )
    return _deliver(state, request, response, _sign_in(state, db, request, user))


def _oauth_error(
    status: int, error: str, description: str, code: str, headers: dict[str, str] | None = None
) -> ApiError:
    """RFC 6749 section 5.2 body, plus our own detail/code."""
    return ApiError(
        status,
        code,
        description,
        headers={"Cache-Control": "no-store", **(headers or {})},
        extra={"error": error, "error_description": description},
    )


@router.post("/token", response_model=TokenPair, dependencies=[*LocalAccounts, *DpopBinding])
def token(
    request: Request,
    response: Response,
    state: State,
    db: Db,
    grant_type: Annotated[str | None, Form()] = None,
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
    scope: Annotated[str, Form()] = "",
) -> TokenPair:
    """OAuth 2.0 token endpoint (RFC 6749 4.3 password grant and 6 refresh grant)."""
    del scope  # accepted for OAuth2PasswordRequestForm clients; scopes are not used
    response.headers["Cache-Control"] = "no-store"
    if grant_type == "password":
        if not username or not password:
            raise _oauth_error(400, "invalid_request", "username and password are required", "validation")
        try:
            user = _authenticate(state, db, request, username.strip().lower(), password)
        except ApiError as exc:
            raise _oauth_error(exc.status, "invalid_request", exc.detail, exc.code, exc.headers) from None
        if user is None:
            raise _oauth_error(400, "invalid_grant", INVALID_CREDENTIALS, "invalid_credentials")
        if _has_second_factor(db, user):
            raise _oauth_error(
                400, "invalid_grant", "This account signs in with a second factor: use /auth/login", "mfa_required"
            )
        return _sign_in(state, db, request, user)
    if grant_type == "refresh_token":
        if not refresh_token:
            raise _oauth_error(400, "invalid_request", "refresh_token is required", "validation")
        try:
            return _refresh(state, db, request, refresh_token)
        except ApiError as exc:
            error = "invalid_grant" if exc.code == "refresh_failed" else "invalid_request"
            raise _oauth_error(
                400 if exc.status == 401 else exc.status, error, exc.detail, exc.code, exc.headers
            ) from None
    raise _oauth_error(400, "unsupported_grant_type", "grant_type must be password or refresh_token", "validation")


def _refresh(state: AppState, db: Session, request: Request, presented: str) -> TokenPair:
    enforce(state.refresh_limiter, f"ip:{client_key(request)}")
    # A bound session needs a proof from its key; an unbound one may get a bound
    # access token (its refresh token stays as it was).
    jkt = issuance_jkt(state, request)
    try:
        user, issued = session_store.rotate(
            db, presented, state.settings.session_idle_ttl, state.settings.session_max_age, dpop_jkt=jkt
        )
    except session_store.RefreshRejected:
        raise ApiError(401, "refresh_failed", "Refresh token is invalid, expired or revoked") from None
    return _token_pair(state, user, issued, jkt)


def _csrf_guard(request: Request, state: State) -> None:
    """Cookie transport: the CSRF check, before the body is even read (a cross-site
    form post is a 403, not a validation error)."""
    if uses_cookie(state.settings):
        check_csrf(request, state.settings)


def _presented(state: AppState, request: Request, body: RefreshIn | None) -> str | None:
    """The refresh token of a refresh or logout: the cookie in cookie transport
    (after `_csrf_guard`), else the JSON body."""
    if uses_cookie(state.settings):
        return presented_cookie(request, state.settings)
    return body.refresh_token if body is not None else None


@router.post("/refresh", response_model=TokenPair, dependencies=[*LocalAccounts, Depends(_csrf_guard), *DpopBinding])
def refresh(
    request: Request,
    response: Response,
    state: State,
    db: Db,
    body: Annotated[RefreshIn | None, Body()] = None,
) -> TokenPair:
    presented = _presented(state, request, body)
    if presented is None:
        if not uses_cookie(state.settings):
            raise ApiError(422, "validation", "refresh_token is required", fields={"refresh_token": "Field required"})
        raise ApiError(401, "refresh_failed", "No refresh cookie: sign in again")
    try:
        pair = _refresh(state, db, request, presented)
    except ApiError as exc:
        if uses_cookie(state.settings) and exc.code == "refresh_failed":
            # A dead cookie is removed with the 401 (the headers go with the error).
            dead = Response()
            clear_refresh_cookie(dead, state.settings)
            exc.headers = {**exc.headers, "set-cookie": dead.headers["set-cookie"]}
        raise
    return _deliver(state, request, response, pair)


@router.post("/logout", status_code=204, dependencies=[Depends(_csrf_guard), *DpopBinding])
def logout(request: Request, state: State, db: Db, body: Annotated[RefreshIn | None, Body()] = None) -> Response:
    presented = _presented(state, request, body)
    session = session_store.session_of_token(db, presented) if presented else None
    # A DPoP-bound session ends only with a proof from its key: a stolen refresh token
    # alone must not sign its owner out either.
    if session is not None and session.dpop_jkt not in (None, getattr(request.state, "dpop_jkt", None)):
        session = None
    if session is not None:
        session_store.revoke(db, session.id)
    response = Response(status_code=204)
    if uses_cookie(state.settings):
        clear_refresh_cookie(response, state.settings)
    return response


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return user_out(user)
