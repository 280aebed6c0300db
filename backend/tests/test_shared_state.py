"""State shared by several workers: two apps on one database (and, with
TEST_REDIS_URL, one Redis) behave as one server. The same checks over real HTTP
against real worker processes are in tests/cluster (scripts/test-cluster)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis

from backend.app import create_app
from backend.ratelimit_redis import RedisSlidingWindowLimiter, client_for
from backend.settings import ConfigError

from .conftest import REDIS_URL, bearer, claims_of, make_settings, register

needs_redis = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set (scripts/test-backend sets it)")


def _text(key: bytes | str) -> str:
    return key.decode() if isinstance(key, bytes) else key


# --- two workers, one database --------------------------------------------------


def test_revoked_session_is_refused_by_the_other_worker(make_client):
    a, b = make_client(), make_client()
    pair = register(a)
    sid = claims_of(pair["access_token"])["sid"]
    assert b.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 200
    assert a.delete(f"/auth/sessions/{sid}", headers=bearer(pair["access_token"])).status_code == 204
    assert b.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 401
    assert b.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_logout_on_one_worker_ends_the_session_on_the_other(make_client):
    a, b = make_client(), make_client()
    pair = register(a)
    assert b.post("/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert a.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 401
    assert a.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_token_spent_on_one_worker_is_reuse_on_the_other(make_client):
    a, b = make_client(), make_client()
    pair = register(a)
    first = a.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert first.status_code == 200
    again = b.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401 and again.json()["code"] == "refresh_failed"
    # Reuse revoked the whole session: the winner's successor is dead too.
    assert a.post("/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}).status_code == 401


# --- the Redis limiter ------------------------------------------------------------


@needs_redis
def test_login_limit_holds_across_workers(make_client):
    a, b = make_client(rate_limit_auth="4/60"), make_client(rate_limit_auth="4/60")
    answers = [
        (a if i % 2 == 0 else b).post("/auth/login", json={"email": "nobody@example.com", "password": "wrong password"})
        for i in range(6)
    ]
    # In-process windows would allow 4 per worker (8); the shared one allows 4.
    assert [r.status_code for r in answers] == [401, 401, 401, 401, 429, 429]
    assert 1 <= int(answers[4].headers["Retry-After"]) <= 60


@needs_redis
def test_redis_limiter_has_the_in_process_rules():
    client = redis.Redis.from_url(str(REDIS_URL))
    limiter = RedisSlidingWindowLimiter(client, "rules", 2, 2)
    assert limiter.hit("ip:1", "account:a") is None
    assert limiter.hit("ip:2", "account:a") is None
    wait = limiter.hit("ip:3", "account:a")
    assert wait is not None and 1 <= wait <= 2
    # The refused attempt was not recorded under ip:3.
    assert limiter.hit("ip:3", "account:b") is None
    time.sleep(2.1)
    assert limiter.hit("ip:3", "account:a") is None


@needs_redis
def test_redis_limiter_is_atomic_under_concurrency():
    # Two clients (two workers), 40 threads, one key, 10 slots: exactly 10 get in.
    workers = [RedisSlidingWindowLimiter(redis.Redis.from_url(str(REDIS_URL)), "atomic", 10, 60) for _ in range(2)]
    barrier = threading.Barrier(40)
    results: list[int | None] = []

    def attempt(i: int) -> None:
        barrier.wait()
        results.append(workers[i % 2].hit("account:race@example.com"))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(None) == 10
    assert all(isinstance(r, int) and r >= 1 for r in results if r is not None)


@needs_redis
def test_redis_keys_are_hashed_expire_and_reset_per_limiter():
    client = redis.Redis.from_url(str(REDIS_URL))
    auth = RedisSlidingWindowLimiter(client, "auth", 5, 60)
    refresh = RedisSlidingWindowLimiter(client, "refresh", 5, 60)
    auth.hit("account:ada@example.com")
    refresh.hit("ip:127.0.0.1")
    keys = [_text(k) for k in client.keys("*")]
    assert len(keys) == 2
    assert not any("ada@example.com" in k or "127.0.0.1" in k for k in keys)
    assert all(0 < client.pttl(k) <= 60_000 for k in keys)
    auth.reset()
    assert [_text(k) for k in client.keys("*")] == [k for k in keys if ":refresh:" in k]


# --- Redis down: a clear error, never a hang ----------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers (a hung Redis)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s.getsockname()[1]
    s.close()


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_unreachable_redis_refuses_to_start_with_one_line(tmp_path, kind, request):
    port = closed_port() if kind == "refused" else request.getfixturevalue("silent_port")
    url = f"redis://:hunter2-secret@127.0.0.1:{port}/0"
    started = time.monotonic()
    with pytest.raises(ConfigError) as err:
        create_app(make_settings(tmp_path, redis_url=url))
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "REDIS_URL" in message and "\n" not in message
    assert "hunter2" not in message and str(port) not in message


def test_redis_lost_after_start_answers_503_quickly(make_client, silent_port):
    client = make_client()
    dead = client_for(f"redis://127.0.0.1:{silent_port}/0")
    client.app.state.auth.auth_limiter = RedisSlidingWindowLimiter(dead, "auth", 10, 60)
    started = time.monotonic()
    r = client.post("/auth/login", json={"email": "ada@example.com", "password": "correct horse"})
    assert time.monotonic() - started < 5
    assert r.status_code == 503
    assert r.json()["code"] == "server"
    assert r.headers["Retry-After"] == "5"
    # Reads never touch the limiter: signed-in users keep working.
    assert client.get("/health").status_code == 200
