from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from backend.app import create_app
from backend.security import derive_access_key
from backend.settings import DEFAULT_AUDIENCE, DEFAULT_ISSUER, Settings

if TYPE_CHECKING:
    from jwt.algorithms import AllowedPrivateKeys

SECRET = secrets.token_urlsafe(48)

# Set by scripts/test-backend for its second run: every test then gets a database of
# its own on that PostgreSQL server instead of a SQLite file.
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL")
# Set by scripts/test-backend for that same run: every app's rate limits then live in
# this Redis (emptied before each test), as in a deployment with several workers.
REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.fixture(autouse=True)
def _fresh_redis():
    if REDIS_URL:
        import redis

        with redis.Redis.from_url(REDIS_URL) as r:
            r.flushdb()
    yield


def database_url(tmp_path) -> str:
    if not POSTGRES_ADMIN_URL:
        return f"sqlite:///{tmp_path / 'test.db'}"
    name = "t_" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:24]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def make_settings(tmp_path, **overrides) -> Settings:
    values: dict[str, Any] = dict(
        better_auth_secret=SECRET,
        database_url=database_url(tmp_path),
        password_hash_profile="fast",
        rate_limit_auth="1000/60",
        rate_limit_refresh="1000/60",
        cors_origins="http://localhost:3000",
        redis_url=REDIS_URL,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def make_client(tmp_path):
    clients = []

    def factory(**overrides) -> TestClient:
        client = TestClient(create_app(make_settings(tmp_path, **overrides)))
        clients.append(client)
        return client

    yield factory
    for c in clients:
        c.close()


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


def register(client: TestClient, email: str = "ada@example.com", password: str = "correct horse", name: str = "Ada"):
    r = client.post("/auth/register", json={"email": email, "password": password, "name": name})
    assert r.status_code == 201, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def access_key(secret: str = SECRET) -> bytes:
    return derive_access_key(secret)


def forge(claims: dict, secret: str | bytes | AllowedPrivateKeys | None = None, algorithm: str = "HS256", typ: str | None = "at+jwt", **kw) -> str:
    """A token as an issuer sharing the secret makes one: signed with the derived
    access-token key unless `secret` is given, `typ` at+jwt and the default iss/aud
    unless overridden (None drops a claim or the typ)."""
    base = {"iat": int(time.time()), "exp": int(time.time()) + 300, "iss": DEFAULT_ISSUER, "aud": DEFAULT_AUDIENCE}
    base.update(claims)
    base = {k: v for k, v in base.items() if v is not None}
    key = access_key() if secret is None else secret
    return jwt.encode(base, key, algorithm=algorithm, headers={"typ": typ} if typ else None, **kw)


class Mailbox:
    """What a real SMTP server on loopback (aiosmtpd) received."""

    def __init__(self) -> None:
        self.messages: list = []
        self.url = ""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def links(self, prefix: str = "http://localhost:3000/verify-email?token=") -> list[str]:
        import re

        found = []
        for message in self.messages:
            text = message.get_body(preferencelist=("plain",)).get_content()
            found += re.findall(re.escape(prefix) + r"\S+", text)
        return found


@contextlib.contextmanager
def serve_mailbox(host: str = "127.0.0.1") -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free port of `host`; `.url` is its SMTP_URL."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname=host, port=port)
    controller.start()
    box.url = f"smtp://{host}:{port}"
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1 for the test; `mailbox.url` is its SMTP_URL."""
    with serve_mailbox() as box:
        yield box


def verify_email(client: TestClient, access_token: str) -> None:
    """Mark the token's user verified the way its owner would: a link token, used."""
    from backend.db import User

    state = client.app.state.auth  # type: ignore[attr-defined]
    with state.sessions() as db:
        user = db.get(User, claims_of(access_token)["sub"])
        token = state.verifier.issue(user)
    r = client.post("/auth/verify-email", json={"token": token})
    assert r.status_code == 200, r.text
