"""Notes: something to protect. Every query is scoped to the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select

from ..db import Note, as_utc
from ..deps import CurrentUser, Db
from ..errors import ApiError
from ..schemas import NoteIn, NoteOut

router = APIRouter(prefix="/notes", tags=["notes"])


def _out(note: Note) -> NoteOut:
    return NoteOut(id=note.id, text=note.text, created_at=as_utc(note.created_at))


@router.get("", response_model=list[NoteOut])
def list_notes(user: CurrentUser, db: Db) -> list[NoteOut]:
    rows = db.scalars(
        select(Note).where(Note.user_id == user.id).order_by(Note.created_at.desc(), Note.id.desc())
    ).all()
    return [_out(n) for n in rows]


@router.post("", status_code=201, response_model=NoteOut)
def create_note(body: NoteIn, user: CurrentUser, db: Db) -> NoteOut:
    note = Note(user_id=user.id, text=body.text)
    db.add(note)
    db.commit()
    return _out(note)


@router.delete("/{note_id}", status_code=204)
def delete_note(note_id: int, user: CurrentUser, db: Db) -> Response:
    note = db.get(Note, note_id)
    if note is None or note.user_id != user.id:
        raise ApiError(404, "not_found", "No such note")
    db.delete(note)
    db.commit()
    return Response(status_code=204)
