"""The signed-in user's ways to sign in: linked providers (linked through the social
flow in link mode, routers/oauth.py) and the password (passkeys: routers/passkeys.py);
unlinking never removes the last one."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db import OAuthIdentity, as_utc
from ..deps import FOREIGN_SUBJECT, CurrentUser, Db  # FOREIGN_SUBJECT: a foreign token's link, not a sign-in method here
from ..errors import ApiError
from ..schemas import IdentitiesOut, IdentityOut
from ..ways_in import ways_in_held

router = APIRouter(prefix="/auth/identities", tags=["identities"])


def _identities(db: Session, user_id: str) -> list[OAuthIdentity]:
    rows = db.scalars(select(OAuthIdentity).where(OAuthIdentity.user_id == user_id).order_by(OAuthIdentity.created_at))
    return [r for r in rows if r.provider != FOREIGN_SUBJECT]


@router.get("", response_model=IdentitiesOut)
def list_identities(user: CurrentUser, db: Db) -> IdentitiesOut:
    return IdentitiesOut(
        identities=[IdentityOut(provider=i.provider, created_at=as_utc(i.created_at)) for i in _identities(db, user.id)],
        has_password=bool(user.password_hash),
    )


@router.delete("/{provider}", status_code=204)
def unlink(provider: str, user: CurrentUser, db: Db) -> Response:
    ways = ways_in_held(db, user.id)  # a concurrent removal waits here until this one commits
    if provider not in ways.providers:
        raise ApiError(404, "not_found", "This provider is not linked to the account")
    if ways.count() == 1:
        raise ApiError(
            422,
            "last_sign_in_method",
            "This is the account's only way to sign in: link another provider or add a passkey first",
        )
    db.execute(delete(OAuthIdentity).where(OAuthIdentity.user_id == user.id, OAuthIdentity.provider == provider))
    db.commit()
    return Response(status_code=204)
