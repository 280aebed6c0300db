"""Password hashing (argon2id), access tokens (JWT HS256 under a derived key) and
opaque refresh tokens."""

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
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

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
    # The issuer's word that it verified `email` (a JSON true, nothing else).
    email_verified: bool = False
    # RFC 9449 6.1 `cnf.jkt`: the token is DPoP-bound to the key with this thumbprint.
    jkt: str | None = None


def access_token_header(token: str) -> dict[str, Any] | None:
    """The (unverified) header of a bearer token of a size we read, or None."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None


def claim_text(claims: dict[str, Any], key: str) -> str | None:
    """A claim that is a string, else None (a token's other types are never trusted as text)."""
    value = claims.get(key)
    return value if isinstance(value, str) else None


# RFC 9068's media type for JWT access tokens: a JWT of another kind signed with a
# key we share (an email-verification link, an ID token) never says it.
ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105 (a JWT header value, not a password)
# HKDF "info" for the access-token key. Changing it signs everyone out; a Better Auth
# app that signs access tokens for this backend uses the same label (README.md).
ACCESS_KEY_LABEL = b"auth-wasm access token v1"


def derive_access_key(secret: str) -> bytes:
    """HKDF-SHA256 (RFC 5869, empty salt) of the shared secret for access tokens only,
    so the raw secret that other software (Better Auth) signs its own JWTs with never
    verifies an access token (RFC 8725 3.11/3.12). Node: hkdfSync("sha256", secret,
    "", label, 32)."""
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=ACCESS_KEY_LABEL).derive(secret.encode())


class Tokens:
    """Issues and verifies access tokens: HS256 under the derived key (or the raw
    secret with `raw_secret`, the seed's setup), `typ: at+jwt`, and an `iss` of
    `issuers` and an `aud` of `audience`, both required (ours carry the first of
    each). A token of another kind or for another service is refused."""

    def __init__(
        self,
        secret: str,
        access_ttl: int,
        leeway: int,
        issuers: list[str],
        audience: list[str],
        previous_secrets: list[str] | None = None,
        raw_secret: bool = False,
    ) -> None:
        if not issuers or not audience:
            raise ValueError("access tokens need an issuer and an audience")
        key = (lambda s: s.encode()) if raw_secret else derive_access_key
        # Verification only: tokens signed before a rotation stay valid until they expire.
        self._keys = [key(s) for s in (secret, *(previous_secrets or []))]
        # Raw mode accepts the seed's tokens, which carry no (or another) `typ`.
        self._require_typ = not raw_secret
        self.access_ttl = access_ttl
        self._leeway = leeway
        self._issuers = issuers
        self._audience = audience

    def issue_access(self, user_id: str, session_id: str, email: str, name: str, jkt: str | None = None) -> str:
        """`jkt`: bind the token to that DPoP key (`cnf.jkt`)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self._issuers[0],
            "aud": self._audience[0],
            "sub": user_id,
            "sid": session_id,
            "email": email,
            "name": name,
            "iat": now,
            "exp": now + self.access_ttl,
            "jti": uuid.uuid4().hex,
        }
        if jkt is not None:
            claims["cnf"] = {"jkt": jkt}
        return jwt.encode(claims, self._keys[0], algorithm=ALGORITHM, headers={"typ": ACCESS_TOKEN_TYP})

    def verify_access(self, token: str) -> AccessClaims | None:
        """Claims of a valid token, or None. HS256 only; typ, exp, sub, iss, aud required."""
        header = access_token_header(token)
        if header is None:
            return None
        # RFC 8725 3.11: "at+jwt", or its full media type, case-insensitively.
        typ = header.get("typ")
        if self._require_typ and not (
            isinstance(typ, str) and typ.lower() in (ACCESS_TOKEN_TYP, "application/" + ACCESS_TOKEN_TYP)
        ):
            return None
        claims = None
        for key in self._keys:
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    leeway=self._leeway,
                    audience=self._audience,
                    issuer=self._issuers,
                    options={"require": ["exp", "sub", "iss", "aud"]},
                )
                break
            except jwt.InvalidSignatureError:
                continue  # perhaps signed with a previous secret
            except jwt.PyJWTError:
                return None
        if claims is None:
            return None
        sub = claim_text(claims, "sub")
        if not sub:
            return None
        cnf = claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        if cnf is not None and not isinstance(jkt, str):
            return None  # a confirmation we cannot check is no token we accept
        return AccessClaims(
            jkt=jkt,
            sub=sub,
            sid=claim_text(claims, "sid"),
            exp=int(claims["exp"]),
            email=claim_text(claims, "email"),
            name=claim_text(claims, "name"),
            email_verified=claims.get("email_verified") is True,
        )


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

    def read(self, token: str, require: list[str], *, verify_exp: bool = True) -> dict[str, Any] | None:
        """The claims, or None when expired, malformed or signed by no known key.
        `verify_exp=False`: an expired token's claims too (the caller checks `exp`
        itself to say "expired" rather than "invalid")."""
        for key in self._keys:
            try:
                return jwt.decode(token, key, algorithms=["HS256"], options={"require": require, "verify_exp": verify_exp})
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError:
                return None
        return None
