"""Password hashing (argon2id), access tokens (JWT HS256) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"
# A JWT this long is not ours; refuse it before doing any work on it.
MAX_TOKEN_CHARS = 8192


def make_password_hasher(profile: str) -> PasswordHasher:
    if profile == "fast":
        # Test suites only: same algorithm, tiny cost.
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()  # argon2id, RFC 9106 low-memory profile


class Passwords:
    def __init__(self, profile: str) -> None:
        self._hasher = make_password_hasher(profile)
        # Verified against when the account does not exist, so an unknown email
        # costs the same time as a wrong password.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and bool(
                stored_hash
            )
        except (VerificationError, InvalidHashError):
            return False


@dataclass(frozen=True)
class AccessClaims:
    sub: str
    sid: str | None
    exp: int
    email: str | None = None
    name: str | None = None


class Tokens:
    """Issues and verifies access tokens. `issuers`/`audience`, when configured, are
    required of every token (ours carry the first issuer and the audience), so a
    token minted for another service with the same secret is refused."""

    def __init__(
        self,
        secret: str,
        access_ttl: int,
        leeway: int,
        issuers: list[str] | None = None,
        audience: list[str] | None = None,
        previous_secrets: list[str] | None = None,
    ) -> None:
        self._secret = secret
        # Verification only: tokens signed before a rotation stay valid until they expire.
        self._verify_secrets = [secret, *(previous_secrets or [])]
        self.access_ttl = access_ttl
        self._leeway = leeway
        self._issuers = issuers or []
        self._audience = audience or []

    def issue_access(self, user_id: str, session_id: str, email: str, name: str) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id,
            "sid": session_id,
            "email": email,
            "name": name,
            "iat": now,
            "exp": now + self.access_ttl,
            "jti": uuid.uuid4().hex,
        }
        if self._issuers:
            claims["iss"] = self._issuers[0]
        if self._audience:
            claims["aud"] = self._audience[0]
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify_access(self, token: str) -> AccessClaims | None:
        """Claims of a valid token, or None. HS256 only; exp and sub required."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        required = ["exp", "sub"] + (["iss"] if self._issuers else []) + (["aud"] if self._audience else [])
        claims = None
        for secret in self._verify_secrets:
            try:
                claims = jwt.decode(
                    token,
                    secret,
                    algorithms=[ALGORITHM],
                    leeway=self._leeway,
                    audience=self._audience or None,
                    issuer=self._issuers or None,
                    options={"require": required, "verify_aud": bool(self._audience)},
                )
                break
            except jwt.InvalidSignatureError:
                continue  # perhaps signed with a previous secret
            except jwt.PyJWTError:
                return None
        if claims is None:
            return None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            return None
        def text(key: str) -> str | None:
            value = claims.get(key)
            return value if isinstance(value, str) else None

        return AccessClaims(sub=sub, sid=text("sid"), exp=int(claims["exp"]), email=text("email"), name=text("name"))


def new_refresh_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PurposeSigner:
    """Short-lived HS256 tokens for one purpose (a two-factor challenge, a social
    sign-in flow) under a key derived from the secret for that purpose only, so none of
    them can pass as an access token or as each other. Signed with the current secret;
    read with it or a previous one, so a sign-in started on a worker before a secret
    rotation finishes on one after it."""

    def __init__(self, purpose: bytes, secret: str, previous: list[str] | tuple[str, ...] = ()) -> None:
        self._keys = [hmac.new(s.encode(), purpose, hashlib.sha256).digest() for s in (secret, *previous)]

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._keys[0], algorithm="HS256")

    def read(self, token: str, require: list[str]) -> dict[str, Any] | None:
        """The claims, or None when expired, malformed or signed by no known key."""
        for key in self._keys:
            try:
                return jwt.decode(token, key, algorithms=["HS256"], options={"require": require})
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError:
                return None
        return None
