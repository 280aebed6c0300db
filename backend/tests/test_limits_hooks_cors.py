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
    assert client.post("/auth/register", json={"email": "b@example.com", "password": "long enough"}).status_code == 201
    assert client.post("/auth/register", json={"email": "c@example.com", "password": "long enough"}).status_code == 429
    # The password grant is a sign-in: limited per (account, client).
    for _ in range(2):
        client.post("/auth/token", data={"grant_type": "password", "username": "c@example.com", "password": "x"})
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


# --- Issue 16 finding 5: a flood of wrong passwords cannot lock the owner out ---


def from_address(client, host: str):
    """Another client of the same app, at `host` (what request.client reports)."""
    from fastapi.testclient import TestClient

    return TestClient(client.app, client=(host, 50000))


def wrong_password(client, email="ada@example.com"):
    return client.post("/auth/login", json={"email": email, "password": "not it"})


def test_a_flood_from_many_addresses_does_not_lock_the_owner_out(make_client):
    owner = make_client(rate_limit_auth="3/60", rate_limit_login_ceiling="20/60")
    register(owner)
    statuses = []
    for i in range(40):
        attacker = from_address(owner, f"198.51.100.{i + 1}")
        statuses += [wrong_password(attacker).status_code for _ in range(4)]
    assert statuses.count(401) < 60, "the account-wide ceiling slowed the flood"
    slowed = wrong_password(from_address(owner, "198.51.100.1"))
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) <= 60
    at_home = from_address(owner, "203.0.113.7")
    r = at_home.post("/auth/login", json={"email": "ada@example.com", "password": "correct horse"})
    assert r.status_code == 200 and "access_token" in r.json(), r.text
    # Past the ceiling, an address that has not been trying gets one try, then waits
    # at most 30 s (not the full window).
    newcomer = from_address(owner, "203.0.113.8")
    assert wrong_password(newcomer).status_code == 401
    waiting = wrong_password(newcomer)
    assert waiting.status_code == 429 and int(waiting.headers["retry-after"]) <= 30


def test_one_client_is_limited_per_account_and_over_all_accounts(make_client):
    client = make_client(rate_limit_auth="3/60", rate_limit_login_ceiling="5/60")
    for _ in range(3):
        assert wrong_password(client).status_code == 401
    assert wrong_password(client).status_code == 429
    assert wrong_password(client, "bob@example.com").status_code == 401
    assert wrong_password(client, "eve@example.com").status_code == 401
    # Five attempts from this client over all accounts: the sixth account is refused too.
    assert wrong_password(client, "mallory@example.com").status_code == 429


def test_ipv6_clients_are_counted_by_their_64(make_client):
    client = make_client(rate_limit_auth="3/60", rate_limit_login_ceiling="4/60")
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff"):
        assert wrong_password(from_address(client, host)).status_code == 401
    assert wrong_password(from_address(client, "2001:db8:1:2::abcd")).status_code == 429, "same /64"
    assert wrong_password(from_address(client, "2001:db8:1:3::1")).status_code == 401, "another /64"
    # One /64 trying many accounts from many of its addresses is one client.
    spray = [wrong_password(from_address(client, f"2001:db8:9:9::{i}"), f"user{i}@example.com").status_code for i in range(1, 6)]
    assert spray == [401, 401, 401, 401, 429]


def test_client_key_of_addresses():
    from types import SimpleNamespace

    from backend.deps import client_key

    def key(host):
        return client_key(SimpleNamespace(client=SimpleNamespace(host=host)))  # type: ignore[arg-type]

    assert key("198.51.100.7") == "198.51.100.7"
    assert key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert key("::ffff:198.51.100.7") == "198.51.100.7"
    assert key("fe80::1%eth0") == "fe80::/64"
    assert key("testclient") == "testclient"
