"""Alembic's environment for the backend: the models of backend/db.py on the app's database.

The backend runs this through backend/migrate.py with a connection of its own (already
locked, see there); Alembic's command line (backend/alembic.ini) gets an engine made
from the app's settings, so both see the same DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from backend.db import Base, make_engine
from backend.migrate import hold_migration_lock
from backend.settings import BACKEND_DIR, Settings


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite has almost no ALTER TABLE: Alembic copies the table instead ("batch").
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        run(given)
        return
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported: run them against the database")
    # The settings file as `python -m backend` reads it (BACKEND_ENV_FILE= : none).
    env_file = os.environ.get("BACKEND_ENV_FILE", str(BACKEND_DIR / ".env"))
    engine = make_engine(Settings(_env_file=env_file or None).database_url)
    try:
        with engine.begin() as connection:
            hold_migration_lock(connection)
            run(connection)
    finally:
        engine.dispose()


main()
