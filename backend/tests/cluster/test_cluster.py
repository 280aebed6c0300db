"""Real worker processes on PostgreSQL + Redis, over HTTP (scripts/test-cluster starts
them with scripts/lib/cluster.sh). Each check sends requests to named workers, so a
state kept in one worker's memory would show.

Environment: CLUSTER_URLS (the workers, comma-separated; at least two), CLUSTER_URL
(the round-robin proxy), CLUSTER_DATABASE_URL (to count rows behind the race test),
CLUSTER_RATE_LIMIT_AUTH (the workers' RATE_LIMIT_AUTH, default 10/60).

Every test signs in from its own client address (X-Forwarded-For, which uvicorn
trusts from loopback as it would from a load balancer), so the per-IP limits of one
test never spill into another and the workers run with the production defaults."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import jwt
import pyotp
import pytest
from sqlalchemy import create_engine, text

URLS = [u for u in os.environ.get("CLUSTER_URLS", "").split(",") if u]
ENTRY = os.environ.get("CLUSTER_URL", "")
DATABASE_URL = os.environ.get("CLUSTER_DATABASE_URL", "")
AUTH_LIMIT = int(os.environ.get("CLUSTER_RATE_LIMIT_AUTH", "10/60").split("/")[0])
RACES = 100

pytestmark = pytest.mark.skipif(
    len(URLS) < 2, reason="needs a running cluster of two or more workers (scripts/test-cluster)"
)

_RUN = secrets.randbelow(256)
_ips = iter(f"10.{_RUN}.{n // 250}.{n % 250 + 1}" for n in range(64000))


def new_ip() -> dict[str, str]:
    """Headers that make the next requests come from a client address of their own."""
    return {"X-Forwarded-For": next(_ips)}


@pytest.fixture(scope="module")
def workers():
    clients = [httpx.Client(base_url=u, timeout=30) for u in URLS[:2]]
    for c in clients:
        assert c.get("/health").status_code == 200  # connections open before any race
    yield clients
    for c in clients:
        c.close()


def register(client: httpx.Client, headers: dict[str, str]) -> tuple[str, dict]:
    email = f"c-{secrets.token_hex(6)}@example.com"
    r = client.post("/auth/register", json={"email": email, "password": "correct horse"}, headers=headers)
    assert r.status_code == 201, r.text
    return email, r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sid_of(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["sid"]


def test_same_refresh_token_to_two_workers_at_once_has_one_winner(workers, capsys):
    a, b = workers
    winners: Counter[str] = Counter()
    overlapped = 0
    sessions: list[str] = []
    for _ in range(RACES):
        ip = new_ip()
        _, pair = register(a if len(sessions) % 2 else b, ip)
        sessions.append(sid_of(pair["access_token"]))
        barrier = threading.Barrier(2)
        results: dict[str, tuple[httpx.Response, float, float]] = {}

        # The loop's values bound now: each race's threads see their own.
        def spend(
            name: str,
            client: httpx.Client,
            barrier: threading.Barrier = barrier,
            pair: dict[str, str] = pair,
            ip: dict[str, str] = ip,
            results: dict[str, tuple[httpx.Response, float, float]] = results,
        ) -> None:
            barrier.wait()
            started = time.perf_counter()
            r = client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}, headers=ip)
            results[name] = (r, started, time.perf_counter())

        threads = [threading.Thread(target=spend, args=(n, c)) for n, c in (("A", a), ("B", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = {n: r.status_code for n, (r, _, _) in results.items()}
        assert sorted(statuses.values()) == [200, 401], statuses
        winner = next(n for n, s in statuses.items() if s == 200)
        loser = "B" if winner == "A" else "A"
        winners[winner] += 1
        assert results[loser][0].json()["code"] == "refresh_failed"
        # Both requests were in flight at the same moment (not one after the other).
        if max(results["A"][1], results["B"][1]) < min(results["A"][2], results["B"][2]):
            overlapped += 1
        # The loser is treated as reuse: the whole session is revoked, so the winner's
        # fresh pair is dead on every worker too.
        won = results[winner][0].json()
        for client in (a, b):
            assert client.get("/auth/me", headers=bearer(won["access_token"])).status_code == 401
        assert b.post("/auth/refresh", json={"refresh_token": won["refresh_token"]}, headers=ip).status_code == 401

    # In the database: each session holds its original token and exactly one successor.
    engine = create_engine(DATABASE_URL)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.id, count(t.token_hash), count(t.used_at), s.revoked_at IS NOT NULL "
                "FROM auth_sessions s JOIN refresh_tokens t ON t.session_id = s.id "
                "WHERE s.id = ANY(:ids) GROUP BY s.id, s.revoked_at"
            ),
            {"ids": sessions},
        ).all()
    engine.dispose()
    assert len(rows) == RACES
    assert all(tokens == 2 and used == 1 and revoked for _, tokens, used, revoked in rows), rows
    with capsys.disabled():
        print(
            f"\n{RACES} races: {sum(winners.values())} single winners "
            f"(worker A won {winners['A']}, worker B {winners['B']}; both requests in flight "
            f"together in {overlapped}); every session revoked as reuse, 2 tokens each in the database"
        )


def test_login_limit_holds_across_alternating_workers(workers):
    a, b = workers
    ip = new_ip()
    body = {"email": f"nobody-{secrets.token_hex(4)}@example.com", "password": "wrong password"}
    statuses = [
        (a if i % 2 == 0 else b).post("/auth/login", json=body, headers=ip).status_code
        for i in range(AUTH_LIMIT + 2)
    ]
    # Per-worker windows would let 2 x AUTH_LIMIT through; the Redis window holds at AUTH_LIMIT.
    assert statuses == [401] * AUTH_LIMIT + [429, 429], statuses
    # The same account from another address has a window of its own (the limit is per
    # account and client, so a flood cannot lock the owner out), shared by both workers.
    other = new_ip()
    statuses = [
        (a if i % 2 == 0 else b).post("/auth/login", json=body, headers=other).status_code
        for i in range(AUTH_LIMIT + 1)
    ]
    assert statuses == [401] * AUTH_LIMIT + [429], statuses


def test_revoked_session_is_refused_by_every_worker_at_once(workers):
    a, b = workers
    ip = new_ip()
    _, pair = register(a, ip)
    for client in (a, b):
        assert client.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 200
    sid = sid_of(pair["access_token"])
    assert a.delete(f"/auth/sessions/{sid}", headers=bearer(pair["access_token"])).status_code == 204
    for client in (b, a):
        assert client.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 401
        r = client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}, headers=ip)
        assert r.status_code == 401


def test_logout_and_sign_out_everywhere_reach_every_worker(workers):
    a, b = workers
    ip = new_ip()
    email, pair = register(a, ip)
    assert b.post("/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=ip).status_code == 204
    assert a.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 401
    assert a.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}, headers=ip).status_code == 401

    logins = [
        c.post("/auth/login", json={"email": email, "password": "correct horse"}, headers=ip).json() for c in (a, b)
    ]
    assert b.delete("/auth/sessions", headers=bearer(logins[1]["access_token"])).status_code == 204
    for login in logins:
        assert a.get("/auth/me", headers=bearer(login["access_token"])).status_code == 401


def test_totp_code_used_on_one_worker_is_refused_on_the_other(workers):
    a, b = workers
    ip = new_ip()
    email, pair = register(a, ip)
    secret = a.post("/auth/mfa/totp/enroll", json={"password": "correct horse"}, headers=bearer(pair["access_token"])).json()["secret"]
    totp = pyotp.TOTP(secret)
    now = totp.timecode(datetime.now(UTC))
    code = totp.generate_otp(now)
    assert a.post("/auth/mfa/totp/confirm", json={"code": code, "password": "correct horse"}, headers=bearer(pair["access_token"])).status_code == 200

    def challenge(client: httpx.Client) -> str:
        r = client.post("/auth/login", json={"email": email, "password": "correct horse"}, headers=ip)
        assert r.json()["mfa_required"] is True
        return r.json()["challenge"]

    # The code confirmed on A is spent for B as well (the last step lives in the database).
    r = b.post("/auth/mfa/verify", json={"challenge": challenge(b), "code": code}, headers=ip)
    assert r.status_code == 401 and r.json()["code"] == "invalid_code"
    # The next step's code (within the one step of drift allowed) works once, anywhere.
    following = totp.generate_otp(now + 1)
    used = challenge(a)
    assert a.post("/auth/mfa/verify", json={"challenge": used, "code": following}, headers=ip).status_code == 200
    # The challenge too: one session, whichever worker is asked next.
    r = b.post("/auth/mfa/verify", json={"challenge": used, "code": totp.generate_otp(now + 2)}, headers=ip)
    assert r.status_code == 401 and r.json()["code"] == "challenge_expired"
    r = b.post("/auth/mfa/verify", json={"challenge": challenge(b), "code": following}, headers=ip)
    assert r.status_code == 401 and r.json()["code"] == "invalid_code"


@pytest.mark.skipif(not ENTRY, reason="CLUSTER_URL (the proxy) not set")
def test_the_entry_url_serves_a_whole_session():
    ip = new_ip()
    # A new connection per request: the proxy sends them to the workers in turn.
    with httpx.Client(base_url=ENTRY) as c:
        _, pair = register(c, ip)
    for _ in range(4):
        with httpx.Client(base_url=ENTRY) as c:
            assert c.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 200
    with httpx.Client(base_url=ENTRY) as c:
        r = c.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}, headers=ip)
        assert r.status_code == 200
    with httpx.Client(base_url=ENTRY) as c:
        assert c.get("/auth/me", headers=bearer(r.json()["access_token"])).status_code == 200



def test_dpop_nonces_hold_on_every_worker_and_a_proof_is_good_once_on_all(workers):
    """A nonce one worker gave is taken by the other (both derive it from the secret);
    a proof one worker accepted is refused by the other (the replay cache is Redis)."""
    from ..test_dpop import Key

    a, b = workers
    key = Key()
    ip = new_ip()
    # Both workers answer for one public host, as behind a load balancer: the Host
    # header names worker A's address on requests to either.
    public = URLS[0]
    host = {**ip, "Host": public.removeprefix("http://")}
    body = {"email": f"d-{secrets.token_hex(6)}@example.com", "password": "correct horse"}
    r = a.post("/auth/register", json=body, headers={**host, "DPoP": key.proof("POST", f"{public}/auth/register")})
    assert r.status_code == 400 and r.json()["error"] == "use_dpop_nonce", r.text
    nonce = r.headers["DPoP-Nonce"]
    r = b.post("/auth/register", json=body, headers={**host, "DPoP": key.proof("POST", f"{public}/auth/register", nonce=nonce)})
    assert r.status_code == 201, r.text
    assert r.json()["token_type"] == "DPoP"
    token = r.json()["access_token"]
    headers = {**host, "Authorization": f"DPoP {token}", "DPoP": key.proof("GET", f"{public}/auth/me", nonce=nonce, token=token)}
    assert a.get("/auth/me", headers=headers).status_code == 200
    r = b.get("/auth/me", headers=headers)
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"')
    # A fresh proof is fine on either.
    fresh = key.proof("GET", f"{public}/auth/me", nonce=nonce, token=token)
    assert b.get("/auth/me", headers={**headers, "DPoP": fresh}).status_code == 200
