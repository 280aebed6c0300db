"""Two-factor hardening (issue 16 findings 4 and 9).

- `mfa_challenges`: a challenge's use is state every worker sees (single use, five
  wrong codes at most).
- `totp_factors.failed_attempts` / `locked_until`: the per-user lockout.
- `recovery_codes` keyed (user_id, code_hash) and holding HMACs under a derived key.
  The old rows (40-bit codes as unsalted SHA-256) are deleted, not carried over: a
  dump of them falls to brute force in minutes. Users keep their authenticator and
  make new codes on the security page.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _recovery_codes(primary_key: list[str]) -> None:
    op.create_table(
        "recovery_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("recovery_codes_user_id_fkey"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(*primary_key, name=op.f("recovery_codes_pkey")),
    )


def upgrade() -> None:
    op.create_table(
        "mfa_challenges",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("mfa_challenges_user_id_fkey"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("jti", name=op.f("mfa_challenges_pkey")),
    )
    op.create_index(op.f("ix_mfa_challenges_expires_at"), "mfa_challenges", ["expires_at"], unique=False)
    op.create_index(op.f("ix_mfa_challenges_user_id"), "mfa_challenges", ["user_id"], unique=False)

    with op.batch_alter_table("totp_factors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", sa.BigInteger(), nullable=False, server_default="0"))

    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    _recovery_codes(["user_id", "code_hash"])


def downgrade() -> None:
    op.drop_table("recovery_codes")
    _recovery_codes(["code_hash"])
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"], unique=False)

    with op.batch_alter_table("totp_factors", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_attempts")

    op.drop_index(op.f("ix_mfa_challenges_user_id"), table_name="mfa_challenges")
    op.drop_index(op.f("ix_mfa_challenges_expires_at"), table_name="mfa_challenges")
    op.drop_table("mfa_challenges")
