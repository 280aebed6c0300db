"""Schema migrations (backend/migrate.py, backend/migrations/): an older database keeps
its rows, a fresh one reaches head on SQLite and PostgreSQL, several workers upgrading
at once migrate once, and the models of db.py agree with the migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text

from backend.db import Base, make_engine, utcnow
from backend.migrate import BASELINE_REVISION, alembic_config, head_revision, revisions, upgrade
from backend.security import Passwords, hash_refresh_token
from backend.settings import ConfigError

from . import legacy_schema as legacy
from .conftest import POSTGRES_ADMIN_URL, bearer, database_url

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(database_url(tmp_path))
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _legacy_rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            table.name: sorted(tuple(row) for row in conn.execute(select(*table.columns)))
            for table in legacy.legacy.sorted_tables
        }


def _fill_legacy(engine: Engine) -> None:
    now = utcnow()
    user = dict(id="u1", email="ada@example.com", name="Ada", is_active=True, created_at=now)
    with engine.begin() as conn:
        conn.execute(legacy.users.insert(), [
            {**user, "password_hash": Passwords("fast").hash("correct horse")},
            {**user, "id": "u2", "email": "grace@example.com", "name": "Grace", "password_hash": ""},
        ])
        conn.execute(legacy.auth_sessions.insert(), dict(
            id="s1", user_id="u1", created_at=now, last_used_at=now, expires_at=now + timedelta(days=30),
            revoked_at=None, user_agent="legacy-agent", ip="127.0.0.1",
        ))
        conn.execute(legacy.refresh_tokens.insert(), [
            dict(token_hash=hash_refresh_token("legacy-refresh-token"), session_id="s1", created_at=now, used_at=None),
            dict(token_hash=hash_refresh_token("legacy-rotated-token"), session_id="s1", created_at=now, used_at=now),
        ])
        conn.execute(legacy.totp_factors.insert(), dict(
            user_id="u2", secret="JBSWY3DPEHPK3PXP", enabled=True, last_step=7, created_at=now,
        ))
        conn.execute(legacy.recovery_codes.insert(), dict(code_hash="ab" * 32, user_id="u2", used_at=None))
        conn.execute(legacy.oauth_identities.insert(), dict(
            provider="acme", subject="acme-sub-1", user_id="u2", created_at=now,
        ))
        conn.execute(legacy.notes.insert(), [
            dict(user_id="u1", text="written before migrations", created_at=now),
            dict(user_id="u2", text="Grace's note", created_at=now),
        ])


def test_a_database_created_before_migrations_is_stamped_upgraded_and_keeps_every_row(engine, make_client):
    legacy.legacy.create_all(engine)
    _fill_legacy(engine)
    before = _legacy_rows(engine)
    assert "alembic_version" not in _tables(engine)

    client = make_client()  # the app upgrades at start: no "table exists" failure

    assert revisions(engine) == (head_revision(), head_revision())
    after = _legacy_rows(engine)
    # 0002 deletes the old recovery codes on purpose (40-bit unsalted hashes); every
    # other row is kept as it was.
    assert after.pop("recovery_codes") == [] and before.pop("recovery_codes")
    assert after == before
    # ...and the rows still work: the old password signs in, the old note is there,
    # the old session's refresh token rotates.
    r = client.post("/auth/login", json={"email": "ada@example.com", "password": "correct horse"})
    assert r.status_code == 200, r.text
    notes = client.get("/notes", headers=bearer(r.json()["access_token"])).json()
    assert [n["text"] for n in notes] == ["written before migrations"]
    r = client.post("/auth/refresh", json={"refresh_token": "legacy-refresh-token"})
    assert r.status_code == 200, r.text


def test_a_fresh_database_reaches_head_with_every_table_of_the_models(engine, make_client):
    make_client()
    assert revisions(engine) == (head_revision(), head_revision())
    assert _tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
    make_client()  # a second start (another worker, a restart) finds it at head
    assert revisions(engine)[0] == head_revision()


def test_models_and_migrations_agree(engine):
    """`alembic check`: a change to db.py without a migration fails here. Add one with
    `alembic -c backend/alembic.ini revision --autogenerate` (backend/README.md)."""
    upgrade(engine)
    with engine.begin() as conn:
        command.check(alembic_config(conn))


def test_the_baseline_migrates_down_and_up_again(engine):
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert _tables(engine) <= {"alembic_version"}
    assert upgrade(engine) == head_revision()
    assert BASELINE_REVISION <= (head_revision() or "")


def test_auto_migrate_off_refuses_to_start_until_the_release_step_migrated(tmp_path, make_client):
    with pytest.raises(ConfigError, match="python -m backend migrate"):
        make_client(auto_migrate=False)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=database_url(tmp_path), BACKEND_ENV_FILE="")
    done = subprocess.run(
        [sys.executable, "-m", "backend", "migrate"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"at revision {head_revision()}" in done.stdout
    client = make_client(auto_migrate=False)
    assert client.get("/health").status_code == 200


def test_a_database_from_a_newer_release_refuses_to_start_with_one_line(engine, make_client):
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f999'"))
    with pytest.raises(ConfigError, match="revision f999, which this code does not know"):
        make_client()


@pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="PostgreSQL only (TEST_POSTGRES_URL): SQLite serves one worker")
def test_workers_upgrading_one_postgres_database_at_once_migrate_it_once(tmp_path):
    url = database_url(tmp_path)
    engines = [make_engine(url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    results: list[object] = []

    def worker(engine: Engine) -> None:
        start.wait()
        try:
            results.append(upgrade(engine))
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            results.append(exc)

    threads = [threading.Thread(target=worker, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for e in engines:
        e.dispose()
    assert results == [head_revision()] * len(engines)


def test_0003_marks_only_accounts_a_social_sign_in_created_as_verified(engine, make_client):
    """users.email_verified: a password account from before starts unverified (nobody
    proved the address; a provider must not join it by email); a passwordless account
    with a linked provider was created from that provider's verified email."""
    legacy.legacy.create_all(engine)
    _fill_legacy(engine)
    make_client()
    with engine.connect() as conn:
        verified = dict(conn.execute(text("SELECT id, email_verified FROM users")).all())
    assert {k: bool(v) for k, v in verified.items()} == {"u1": False, "u2": True}
