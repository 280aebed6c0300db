"""Sessions (devices) and notes, and that one user never sees another's."""

from __future__ import annotations

from .conftest import bearer, claims_of, register


def login(client, email="ada@example.com", password="correct horse", ua="agent-b"):
    r = client.post("/auth/login", json={"email": email, "password": password}, headers={"User-Agent": ua})
    assert r.status_code == 200
    return r.json()


def test_sessions_list_marks_the_current_one(client):
    a = register(client)
    b = login(client)
    r = client.get("/auth/sessions", headers=bearer(b["access_token"]))
    assert r.status_code == 200
    sessions = r.json()
    assert len(sessions) == 2
    current = [s for s in sessions if s["current"]]
    assert [s["id"] for s in current] == [claims_of(b["access_token"])["sid"]]
    assert current[0]["user_agent"] == "agent-b"
    assert {"created_at", "last_used_at", "ip"} <= current[0].keys()
    assert claims_of(a["access_token"])["sid"] in {s["id"] for s in sessions}


def test_revoking_a_session_kills_its_refresh_and_access(client):
    a = register(client)
    b = login(client)
    sid_a = claims_of(a["access_token"])["sid"]
    assert client.delete(f"/auth/sessions/{sid_a}", headers=bearer(b["access_token"])).status_code == 204
    assert client.post("/auth/refresh", json={"refresh_token": a["refresh_token"]}).status_code == 401
    assert client.get("/auth/me", headers=bearer(a["access_token"])).status_code == 401
    remaining = client.get("/auth/sessions", headers=bearer(b["access_token"])).json()
    assert [s["id"] for s in remaining] == [claims_of(b["access_token"])["sid"]]


def test_sessions_are_isolated_between_users(client):
    ada = register(client)
    bob = register(client, email="bob@example.com")
    bob_sid = claims_of(bob["access_token"])["sid"]
    ada_view = client.get("/auth/sessions", headers=bearer(ada["access_token"])).json()
    assert bob_sid not in {s["id"] for s in ada_view}
    r = client.delete(f"/auth/sessions/{bob_sid}", headers=bearer(ada["access_token"]))
    assert r.status_code == 404
    assert client.post("/auth/refresh", json={"refresh_token": bob["refresh_token"]}).status_code == 200


def test_notes_crud(client):
    token = register(client)["access_token"]
    assert client.get("/notes", headers=bearer(token)).json() == []
    first = client.post("/notes", json={"text": "first"}, headers=bearer(token))
    assert first.status_code == 201
    second = client.post("/notes", json={"text": "second"}, headers=bearer(token)).json()
    listed = client.get("/notes", headers=bearer(token)).json()
    assert [n["text"] for n in listed] == ["second", "first"]
    assert client.delete(f"/notes/{second['id']}", headers=bearer(token)).status_code == 204
    assert [n["text"] for n in client.get("/notes", headers=bearer(token)).json()] == ["first"]
    assert client.delete(f"/notes/{second['id']}", headers=bearer(token)).status_code == 404


def test_notes_validation(client):
    token = register(client)["access_token"]
    for text in ("", "x" * 2001):
        r = client.post("/notes", json={"text": text}, headers=bearer(token))
        assert r.status_code == 422
        assert "text" in r.json()["fields"]


def test_notes_require_auth(client):
    assert client.get("/notes").status_code == 401
    assert client.post("/notes", json={"text": "x"}).status_code == 401


def test_notes_are_isolated_between_users(client):
    ada = register(client)["access_token"]
    bob = register(client, email="bob@example.com")["access_token"]
    note = client.post("/notes", json={"text": "ada's secret"}, headers=bearer(ada)).json()
    assert client.get("/notes", headers=bearer(bob)).json() == []
    assert client.delete(f"/notes/{note['id']}", headers=bearer(bob)).status_code == 404
    assert [n["id"] for n in client.get("/notes", headers=bearer(ada)).json()] == [note["id"]]


def test_signing_out_everywhere_revokes_every_session(client):
    first = register(client)
    second = client.post("/auth/login", json={"email": "ada@example.com", "password": "correct horse"}).json()
    assert len(client.get("/auth/sessions", headers=bearer(first["access_token"])).json()) == 2
    assert client.delete("/auth/sessions", headers=bearer(second["access_token"])).status_code == 204
    for pair in (first, second):
        assert client.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 401
        assert client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
