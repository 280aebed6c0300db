"""Access tokens another issuer signs with its own key pair and publishes as a JWKS
(JWT_JWKS_URL): Better Auth's jwt plugin as it ships (EdDSA, `/api/auth/jwks`), or any
issuer signing with ES256 or RS256.

Only public-key algorithms are taken from a key set: an `HS*` or `none` token is never
checked against it (a JWKS key used as an HMAC secret is the classic algorithm
confusion), and a key must be of the algorithm the token names. The set is fetched on
first use, read again after KEY_SET_TTL (so keys the issuer removed stop verifying),
and when a token names a key it does not have (the issuer rotated): re-reads happen
at most once per `min_refetch` seconds, so tokens with made-up `kid`s cannot turn this
server into a flood against the issuer. Without any keys (the issuer down since start)
a request answers 503 `server`; with keys, a failed re-read keeps the ones held."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from .errors import ApiError
from .security import AccessClaims, access_token_header, claim_text

log = logging.getLogger("backend")

ALGORITHMS = ("EdDSA", "ES256", "RS256")
KEY_SET_TTL = 300.0
# While the issuer cannot be reached and no keys are held, requests fail at once.
RETRY_AFTER_FAILURE = 5.0
HTTP_TIMEOUT = 5.0


def key_set_unavailable() -> ApiError:
    return ApiError(
        503,
        "server",
        "The token issuer's key set (JWT_JWKS_URL) could not be fetched: try again shortly",
        headers={"Retry-After": "5"},
    )


class JwksVerifier:
    """Verifies asymmetric JWTs with the keys at `url`; `iss` one of `issuers`, `aud`
    one of `audience`, `exp` and `sub` required. `clock` is monotonic seconds."""

    def __init__(
        self,
        url: str,
        issuers: list[str],
        audience: list[str],
        leeway: int,
        *,
        min_refetch: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._issuers = issuers
        self._audience = audience
        self._leeway = leeway
        self._min_refetch = min_refetch
        self._clock = clock
        self._http = httpx.Client(timeout=HTTP_TIMEOUT, transport=transport, follow_redirects=False)
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None

    def verify(self, token: str) -> AccessClaims | None:
        """Claims of a valid token, or None. Raises ApiError 503 `server` when the key
        set is needed and cannot be fetched."""
        header = access_token_header(token)
        if header is None:
            return None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS or not isinstance(kid, str) or not kid:
            return None
        key = self._key(kid)
        if key is None or key.algorithm_name != alg:
            return None
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                leeway=self._leeway,
                audience=self._audience,
                issuer=self._issuers,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError:
            return None
        return _access_claims(claims)

    def _key(self, kid: str) -> jwt.PyJWK | None:
        with self._lock:
            now = self._clock()
            since = float("inf") if self._attempted_at is None else now - self._attempted_at
            if self._keys is None:
                # Never fetched, or every fetch failed: try again, but not on every
                # request while the issuer is down.
                if since < RETRY_AFTER_FAILURE:
                    raise key_set_unavailable()
                self._fetch(now)
            elif since >= self._min_refetch and (kid not in self._keys or now - self._fetched_at >= KEY_SET_TTL):
                try:
                    self._fetch(now)
                except ApiError:
                    # Stale keys still verify (the issuer being down is no reason to
                    # sign everyone out); a key we do not have cannot.
                    if kid not in self._keys:
                        raise
            return (self._keys or {}).get(kid)

    def _fetch(self, now: float) -> None:
        self._attempted_at = now
        try:
            response = self._http.get(self._url, headers={"Accept": "application/json"})
            body = response.json() if response.status_code == 200 else None
            keys = _signing_keys(body)
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            # The reason, never a key: whoever runs the server needs to know which.
            log.warning("JWT_JWKS_URL could not be used: %s", type(exc).__name__)
            raise key_set_unavailable() from None
        self._keys = keys
        self._fetched_at = now


def _signing_keys(body: Any) -> dict[str, jwt.PyJWK]:
    """The set's signature keys of an accepted algorithm, by `kid`. Raises ValueError
    when the answer is no key set; PyJWT drops keys it cannot read."""
    if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
        raise ValueError("not a JWK set")
    usable = [k for k in body["keys"] if isinstance(k, dict) and k.get("kty") in ("OKP", "EC", "RSA")]
    keys: dict[str, jwt.PyJWK] = {}
    for key in jwt.PyJWKSet.from_dict({"keys": usable}).keys if usable else []:
        if key.key_id and key.public_key_use in (None, "sig") and key.algorithm_name in ALGORITHMS:
            keys[key.key_id] = key
    return keys


def _access_claims(claims: dict[str, Any]) -> AccessClaims | None:
    sub = claim_text(claims, "sub")
    if not sub:
        return None
    # No `sid` (these tokens name no session of ours) and never `email_verified`: a
    # user the key set's issuer vouches for is created on first sight, but never
    # linked by email to an account that exists here.
    return AccessClaims(sub=sub, sid=None, exp=int(claims["exp"]), email=claim_text(claims, "email"), name=claim_text(claims, "name"))
