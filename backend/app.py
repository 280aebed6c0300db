"""The FastAPI application factory."""

from __future__ import annotations

import logging

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from .db import init_db, make_engine
from .deps import AppState, LocalAccounts
from .email_verification import EmailVerifier
from .errors import install_error_handlers
from .jwks import JwksVerifier
from .mailer import make_mailer
from .mfa import Challenges, RecoveryCodes
from .oidc import Flows, Providers
from .ratelimit import make_limiters
from .routers import auth, identities, mfa, notes, oauth, sessions
from .security import Passwords, Tokens
from .settings import Settings

log = logging.getLogger("backend")


def create_app(settings: Settings | None = None, oauth_transport: httpx.BaseTransport | None = None) -> FastAPI:
    """Build the app. Raises settings.ConfigError when the secret is missing or weak, or
    the test hooks are asked for outside dev mode.
    `oauth_transport`: an httpx transport standing in for the OpenID providers (tests)."""
    settings = settings or Settings()
    settings.check_test_hooks()
    secret, generated = settings.resolve_secret()
    previous = settings.previous_secrets()
    if generated:
        log.warning(
            "AUTH_DEV_MODE: generated a random BETTER_AUTH_SECRET for this run; "
            "tokens will not survive a restart"
        )
    if settings.jwt_raw_secret:
        log.warning(
            "JWT_RAW_SECRET is on: access tokens use the raw BETTER_AUTH_SECRET, so any JWT "
            "signed with it whose iss/aud match is taken as an access token"
        )
    engine = make_engine(settings.database_url)
    auth_limiter, refresh_limiter = make_limiters(settings)
    app = FastAPI(title="auth-wasm reference backend", version="0.1.0")
    app.state.auth = AppState(
        settings=settings,
        sessions=init_db(engine, settings.auto_migrate),
        passwords=Passwords(settings.password_hash_profile),
        tokens=Tokens(
            secret,
            settings.access_token_ttl,
            settings.jwt_leeway,
            issuers=settings.jwt_issuer_list,
            audience=settings.jwt_audience_list,
            previous_secrets=previous,
            raw_secret=settings.jwt_raw_secret,
        ),
        auth_limiter=auth_limiter,
        refresh_limiter=refresh_limiter,
        challenges=Challenges(secret, previous),
        recovery_codes=RecoveryCodes(secret, previous),
        oauth=Providers(settings.oauth_providers, oauth_transport),
        flows=Flows(secret, previous),
        mailer=make_mailer(settings),
        verifier=EmailVerifier(secret, previous, settings.verify_link_prefix),
        jwks=JwksVerifier(
            settings.jwt_jwks_url,
            settings.jwt_issuer_list,
            settings.jwt_audience_list,
            settings.jwt_leeway,
            min_refetch=settings.jwt_jwks_min_refetch,
        )
        if settings.jwt_jwks_url
        else None,
    )
    app.state.engine = engine
    install_error_handlers(app)

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(auth.router)
    # These end in a session of ours (or link to one): off with LOCAL_ACCOUNTS=0, like sign-in itself.
    app.include_router(mfa.router, dependencies=LocalAccounts)
    app.include_router(oauth.router, dependencies=LocalAccounts)
    app.include_router(identities.router, dependencies=LocalAccounts)
    app.include_router(sessions.router)
    app.include_router(notes.router)
    if settings.auth_test_hooks:
        # Imported only here: production processes never load the test package.
        from .testing import hooks

        log.warning("AUTH_TEST_HOOKS is on: /_test/* endpoints are exposed (tests only)")
        app.state.test_hooks = hooks.TestHooks()
        app.include_router(hooks.router)
        app.add_middleware(hooks.TestHooksMiddleware, hooks=app.state.test_hooks)
    # Added last so it is outermost: every answer, including injected faults, gets CORS.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origin_list,
        allow_origin_regex=settings.cors_origin_regex,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-CSRF"],
        # The refresh cookie (REFRESH_TOKEN_TRANSPORT=cookie) crosses origins only
        # to the origins listed above.
        allow_credentials=True,
        expose_headers=["Retry-After", "Date", "WWW-Authenticate"],
        max_age=600,
    )
    return app
