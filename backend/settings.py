"""Settings from the environment or backend/.env (see backend/README.md for the table)."""

from __future__ import annotations

import ipaddress
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BACKEND_DIR = Path(__file__).resolve().parent
REPO_DIR = BACKEND_DIR.parent
MIN_SECRET_BYTES = 32
# What this backend's access tokens say by default (JWT_ISSUERS / JWT_AUDIENCE).
DEFAULT_ISSUER = "urn:auth-wasm:backend"
DEFAULT_AUDIENCE = "urn:auth-wasm:api"


class ConfigError(Exception):
    """A setting that makes the server refuse to start; the message is one line for people."""


def parse_rate(value: str) -> tuple[int, int]:
    """"10/60" -> (10 attempts, 60 seconds)."""
    try:
        count, seconds = (int(part) for part in value.split("/", 1))
    except ValueError:
        raise ValueError("expected ATTEMPTS/SECONDS such as 10/60") from None
    if count < 1 or seconds < 1:
        raise ValueError("rate limit attempts and seconds must be positive")
    return count, seconds


# host[:port] with nothing else: no userinfo, and a bracketed host only for IPv6
# (urlsplit alone reads `http://[::1].evil.example` as host ::1).
HOST_PORT = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[^:@\[\]]+))(?::\d{1,5})?")


def is_loopback_http(url: str) -> bool:
    """An http URL whose host is exactly loopback (localhost, 127.0.0.0/8, ::1).

    The host is parsed, not prefix-matched: `http://localhost.evil.example` and
    `http://127.0.0.1@evil.example` name other hosts."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    match = HOST_PORT.fullmatch(parts.netloc)
    if parts.scheme != "http" or match is None:
        return False
    if match["name"] is not None and match["name"].lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(match["v6"] or match["name"])
    except ValueError:
        return False
    return address.is_loopback and (address.version == 6) == (match["v6"] is not None)


def is_secure_url(url: str) -> bool:
    """https, or plain http to a loopback host (the provider rule)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (parts.scheme == "https" and bool(parts.hostname)) or is_loopback_http(url)


# Origins no app of ours is: a CORS_ORIGIN_REGEX that accepts one of them accepts
# everybody (`.*`, `https?://.*`), and with credentials that hands any site the
# user's refresh cookie and bearer-authenticated answers.
FOREIGN_ORIGINS = ("https://attacker.invalid", "http://attacker.invalid", "null")


class OAuthProvider(BaseModel):
    """One OpenID Connect provider for social sign-in (an entry of OAUTH_PROVIDERS).

    `issuer` is required (it is checked in every ID token); the endpoints come from
    its discovery document unless all three of authorization, token and jwks are set."""

    name: str = ""
    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid email profile"
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    jwks_uri: str | None = None
    userinfo_endpoint: str | None = None

    @model_validator(mode="after")
    def _https(self) -> OAuthProvider:
        urls = {
            "issuer": self.issuer,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": self.jwks_uri,
            "userinfo_endpoint": self.userinfo_endpoint,
        }
        for key, url in urls.items():
            if url is not None and not is_secure_url(url):
                # The field's name, never its value (settings errors never echo input).
                raise ValueError(f"OAUTH_PROVIDERS: {key} must be https (http only on loopback)")
        if "openid" not in self.scopes.split():
            raise ValueError("OAUTH_PROVIDERS: scopes must include openid")
        return self


class Settings(BaseSettings):
    # env_ignore_empty: `AUTH_DEV_MODE=` means unset, not a value that fails to parse.
    model_config = SettingsConfigDict(
        env_file=BACKEND_DIR / ".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    better_auth_secret: str | None = None
    # Comma list of secrets that signed tokens before a rotation: still accepted for
    # verification (never used to sign), so rotating the secret signs nobody out.
    better_auth_secret_previous: str = ""
    database_url: str = f"sqlite:///{REPO_DIR / 'var' / 'auth.db'}"
    # Upgrade the schema to this code's revision at start (under a lock). 0: a release
    # step runs `python -m backend migrate` first; the server refuses to start until it has.
    auto_migrate: bool = True
    # redis://host:port/db. When set, rate-limit windows live in Redis so a limit holds
    # across every worker; unset, they live in this process (one worker only).
    redis_url: str | None = None
    access_token_ttl: int = 900
    cors_origins: str = "http://localhost:3000"
    cors_origin_regex: str | None = None
    auth_dev_mode: bool = False
    auth_test_hooks: bool = False
    rate_limit_auth: str = "10/60"
    # Sign-in: RATE_LIMIT_AUTH counts per (account, client); this higher ceiling counts
    # per account from all clients (past it, each client gets one try per 30 s rather
    # than a refusal, so a flood cannot lock the owner out) and per client over all
    # accounts (past it, refused: one client trying many accounts). Unset: ten times
    # RATE_LIMIT_AUTH over the same window.
    rate_limit_login_ceiling: str | None = None
    rate_limit_refresh: str = "30/60"
    # "default" is argon2id at production strength; "fast" is for test suites only.
    password_hash_profile: str = "default"  # noqa: S105 (a setting, not a secret)
    # Seconds of clock leeway when verifying exp/nbf/iat of access tokens.
    jwt_leeway: int = 5
    # Comma lists; every access token must carry one of these `iss` and one of these
    # `aud` values, and ours carry the first of each. In AUTH_MODE=better-auth the
    # issuer is the Next.js app's URL (Better Auth's jwt plugin signs with it).
    jwt_issuers: str = DEFAULT_ISSUER
    jwt_audience: str = DEFAULT_AUDIENCE
    # Where another issuer publishes the public keys it signs access tokens with
    # (Better Auth's jwt plugin as it ships: {BETTER_AUTH_URL}/api/auth/jwks). Set, an
    # EdDSA, ES256 or RS256 token whose iss/aud match JWT_ISSUERS/JWT_AUDIENCE is
    # accepted (backend/jwks.py); https, or http on loopback only.
    jwt_jwks_url: str | None = None
    # Seconds between re-reads of that key set for a token naming a key not held yet.
    jwt_jwks_min_refetch: int = Field(60, ge=1)
    # The seed's setup: access tokens signed and verified with the raw
    # BETTER_AUTH_SECRET instead of the key derived from it, and without `typ`. Any
    # other JWT made with that secret (Better Auth signs its email-verification links
    # with it) then also verifies here when its iss/aud match: a compatibility switch.
    jwt_raw_secret: bool = False
    # Off (AUTH_MODE=better-auth, where Better Auth owns the accounts): FastAPI's own
    # sign-up, sign-in, token, refresh, two-factor and social sign-in routes answer
    # 404 `local_accounts_disabled`; only tokens another issuer signs are accepted.
    local_accounts: bool = True
    # A session ends SESSION_IDLE_TTL seconds after its last refresh (each refresh
    # moves that on; REFRESH_TOKEN_TTL is its former name, still read) and at the
    # latest SESSION_MAX_AGE seconds after sign-in, however busy (ASVS 3.3.2).
    session_idle_ttl: int = Field(7 * 24 * 3600, validation_alias=AliasChoices("session_idle_ttl", "refresh_token_ttl"))
    session_max_age: int = 30 * 24 * 3600
    # The refresh cookie's Secure attribute (and its __Secure- name): on unless
    # AUTH_DEV_MODE=1 (plain http on loopback); set to force it either way.
    refresh_cookie_secure: bool | None = None
    # A verified token without a session (`sid`: issued by Better Auth, not us) whose
    # `sub` is unknown creates the local user from its `email`/`name` claims on first
    # sight ("create"), or is refused ("reject").
    external_users: str = "create"
    # "body": refresh tokens travel in JSON (stored by the client). "cookie": an
    # httpOnly, SameSite=Strict cookie scoped to /auth, CSRF-checked (refresh_cookie.py).
    refresh_token_transport: str = "body"  # noqa: S105 (a setting, not a secret)
    # Social sign-in: JSON object of provider id -> OAuthProvider fields, e.g.
    # {"acme": {"issuer": "https://id.acme.example", "client_id": "...", "client_secret": "..."}}.
    # Redirect URIs the SDK names must be on an origin of CORS_ORIGINS / CORS_ORIGIN_REGEX.
    oauth_providers: dict[str, OAuthProvider] = {}
    # Verification mail (mailer.py): smtp://[user:pass@]host[:port] or smtps://...
    # Unset: in dev mode the mail is written to the log, otherwise it is not sent.
    smtp_url: str | None = None
    mail_from: str = "auth-wasm <no-reply@localhost>"
    # Where verification links point: EMAIL_VERIFY_URL + token, else
    # APP_URL + "/verify-email?token=", else the first CORS origin's /verify-email page.
    app_url: str | None = None
    email_verify_url: str | None = None

    @field_validator("external_users")
    @classmethod
    def _valid_external(cls, value: str) -> str:
        if value not in ("create", "reject"):
            raise ValueError("EXTERNAL_USERS must be 'create' or 'reject'")
        return value

    @staticmethod
    def _list(value: str) -> list[str]:
        return [v.strip() for v in value.split(",") if v.strip()]

    @property
    def jwt_issuer_list(self) -> list[str]:
        return self._list(self.jwt_issuers)

    @property
    def jwt_audience_list(self) -> list[str]:
        return self._list(self.jwt_audience)

    @field_validator("rate_limit_auth", "rate_limit_refresh", "rate_limit_login_ceiling")
    @classmethod
    def _valid_rate(cls, value: str | None) -> str | None:
        if value:  # empty is unset
            parse_rate(value)
        return value

    @property
    def login_ceiling(self) -> tuple[int, int]:
        if self.rate_limit_login_ceiling:
            return parse_rate(self.rate_limit_login_ceiling)
        attempts, seconds = parse_rate(self.rate_limit_auth)
        return attempts * 10, seconds

    @field_validator("refresh_token_transport")
    @classmethod
    def _valid_transport(cls, value: str) -> str:
        if value not in ("body", "cookie"):
            raise ValueError("REFRESH_TOKEN_TRANSPORT must be 'body' or 'cookie'")
        return value

    @field_validator("password_hash_profile")
    @classmethod
    def _valid_profile(cls, value: str) -> str:
        if value not in ("default", "fast"):
            raise ValueError("PASSWORD_HASH_PROFILE must be 'default' or 'fast'")
        return value

    @field_validator("jwt_jwks_url")
    @classmethod
    def _secure_jwks_url(cls, value: str | None) -> str | None:
        if value and not is_secure_url(value):
            raise ValueError("JWT_JWKS_URL must be https (plain http only on a loopback host)")
        return value

    @field_validator("jwt_issuers", "jwt_audience")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not cls._list(value):
            raise ValueError("JWT_ISSUERS and JWT_AUDIENCE need at least one value (access tokens must carry iss and aud)")
        return value

    @property
    def refresh_token_ttl(self) -> int:
        """The idle limit under its former name (a refresh token lives that long unused)."""
        return self.session_idle_ttl

    @property
    def cookie_secure(self) -> bool:
        if self.refresh_cookie_secure is not None:
            return self.refresh_cookie_secure
        return not self.auth_dev_mode

    @property
    def verify_link_prefix(self) -> str:
        if self.email_verify_url:
            return self.email_verify_url
        app = self.app_url or (self.cors_origin_list or ["http://localhost:3000"])[0]
        return app.rstrip("/") + "/verify-email?token="

    @property
    def cors_origin_list(self) -> list[str]:
        return self._list(self.cors_origins)

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_origin(cls, value: str) -> str:
        if "*" in cls._list(value):
            raise ValueError(
                "CORS_ORIGINS must list the app's origins: '*' with credentials would let any site read signed-in answers"
            )
        return value

    @field_validator("cors_origin_regex")
    @classmethod
    def _no_match_all_regex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            pattern = re.compile(value)
        except re.error:
            raise ValueError("CORS_ORIGIN_REGEX is not a valid regular expression") from None
        if any(pattern.fullmatch(origin) for origin in FOREIGN_ORIGINS):
            raise ValueError(
                "CORS_ORIGIN_REGEX accepts any origin: anchor it to the app's hosts, e.g. https://app\\.example\\.com"
            )
        return value

    def check_test_hooks(self) -> None:
        """AUTH_TEST_HOOKS opens anonymous rate-limit resets and fault injection: only
        together with AUTH_DEV_MODE, so one stray variable cannot open it in production."""
        if self.auth_test_hooks and not self.auth_dev_mode:
            raise ConfigError("AUTH_TEST_HOOKS=1 needs AUTH_DEV_MODE=1 as well (the test hooks are for tests only)")

    def origin_allowed(self, origin: str) -> bool:
        """An origin of the app (CORS_ORIGINS or CORS_ORIGIN_REGEX)."""
        return origin in self.cors_origin_list or (
            self.cors_origin_regex is not None and re.fullmatch(self.cors_origin_regex, origin) is not None
        )

    def previous_secrets(self) -> list[str]:
        """BETTER_AUTH_SECRET_PREVIOUS, each held to the same strength rule."""
        previous = self._list(self.better_auth_secret_previous)
        if any(len(p.encode()) < MIN_SECRET_BYTES for p in previous):
            raise ConfigError(
                f"BETTER_AUTH_SECRET_PREVIOUS has an entry shorter than {MIN_SECRET_BYTES} bytes: "
                "list the old secrets exactly as they were, comma-separated"
            )
        return previous

    def resolve_secret(self) -> tuple[str, bool]:
        """The signing secret and whether it was generated (dev mode only).

        Raises ConfigError when it is missing or shorter than 32 bytes outside dev mode."""
        secret = self.better_auth_secret or ""
        if len(secret.encode()) >= MIN_SECRET_BYTES:
            return secret, False
        if self.auth_dev_mode:
            return secrets.token_urlsafe(48), True
        problem = "is not set" if not secret else f"is shorter than {MIN_SECRET_BYTES} bytes"
        raise ConfigError(
            f"BETTER_AUTH_SECRET {problem}: set it to a random string of at least "
            f"{MIN_SECRET_BYTES} bytes (python3 -c 'import secrets; print(secrets.token_urlsafe(48))'), "
            "or set AUTH_DEV_MODE=1 to generate a throwaway one"
        )
