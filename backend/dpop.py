"""DPoP (RFC 9449): proofs of possession that bind tokens to a key the client holds.

`DpopVerifier.verify` is the twelve checks of RFC 9449 section 4.3 over one request;
`Nonces` are the server nonces of section 8/9 (an HMAC of a time step under a key
derived from the shared secret, so every worker, and every resource server of the
same secret, makes and accepts the same ones, and they rotate by themselves);
`ReplayCache` remembers proof ids (`jti`) for as long as a proof is acceptable: in
Redis when REDIS_URL is set (shared by workers), else in this process.

Nothing here logs or echoes a proof, a token or a key: failures say which check
failed, never a value."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import jwt

# Asymmetric signature algorithms a proof may use (RFC 9449 4.3 check 5). Never a MAC:
# with the verification key taken from the proof itself, HS256 would prove nothing.
ALGORITHMS = ("ES256", "ES384", "EdDSA")
ALGS_PARAM = " ".join(ALGORITHMS)
PROOF_TYP = "dpop+jwt"
# JWK members that hold private key material (RFC 7518 6.2.2, 6.3.2, 6.4.1; RFC 8037 2).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# The members RFC 7638 hashes, per key type.
THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}
MAX_PROOF_CHARS = 4096
MODES = ("off", "optional", "required")
NONCE_KEY_LABEL = b"auth-wasm dpop nonce v1"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of a public JWK, base64url. Raises ValueError for a
    key type or member this does not know."""
    members = THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None or not all(isinstance(jwk.get(m), str) for m in members):
        raise ValueError("unsupported JWK")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def access_token_hash(token: str) -> str:
    """`ath`: base64url SHA-256 of the access token's ASCII."""
    return b64url(hashlib.sha256(token.encode("ascii", "replace")).digest())


def normalise_htu(url: str) -> str | None:
    """The URI a proof may name for `url`: scheme and host lowercased, a default port
    dropped, no query or fragment, an empty path as "/", unreserved characters that
    were percent-encoded decoded and other escapes upper-cased (RFC 3986 6.2.2,
    6.2.3). None when it is no absolute http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host or parts.username is not None:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, _normalise_escapes(parts.path) or "/", "", ""))


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normalise_escapes(path: str) -> str:
    out, i = [], 0
    while i < len(path):
        if path[i] == "%" and i + 2 < len(path):
            try:
                char = chr(int(path[i + 1 : i + 3], 16))
            except ValueError:
                out.append(path[i])
                i += 1
                continue
            out.append(char if char in _UNRESERVED else "%" + path[i + 1 : i + 3].upper())
            i += 3
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


class DpopError(Exception):
    """A refused proof. `error`: "invalid_dpop_proof", "use_dpop_nonce" or
    "invalid_token"; `description`: which check, for people (no values)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def invalid(description: str) -> DpopError:
    return DpopError("invalid_dpop_proof", description)


class Nonces:
    """Server nonces: `<step>.<HMAC(key, step)>`, a new one every `period` seconds; the
    current and the previous step are accepted, so a nonce lives between one and two
    periods. Stateless: workers and resource servers sharing the secret agree."""

    def __init__(self, secrets_: list[str], period: int, clock: Callable[[], float] = time.time) -> None:
        self._keys = [hmac.new(s.encode(), NONCE_KEY_LABEL, hashlib.sha256).digest() for s in secrets_]
        self._period = max(1, period)
        self._clock = clock

    def _mac(self, key: bytes, step: int) -> str:
        return b64url(hmac.new(key, str(step).encode(), hashlib.sha256).digest()[:18])

    def current(self) -> str:
        step = int(self._clock() // self._period)
        return f"{step}.{self._mac(self._keys[0], step)}"

    def valid(self, nonce: object) -> bool:
        if not isinstance(nonce, str) or nonce.count(".") != 1 or len(nonce) > 64:
            return False
        step_text, mac = nonce.split(".")
        if not step_text.isdigit():
            return False
        step = int(step_text)
        if step not in (int(self._clock() // self._period), int(self._clock() // self._period) - 1):
            return False
        return any(hmac.compare_digest(mac, self._mac(key, step)) for key in self._keys)


class ReplayCache(Protocol):
    def first_use(self, key: str, ttl: int) -> bool:
        """Record `key` for `ttl` seconds; False when it was already recorded."""


class MemoryReplayCache:
    """One process's memory of proof ids (one worker only)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def first_use(self, key: str, ttl: int) -> bool:
        now = self._clock()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            if self._seen.get(key, 0.0) > now:
                return False
            self._seen[key] = now + ttl
            return True


class RedisReplayCache:
    """Proof ids in Redis (`SET NX EX`): a proof replayed to another worker is refused too."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def first_use(self, key: str, ttl: int) -> bool:
        import redis

        from .ratelimit_redis import unavailable

        try:
            return bool(self._client.set(f"auth-wasm:dpop:jti:{key}", b"1", nx=True, ex=max(1, ttl)))
        except redis.RedisError as exc:
            raise unavailable(exc) from None


def make_replay_cache(redis_url: str | None) -> ReplayCache:
    if not redis_url:
        return MemoryReplayCache()
    from .ratelimit_redis import connect

    return RedisReplayCache(connect(redis_url))


@dataclass(frozen=True)
class Proof:
    jkt: str


class DpopVerifier:
    """RFC 9449 4.3 for one request. `max_age`: how old (by `iat`) a proof may be;
    `leeway`: clock difference tolerated either way; `require_nonce`: proofs must
    carry a current server nonce (`use_dpop_nonce` otherwise)."""

    def __init__(
        self,
        nonces: Nonces,
        replay: ReplayCache,
        *,
        max_age: int = 60,
        leeway: int = 5,
        require_nonce: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.nonces = nonces
        self._replay = replay
        self._max_age = max_age
        self._leeway = leeway
        self.require_nonce = require_nonce
        self._clock = clock

    def verify(self, values: list[str], method: str, url: str, access_token: str | None = None) -> Proof:
        # 1, 2: one header, one well-formed JWT.
        if len(values) != 1:
            raise invalid("Exactly one DPoP header is required")
        proof = values[0].strip()
        if not proof or len(proof) > MAX_PROOF_CHARS or proof.count(".") != 2:
            raise invalid("The DPoP proof is not a JWT")
        try:
            header = jwt.get_unverified_header(proof)
        except jwt.PyJWTError:
            raise invalid("The DPoP proof is not a JWT") from None
        # 4: the type; 5: an asymmetric algorithm we accept.
        if header.get("typ") != PROOF_TYP:
            raise invalid("The DPoP proof's typ must be dpop+jwt")
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise invalid("The DPoP proof's alg is not accepted")
        # 7: a public key only.
        jwk = header.get("jwk")
        if not isinstance(jwk, dict):
            raise invalid("The DPoP proof carries no jwk")
        if PRIVATE_MEMBERS & jwk.keys():
            raise invalid("The DPoP proof's jwk must be a public key")
        # 6: the signature, with the key the proof names (and of the type alg says).
        try:
            key = jwt.PyJWK(jwk, algorithm=str(alg))
            jkt = thumbprint(jwk)
            claims = jwt.decode(
                proof,
                key,
                algorithms=[str(alg)],
                # iat is checked below against our own window; a proof has no exp/aud/iss.
                options={
                    "require": ["jti", "htm", "htu", "iat"],
                    "verify_iat": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            raise invalid("The DPoP proof's signature or claims are not valid") from None
        # 3: the claims' types.
        jti, htm, htu, iat = (claims.get(k) for k in ("jti", "htm", "htu", "iat"))
        if not (isinstance(jti, str) and 8 <= len(jti) <= 256 and isinstance(htm, str) and isinstance(htu, str)):
            raise invalid("The DPoP proof's claims are not valid")
        # Finite: JSON's NaN (Python's parser reads it) compares false with both bounds
        # of the window below, so it would never be too old.
        if not isinstance(iat, int | float) or isinstance(iat, bool) or not math.isfinite(iat):
            raise invalid("The DPoP proof's iat is not a number")
        # 8, 9: this request.
        if htm != method:
            raise invalid("The DPoP proof is for another HTTP method")
        expected = normalise_htu(url)
        if expected is None or normalise_htu(htu) != expected:
            raise invalid("The DPoP proof is for another URL")
        # 10: our nonce (asked for before the time window: a client whose clock is off
        # learns the nonce first).
        if self.require_nonce and not self.nonces.valid(claims.get("nonce")):
            raise DpopError("use_dpop_nonce", "Resend the request with the DPoP-Nonce this answer carries")
        # 11: fresh.
        now = self._clock()
        if iat > now + self._leeway or iat < now - self._max_age - self._leeway:
            raise invalid("The DPoP proof is too old or from the future")
        # 12: for this access token.
        if access_token is not None and not hmac.compare_digest(str(claims.get("ath", "")), access_token_hash(access_token)):
            raise invalid("The DPoP proof is for another access token")
        # Never seen before within the window (checked last: a refused proof spends nothing).
        replay_key = hashlib.sha256(f"{jkt}|{jti}".encode()).hexdigest()
        if not self._replay.first_use(replay_key, self._max_age + 2 * self._leeway):
            raise invalid("The DPoP proof was already used")
        return Proof(jkt=jkt)


def challenge(error: str | None, description: str | None = None) -> str:
    """A `WWW-Authenticate: DPoP ...` value (RFC 9449 7.1)."""
    parts = []
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append(f'error_description="{description}"')
    parts.append(f'algs="{ALGS_PARAM}"')
    return "DPoP " + ", ".join(parts)
