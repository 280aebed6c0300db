"""Schema migrations (Alembic, scripts in backend/migrations/): bring a database to the
revision this code needs, at start or through `python -m backend migrate`."""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from .settings import BACKEND_DIR, ConfigError

log = logging.getLogger("backend.migrate")
# Alembic says "Context impl ..." at every start; what changed is logged below instead.
logging.getLogger("alembic").setLevel(logging.WARNING)

MIGRATIONS_DIR = BACKEND_DIR / "migrations"
# The revision that is the schema `Base.metadata.create_all` made before migrations
# existed: such a database is stamped with it, then upgraded like any other.
BASELINE_REVISION = "0001"
# Any constant: the PostgreSQL advisory lock that serialises upgrades, so several
# workers starting at once on one database migrate it once and the others wait.
_MIGRATION_LOCK = 0x61757468  # "auth"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def hold_migration_lock(connection: Connection) -> None:
    """Held until the transaction ends (PostgreSQL; SQLite serves one worker)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})


def _is_unversioned_legacy(connection: Connection) -> bool:
    tables = set(inspect(connection).get_table_names())
    return "users" in tables and "alembic_version" not in tables


def upgrade(engine: Engine) -> str | None:
    """Upgrade to head under the lock; returns the revision the database is then at.
    On PostgreSQL the whole upgrade is one transaction: a failure leaves nothing half done."""
    with engine.begin() as connection:
        hold_migration_lock(connection)
        config = alembic_config(connection)
        if _is_unversioned_legacy(connection):
            log.info("database created before migrations: stamping it as %s", BASELINE_REVISION)
            command.stamp(config, BASELINE_REVISION)
        before = current_revision(connection)
        try:
            command.upgrade(config, "head")
        except CommandError:
            # Typically a database migrated by a newer release than this code.
            raise ConfigError(
                f"the database schema is at revision {before}, which this code does not know "
                f"(its newest is {head_revision()}): run the release that migrated it"
            ) from None
        after = current_revision(connection)
        if after != before:
            log.info("database schema upgraded from %s to %s", before or "nothing", after)
        return after


def revisions(engine: Engine) -> tuple[str | None, str | None]:
    """(the database's revision, the revision this code needs)."""
    with engine.connect() as connection:
        return current_revision(connection), head_revision()
