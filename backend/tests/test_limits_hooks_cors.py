"""Rate limits, CORS, and the test hooks the browser suites rely on."""

from __future__ import annotations

from backend.ratelimit import SlidingWindowLimiter

from .conftest import bearer, register


def test_login_rate_limit_answers_429_with_retry_after(make_client):
    client = make_client(rate_limit_auth="3/60")
    for _ in range(3):
        assert client.post("/auth/login", json={"email": "x@example.com", "password": "nope"}).status_code == 401
    r = client.post("/auth/login", json={"email": "x@example.com", "password": "nope"})
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 60


def test_rate_limit_is_per_account_as_well_as_per_client():
    now = [0.0]
    limiter = SlidingWindowLimiter(2, 10, clock=lambda: now[0])
    assert limiter.hit("ip:1", "account:a") is None
    assert limiter.hit("ip:2", "account:a") is None
    # A third client trying the same account is refused: the account's window is full.
    assert limiter.hit("ip:3", "account:a") == 10
    assert limiter.hit("ip:3", "account:b") is None
    now[0] = 10.5
    assert limiter.hit("ip:3", "account:a") is None


def test_refused_attempts_do_not_extend_the_window():
    now = [0.0]
    limiter = SlidingWindowLimiter(1, 10, clock=lambda: now[0])
    assert limiter.hit("k") is None
    now[0] = 5
    assert limiter.hit("k") == 5
    now[0] = 10.1
    assert limiter.hit("k") is None


def test_register_token_and_refresh_are_limited(make_client):
    client = make_client(rate_limit_auth="2/60", rate_limit_refresh="1/60")
    pair = register(client)
    client.post("/auth/register", json={"email": "b@example.com", "password": "long enough"})
    r = client.post("/auth/token", data={"grant_type": "password", "username": "c@example.com", "password": "x"})
    assert r.status_code == 429
    assert "retry-after" in r.headers
    assert client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 200
    limited = client.post("/auth/refresh", json={"refresh_token": "whatever"})
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"


def test_cors_allows_the_configured_origin_with_authorization(client):
    r = client.options(
        "/notes",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "authorization" in r.headers["access-control-allow-headers"].lower()
    simple = client.get("/health", headers={"Origin": "http://localhost:3000"})
    exposed = simple.headers["access-control-expose-headers"].lower()
    assert "retry-after" in exposed and "date" in exposed


def test_cors_refuses_other_origins(client):
    r = client.get("/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_origin_regex(make_client):
    client = make_client(cors_origin_regex=r"http://127\.0\.0\.1(:\d+)?")
    r = client.get("/health", headers={"Origin": "http://127.0.0.1:4567"})
    assert r.headers["access-control-allow-origin"] == "http://127.0.0.1:4567"


def test_test_hooks_are_absent_by_default(client):
    assert client.get("/_test/stats").status_code == 404
    assert client.post("/_test/reset").status_code == 404


def test_test_hooks_count_requests_and_inject_faults(make_client):
    client = make_client(auth_test_hooks=True, auth_dev_mode=True, cors_origins="http://localhost:3000")
    pair = register(client)
    client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    stats = client.get("/_test/stats").json()["requests"]
    assert stats["/auth/register"] == 1
    assert stats["/auth/refresh"] == 1

    assert (
        client.post("/_test/faults", json={"path": "/auth/me", "status": 503, "times": 2, "retry_after": 3}).status_code
        == 204
    )
    first = client.get("/auth/me", headers={**bearer(pair["access_token"]), "Origin": "http://localhost:3000"})
    assert first.status_code == 503
    assert first.headers["retry-after"] == "3"
    assert first.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert client.get("/auth/me").status_code == 503
    assert client.get("/auth/me").status_code == 401  # faults used up: the real answer

    client.post("/_test/faults", json={"path": "/auth/login", "status": 200, "body": "html"})
    html = client.post("/auth/login", json={"email": "a@b.co", "password": "x"})
    assert html.status_code == 200 and html.text.startswith("<!doctype html>")
    client.post("/_test/faults", json={"path": "/auth/login", "status": 200, "body": "empty"})
    assert client.post("/auth/login", json={"email": "a@b.co", "password": "x"}).content == b""

    assert client.get("/_test/echo").json() == {"has_authorization": False}
    assert client.get("/_test/echo", headers=bearer("t")).json() == {"has_authorization": True}

    assert client.post("/_test/reset").status_code == 204
    assert client.get("/_test/stats").json() == {"requests": {}}
