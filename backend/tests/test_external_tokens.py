"""Tokens another issuer (a Better Auth app) signs for this backend: HS256 under the
access-token key derived from the shared secret, `typ: at+jwt`, `iss` = its URL,
`aud` = this API (README: "Signing access tokens in a Better Auth app")."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backend.settings import DEFAULT_AUDIENCE

from .conftest import SECRET, access_key, bearer, forge, register, verify_email

NEXT = "http://localhost:3000"


def better_auth_token(sub="ba-user-1", email="ba@example.com", key=None, typ="at+jwt", **extra):
    now = int(time.time())
    claims = {"sub": sub, "email": email, "name": "Bea", "iat": now, "exp": now + 900, "iss": NEXT, "aud": DEFAULT_AUDIENCE}
    claims.update(extra)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, access_key() if key is None else key, algorithm="HS256", headers={"typ": typ} if typ else None)


@pytest.fixture
def bridged(make_client):
    return make_client(jwt_issuers=f"http://backend.test,{NEXT}")


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


def test_our_own_tokens_carry_typ_and_the_configured_iss_and_aud(bridged):
    pair = register(bridged)
    assert jwt.get_unverified_header(pair["access_token"])["typ"] == "at+jwt"
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert (claims["iss"], claims["aud"]) == ("http://backend.test", DEFAULT_AUDIENCE)
    assert bridged.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 200


def test_our_tokens_are_signed_with_the_derived_key_not_the_raw_secret(client):
    token = register(client)["access_token"]
    jwt.decode(token, access_key(), algorithms=["HS256"], audience=DEFAULT_AUDIENCE)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, SECRET, algorithms=["HS256"], audience=DEFAULT_AUDIENCE)


def test_the_derived_key_is_the_one_nodes_hkdfsync_gives():
    """www/lib/access-token.ts: hkdfSync("sha256", secret, empty salt, label, 32), output
    taken from Node for this secret: the two signers cannot drift apart unnoticed."""
    from backend.security import derive_access_key

    expected = "112b5b6b492794b9590224b917ebff7f6fec2a96e8362e6a325f34abe69b5f64"
    assert derive_access_key("example-secret-of-at-least-32-bytes-long!!").hex() == expected


# RFC 8725 3.11/3.12: Better Auth signs JWTs of its own with the raw secret (its
# email-verification links carry `email` and, here, everything an access token has).
# Such a token is never an access token, even with the right iss/aud.
@pytest.mark.parametrize("typ", ["JWT", "at+jwt", None])
def test_a_jwt_signed_with_the_raw_secret_is_refused(bridged, typ):
    assert bridged.get("/auth/me", headers=bearer(better_auth_token(key=SECRET, typ=typ))).status_code == 401


def test_a_better_auth_email_verification_jwt_is_refused(bridged):
    now = int(time.time())
    verification = jwt.encode({"email": "ba@example.com", "sub": "ba-user-1", "iat": now, "exp": now + 3600}, SECRET, algorithm="HS256")
    assert bridged.get("/auth/me", headers=bearer(verification)).status_code == 401


@pytest.mark.parametrize("typ", ["JWT", "jwt", "id+jwt", None])
def test_a_derived_key_token_that_is_not_typed_at_jwt_is_refused(bridged, typ):
    assert bridged.get("/auth/me", headers=bearer(better_auth_token(typ=typ))).status_code == 401


@pytest.mark.parametrize("typ", ["at+JWT", "application/at+jwt"])
def test_the_typ_is_compared_as_a_media_type(bridged, typ):
    assert bridged.get("/auth/me", headers=bearer(better_auth_token(typ=typ))).status_code == 200


def test_another_secret_is_refused(bridged):
    token = better_auth_token(key=access_key("a-different-secret-of-at-least-32-bytes"))
    assert bridged.get("/auth/me", headers=bearer(token)).status_code == 401


def test_eddsa_is_refused_when_hs256_is_expected(bridged):
    claims = jwt.decode(better_auth_token(), options={"verify_signature": False})
    token = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"typ": "at+jwt"})
    assert bridged.get("/auth/me", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("claims", [{"aud": "http://elsewhere"}, {"iss": "http://elsewhere"}, {"aud": NEXT}])
def test_wrong_aud_or_iss_is_refused(bridged, claims):
    assert bridged.get("/auth/me", headers=bearer(better_auth_token(**claims))).status_code == 401


@pytest.mark.parametrize("missing", ["aud", "iss"])
def test_missing_aud_or_iss_is_refused(bridged, missing):
    assert bridged.get("/auth/me", headers=bearer(better_auth_token(**{missing: None}))).status_code == 401


@pytest.mark.parametrize("missing", ["aud", "iss"])
def test_iss_and_aud_are_required_without_any_configuration(client, missing):
    user = register(client)
    sub = jwt.decode(user["access_token"], options={"verify_signature": False})["sub"]
    assert client.get("/auth/me", headers=bearer(forge({"sub": sub}))).status_code == 200
    assert client.get("/auth/me", headers=bearer(forge({"sub": sub, missing: None}))).status_code == 401


def test_an_email_held_by_another_account_is_not_taken_over(bridged):
    register(bridged, email="taken@example.com")
    token = better_auth_token(sub="ba-intruder", email="taken@example.com")
    assert bridged.get("/auth/me", headers=bearer(token)).status_code == 401


def test_external_users_can_be_refused(make_client):
    client = make_client(external_users="reject")
    assert client.get("/auth/me", headers=bearer(forge({"sub": "new-user", "email": "n@example.com"}))).status_code == 401


# JWT_RAW_SECRET=1: the seed's setup, both sides signing with the raw secret.


@pytest.fixture
def raw(make_client):
    return make_client(jwt_issuers=f"http://backend.test,{NEXT}", jwt_raw_secret=True)


@pytest.mark.parametrize("typ", ["JWT", None, "at+jwt"])
def test_raw_mode_accepts_raw_secret_tokens_with_iss_and_aud(raw, typ):
    assert raw.get("/auth/me", headers=bearer(better_auth_token(key=SECRET, typ=typ))).status_code == 200


@pytest.mark.parametrize("missing", ["aud", "iss"])
def test_raw_mode_still_requires_iss_and_aud(raw, missing):
    assert raw.get("/auth/me", headers=bearer(better_auth_token(key=SECRET, **{missing: None}))).status_code == 401


def test_raw_mode_signs_its_own_tokens_with_the_raw_secret(raw):
    token = register(raw)["access_token"]
    jwt.decode(token, SECRET, algorithms=["HS256"], audience=DEFAULT_AUDIENCE)
    assert raw.get("/auth/me", headers=bearer(token)).status_code == 200


# LOCAL_ACCOUNTS=0 (AUTH_MODE=better-auth): Better Auth owns the accounts.


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("post", "/auth/register", {"json": {"email": "x@example.com", "password": "correct horse"}}),
        ("post", "/auth/login", {"json": {"email": "x@example.com", "password": "correct horse"}}),
        ("post", "/auth/token", {"data": {"grant_type": "password", "username": "x@example.com", "password": "correct horse"}}),
        ("post", "/auth/refresh", {"json": {"refresh_token": "x" * 43}}),
        ("post", "/auth/mfa/verify", {"json": {"challenge": "c", "code": "123456"}}),
        ("get", "/auth/oauth/providers", {}),
    ],
)
def test_without_local_accounts_fastapi_issues_no_sessions(make_client, method, path, body):
    client = make_client(jwt_issuers=NEXT, local_accounts=False)
    r = getattr(client, method)(path, **body)
    assert r.status_code == 404, (path, r.text)
    assert r.json()["code"] == "local_accounts_disabled"
    # Better Auth's tokens still work.
    assert client.get("/auth/me", headers=bearer(better_auth_token())).status_code == 200


def test_an_email_is_matched_only_for_a_configured_issuer_that_verified_it(bridged):
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


def test_a_new_adopted_user_is_verified_only_on_a_configured_issuers_word(bridged):
    vouched = better_auth_token(sub="ba-new-1", email="one@example.com", email_verified=True)
    assert bridged.get("/auth/me", headers=bearer(vouched)).json()["email_verified"] is True
    for sub, claim in (("ba-new-2", {}), ("ba-new-3", {"email_verified": "true"})):
        silent = better_auth_token(sub=sub, email=f"{sub}@example.com", **claim)
        assert bridged.get("/auth/me", headers=bearer(silent)).json()["email_verified"] is False
