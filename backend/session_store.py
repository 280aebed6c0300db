"""Sign-in sessions and their refresh-token families: issue, rotate (with reuse
detection) and revoke. Rotation is a conditional UPDATE, so two requests presenting
the same token at once cannot both win, whichever worker they reach.

A session has two limits: an idle one (no refresh for `idle_ttl` seconds) and an
absolute one (`max_age` seconds after sign-in, however busy). `expires_at` is the
earlier of the two, moved on at every refresh but never past the absolute end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .db import AuthSession, RefreshToken, User, as_utc, rowcount, utcnow
from .security import hash_refresh_token, new_refresh_token


@dataclass
class Issued:
    session: AuthSession
    refresh_token: str


class RefreshRejected(Exception):
    """The refresh token is unknown, expired, revoked or was already used."""


def _expiry(created_at: datetime, now: datetime, idle_ttl: int, max_age: int | None) -> datetime:
    idle_end = now + timedelta(seconds=idle_ttl)
    if max_age is None:
        return idle_end
    return min(idle_end, created_at + timedelta(seconds=max_age))


def start_session(
    db: Session, user: User, ttl: int, user_agent: str, ip: str, max_age: int | None = None, dpop_jkt: str | None = None
) -> Issued:
    """`ttl`: the idle limit; `max_age`: the absolute one (None: none); `dpop_jkt`:
    the DPoP key its refresh tokens are bound to."""
    now = utcnow()
    session = AuthSession(
        user_id=user.id,
        created_at=now,
        last_used_at=now,
        expires_at=_expiry(now, now, ttl, max_age),
        user_agent=user_agent[:512],
        ip=ip[:64],
        dpop_jkt=dpop_jkt,
    )
    db.add(session)
    db.flush()
    token = _add_token(db, session.id)
    db.commit()
    return Issued(session, token)


def _add_token(db: Session, session_id: str) -> str:
    token = new_refresh_token()
    db.add(RefreshToken(token_hash=hash_refresh_token(token), session_id=session_id))
    return token


def rotate(
    db: Session, presented: str, ttl: int, max_age: int | None = None, dpop_jkt: str | None = None
) -> tuple[User, Issued]:
    """Spend `presented` and issue its successor in the same session, which lives
    `ttl` more idle seconds but never beyond `max_age` after sign-in.

    A token presented a second time revokes its whole session (someone else has it).
    A DPoP-bound session's token is refused unless `dpop_jkt` (the key of the
    request's proof) is its key, and then nothing is spent: a thief without the key
    cannot burn the owner's token."""
    token_hash = hash_refresh_token(presented)
    row = db.get(RefreshToken, token_hash)
    if row is None:
        raise RefreshRejected
    session = db.get(AuthSession, row.session_id)
    now = utcnow()
    if session is None or session.revoked_at is not None or as_utc(session.expires_at) <= now:
        raise RefreshRejected
    # Checked here too: a session started before SESSION_MAX_AGE was lowered.
    if max_age is not None and as_utc(session.created_at) + timedelta(seconds=max_age) <= now:
        raise RefreshRejected
    if session.dpop_jkt is not None and session.dpop_jkt != dpop_jkt:
        raise RefreshRejected
    won = rowcount(db.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == token_hash, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    ))
    if won != 1:
        db.rollback()
        revoke(db, session.id)
        raise RefreshRejected
    user = db.get(User, session.user_id)
    if user is None or not user.is_active:
        db.rollback()
        raise RefreshRejected
    session.last_used_at = now
    # Sliding up to the absolute end: an idle session dies after `ttl`, an active
    # one at `max_age`.
    session.expires_at = _expiry(as_utc(session.created_at), now, ttl, max_age)
    token = _add_token(db, session.id)
    db.commit()
    return user, Issued(session, token)


def revoke(db: Session, session_id: str) -> None:
    db.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.commit()


def session_of_token(db: Session, presented: str) -> AuthSession | None:
    row = db.get(RefreshToken, hash_refresh_token(presented))
    return db.get(AuthSession, row.session_id) if row else None


def is_live(db: Session, session_id: str) -> bool:
    session = db.get(AuthSession, session_id)
    return (
        session is not None
        and session.revoked_at is None
        and as_utc(session.expires_at) > utcnow()
    )


def live_sessions(db: Session, user_id: str) -> list[AuthSession]:
    now = utcnow()
    rows = db.scalars(
        select(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .order_by(AuthSession.last_used_at.desc())
    ).all()
    return [s for s in rows if as_utc(s.expires_at) > now]
