"""REFRESH_TOKEN_TRANSPORT=cookie: the refresh token only as an httpOnly,
SameSite=Strict cookie scoped to /auth; refresh and logout are CSRF-checked."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app

from .conftest import bearer, make_settings

CSRF = {"X-CSRF": "1"}
ORIGIN = "http://localhost:3000"


@pytest.fixture
def cookie_client(tmp_path):
    # Secure off by configuration (as AUTH_DEV_MODE would), so it travels over the
    # test client's http (by default it is Secure: see the first tests).
    settings = make_settings(tmp_path, refresh_token_transport="cookie", refresh_cookie_secure=False)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client


def replay(client, cookie):
    """Present `cookie` as the refresh cookie (a thief's copy)."""
    client.cookies.clear()
    client.cookies.set("refresh_token", cookie, domain="127.0.0.1", path="/auth")


def register(client, email="cookie@example.com"):
    r = client.post("/auth/register", json={"email": email, "password": "correct horse"})
    assert r.status_code == 201, r.text
    return r


def cookie_of(response) -> str:
    return response.headers["set-cookie"]


def test_sign_in_sets_an_httponly_strict_secure_cookie_and_no_refresh_token_in_the_body(make_client):
    remote = make_client(refresh_token_transport="cookie")
    r = register(remote)
    assert r.json()["refresh_token"] is None
    header = cookie_of(r).lower()
    for attribute in ("__secure-refresh_token=", "httponly", "samesite=strict", "path=/auth", "max-age=", "secure"):
        assert attribute in header, header
    assert remote.get("/auth/me", headers=bearer(r.json()["access_token"])).status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "[::1]:8000", "app.localhost"])
def test_a_spoofed_loopback_host_does_not_drop_secure(tmp_path, host):
    """Secure follows configuration, not the Host header a client sends."""
    app = create_app(make_settings(tmp_path, refresh_token_transport="cookie"))
    with TestClient(app, base_url="https://api.example") as client:
        r = client.post("/auth/register", json={"email": "spoof@example.com", "password": "correct horse"}, headers={"Host": host})
        assert r.status_code == 201, r.text
        header = cookie_of(r).lower()
        assert header.startswith("__secure-refresh_token="), header
        assert "; secure" in header, header


@pytest.mark.parametrize(
    "overrides,secure",
    [({"auth_dev_mode": True}, False), ({"auth_dev_mode": True, "refresh_cookie_secure": True}, True), ({"refresh_cookie_secure": False}, False)],
)
def test_secure_is_off_only_in_dev_mode_or_when_configured_off(tmp_path, overrides, secure):
    app = create_app(make_settings(tmp_path, refresh_token_transport="cookie", **overrides))
    with TestClient(app, base_url="https://api.example") as client:
        header = cookie_of(register(client)).lower()
    assert header.startswith("__secure-refresh_token=" if secure else "refresh_token="), header
    assert ("; secure" in header) is secure, header


def test_refresh_by_cookie_rotates_it(cookie_client):
    register(cookie_client)
    first = cookie_client.cookies.get("refresh_token")
    r = cookie_client.post("/auth/refresh", headers={**CSRF, "Origin": ORIGIN})
    assert r.status_code == 200, r.text
    assert r.json()["refresh_token"] is None
    assert cookie_client.cookies.get("refresh_token") not in (None, first), "rotated"
    # The old cookie replayed (a thief's copy) trips reuse detection.
    replay(cookie_client, first)
    stolen = cookie_client.post("/auth/refresh", headers=CSRF)
    assert stolen.status_code == 401
    assert stolen.json()["code"] == "refresh_failed"


def test_without_the_csrf_header_or_from_a_foreign_origin_refresh_and_logout_are_refused(cookie_client):
    register(cookie_client)
    for path in ("/auth/refresh", "/auth/logout"):
        no_header = cookie_client.post(path)
        assert no_header.status_code == 403, path
        assert no_header.json()["code"] == "csrf"
        foreign = cookie_client.post(path, headers={**CSRF, "Origin": "https://evil.example"})
        assert foreign.status_code == 403, path
    # A form post (what a cross-site page can send) is refused the same way.
    form = cookie_client.post("/auth/refresh", data={"x": "1"}, headers={"Origin": "https://evil.example"})
    assert form.status_code == 403
    # And nothing was spent: the cookie still refreshes.
    assert cookie_client.post("/auth/refresh", headers=CSRF).status_code == 200


def test_logout_revokes_the_session_and_clears_the_cookie(cookie_client):
    register(cookie_client)
    cookie = cookie_client.cookies.get("refresh_token")
    r = cookie_client.post("/auth/logout", headers=CSRF)
    assert r.status_code == 204
    assert "max-age=0" in cookie_of(r).lower() or "expires=" in cookie_of(r).lower()
    replay(cookie_client, cookie)
    again = cookie_client.post("/auth/refresh", headers=CSRF)
    assert again.status_code == 401


def test_no_cookie_is_a_refresh_failed_not_an_error(cookie_client):
    r = cookie_client.post("/auth/refresh", headers=CSRF)
    assert r.status_code == 401
    assert r.json()["code"] == "refresh_failed"


def test_a_cookie_from_body_transport_is_ignored_and_the_body_still_works(make_client):
    client = make_client()
    r = register(client)
    assert "set-cookie" not in r.headers
    assert r.json()["refresh_token"]
    assert client.post("/auth/refresh", json={"refresh_token": r.json()["refresh_token"]}).status_code == 200


def test_secure_configured_off_sends_the_plain_name_without_secure(cookie_client):
    assert "secure" not in cookie_of(register(cookie_client, "loop@example.com")).lower()


def test_the_secure_cookie_refreshes_under_its_prefixed_name(tmp_path):
    app = create_app(make_settings(tmp_path, refresh_token_transport="cookie"))
    with TestClient(app, base_url="https://api.example") as client:
        register(client)
        first = client.cookies.get("__Secure-refresh_token")
        assert first
        r = client.post("/auth/refresh", headers=CSRF)
        assert r.status_code == 200, r.text
        assert client.cookies.get("__Secure-refresh_token") not in (None, first)
        # The unprefixed name (which an http answer could plant) is not read.
        current = client.cookies.get("__Secure-refresh_token")
        client.cookies.clear()
        client.cookies.set("refresh_token", current, domain="api.example", path="/auth")
        assert client.post("/auth/refresh", headers=CSRF).json()["code"] == "refresh_failed"
