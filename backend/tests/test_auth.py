"""Registration, login (JSON and OAuth2 form), refresh rotation, logout, me."""

from __future__ import annotations

from .conftest import bearer, claims_of, register


def test_register_returns_a_token_pair_with_the_users_claims(client):
    pair = register(client)
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 900
    assert len(pair["refresh_token"]) >= 43  # 256 bits, base64url
    claims = claims_of(pair["access_token"])
    assert claims["email"] == "ada@example.com"
    assert claims["name"] == "Ada"
    assert claims["exp"] - claims["iat"] == 900
    assert {"sub", "jti", "sid"} <= claims.keys()
    me = client.get("/auth/me", headers=bearer(pair["access_token"])).json()
    assert me["id"] == claims["sub"]
    assert me["email"] == "ada@example.com"


def test_register_duplicate_email_is_409_user_exists_case_insensitive(client):
    register(client)
    r = client.post("/auth/register", json={"email": "ADA@example.com", "password": "another pass"})
    assert r.status_code == 409
    assert r.json()["code"] == "user_exists"


def test_register_invalid_email_and_short_password_name_both_fields(client):
    r = client.post("/auth/register", json={"email": "not-an-email", "password": "short"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation"
    assert body["fields"] == {"email": "Enter a valid email address", "password": "Must be at least 8 characters"}
    assert "short" not in str(body)  # the submitted password is never echoed


def test_register_without_body_is_validation(client):
    r = client.post("/auth/register", content=b"<html>", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["code"] == "validation"


def test_login_with_email_or_username(client):
    register(client)
    for key in ("email", "username"):
        r = client.post("/auth/login", json={key: "Ada@Example.com", "password": "correct horse"})
        assert r.status_code == 200, r.text
        assert r.json()["token_type"] == "bearer"


def test_login_unknown_user_and_wrong_password_are_indistinguishable(client):
    register(client)
    wrong = client.post("/auth/login", json={"email": "ada@example.com", "password": "wrong password"})
    unknown = client.post("/auth/login", json={"email": "bob@example.com", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Invalid email or password", "code": "invalid_credentials"}


def test_login_without_identifier_is_validation(client):
    r = client.post("/auth/login", json={"password": "x"})
    assert r.status_code == 422
    assert r.json()["code"] == "validation"


def test_oauth2_password_grant_and_refresh_grant(client):
    register(client)
    r = client.post(
        "/auth/token", data={"grant_type": "password", "username": "ada@example.com", "password": "correct horse"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    pair = r.json()
    r2 = client.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]})
    assert r2.status_code == 200
    assert r2.json()["refresh_token"] != pair["refresh_token"]


def test_oauth2_errors_follow_rfc6749(client):
    register(client)
    bad = client.post("/auth/token", data={"grant_type": "password", "username": "ada@example.com", "password": "nope"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_grant"
    assert bad.json()["code"] == "invalid_credentials"
    unsupported = client.post("/auth/token", data={"grant_type": "client_credentials"})
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"
    missing = client.post("/auth/token", data={"grant_type": "password"})
    assert missing.json()["error"] == "invalid_request"
    stale = client.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": "nope"})
    assert stale.status_code == 400
    assert stale.json()["error"] == "invalid_grant"
    assert stale.json()["code"] == "refresh_failed"


def test_openapi_declares_the_password_flow_for_swagger(client):
    schema = client.get("/openapi.json").json()
    flows = [s["flows"] for s in schema["components"]["securitySchemes"].values() if s["type"] == "oauth2"]
    assert flows and flows[0]["password"]["tokenUrl"] == "auth/token"


def test_refresh_rotates_and_the_old_token_dies(client):
    first = register(client)
    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    assert claims_of(new["access_token"])["sid"] == claims_of(first["access_token"])["sid"]
    assert client.get("/auth/me", headers=bearer(new["access_token"])).status_code == 200


def test_reuse_of_a_rotated_token_revokes_the_whole_family(client):
    first = register(client)
    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    reuse = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "refresh_failed"
    # The legitimate successor is dead too, and so are the family's access tokens.
    assert client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401
    assert client.get("/auth/me", headers=bearer(second["access_token"])).status_code == 401


def test_reuse_in_one_family_leaves_other_sessions_alone(client):
    a = register(client)
    b = client.post("/auth/login", json={"email": "ada@example.com", "password": "correct horse"}).json()
    client.post("/auth/refresh", json={"refresh_token": a["refresh_token"]})
    client.post("/auth/refresh", json={"refresh_token": a["refresh_token"]})
    assert client.post("/auth/refresh", json={"refresh_token": b["refresh_token"]}).status_code == 200


def test_unknown_refresh_token_is_refresh_failed(client):
    r = client.post("/auth/refresh", json={"refresh_token": "x" * 43})
    assert r.status_code == 401
    assert r.json()["code"] == "refresh_failed"


def test_expired_session_cannot_refresh(make_client):
    client = make_client(refresh_token_ttl=-1)
    pair = register(client)
    assert client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_logout_revokes_the_family_and_is_idempotent(client):
    pair = register(client)
    assert client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert client.post("/auth/logout", json={"refresh_token": "never-issued"}).status_code == 204
    assert client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    assert client.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 401


def test_me_requires_a_token(client):
    r = client.get("/auth/me")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer, DPoP algs="ES256 ES384 EdDSA"'
    assert r.json()["code"] == "unauthorized"
