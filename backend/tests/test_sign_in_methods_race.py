"""Two requests that each remove one of an account's last two ways to sign in, at the same
instant: one succeeds, the other is refused, and the account keeps a way in.

Each request reads the account's ways in, checks that another remains, then deletes. The
test holds both requests just after their reads (a barrier in the read) so that, unless the
removals are serialised, both see two ways in and both delete. With the lock the second
request waits before its read; the first gives up waiting at the barrier after a second
and finishes, the second then reads one way in and is refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from backend import ways_in as ways_module
from backend.db import OAuthIdentity, Passkey, User
from backend.errors import ApiError
from backend.routers import identities, passkeys
from backend.ways_in import ways_in

# Long enough for the other request to reach the barrier when nothing holds it back.
BARRIER_SECONDS = 1.0


def _held_at(barrier: threading.Barrier, read: Callable) -> Callable:
    def held(*args):
        found = read(*args)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass  # the other request waits for the lock: go on alone
        return found

    return held


def _account(state, ways: list[str]) -> str:
    """A user with no password and the given ways in ("provider:NAME" or "passkey:ID")."""
    with state.sessions() as db:
        user = User(email="solo@example.com", name="Solo", email_verified=True)
        db.add(user)
        db.flush()
        for way in ways:
            kind, name = way.split(":")
            if kind == "provider":
                db.add(OAuthIdentity(provider=name, subject=f"{name}-1", user_id=user.id))
            else:
                db.add(Passkey(id=name, user_id=user.id, credential_id=f"cred-{name}", public_key=b"k"))
        db.commit()
        return user.id


def _remove(state, user_id: str, way: str) -> int:
    kind, name = way.split(":")
    db = state.sessions()
    try:
        user = db.get(User, user_id)
        assert user is not None
        if kind == "provider":
            identities.unlink(name, user, db)
        else:
            passkeys.remove(name, user, db)
        return 204
    except ApiError as refused:
        assert refused.code == "last_sign_in_method"
        return refused.status
    finally:
        db.close()


def _ways_left(state, user_id: str) -> int:
    with state.sessions() as db:
        return ways_in(db, user_id).count()


@pytest.mark.parametrize(
    "ways",
    [
        ["provider:acme", "provider:globex"],
        ["provider:acme", "passkey:pk1"],
        ["passkey:pk1", "passkey:pk2"],
    ],
    ids=["two providers", "a provider and a passkey", "two passkeys"],
)
def test_removing_the_last_two_ways_in_at_once_keeps_one(client, monkeypatch, ways):
    state = client.app.state.auth
    user_id = _account(state, ways)
    barrier = threading.Barrier(2, timeout=BARRIER_SECONDS)
    # The read each removal checks before deleting (inside ways_in_held, after its hold).
    monkeypatch.setattr(ways_module, "ways_in", _held_at(barrier, ways_in))

    results: list[int] = []
    threads = [threading.Thread(target=lambda w=w: results.append(_remove(state, user_id, w))) for w in ways]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    monkeypatch.undo()

    assert sorted(results) == [204, 422]
    assert _ways_left(state, user_id) == 1
