"""Tokens another issuer (Better Auth's jwt plugin) signs with the shared secret."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .conftest import SECRET, bearer, forge, register

NEXT = "http://localhost:3000"


def better_auth_token(sub="ba-user-1", email="ba@example.com", secret=SECRET, **extra):
    now = int(time.time())
    claims = {"sub": sub, "email": email, "name": "Bea", "iat": now, "exp": now + 900, "iss": NEXT, "aud": NEXT}
    claims.update(extra)
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.fixture
def bridged(make_client):
    return make_client(jwt_issuers=f"http://backend.test,{NEXT}", jwt_audience=NEXT)


def test_a_better_auth_token_is_accepted_and_creates_the_user_on_first_sight(bridged):
    token = better_auth_token()
    me = bridged.get("/auth/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == "ba-user-1"
    assert me.json()["email"] == "ba@example.com"
    note = bridged.post("/notes", json={"text": "from Better Auth"}, headers=bearer(token))
    assert note.status_code == 201
    # Second sight: the same local user.
    assert [n["text"] for n in bridged.get("/notes", headers=bearer(better_auth_token())).json()] == [
        "from Better Auth"
    ]


def test_our_own_tokens_carry_and_pass_the_configured_iss_and_aud(bridged):
    pair = register(bridged)
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert (claims["iss"], claims["aud"]) == ("http://backend.test", NEXT)
    assert bridged.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 200


def test_another_secret_is_refused(bridged):
    token = better_auth_token(secret="a-different-secret-of-at-least-32-bytes")
    assert bridged.get("/auth/me", headers=bearer(token)).status_code == 401


def test_eddsa_is_refused_when_hs256_is_expected(bridged):
    now = int(time.time())
    token = jwt.encode(
        {"sub": "ba-user-2", "email": "e@example.com", "iat": now, "exp": now + 900, "iss": NEXT, "aud": NEXT},
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
    )
    assert bridged.get("/auth/me", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("claims", [{"aud": "http://elsewhere"}, {"iss": "http://elsewhere"}])
def test_wrong_aud_or_iss_is_refused(bridged, claims):
    assert bridged.get("/auth/me", headers=bearer(better_auth_token(**claims))).status_code == 401


@pytest.mark.parametrize("missing", ["aud", "iss"])
def test_missing_aud_or_iss_is_refused(bridged, missing):
    payload = jwt.decode(better_auth_token(), options={"verify_signature": False})
    del payload[missing]
    token = jwt.encode(payload, SECRET, algorithm="HS256")
    assert bridged.get("/auth/me", headers=bearer(token)).status_code == 401


def test_an_email_held_by_another_account_is_not_taken_over(bridged):
    register(bridged, email="taken@example.com")
    token = better_auth_token(sub="ba-intruder", email="taken@example.com")
    assert bridged.get("/auth/me", headers=bearer(token)).status_code == 401


def test_external_users_can_be_refused(make_client):
    client = make_client(external_users="reject")
    assert (
        client.get("/auth/me", headers=bearer(forge({"sub": "new-user", "email": "n@example.com"}))).status_code == 401
    )
