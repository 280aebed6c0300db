"""auth_sessions.dpop_jkt (issue 21): the DPoP key a session's refresh tokens are bound to.

Existing sessions stay unbound (NULL): they were issued to bearer clients.

Revision ID: 0005_dpop
Revises: 0004_passkeys
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_dpop"
down_revision: str | None = "0004_passkeys"
branch_labels: str | None = None
depends_on: str | None = None


# Plain ALTER TABLE on every dialect (see 0003: no batch copy of a referenced table).


def upgrade() -> None:
    op.add_column("auth_sessions", sa.Column("dpop_jkt", sa.String(length=64), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE auth_sessions DROP COLUMN dpop_jkt")  # SQLite 3.35+
    else:
        op.drop_column("auth_sessions", "dpop_jkt")
