"""The schema exactly as `Base.metadata.create_all` made it before migrations existed
(main at 68294d5, no naming convention): frozen here, so the upgrade test keeps
testing that starting point whatever backend/db.py becomes."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text

legacy = MetaData()


def _at(name: str, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _user_id(primary_key: bool = False) -> Column[object]:
    return Column(
        "user_id",
        String(64),
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=primary_key,
        index=not primary_key,
        nullable=False,
    )


users = Table(
    "users",
    legacy,
    Column("id", String(64), primary_key=True),
    Column("email", String(320), unique=True, index=True, nullable=False),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("is_active", Boolean, nullable=False),
    _at("created_at"),
)
auth_sessions = Table(
    "auth_sessions",
    legacy,
    Column("id", String(64), primary_key=True),
    _user_id(),
    _at("created_at"),
    _at("last_used_at"),
    _at("expires_at"),
    _at("revoked_at", nullable=True),
    Column("user_agent", String(512), nullable=False),
    Column("ip", String(64), nullable=False),
)
refresh_tokens = Table(
    "refresh_tokens",
    legacy,
    Column("token_hash", String(64), primary_key=True),
    Column("session_id", String(64), ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True, nullable=False),
    _at("created_at"),
    _at("used_at", nullable=True),
)
totp_factors = Table(
    "totp_factors",
    legacy,
    _user_id(primary_key=True),
    Column("secret", String(64), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("last_step", Integer, nullable=False),
    _at("created_at"),
)
recovery_codes = Table(
    "recovery_codes",
    legacy,
    Column("code_hash", String(64), primary_key=True),
    _user_id(),
    _at("used_at", nullable=True),
)
oauth_identities = Table(
    "oauth_identities",
    legacy,
    Column("provider", String(64), primary_key=True),
    Column("subject", String(255), primary_key=True),
    _user_id(),
    _at("created_at"),
)
notes = Table(
    "notes",
    legacy,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _user_id(),
    Column("text", Text, nullable=False),
    _at("created_at"),
)
