"""Access tokens another issuer signs with its own key pair, verified through the key
set it publishes (JWT_JWKS_URL; Better Auth's jwt plugin as it ships signs EdDSA).
The key set is served by a real HTTP server on loopback that counts its fetches."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from pydantic import ValidationError

from backend.db import OAuthIdentity
from backend.errors import ApiError
from backend.jwks import JwksVerifier
from backend.settings import DEFAULT_AUDIENCE

from .conftest import bearer, make_settings, register, verify_email

ISSUER = "http://localhost:3000"


class KeySetServer:
    """A JWKS on 127.0.0.1: `keys` is what it serves, `fetches` how often it was
    asked, `down` makes it answer 503."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        self.down = False
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's hook name)
                served.fetches += 1
                status, body = (503, b"{}") if served.down else (200, json.dumps({"keys": served.keys}).encode())
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/auth/jwks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def key_set() -> Iterator[KeySetServer]:
    server = KeySetServer()
    yield server
    server.close()


class Signer:
    """A key pair of one algorithm: its public JWK (with `kid`) and tokens it signs."""

    def __init__(self, alg: str, kid: str) -> None:
        self.alg, self.kid = alg, kid
        if alg == "EdDSA":
            self.private: Any = Ed25519PrivateKey.generate()
            public = OKPAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        elif alg == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
            public = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            public = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        # Better Auth's JWKS names the algorithm of each key.
        self.jwk = {**public, "kid": kid, "alg": alg}

    def token(self, sub: str = "ba-user-1", email: str = "ba@example.com", ttl: int = 300, **claims: Any) -> str:
        now = int(time.time())
        body = {"sub": sub, "email": email, "name": "Bea", "iat": now, "exp": now + ttl, "iss": ISSUER, "aud": DEFAULT_AUDIENCE}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        # No `typ`: Better Auth's default jwt plugin sets only alg and kid.
        return jwt.encode(body, self.private, algorithm=self.alg, headers={"kid": self.kid})


@pytest.fixture
def jwks_client(make_client, key_set):
    def factory(*signers: Signer, **overrides: Any):
        key_set.keys = [s.jwk for s in signers]
        return make_client(jwt_issuers=ISSUER, jwt_jwks_url=key_set.url, local_accounts=True, **overrides)

    return factory


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_a_token_signed_with_a_key_of_the_set_is_accepted_and_creates_the_user_on_first_sight(jwks_client, alg):
    signer = Signer(alg, f"k-{alg}")
    client = jwks_client(Signer("EdDSA", "other"), signer)
    me = client.get("/auth/me", headers=bearer(signer.token()))
    assert me.status_code == 200, me.text
    assert (me.json()["id"], me.json()["email"]) == ("ba-user-1", "ba@example.com")
    assert client.post("/notes", json={"text": "kept"}, headers=bearer(signer.token())).status_code == 201
    # Second sight, with another token: the same local user.
    assert [n["text"] for n in client.get("/notes", headers=bearer(signer.token())).json()] == ["kept"]


def test_hs256_and_none_are_never_taken_from_a_key_set(jwks_client, key_set):
    signer = Signer("EdDSA", "ed")
    client = jwks_client(signer)
    secret = b"an HMAC key the set publishes by mistake"
    key_set.keys.append({"kty": "oct", "kid": "oct", "alg": "HS256", "k": base64.urlsafe_b64encode(secret).decode().rstrip("=")})
    claims = jwt.decode(signer.token(), options={"verify_signature": False})
    assert client.get("/auth/me", headers=bearer(signer.token())).status_code == 200
    hs256 = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": "oct"})
    assert client.get("/auth/me", headers=bearer(hs256)).status_code == 401
    unsigned = jwt.encode(claims, "", algorithm="none", headers={"kid": "ed"})
    assert client.get("/auth/me", headers=bearer(unsigned)).status_code == 401
    # The classic confusion: the set's public key used as an HMAC secret.
    head = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": "ed"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    public = json.dumps(signer.jwk).encode()
    mac = base64.urlsafe_b64encode(hmac.new(public, head + b"." + body, hashlib.sha256).digest()).rstrip(b"=")
    assert client.get("/auth/me", headers=bearer(b".".join((head, body, mac)).decode())).status_code == 401


def test_a_key_is_used_only_for_its_own_algorithm(jwks_client):
    ec_signer = Signer("ES256", "ec")
    client = jwks_client(ec_signer)
    # Signed by the ES256 key, but the header names the Ed25519 algorithm for that kid.
    token = ec_signer.token()
    head = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    head["alg"] = "EdDSA"
    forged = base64.urlsafe_b64encode(json.dumps(head).encode()).rstrip(b"=").decode() + token[token.index(".") :]
    assert client.get("/auth/me", headers=bearer(forged)).status_code == 401
    assert client.get("/auth/me", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("claims", [{"iss": "http://evil.localhost"}, {"aud": "urn:another:api"}, {"iss": None}, {"aud": None}, {"exp": None}])
def test_a_wrong_or_missing_iss_aud_or_exp_is_refused(jwks_client, claims):
    signer = Signer("EdDSA", "ed")
    client = jwks_client(signer)
    assert client.get("/auth/me", headers=bearer(signer.token(**claims))).status_code == 401


def test_an_expired_token_is_refused(jwks_client):
    signer = Signer("EdDSA", "ed")
    client = jwks_client(signer)
    assert client.get("/auth/me", headers=bearer(signer.token(ttl=-60))).status_code == 401


def test_a_key_set_that_cannot_be_fetched_answers_503_server(jwks_client, key_set):
    signer = Signer("EdDSA", "ed")
    client = jwks_client(signer)
    key_set.down = True
    me = client.get("/auth/me", headers=bearer(signer.token()))
    assert me.status_code == 503
    assert me.json()["code"] == "server"
    assert "JWT_JWKS_URL" in me.json()["detail"]
    # Our own tokens do not depend on it.
    own = register(client)
    assert client.get("/auth/me", headers=bearer(own["access_token"])).status_code == 200


def test_a_user_is_never_linked_by_email_even_when_the_token_says_verified(jwks_client):
    signer = Signer("EdDSA", "ed")
    client = jwks_client(signer)
    own = register(client, email="held@example.com")
    verify_email(client, own["access_token"])
    token = signer.token(sub="ba-other", email="held@example.com", email_verified=True, emailVerified=True)
    assert client.get("/auth/me", headers=bearer(token)).status_code == 401
    with client.app.state.auth.sessions() as db:
        assert db.query(OAuthIdentity).count() == 0


def test_the_key_set_url_must_be_https_or_loopback(tmp_path):
    with pytest.raises(ValidationError, match="JWT_JWKS_URL"):
        make_settings(tmp_path, jwt_jwks_url="http://issuer.example/api/auth/jwks")
    assert make_settings(tmp_path, jwt_jwks_url="https://issuer.example/api/auth/jwks").jwt_jwks_url


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextlib.contextmanager
def verifier_for(key_set: KeySetServer, *signers: Signer) -> Iterator[tuple[JwksVerifier, FakeClock]]:
    key_set.keys = [s.jwk for s in signers]
    clock = FakeClock()
    yield JwksVerifier(key_set.url, [ISSUER], [DEFAULT_AUDIENCE], 5, min_refetch=60, clock=clock), clock


def test_keys_are_cached_and_an_unknown_kid_refetches_at_most_once_a_minute(key_set):
    old, new = Signer("EdDSA", "old"), Signer("EdDSA", "new")
    with verifier_for(key_set, old) as (verifier, clock):
        assert verifier.verify(old.token()) is not None
        assert verifier.verify(old.token()) is not None
        assert key_set.fetches == 1, "cached"
        # Made-up kids: one re-read (perhaps the issuer rotated), then none for a minute.
        assert verifier.verify(Signer("EdDSA", "made-up-1").token()) is None
        assert key_set.fetches == 1, "the first fetch was under a minute ago"
        clock.now += 60
        assert verifier.verify(Signer("EdDSA", "made-up-2").token()) is None
        assert key_set.fetches == 2
        for i in range(20):
            clock.now += 2
            assert verifier.verify(Signer("EdDSA", f"made-up-{i + 3}").token()) is None
        assert key_set.fetches == 2, "no flood against the issuer"
        # The issuer rotates: the new key is fetched once the minute is over, and
        # the old key's tokens stay valid while the set still lists it.
        key_set.keys.append(new.jwk)
        clock.now += 20
        claims = verifier.verify(new.token(sub="rotated"))
        assert claims is not None and claims.sub == "rotated"
        assert key_set.fetches == 3
        assert verifier.verify(old.token()) is not None
        assert key_set.fetches == 3


def test_keys_are_read_again_after_five_minutes_so_removed_keys_stop_verifying(key_set):
    old, new = Signer("EdDSA", "old"), Signer("EdDSA", "new")
    with verifier_for(key_set, old, new) as (verifier, clock):
        assert verifier.verify(old.token()) is not None
        key_set.keys = [new.jwk]
        clock.now += 299
        assert verifier.verify(old.token()) is not None
        clock.now += 1
        assert verifier.verify(old.token()) is None
        assert verifier.verify(new.token()) is not None
        assert key_set.fetches == 2


def test_held_keys_keep_verifying_while_the_issuer_is_down_and_a_new_one_is_503(key_set):
    old, new = Signer("EdDSA", "old"), Signer("EdDSA", "new")
    with verifier_for(key_set, old) as (verifier, clock):
        assert verifier.verify(old.token()) is not None
        key_set.down = True
        clock.now += 301
        assert verifier.verify(old.token()) is not None, "stale keys still verify"
        clock.now += 60
        with pytest.raises(ApiError) as raised:
            verifier.verify(new.token())
        assert (raised.value.status, raised.value.code) == (503, "server")


def test_without_keys_a_down_issuer_is_asked_again_only_after_five_seconds(key_set):
    signer = Signer("EdDSA", "ed")
    with verifier_for(key_set, signer) as (verifier, clock):
        key_set.down = True
        for _ in range(3):
            with pytest.raises(ApiError):
                verifier.verify(signer.token())
        assert key_set.fetches == 1
        key_set.down = False
        clock.now += 5
        assert verifier.verify(signer.token()) is not None
        assert key_set.fetches == 2
