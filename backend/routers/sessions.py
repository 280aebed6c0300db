"""The signed-in user's sessions (devices): list and revoke."""

from __future__ import annotations

from fastapi import APIRouter, Response

from .. import session_store
from ..db import AuthSession, as_utc
from ..deps import CurrentPrincipal, Db
from ..errors import ApiError
from ..schemas import SessionOut

router = APIRouter(prefix="/auth/sessions", tags=["sessions"])


@router.get("", response_model=list[SessionOut])
def list_sessions(principal: CurrentPrincipal, db: Db) -> list[SessionOut]:
    return [
        SessionOut(
            id=s.id,
            created_at=as_utc(s.created_at),
            last_used_at=as_utc(s.last_used_at),
            user_agent=s.user_agent,
            ip=s.ip,
            current=s.id == principal.claims.sid,
        )
        for s in session_store.live_sessions(db, principal.user.id)
    ]


@router.delete("/{session_id}", status_code=204)
def revoke_session(session_id: str, principal: CurrentPrincipal, db: Db) -> Response:
    session = db.get(AuthSession, session_id)
    # Another user's session answers like a missing one: ids are not confirmed.
    if session is None or session.user_id != principal.user.id:
        raise ApiError(404, "not_found", "No such session")
    session_store.revoke(db, session_id)
    return Response(status_code=204)


@router.delete("", status_code=204)
def revoke_all_sessions(principal: CurrentPrincipal, db: Db) -> Response:
    """Sign out everywhere: every session of the user, this one included."""
    for session in session_store.live_sessions(db, principal.user.id):
        session_store.revoke(db, session.id)
    return Response(status_code=204)
