"""users.email_verified (issue 16 finding 1: link by email only to verified accounts).

Existing accounts start unverified: nothing recorded says who owns an address. The one
exception is an account a social sign-in created (no password, a linked provider): the
provider had verified its email, as the code that created it required.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


# Plain ALTER TABLE on every dialect: a batch (copy-and-swap) of `users` on SQLite would
# drop the table the other tables reference ON DELETE CASCADE, and take their rows with it.


def upgrade() -> None:
    op.add_column("users", sa.Column("email_verified", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.execute(
        "UPDATE users SET email_verified = true "
        "WHERE password_hash = '' AND id IN (SELECT user_id FROM oauth_identities)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN email_verified")  # SQLite 3.35+
    else:
        op.drop_column("users", "email_verified")
