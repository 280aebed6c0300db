"""Passkeys (WebAuthn) against answers of a software authenticator (soft_authenticator.py):
sign up, add, sign in (two-factor satisfied), list/rename/remove, and the checks that
make a ceremony's answer count only once, from our origin and RP ID, with the user
verified and a counter that never goes back."""

from __future__ import annotations

import pyotp
import pytest

from backend.settings import ConfigError

from .conftest import bearer, claims_of, make_settings, register
from .soft_authenticator import SoftAuthenticator

ORIGIN = "http://localhost:3000"


def sign_up(client, auth: SoftAuthenticator, email: str = "pia@example.com", name: str | None = "Laptop"):
    started = client.post("/auth/passkeys/signup/options", json={"email": email, "name": "Pia"})
    assert started.status_code == 200, started.text
    body = started.json()
    credential = auth.create(body["options"])
    return client.post("/auth/passkeys/signup", json={"ceremony": body["ceremony"], "credential": credential, "name": name})


def sign_in_options(client) -> dict:
    r = client.post("/auth/passkeys/signin/options")
    assert r.status_code == 200, r.text
    return r.json()


def sign_in(client, auth: SoftAuthenticator, **kw):
    started = sign_in_options(client)
    return client.post("/auth/passkeys/signin", json={"ceremony": started["ceremony"], "credential": auth.get(started["options"], **kw)})


def add_passkey(client, token: str, auth: SoftAuthenticator, password: str | None = "correct horse", **kw):
    started = client.post("/auth/passkeys/register/options", json={"password": password}, headers=bearer(token))
    assert started.status_code == 200, started.text
    body = started.json()
    return client.post(
        "/auth/passkeys/register",
        json={"ceremony": body["ceremony"], "credential": auth.create(body["options"], **kw), "name": "Phone"},
        headers=bearer(token),
    )


def test_sign_up_with_a_passkey_then_sign_in_with_it(client):
    auth = SoftAuthenticator()
    r = sign_up(client, auth)
    assert r.status_code == 201, r.text
    tokens = r.json()
    me = client.get("/auth/me", headers=bearer(tokens["access_token"])).json()
    assert (me["email"], me["name"], me["email_verified"]) == ("pia@example.com", "Pia", False)
    # The options asked for what a passkey is: discoverable, user-verified, no attestation.
    options = client.post("/auth/passkeys/signup/options", json={"email": "other@example.com"}).json()["options"]
    assert options["rp"] == {"name": "auth-wasm", "id": "localhost"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert options["user"]["name"] == "other@example.com"

    signed_in = sign_in(client, auth)
    assert signed_in.status_code == 200, signed_in.text
    pair = signed_in.json()
    # The same tokens and session as a password sign-in: a session id, a refresh that rotates.
    assert claims_of(pair["access_token"])["sub"] == me["id"] and claims_of(pair["access_token"])["sid"]
    assert client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 200
    listed = client.get("/auth/passkeys", headers=bearer(pair["access_token"])).json()["passkeys"]
    assert [(p["name"], p["backup_eligible"], p["backed_up"]) for p in listed] == [("Laptop", True, True)]
    assert listed[0]["last_used_at"] is not None


def test_a_passkey_sign_up_needs_a_free_email(client):
    register(client, "taken@example.com")
    r = client.post("/auth/passkeys/signup/options", json={"email": "Taken@example.com"})
    assert (r.status_code, r.json()["code"]) == (409, "user_exists")


def test_adding_a_passkey_needs_the_password_again(client):
    token = register(client)["access_token"]
    r = client.post("/auth/passkeys/register/options", json={}, headers=bearer(token))
    assert (r.status_code, r.json()["code"]) == (403, "invalid_credentials")
    assert r.json()["detail"] == "Enter your current password to add a passkey"
    auth = SoftAuthenticator()
    added = add_passkey(client, token, auth)
    assert added.status_code == 201, added.text
    assert added.json()["name"] == "Phone"
    assert sign_in(client, auth).status_code == 200
    # Options to add another exclude the passkeys the account has.
    options = client.post("/auth/passkeys/register/options", json={"password": "correct horse"}, headers=bearer(token)).json()["options"]
    assert [c["id"] for c in options["excludeCredentials"]] == [added_id(auth)]


def added_id(auth: SoftAuthenticator) -> str:
    from .soft_authenticator import b64url

    return b64url(auth.credentials[-1].id)


def test_a_passkey_sign_in_satisfies_two_factor(client):
    token = register(client)["access_token"]
    secret = client.post("/auth/mfa/totp/enroll", json={"password": "correct horse"}, headers=bearer(token)).json()["secret"]
    confirmed = client.post("/auth/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).now(), "password": "correct horse"}, headers=bearer(token))
    assert confirmed.status_code == 200
    assert "challenge" in client.post("/auth/login", json={"email": "ada@example.com", "password": "correct horse"}).json()
    auth = SoftAuthenticator()
    assert add_passkey(client, token, auth).status_code == 201
    r = sign_in(client, auth)
    assert r.status_code == 200 and "access_token" in r.json(), "tokens at once, no second step"


def test_wrong_origin_is_refused(client):
    auth = SoftAuthenticator(origin="http://localhost:3001")
    r = sign_up(client, auth)
    assert (r.status_code, r.json()["code"]) == (400, "passkey_invalid")
    assert "origin" in r.json()["detail"]
    good = SoftAuthenticator()
    assert sign_up(client, good).status_code == 201
    r = sign_in(client, good, origin="https://localhost.evil.example")
    assert (r.status_code, r.json()["code"]) == (400, "passkey_invalid")


def test_wrong_rp_id_is_refused(client):
    auth = SoftAuthenticator()
    started = client.post("/auth/passkeys/signup/options", json={"email": "pia@example.com"}).json()
    credential = auth.create(started["options"], rp_id="evil.example")
    r = client.post("/auth/passkeys/signup", json={"ceremony": started["ceremony"], "credential": credential})
    assert (r.status_code, r.json()["code"]) == (400, "passkey_invalid")
    assert "RP ID" in r.json()["detail"]
    assert sign_up(client, SoftAuthenticator(), email="ok@example.com").status_code == 201
    auth = SoftAuthenticator()
    assert sign_up(client, auth, email="two@example.com").status_code == 201
    r = sign_in(client, auth, rp_id="evil.example")
    assert (r.status_code, r.json()["code"]) == (400, "passkey_invalid")


def test_a_ceremony_is_answered_once(client):
    auth = SoftAuthenticator()
    assert sign_up(client, auth).status_code == 201
    started = sign_in_options(client)
    assertion = auth.get(started["options"])
    first = client.post("/auth/passkeys/signin", json={"ceremony": started["ceremony"], "credential": assertion})
    assert first.status_code == 200
    replayed = client.post("/auth/passkeys/signin", json={"ceremony": started["ceremony"], "credential": assertion})
    assert (replayed.status_code, replayed.json()["code"]) == (400, "challenge_expired")
    # The recorded assertion under fresh options: its challenge is not theirs.
    fresh = sign_in_options(client)
    r = client.post("/auth/passkeys/signin", json={"ceremony": fresh["ceremony"], "credential": assertion})
    assert (r.status_code, r.json()["code"]) == (400, "passkey_invalid")
    # A ceremony of another kind is no sign-in ceremony.
    signup = client.post("/auth/passkeys/signup/options", json={"email": "x@example.com"}).json()
    r = client.post("/auth/passkeys/signin", json={"ceremony": signup["ceremony"], "credential": auth.get(signup["options"])})
    assert (r.status_code, r.json()["code"]) == (400, "challenge_expired")


def test_a_ceremony_started_on_one_worker_finishes_once_on_any(make_client):
    a, b = make_client(), make_client()  # two workers, one database
    auth = SoftAuthenticator()
    assert sign_up(a, auth).status_code == 201
    started = sign_in_options(a)
    assertion = auth.get(started["options"])
    assert b.post("/auth/passkeys/signin", json={"ceremony": started["ceremony"], "credential": assertion}).status_code == 200
    again = a.post("/auth/passkeys/signin", json={"ceremony": started["ceremony"], "credential": assertion})
    assert (again.status_code, again.json()["code"]) == (400, "challenge_expired")


def test_a_counter_that_goes_back_is_refused(client):
    auth = SoftAuthenticator()
    token = sign_up(client, auth).json()["access_token"]
    assert sign_in(client, auth).status_code == 200  # counter 1
    assert sign_in(client, auth).status_code == 200  # counter 2
    auth.credentials[-1].counter = 0  # a clone of the authenticator, answering with 1
    r = sign_in(client, auth)
    assert (r.status_code, r.json()["code"]) == (400, "passkey_invalid")
    assert "sign count" in r.json()["detail"]
    assert sign_in(client, auth).status_code == 400, "2 again is no progress either"
    assert sign_in(client, auth).status_code == 200, "the real authenticator's next count passes"
    assert client.get("/auth/passkeys", headers=bearer(token)).status_code == 200


def test_an_authenticator_that_counts_nothing_is_accepted(client):
    auth = SoftAuthenticator(counter_step=0)  # synced passkeys report 0 every time
    assert sign_up(client, auth).status_code == 201
    assert sign_in(client, auth).status_code == 200
    assert sign_in(client, auth).status_code == 200


def test_user_verification_is_required(client):
    auth = SoftAuthenticator()
    started = client.post("/auth/passkeys/signup/options", json={"email": "pia@example.com"}).json()
    r = client.post("/auth/passkeys/signup", json={"ceremony": started["ceremony"], "credential": auth.create(started["options"], uv=False)})
    assert (r.status_code, r.json()["code"]) == (400, "passkey_invalid")
    assert "verif" in r.json()["detail"]
    assert sign_up(client, auth, email="ok@example.com").status_code == 201
    r = sign_in(client, auth, uv=False)
    assert (r.status_code, r.json()["code"]) == (400, "passkey_invalid")


def test_an_unknown_passkey_is_invalid_credentials(client):
    auth = SoftAuthenticator()
    token = sign_up(client, auth).json()["access_token"]
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "localhost"}, "user": {"id": "eA"}, "challenge": "eA"})
    r = sign_in(client, stranger)
    assert (r.status_code, r.json()["code"]) == (401, "invalid_credentials")
    # A known passkey whose user handle names another account.
    r = sign_in(client, auth, user_handle=b"someone-else")
    assert (r.status_code, r.json()["code"]) == (401, "invalid_credentials")
    # Removed passkeys are unknown too.
    assert add_passkey_for_passkey_account(client, token, SoftAuthenticator()).status_code == 201
    first = client.get("/auth/passkeys", headers=bearer(token)).json()["passkeys"][0]["id"]
    assert client.delete(f"/auth/passkeys/{first}", headers=bearer(token)).status_code == 204
    r = sign_in(client, auth)
    assert (r.status_code, r.json()["code"]) == (401, "invalid_credentials")


def add_passkey_for_passkey_account(client, token: str, auth: SoftAuthenticator):
    """No password: step-up is the sign-in a moment ago."""
    return add_passkey(client, token, auth, password=None)


def test_passkeys_are_listed_renamed_and_removed_by_their_owner_never_the_last_way_in(client):
    auth = SoftAuthenticator()
    token = sign_up(client, auth).json()["access_token"]
    only = client.get("/auth/passkeys", headers=bearer(token)).json()["passkeys"][0]["id"]
    r = client.delete(f"/auth/passkeys/{only}", headers=bearer(token))
    assert (r.status_code, r.json()["code"]) == (422, "last_sign_in_method")
    assert add_passkey_for_passkey_account(client, token, auth).status_code == 201
    listed = client.get("/auth/passkeys", headers=bearer(token)).json()["passkeys"]
    assert [p["name"] for p in listed] == ["Laptop", "Phone"]
    renamed = client.patch(f"/auth/passkeys/{listed[1]['id']}", json={"name": "Work phone"}, headers=bearer(token))
    assert renamed.json()["name"] == "Work phone"
    # Another account sees none of them and can touch none.
    other = register(client, "eve@example.com")["access_token"]
    assert client.get("/auth/passkeys", headers=bearer(other)).json() == {"passkeys": []}
    assert client.patch(f"/auth/passkeys/{only}", json={"name": "mine"}, headers=bearer(other)).status_code == 404
    assert client.delete(f"/auth/passkeys/{only}", headers=bearer(other)).status_code == 404
    assert client.delete(f"/auth/passkeys/{only}", headers=bearer(token)).status_code == 204
    left = client.get("/auth/passkeys", headers=bearer(token)).json()["passkeys"]
    assert [p["name"] for p in left] == ["Work phone"]
    assert client.delete(f"/auth/passkeys/{left[0]['id']}", headers=bearer(token)).status_code == 422


def test_a_provider_may_be_unlinked_when_a_passkey_remains(client):
    from backend.db import OAuthIdentity

    auth = SoftAuthenticator()
    token = sign_up(client, auth).json()["access_token"]
    user_id = claims_of(token)["sub"]
    with client.app.state.auth.sessions() as db:
        db.add(OAuthIdentity(provider="acme", subject="s-1", user_id=user_id))
        db.commit()
    assert client.delete("/auth/identities/acme", headers=bearer(token)).status_code == 204
    # Now the passkey is the last way in.
    only = client.get("/auth/passkeys", headers=bearer(token)).json()["passkeys"][0]["id"]
    assert client.delete(f"/auth/passkeys/{only}", headers=bearer(token)).status_code == 422


def test_a_password_account_may_remove_all_its_passkeys(client):
    token = register(client)["access_token"]
    assert add_passkey(client, token, SoftAuthenticator()).status_code == 201
    passkey = client.get("/auth/passkeys", headers=bearer(token)).json()["passkeys"][0]["id"]
    assert client.delete(f"/auth/passkeys/{passkey}", headers=bearer(token)).status_code == 204


def test_rp_id_and_origins_come_from_settings_and_are_checked(tmp_path, make_client):
    s = make_settings(tmp_path, cors_origins="https://app.example.com,http://127.0.0.1:3000")
    assert (s.passkey_rp_id, s.passkey_origins) == ("app.example.com", ["https://app.example.com"])
    # An IP address is no RP ID: the first origin named by a domain gives it.
    s = make_settings(tmp_path, cors_origins="http://127.0.0.1:3000,http://localhost:3000")
    assert (s.passkey_rp_id, s.passkey_origins) == ("localhost", ["http://localhost:3000"])
    s.check_passkeys()
    s = make_settings(tmp_path, cors_origins="https://app.example.com", webauthn_rp_id="example.com")
    assert s.passkey_origins == ["https://app.example.com"]
    # Derived origins a browser would not run WebAuthn on are left out, not fatal.
    s = make_settings(tmp_path, cors_origins="http://app.example.com,http://localhost:NaN")
    assert (s.passkey_rp_id, s.passkey_origins) == ("app.example.com", [])
    s.check_passkeys()
    for bad in (
        dict(webauthn_rp_id="127.0.0.1"),
        dict(webauthn_rp_id="example.com", webauthn_origins="https://example.org"),
        dict(webauthn_rp_id="example.com", webauthn_origins="http://app.example.com"),
    ):
        with pytest.raises(ConfigError) as refused:
            make_settings(tmp_path, **bad).check_passkeys()
        assert "127.0.0.1" not in str(refused.value) and "example.org" not in str(refused.value)
    # A ceremony from a CORS origin off the RP ID is refused (exact origins only).
    client = make_client(cors_origins="http://localhost:3000,http://localhost.evil.example:3000")
    r = sign_up(client, SoftAuthenticator(origin="http://localhost.evil.example:3000"))
    assert (r.status_code, r.json()["code"]) == (400, "passkey_invalid")


BAD = {"clientDataJSON": "!!", "attestationObject": "!!", "authenticatorData": "!!", "signature": "!!"}
ODD = {"clientDataJSON": "e30", "attestationObject": "oA", "authenticatorData": "AA", "signature": "AA", "userHandle": 7}
MALFORMED = [
    {},
    {"id": 5, "rawId": 5, "type": "public-key", "response": {}},
    {"id": "AQ", "rawId": "AQ", "type": "public-key", "response": []},
    {"id": "AQ", "rawId": "AQ", "type": "public-key", "response": BAD},
    {"id": "AQ", "rawId": "AQ", "type": "public-key", "response": ODD},
    {"id": "AQ", "rawId": "AQ", "type": "other", "response": {"clientDataJSON": "e30", "attestationObject": "oA"}},
]


@pytest.mark.parametrize("credential", MALFORMED)
def test_a_malformed_credential_is_refused_never_a_server_error(client, credential):
    auth = SoftAuthenticator()
    assert sign_up(client, auth, email="real@example.com").status_code == 201
    for kind, body in (("signup", {"email": "x@example.com"}), ("signin", None)):
        started = client.post(f"/auth/passkeys/{kind}/options", json=body).json()
        r = client.post(f"/auth/passkeys/{kind}", json={"ceremony": started["ceremony"], "credential": credential})
        assert r.status_code in (400, 401), (kind, r.status_code, r.text)
        assert r.json()["code"] in ("passkey_invalid", "invalid_credentials")
    # A malformed answer under the known passkey's id: the same.
    started = sign_in_options(client)
    known = {**credential, "id": added_id(auth), "rawId": added_id(auth)} if credential else credential
    r = client.post("/auth/passkeys/signin", json={"ceremony": started["ceremony"], "credential": known})
    assert r.status_code in (400, 401), r.text


# ---- with DPoP: a passkey sign-in binds its tokens as a password sign-in does ----------


def _dpop_post(client, key, path: str, body: dict):
    """POST with a proof for `path` under the server's current nonce (as the SDK sends it)."""
    from .test_dpop import BASE, nonce_of

    return client.post(path, json=body, headers={"DPoP": key.proof("POST", f"{BASE}{path}", nonce=nonce_of(client))})


def _session_jkt(client, access_token: str) -> str | None:
    from backend.db import AuthSession

    with client.app.state.auth.sessions() as db:
        return db.get(AuthSession, claims_of(access_token)["sid"]).dpop_jkt


def _user_exists(client, email: str) -> bool:
    from sqlalchemy import select

    from backend.db import User

    with client.app.state.auth.sessions() as db:
        return db.scalars(select(User.id).where(User.email == email)).first() is not None


def test_a_passkey_sign_up_and_sign_in_with_a_dpop_proof_get_bound_tokens_and_session(client):
    from .test_dpop import Key, dpop_get

    key, auth = Key(), SoftAuthenticator()
    started = client.post("/auth/passkeys/signup/options", json={"email": "pia@example.com", "name": "Pia"}).json()
    credential = auth.create(started["options"])
    r = _dpop_post(client, key, "/auth/passkeys/signup", {"ceremony": started["ceremony"], "credential": credential})
    assert r.status_code == 201, r.text
    for pair in (r.json(), None):
        if pair is None:
            started = sign_in_options(client)
            r = _dpop_post(client, key, "/auth/passkeys/signin", {"ceremony": started["ceremony"], "credential": auth.get(started["options"])})
            assert r.status_code == 200, r.text
            pair = r.json()
        assert pair["token_type"] == "DPoP"
        assert claims_of(pair["access_token"])["cnf"] == {"jkt": key.jkt}
        # The session is bound too: its refresh token needs a proof from the same key.
        assert _session_jkt(client, pair["access_token"]) == key.jkt
        assert client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
        me = dpop_get(client, key, pair["access_token"])
        assert me.status_code == 200 and me.json()["email"] == "pia@example.com", me.text


def test_under_dpop_required_a_passkey_sign_up_or_sign_in_without_a_proof_is_refused_and_changes_nothing(make_client):
    from .test_dpop import Key

    client = make_client(dpop="required")
    key, auth = Key(), SoftAuthenticator()
    started = client.post("/auth/passkeys/signup/options", json={"email": "pia@example.com", "name": "Pia"}).json()
    body = {"ceremony": started["ceremony"], "credential": auth.create(started["options"])}
    r = client.post("/auth/passkeys/signup", json=body)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_dpop_proof"), r.text
    # Refused before anything happened: no account, and the ceremony is still unspent.
    assert not _user_exists(client, "pia@example.com")
    r = _dpop_post(client, key, "/auth/passkeys/signup", body)
    assert r.status_code == 201 and r.json()["token_type"] == "DPoP", r.text

    started = sign_in_options(client)
    body = {"ceremony": started["ceremony"], "credential": auth.get(started["options"])}
    r = client.post("/auth/passkeys/signin", json=body)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_dpop_proof"), r.text
    r = _dpop_post(client, key, "/auth/passkeys/signin", body)
    assert r.status_code == 200 and claims_of(r.json()["access_token"])["cnf"] == {"jkt": key.jkt}, r.text
