"""Request-scoped dependencies: the app state, a DB session, the signed-in user."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import session_store
from .db import OAuthIdentity, User
from .dpop import DpopError, DpopVerifier
from .email_verification import EmailVerifier
from .errors import ApiError
from .jwks import JwksVerifier
from .mailer import Mailer
from .mfa import Challenges, RecoveryCodes
from .oidc import Flows, Providers
from .passkeys import RelyingParty
from .ratelimit import Limiter
from .resource import AccessGuard
from .security import AccessClaims, Passwords, Tokens
from .settings import Settings


@dataclass
class AppState:
    settings: Settings
    sessions: sessionmaker[Session]
    passwords: Passwords
    tokens: Tokens
    auth_limiter: Limiter
    refresh_limiter: Limiter
    challenges: Challenges
    recovery_codes: RecoveryCodes
    oauth: Providers
    flows: Flows
    mailer: Mailer
    verifier: EmailVerifier
    passkeys: RelyingParty
    guard: AccessGuard
    test_hooks: object | None = field(default=None)
    # JWT_JWKS_URL: tokens another issuer signs with its own key pair.
    jwks: JwksVerifier | None = field(default=None)


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.auth
    return state


def get_db(state: Annotated[AppState, Depends(get_state)]) -> Iterator[Session]:
    db = state.sessions()
    try:
        yield db
    finally:
        db.close()


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def client_key(request: Request) -> str:
    """The client as rate limits count it: an IPv4 address, or an IPv6 client's /64
    (one subscriber usually holds a whole /64, so counting single addresses would
    give it 2^64 windows)."""
    host = client_ip(request)
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


# Declares the scheme for OpenAPI (Swagger UI's Authorize button posts to /auth/token);
# auto_error=False so every failure gets our own 401 body.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="auth/token", auto_error=False)


@dataclass
class Principal:
    user: User
    claims: AccessClaims


def get_principal(
    request: Request,
    response: Response,
    state: Annotated[AppState, Depends(get_state)],
    db: Annotated[Session, Depends(get_db)],
    _scheme: Annotated[str | None, Depends(bearer_scheme)] = None,
) -> Principal:
    """The signed-in user: a Bearer token (ours, or with JWT_JWKS_URL another
    issuer's), or a DPoP-bound one with its proof (resource.AccessGuard). `_scheme`
    only declares the scheme for OpenAPI."""
    claims = state.guard.authenticate(request, response)
    user = db.get(User, claims.sub)
    if user is None and claims.sid is None and state.settings.external_users == "create":
        user = adopt_external_user(db, claims, trusted_issuer=bool(state.settings.jwt_issuer_list))
    if user is None or not user.is_active:
        raise state.guard.refuse("Invalid or expired token")
    # Tokens we issued name their session: a revoked session stops its access tokens
    # at once rather than at their expiry.
    if claims.sid is not None and not session_store.is_live(db, claims.sid):
        raise state.guard.refuse("Session revoked")
    return Principal(user, claims)


# OAuthIdentity.provider of a foreign token's subject linked to a local account.
FOREIGN_SUBJECT = "jwt:external"  # a colon: never a provider id the SDK can name


def adopt_external_user(db: Session, claims: AccessClaims, trusted_issuer: bool) -> User | None:
    """The local user for a verified token another issuer (a Better Auth app) signed
    with the access-token key derived from the shared secret: created on first sight
    with the token's `sub` as its id, so notes and sessions key on the same id the
    issuer uses.

    An email already held by a local account is matched only when the token is
    vouched for: it comes from a configured issuer (JWT_ISSUERS, checked in every
    token) and says `email_verified: true`, and the account's address is verified
    too; the subject is then linked to it. Otherwise the token is refused: anyone holding a
    token with only `sub` + `email` would take the account over. A new user is
    verified only on that same word of a configured issuer."""
    vouched = trusted_issuer and claims.email_verified
    link = db.get(OAuthIdentity, (FOREIGN_SUBJECT, claims.sub))
    if link is not None:
        return db.get(User, link.user_id)
    email = (claims.email or "").strip().lower()
    if not email:
        return None
    holder = db.scalars(select(User).where(User.email == email)).first()
    if holder is not None:
        if not (vouched and holder.email_verified):
            return None
        db.add(OAuthIdentity(provider=FOREIGN_SUBJECT, subject=claims.sub, user_id=holder.id))
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
        return holder
    user = User(id=claims.sub, email=email, name=(claims.name or "").strip()[:200], email_verified=vouched)
    db.add(user)
    try:
        db.commit()
    except IntegrityError:
        # Another request created it at the same moment.
        db.rollback()
        return db.get(User, claims.sub)
    return user


def dpop_binding(request: Request, response: Response, state: Annotated[AppState, Depends(get_state)]) -> None:
    """On routes that issue tokens: check the request's DPoP proof (RFC 9449 5) and
    keep its key's thumbprint for `issuance_jkt`. A request that also carries an
    access token (a link's callback) has its proof checked by the access guard."""
    request.state.dpop_jkt = None
    guard = state.guard
    values = request.headers.getlist("dpop")
    if guard.mode == "off" or not values or request.headers.get("authorization", "").lower().startswith("dpop "):
        return
    try:
        proof = guard.verifier.verify(values, request.method, str(request.url))
    except DpopError as exc:
        raise dpop_refusal(guard.verifier, exc.error, exc.description) from None
    request.state.dpop_jkt = proof.jkt
    if guard.verifier.require_nonce:
        response.headers["DPoP-Nonce"] = guard.verifier.nonces.current()


def dpop_refusal(verifier: DpopVerifier, error: str, description: str) -> ApiError:
    """RFC 9449 5/8 at a token-issuing route: 400 with `error`, and a fresh nonce."""
    headers = {"Cache-Control": "no-store"}
    if verifier.require_nonce:
        headers["DPoP-Nonce"] = verifier.nonces.current()
    return ApiError(400, "unauthorized", description, headers=headers, extra={"error": error, "error_description": description})


def issuance_jkt(state: AppState, request: Request) -> str | None:
    """The DPoP key the tokens issued for this request bind to (None: unbound).
    DPOP=required: no proof, no tokens."""
    jkt: str | None = getattr(request.state, "dpop_jkt", None)
    if jkt is None and state.guard.mode == "required":
        raise dpop_refusal(state.guard.verifier, "invalid_dpop_proof", "A DPoP proof is required")
    return jkt


def dpop_required_up_front(request: Request, state: Annotated[AppState, Depends(get_state)]) -> None:
    """On routes whose every success issues tokens: DPOP=required refuses a request
    without a proof before the route runs, not at the end (`_sign_in`) after it created
    an account or spent a passkey ceremony the user would then have to start again."""
    issuance_jkt(state, request)


DpopBinding = [Depends(dpop_binding)]
# The binding, and under DPOP=required no side effects for a request without a proof.
DpopIssuance = [*DpopBinding, Depends(dpop_required_up_front)]


def require_local_accounts(state: Annotated[AppState, Depends(get_state)]) -> None:
    """LOCAL_ACCOUNTS=0 (Better Auth owns the accounts): the routes that create
    accounts or sessions here do not exist."""
    if not state.settings.local_accounts:
        raise ApiError(
            404,
            "local_accounts_disabled",
            "Accounts are managed by another service here (LOCAL_ACCOUNTS=0): sign in there",
        )


LocalAccounts = [Depends(require_local_accounts)]


def get_current_user(principal: Annotated[Principal, Depends(get_principal)]) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
Db = Annotated[Session, Depends(get_db)]
State = Annotated[AppState, Depends(get_state)]
