"""A session ends after SESSION_IDLE_TTL without a refresh and SESSION_MAX_AGE after
sign-in however busy: refreshing no longer keeps it alive forever. Time is moved by
replacing the session store's clock (session_store.utcnow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend import session_store

from .conftest import bearer, register

HOUR = 3600
DAY = 24 * HOUR


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(session_store, "utcnow", clock)
    return clock


def refresh(client, token: str):
    return client.post("/auth/refresh", json={"refresh_token": token})


def test_an_active_session_ends_at_its_absolute_lifetime(make_client, clock):
    client = make_client(session_idle_ttl=DAY, session_max_age=3 * DAY)
    token = register(client)["refresh_token"]
    # Refreshed every 12 hours: never idle, yet over after three days.
    for _ in range(5):
        clock.advance(12 * HOUR)
        r = refresh(client, token)
        assert r.status_code == 200, r.text
        token = r.json()["refresh_token"]
    clock.advance(12 * HOUR)  # 3 days since sign-in
    r = refresh(client, token)
    assert r.status_code == 401
    assert r.json()["code"] == "refresh_failed"


def test_the_last_access_token_stops_with_the_session(make_client, clock):
    client = make_client(session_idle_ttl=DAY, session_max_age=2 * DAY)
    pair = register(client)
    clock.advance(20 * HOUR)
    pair = refresh(client, pair["refresh_token"]).json()
    clock.advance(20 * HOUR)
    pair = refresh(client, pair["refresh_token"]).json()
    assert client.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 200
    clock.advance(8 * HOUR + 1)  # past 2 days: the session is over, its sid no longer live
    assert client.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 401


def test_an_idle_session_ends_after_the_idle_limit(make_client, clock):
    client = make_client(session_idle_ttl=DAY, session_max_age=30 * DAY)
    token = register(client)["refresh_token"]
    clock.advance(DAY - 60)
    r = refresh(client, token)
    assert r.status_code == 200, "used just in time: the idle limit starts again"
    clock.advance(DAY + 1)
    assert refresh(client, r.json()["refresh_token"]).status_code == 401


def test_lowering_the_absolute_lifetime_ends_older_sessions(make_client, clock):
    """A session started under a longer SESSION_MAX_AGE is held to the new one."""
    token = register(make_client(session_idle_ttl=5 * DAY, session_max_age=30 * DAY))["refresh_token"]
    clock.advance(3 * DAY)
    stricter = make_client(session_idle_ttl=5 * DAY, session_max_age=2 * DAY)
    assert refresh(stricter, token).status_code == 401
    # Under the old limit the same token still refreshes (the refusal spent nothing).
    assert refresh(make_client(session_idle_ttl=5 * DAY, session_max_age=30 * DAY), token).status_code == 200


def test_refresh_token_ttl_is_still_read_as_the_idle_limit(make_client, clock):
    client = make_client(refresh_token_ttl=HOUR)
    assert client.app.state.auth.settings.session_idle_ttl == HOUR
    token = register(client)["refresh_token"]
    clock.advance(HOUR + 1)
    assert refresh(client, token).status_code == 401
