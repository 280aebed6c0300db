"""Social sign-in endpoints (OpenID Connect, authorization code + PKCE; see oidc.py):
the configured providers, the start of a sign-in and its finish. In link mode (a
signed-in user's `link: true`) the same flow attaches the provider account to that
user instead of signing in."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import mfa, oidc
from ..db import OAuthIdentity, User
from ..deps import AppState, Db, DpopBinding, State, bearer_scheme, client_key, get_principal, issuance_jkt
from ..errors import ApiError
from ..ratelimit import enforce
from ..schemas import LinkedOut, MfaChallengeOut, OAuthCallbackIn, OAuthProviderOut, OAuthStartIn, OAuthStartOut, TokenPair
from ..step_up import require_step_up
from .auth import _deliver, _has_second_factor, _sign_in

router = APIRouter(prefix="/auth/oauth", tags=["social sign-in"])


def _client(state: AppState, provider: str) -> oidc.OidcClient:
    client = state.oauth.get(provider)
    if client is None:
        # The caller's input names it: a validation error, as a bad redirect_uri is.
        raise ApiError(422, "validation", "No such sign-in provider", fields={"provider": "Unknown sign-in provider"})
    return client


def _check_redirect(state: AppState, uri: str) -> None:
    """Only back to the app: an origin of CORS_ORIGINS, never a fragment (RFC 6749 3.1.2)."""
    parts = urlsplit(uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.scheme not in ("http", "https") or parts.fragment or not state.settings.origin_allowed(origin):
        raise ApiError(
            422,
            "validation",
            "redirect_uri is not a page of this app",
            fields={"redirect_uri": "Not an allowed origin"},
        )


@router.get("/providers", response_model=list[OAuthProviderOut])
def providers(state: State) -> list[OAuthProviderOut]:
    return [OAuthProviderOut(id=c.id, name=c.config.name or c.id) for c in state.oauth.clients.values()]


Bearer = Annotated[str | None, Depends(bearer_scheme)]


@router.post("/{provider}/start", response_model=OAuthStartOut)
def start(
    provider: str, body: OAuthStartIn, request: Request, response: Response, state: State, db: Db, token: Bearer
) -> OAuthStartOut:
    """The provider's authorization URL for this browser's PKCE challenge and state.
    `link: true` (with the bearer): the flow names the signed-in user to link to."""
    client = _client(state, provider)
    _check_redirect(state, body.redirect_uri)
    del token  # declared for OpenAPI; get_principal reads the header (Bearer or DPoP)
    link_user = None
    if body.link:
        # A linked provider signs in to the account from then on: a change of how it
        # signs in, so step-up as for adding a passkey (a stolen access token alone must
        # not link the thief's provider account).
        principal = get_principal(request, response, state, db)
        require_step_up(state, db, principal, body.password, "link a sign-in provider", recent_sign_in=True)
        link_user = principal.user.id
    nonce = oidc.new_nonce()
    url = client.authorization_url(body.redirect_uri, body.state, nonce, body.code_challenge)
    issuer = client.config.issuer
    flow = state.flows.issue(oidc.Flow(provider, body.redirect_uri, nonce, body.code_challenge, issuer, link_user))
    return OAuthStartOut(
        authorization_url=url, flow=flow, issuer=issuer, iss_parameter_supported=client.iss_parameter_supported()
    )


@router.post("/{provider}/callback", response_model=TokenPair | MfaChallengeOut | LinkedOut, dependencies=DpopBinding)
def callback(
    provider: str, body: OAuthCallbackIn, request: Request, response: Response, state: State, db: Db, token: Bearer
) -> TokenPair | MfaChallengeOut | LinkedOut:
    """Finish a sign-in (or a link): the code the provider gave the browser, with the verifier."""
    del token  # declared for OpenAPI; get_principal reads the header (Bearer or DPoP)
    enforce(state.auth_limiter, f"ip:{client_key(request)}")  # IPv6 by its /64, as sign-in
    client = _client(state, provider)
    flow = state.flows.read(body.flow)
    if flow is None or flow.provider != provider:
        raise ApiError(400, "challenge_expired", "The sign-in took too long: start it again")
    _check_issuer(client, flow, body.iss)
    if oidc.s256(body.code_verifier) != flow.code_challenge:
        raise ApiError(
            422, "validation", "code_verifier does not match", fields={"code_verifier": "Does not match the challenge"}
        )
    if flow.link_user is not None:
        # The same user must finish what they started (their bearer, again).
        if get_principal(request, response, state, db).user.id != flow.link_user:
            raise ApiError(403, "unauthorized", "This link was started by another account")
        identity = client.finish(body.code, body.code_verifier, flow)
        _link(db, provider, identity, flow.link_user)
        return LinkedOut(linked=provider)
    # A sign-in ends in tokens (or a two-factor step that needs them): DPOP=required
    # refuses a proofless one here, before the code is redeemed and a first-time user made.
    issuance_jkt(state, request)
    identity = client.finish(body.code, body.code_verifier, flow)
    user = _linked_user(db, provider, identity)
    if not user.is_active:
        raise ApiError(403, "unauthorized", "This account is disabled")
    if _has_second_factor(db, user):
        return MfaChallengeOut(
            challenge=state.challenges.issue(user.id), methods=mfa.METHODS, expires_in=mfa.CHALLENGE_TTL
        )
    return _deliver(state, request, response, _sign_in(state, db, request, user))


def _link(db: Session, provider: str, identity: oidc.Identity, user_id: str) -> None:
    """Attach the provider account to `user_id`; 409 when another user has it."""
    link = db.get(OAuthIdentity, (provider, identity.subject))
    if link is None:
        db.add(OAuthIdentity(provider=provider, subject=identity.subject, user_id=user_id))
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            link = db.get(OAuthIdentity, (provider, identity.subject))
    if link is not None and link.user_id != user_id:
        raise ApiError(409, "user_exists", "This provider account is already linked to another user")
    user = db.get(User, user_id)
    if user is not None and not user.email_verified and user.email == identity.email:
        # The provider verified this very address, and the user just proved both.
        user.email_verified = True
        db.commit()


def _check_issuer(client: oidc.OidcClient, flow: oidc.Flow, iss: str | None) -> None:
    """RFC 9207: the authorization response came from the provider this sign-in
    started with. Checked before the code goes anywhere: a code another provider
    issued must never reach this provider's token endpoint (RFC 9700 4.4, mix-up)."""
    # Plain comparison: issuers are public (and compare_digest refuses non-ASCII text).
    same_provider = flow.issuer == client.config.issuer
    if iss is None:
        ok = same_provider and not client.iss_parameter_supported()
    else:
        ok = same_provider and iss == flow.issuer
    if not ok:
        raise ApiError(
            400,
            "state_mismatch",
            "The answer came from another sign-in provider than the one this sign-in started with: start it again",
        )


def _linked_user(db: Session, provider: str, identity: oidc.Identity) -> User:
    """The user of this provider account: linked before, or by its verified email to a
    VERIFIED account (an unverified one may belong to someone who merely typed the
    address: 409, nothing linked), else a new verified user without a password."""
    for _ in range(2):
        link = db.get(OAuthIdentity, (provider, identity.subject))
        if link is not None:
            user = db.get(User, link.user_id)
            if user is not None:
                return user
        user = db.scalars(select(User).where(User.email == identity.email)).first()
        if user is not None and not user.email_verified:
            raise ApiError(
                409,
                "user_exists",
                "An account with this email exists but its address is not verified: sign in with its password, "
                "verify the address, then link this provider from the account's security page",
            )
        if user is None:
            user = User(email=identity.email, name=identity.name, password_hash="", email_verified=True)
            db.add(user)
            db.flush()
        db.add(OAuthIdentity(provider=provider, subject=identity.subject, user_id=user.id))
        try:
            db.commit()
            return user
        except IntegrityError:
            # Two first sign-ins at once: the other one linked it; read its link.
            db.rollback()
    raise ApiError(409, "user_exists", "This account is being linked: try again")
