"""Database engine and tables (SQLAlchemy 2). Portable SQL only: SQLite by default,
PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from .migrate import revisions, upgrade
from .settings import ConfigError


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    # Named constraints (PostgreSQL's own default names), so a migration can drop or
    # alter one by name on SQLite too. Every schema change comes with a migration
    # (backend/README.md, "Schema migrations"); tests/test_migrations.py checks they agree.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "%(table_name)s_%(column_0_name)s_key",
            "ck": "%(table_name)s_%(constraint_name)s_check",
            "fk": "%(table_name)s_%(column_0_name)s_fkey",
            "pk": "%(table_name)s_pkey",
        }
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # Empty for users created from a verified external token (they sign in elsewhere).
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Whether the owner of `email` proved it (verification link, or a provider that
    # verified it). Only a verified account is ever linked to by email.
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuthSession(Base):
    """One sign-in: the family of refresh tokens that rotation produces from it."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    # RFC 7638 thumbprint of the DPoP key the session's refresh tokens are bound to
    # (RFC 9449 5): a refresh needs a proof signed by that key. None: unbound.
    dpop_jkt: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RefreshToken(Base):
    """A refresh token, stored only as its SHA-256 hash. `used_at` set = rotated away."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TotpFactor(Base):
    """A user's TOTP (RFC 6238) authenticator. `enabled` once confirmed with a first
    code; `last_step` is the newest time step accepted, so a code is never used twice."""

    __tablename__ = "totp_factors"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    last_step: Mapped[int] = mapped_column(Integer, default=-1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Wrong codes since the last right one (any challenge), and the time before which
    # no code is checked at all: the growing delay of mfa.record_failure.
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # epoch seconds


class RecoveryCode(Base):
    """A one-time recovery code, stored only as its HMAC (mfa.RecoveryCodes)."""

    __tablename__ = "recovery_codes"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MfaChallenge(Base):
    """What the database knows of a two-factor challenge (a signed token, mfa.Challenges):
    created at its first use, so every worker sees that it was used and how often it
    was wrong. `claimed_at` is set while a code is being checked and for good once one
    was right; `expires_at` (epoch seconds) lets old rows be swept."""

    __tablename__ = "mfa_challenges"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OAuthIdentity(Base):
    """A provider account (issuer's `sub`) linked to a user: the link is found by
    (provider, subject) first, so a later change of email at the provider keeps it."""

    __tablename__ = "oauth_identities"

    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Passkey(Base):
    """A WebAuthn credential (passkey) of a user: its public key (COSE), the signature
    counter last seen (a lower one is refused as a cloned authenticator) and the backup
    flags the authenticator reported (backup eligible / backed up: a synced passkey)."""

    __tablename__ = "passkeys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # base64url of the credential id (at most 1023 bytes by the spec).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(100), default="")
    transports: Mapped[str] = mapped_column(String(200), default="")  # comma list
    aaguid: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PasskeyChallenge(Base):
    """A passkey ceremony (a signed token, passkeys.Ceremonies) that was answered: a row
    per use, so a ceremony's challenge works once on every worker; `expires_at` (epoch
    seconds) lets old rows be swept."""

    __tablename__ = "passkey_challenges"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched (its Result is a CursorResult at run time)."""
    return cast("CursorResult[Any]", result).rowcount


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine, auto_migrate: bool = True) -> sessionmaker[Session]:
    """Bring the schema to the code's revision (AUTO_MIGRATE, the default), or refuse to
    start when a release step was meant to do it and has not (`python -m backend migrate`)."""
    if auto_migrate:
        upgrade(engine)
    else:
        current, head = revisions(engine)
        if current != head:
            raise ConfigError(
                f"the database schema is at revision {current or 'none'}, this code needs {head}: "
                "run `python -m backend migrate` (or set AUTO_MIGRATE=1)"
            )
    return sessionmaker(bind=engine, expire_on_commit=False)
