"""Passkey endpoints: add one to the signed-in account, sign up with one (no password),
sign in with one (usernameless, and the autofill of conditional mediation), and list,
rename and remove the account's passkeys. A passkey sign-in is already two factors (a
device and its unlock), so it skips the two-factor step and gets the same tokens and
session as a password sign-in. Removing never takes the last way to sign in."""

from __future__ import annotations

import json

from fastapi import APIRouter, BackgroundTasks, Request, Response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import passkeys
from ..db import Passkey, User, as_utc, new_id
from ..deps import CurrentPrincipal, CurrentUser, Db, DpopIssuance, State, client_key
from ..errors import ApiError
from ..passkeys import REGISTER, SIGN_IN, SIGN_UP
from ..ratelimit import enforce
from ..schemas import (
    PasskeyCredentialIn,
    PasskeyOptionsOut,
    PasskeyOut,
    PasskeyRegisterOptionsIn,
    PasskeyRenameIn,
    PasskeySignUpOptionsIn,
    PasskeysOut,
    TokenPair,
)
from ..step_up import require_step_up
from ..ways_in import ways_in_held
from .auth import _deliver, _send_verification, _sign_in

router = APIRouter(prefix="/auth/passkeys", tags=["passkeys"])

DEFAULT_NAME = "Passkey"


def _out(p: Passkey) -> PasskeyOut:
    return PasskeyOut(
        id=p.id,
        name=p.name,
        created_at=as_utc(p.created_at),
        last_used_at=as_utc(p.last_used_at) if p.last_used_at else None,
        backup_eligible=p.backup_eligible,
        backed_up=p.backed_up,
    )


def _options(ceremony: str, options_json: str) -> PasskeyOptionsOut:
    return PasskeyOptionsOut(ceremony=ceremony, options=json.loads(options_json))


def _store(db: Session, passkey: Passkey, user_id: str, name: str | None) -> Passkey:
    passkey.user_id = user_id
    passkey.name = (name or "").strip()[:100] or DEFAULT_NAME
    db.add(passkey)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise ApiError(409, "passkey_exists", "This passkey is already registered") from None
    return passkey


# --- add a passkey to the signed-in account -------------------------------------------


@router.post("/register/options", response_model=PasskeyOptionsOut)
def register_options(body: PasskeyRegisterOptionsIn, principal: CurrentPrincipal, state: State, db: Db) -> PasskeyOptionsOut:
    """Options to create a passkey for the signed-in user (after step-up: a stolen
    access token alone must not add the thief's passkey)."""
    user = principal.user
    require_step_up(state, db, principal, body.password, "add a passkey")
    token, options = state.passkeys.registration(REGISTER, user.id, user.email, user.name, passkeys.passkeys_of(db, user.id))
    return _options(token, options)


@router.post("/register", status_code=201, response_model=PasskeyOut)
def register(body: PasskeyCredentialIn, user: CurrentUser, state: State, db: Db) -> PasskeyOut:
    ceremony = state.passkeys.read(body.ceremony, REGISTER)
    if ceremony.user_id != user.id:
        raise passkeys.ceremony_expired("This passkey request was started by another account")
    passkeys.use_ceremony(db, ceremony)
    passkey = state.passkeys.verify_registration(ceremony, body.credential)
    return _out(_store(db, passkey, user.id, body.name))


# --- sign up with a passkey (no password) ---------------------------------------------


def _email_taken(db: Session, email: str) -> ApiError | None:
    if db.scalars(select(User.id).where(User.email == email)).first() is not None:
        return ApiError(409, "user_exists", "An account with this email already exists")
    return None


@router.post("/signup/options", response_model=PasskeyOptionsOut)
def signup_options(body: PasskeySignUpOptionsIn, request: Request, state: State, db: Db) -> PasskeyOptionsOut:
    """Options to create the first passkey of a new account; the account exists only
    once the credential verifies (its id is signed into the ceremony)."""
    email = body.email.strip().lower()
    enforce(state.auth_limiter, f"ip:{client_key(request)}", f"account:{email}")
    taken = _email_taken(db, email)
    if taken is not None:
        raise taken
    token, options = state.passkeys.registration(SIGN_UP, new_id(), email, body.name.strip(), [])
    return _options(token, options)


# DpopIssuance: the tokens bind to the request's DPoP key as at password sign-in, and
# under DPOP=required a request without a proof is refused before the ceremony is
# spent or the account created.
@router.post("/signup", status_code=201, response_model=TokenPair, dependencies=DpopIssuance)
def signup(
    body: PasskeyCredentialIn, request: Request, response: Response, tasks: BackgroundTasks, state: State, db: Db
) -> TokenPair:
    """The new account, signed in, with its passkey; unverified until the owner of the
    address follows the link mailed to it, as for a password sign-up."""
    ceremony = state.passkeys.read(body.ceremony, SIGN_UP)
    if ceremony.user_id is None or ceremony.email is None:
        raise passkeys.ceremony_expired()
    passkeys.use_ceremony(db, ceremony)
    passkey = state.passkeys.verify_registration(ceremony, body.credential)
    user = User(id=ceremony.user_id, email=ceremony.email, name=ceremony.name or "", email_verified=False)
    db.add(user)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise ApiError(409, "user_exists", "An account with this email already exists") from None
    _store(db, passkey, user.id, body.name)
    _send_verification(state, tasks, user)
    return _deliver(state, request, response, _sign_in(state, db, request, user))


# --- sign in with a passkey -----------------------------------------------------------


@router.post("/signin/options", response_model=PasskeyOptionsOut)
def signin_options(state: State) -> PasskeyOptionsOut:
    """Options for a usernameless sign-in; the same serve the autofill (conditional
    mediation), which the browser keeps pending until the person picks a passkey. Not
    rate-limited: every view of a sign-in page asks for them, and they cost a random
    challenge and an HMAC, nothing stored (the answer, /signin, is limited)."""
    token, options = state.passkeys.authentication()
    return _options(token, options)


@router.post("/signin", response_model=TokenPair, dependencies=DpopIssuance)
def signin(body: PasskeyCredentialIn, request: Request, response: Response, state: State, db: Db) -> TokenPair:
    """Tokens and a session as a password sign-in gives, without a two-factor step."""
    enforce(state.auth_limiter, f"passkey:{client_key(request)}")
    ceremony = state.passkeys.read(body.ceremony, SIGN_IN)
    passkeys.use_ceremony(db, ceremony)
    passkey = state.passkeys.verify_authentication(db, ceremony, body.credential)
    user = db.get(User, passkey.user_id)
    if user is None or not user.is_active:
        raise passkeys.unknown_passkey()
    return _deliver(state, request, response, _sign_in(state, db, request, user))


# --- the account's passkeys -----------------------------------------------------------


@router.get("", response_model=PasskeysOut)
def list_passkeys(user: CurrentUser, db: Db) -> PasskeysOut:
    return PasskeysOut(passkeys=[_out(p) for p in passkeys.passkeys_of(db, user.id)])


def _owned(db: Session, user: User, passkey_id: str) -> Passkey:
    passkey = db.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        raise ApiError(404, "not_found", "No such passkey on this account")
    return passkey


@router.patch("/{passkey_id}", response_model=PasskeyOut)
def rename(passkey_id: str, body: PasskeyRenameIn, user: CurrentUser, db: Db) -> PasskeyOut:
    passkey = _owned(db, user, passkey_id)
    passkey.name = body.name.strip() or DEFAULT_NAME
    db.commit()
    return _out(passkey)


@router.delete("/{passkey_id}", status_code=204)
def remove(passkey_id: str, user: CurrentUser, db: Db) -> Response:
    passkey = _owned(db, user, passkey_id)
    if ways_in_held(db, user.id).count() == 1:  # a concurrent removal waits until this one commits
        raise ApiError(
            422,
            "last_sign_in_method",
            "This is the account's only way to sign in: add another passkey or link a provider first",
        )
    db.execute(delete(Passkey).where(Passkey.id == passkey.id, Passkey.user_id == user.id))
    db.commit()
    return Response(status_code=204)
