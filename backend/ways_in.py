"""An account's ways to sign in (its password, linked providers and passkeys), read in one
place for the two removals that must never take the last one away: unlinking a provider
(routers/identities.py) and removing a passkey (routers/passkeys.py).

A removal checks that another way remains, then deletes. Two removals at once (two tabs,
two providers) would each see the other's way still there and both delete, leaving an
account nobody can sign in to; so a removal reads them by `ways_in_held`, which first
holds the account and reads only then."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .db import OAuthIdentity, Passkey, User
from .deps import FOREIGN_SUBJECT  # a foreign token's link: no way in here


@dataclass(frozen=True)
class WaysIn:
    password: bool
    providers: list[str]
    passkeys: list[str]  # passkey ids

    def count(self) -> int:
        return int(self.password) + len(self.providers) + len(self.passkeys)


def ways_in(db: Session, user_id: str) -> WaysIn:
    password = db.scalar(select(User.password_hash).where(User.id == user_id))
    providers = db.scalars(select(OAuthIdentity.provider).where(OAuthIdentity.user_id == user_id, OAuthIdentity.provider != FOREIGN_SUBJECT)).all()
    passkeys = db.scalars(select(Passkey.id).where(Passkey.user_id == user_id)).all()
    return WaysIn(password=bool(password), providers=list(providers), passkeys=list(passkeys))


def ways_in_held(db: Session, user_id: str) -> WaysIn:
    """The account's ways in for a removal, read once changes to them are serialised until
    this transaction ends: a write to its row (a no-op one) takes PostgreSQL's row lock and
    SQLite's write lock, so a second removal waits here and reads what the first left."""
    db.execute(
        update(User).where(User.id == user_id).values(is_active=User.is_active).execution_options(synchronize_session=False)
    )
    return ways_in(db, user_id)
