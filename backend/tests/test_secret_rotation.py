"""Rotating BETTER_AUTH_SECRET: tokens signed with (the access-token key derived
from) a previous secret keep working until they expire, new ones are signed with the
new secret's key, and nothing else passes."""

from __future__ import annotations

import secrets

import jwt
import pytest

from backend.app import create_app
from backend.settings import ConfigError

from .conftest import SECRET, access_key, bearer, forge, make_settings, register

NEW = secrets.token_urlsafe(48)


def test_a_token_signed_before_the_rotation_still_works_and_new_ones_use_the_new_secret(make_client):
    before = make_client()
    old_pair = register(before)
    rotated = make_client(better_auth_secret=NEW, better_auth_secret_previous=SECRET)
    assert rotated.get("/auth/me", headers=bearer(old_pair["access_token"])).status_code == 200
    # The refresh token is not a JWT: it lives in the database and survives as is.
    fresh = rotated.post("/auth/refresh", json={"refresh_token": old_pair["refresh_token"]})
    assert fresh.status_code == 200, fresh.text
    new_token = fresh.json()["access_token"]
    jwt.decode(new_token, access_key(NEW), algorithms=["HS256"], options={"verify_aud": False})  # the new key
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(new_token, access_key(SECRET), algorithms=["HS256"], options={"verify_aud": False})
    assert rotated.get("/auth/me", headers=bearer(new_token)).status_code == 200


def test_a_better_auth_token_signed_under_the_previous_secret_still_verifies(make_client):
    rotated = make_client(better_auth_secret=NEW, better_auth_secret_previous=SECRET)
    old = forge({"sub": "ba-user", "email": "ba@example.com"}, secret=access_key(SECRET))
    assert rotated.get("/auth/me", headers=bearer(old)).status_code == 200
    # The previous raw secret itself is no access-token key either.
    raw_old = forge({"sub": "ba-user", "email": "ba@example.com"}, secret=SECRET)
    assert rotated.get("/auth/me", headers=bearer(raw_old)).status_code == 401


def test_after_the_previous_secret_is_dropped_its_tokens_are_refused(make_client):
    old_pair = register(make_client())
    done = make_client(better_auth_secret=NEW)
    assert done.get("/auth/me", headers=bearer(old_pair["access_token"])).status_code == 401


def test_an_expired_token_is_not_rescued_by_a_previous_secret(make_client):
    pair = register(make_client(access_token_ttl=1, jwt_leeway=0))
    rotated = make_client(better_auth_secret=NEW, better_auth_secret_previous=SECRET, jwt_leeway=0)
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    expired = forge({**claims, "exp": claims["iat"] - 10}, secret=access_key(SECRET))
    assert rotated.get("/auth/me", headers=bearer(expired)).status_code == 401


def test_a_weak_previous_secret_is_refused_at_start(tmp_path):
    with pytest.raises(ConfigError, match="BETTER_AUTH_SECRET_PREVIOUS"):
        create_app(make_settings(tmp_path, better_auth_secret_previous="short"))


def test_pending_sign_in_steps_cross_a_rotation_but_not_a_drop():
    """A two-factor challenge or a social sign-in flow issued by a worker on the old
    secret is finished by one on the new secret (a rolling restart mid-sign-in)."""
    from backend.mfa import Challenges
    from backend.oidc import Flow, Flows

    flow = Flow("acme", "http://localhost:3000/cb", "nonce", "c" * 43, "https://id.acme.test")
    old_challenge, old_flow = Challenges(SECRET).issue("user-1"), Flows(SECRET).issue(flow)
    assert Challenges(NEW, [SECRET]).read(old_challenge) == "user-1"
    assert Flows(NEW, [SECRET]).read(old_flow) == flow
    assert Challenges(NEW).read(old_challenge) is None
    assert Flows(NEW).read(old_flow) is None
    # Purposes stay apart under every key.
    assert Flows(NEW, [SECRET]).read(old_challenge) is None
    assert Challenges(NEW, [SECRET]).read(old_flow) is None
