"""Two requests presenting the same refresh token at the same instant: one wins."""

from __future__ import annotations

import threading

from backend import session_store

from .conftest import register


def test_concurrent_rotation_has_exactly_one_winner(client):
    pair = register(client)
    state = client.app.state.auth
    results: list[str] = []
    barrier = threading.Barrier(8)

    def attempt():
        db = state.sessions()
        try:
            barrier.wait()
            session_store.rotate(db, pair["refresh_token"], 3600)
            results.append("won")
        except session_store.RefreshRejected:
            results.append("rejected")
        finally:
            db.close()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("won") == 1
    assert results.count("rejected") == 7
