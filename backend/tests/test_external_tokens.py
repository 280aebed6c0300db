"""Tokens another issuer (Better Auth's jwt plugin) signs with the shared secret."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .conftest import SECRET, bearer, forge, register, verify_email

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
    assert [n["text"] for n in bridged.get("/notes", headers=bearer(better_auth_token())).json()] == ["from Better Auth"]


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
    assert client.get("/auth/me", headers=bearer(forge({"sub": "new-user", "email": "n@example.com"}))).status_code == 401


def test_an_email_is_matched_only_for_a_configured_issuer_that_verified_it(bridged, make_client):
    """Issue 16 finding 1 (deps.py): a foreign token joins an existing account by email
    only when a configured issuer says `email_verified: true` and the account's own
    address is verified; otherwise it is refused, and a new user is unverified."""
    unverified = register(bridged, email="unverified@example.com")
    vouched = better_auth_token(sub="ba-u", email="unverified@example.com", email_verified=True)
    assert bridged.get("/auth/me", headers=bearer(vouched)).status_code == 401, "the account's address is unverified"
    verified = register(bridged, email="verified@example.com")
    verify_email(bridged, verified["access_token"])
    local_id = bridged.get("/auth/me", headers=bearer(verified["access_token"])).json()["id"]
    for claim in ({}, {"email_verified": "true"}, {"email_verified": False}):
        token = better_auth_token(sub="ba-v", email="verified@example.com", **claim)
        assert bridged.get("/auth/me", headers=bearer(token)).status_code == 401, claim
    token = better_auth_token(sub="ba-v", email="verified@example.com", email_verified=True)
    me = bridged.get("/auth/me", headers=bearer(token))
    assert (me.status_code, me.json()["id"]) == (200, local_id)
    # Not listed as a sign-in method of the account.
    assert bridged.get("/auth/identities", headers=bearer(verified["access_token"])).json()["identities"] == []
    del unverified
    # Without JWT_ISSUERS nobody vouches, whatever the token says.
    plain = make_client()
    mine = register(plain, email="mine@example.com")
    verify_email(plain, mine["access_token"])
    token = forge({"sub": "x-1", "email": "mine@example.com", "email_verified": True})
    assert plain.get("/auth/me", headers=bearer(token)).status_code == 401


def test_a_new_adopted_user_is_verified_only_on_a_configured_issuers_word(bridged, make_client):
    vouched = better_auth_token(sub="ba-new-1", email="one@example.com", email_verified=True)
    assert bridged.get("/auth/me", headers=bearer(vouched)).json()["email_verified"] is True
    silent = better_auth_token(sub="ba-new-2", email="two@example.com")
    assert bridged.get("/auth/me", headers=bearer(silent)).json()["email_verified"] is False
    plain = make_client()
    token = forge({"sub": "x-2", "email": "three@example.com", "email_verified": True})
    assert plain.get("/auth/me", headers=bearer(token)).json()["email_verified"] is False
