"""Two-factor sign-in (TOTP, RFC 6238): enroll, confirm, the challenge, codes that
work once, the time window, recovery codes, disabling, rate limits."""

from __future__ import annotations

import time

import jwt
import pyotp
import pytest

from .conftest import SECRET, bearer, claims_of, register

PASSWORD = "correct horse"


def enroll(client, token: str) -> tuple[pyotp.TOTP, list[str]]:
    r = client.post("/auth/mfa/totp/enroll", json={"password": PASSWORD}, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/auth-wasm:")
    totp = pyotp.TOTP(r.json()["secret"])
    confirmed = client.post("/auth/mfa/totp/confirm", json={"code": totp.now(), "password": PASSWORD}, headers=bearer(token))
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return totp, codes


def login(client, email="ada@example.com", password="correct horse"):
    return client.post("/auth/login", json={"email": email, "password": password})


def code_at(totp: pyotp.TOTP, steps: int) -> str:
    return totp.at(time.time() + steps * totp.interval)


@pytest.fixture
def enrolled(client):
    pair = register(client)
    totp, codes = enroll(client, pair["access_token"])
    return client, totp, codes


def test_a_password_sign_in_answers_with_a_challenge_not_tokens(enrolled):
    client, totp, _ = enrolled
    r = login(client)
    assert r.status_code == 200
    body = r.json()
    assert body["mfa_required"] is True and "access_token" not in body
    assert body["methods"] == ["totp", "recovery_code"]
    # Wait for a step the confirmation did not use, then finish the sign-in.
    verified = client.post("/auth/mfa/verify", json={"challenge": body["challenge"], "code": code_at(totp, 1)})
    assert verified.status_code == 200, verified.text
    assert client.get("/auth/me", headers=bearer(verified.json()["access_token"])).status_code == 200


def test_a_wrong_code_and_a_replayed_code_are_refused(enrolled):
    client, totp, _ = enrolled
    challenge = login(client).json()["challenge"]
    wrong = client.post(
        "/auth/mfa/verify", json={"challenge": challenge, "code": "000000" if totp.now() != "000000" else "111111"}
    )
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_code")
    code = code_at(totp, 1)
    assert client.post("/auth/mfa/verify", json={"challenge": challenge, "code": code}).status_code == 200
    again = client.post("/auth/mfa/verify", json={"challenge": login(client).json()["challenge"], "code": code})
    assert (again.status_code, again.json()["code"]) == (401, "invalid_code"), "a code works once"


def test_codes_outside_one_step_of_drift_are_refused(enrolled):
    client, totp, _ = enrolled
    challenge = login(client).json()["challenge"]
    for steps in (-3, 3):
        r = client.post("/auth/mfa/verify", json={"challenge": challenge, "code": code_at(totp, steps)})
        assert r.json()["code"] == "invalid_code", steps


def test_recovery_codes_work_once_each(enrolled):
    client, _, codes = enrolled
    first = client.post(
        "/auth/mfa/verify", json={"challenge": login(client).json()["challenge"], "recovery_code": codes[0]}
    )
    assert first.status_code == 200, first.text
    reused = client.post(
        "/auth/mfa/verify", json={"challenge": login(client).json()["challenge"], "recovery_code": codes[0]}
    )
    assert reused.json()["code"] == "invalid_code"
    token = first.json()["access_token"]
    assert client.get("/auth/mfa", headers=bearer(token)).json() == {"totp": True, "recovery_codes_left": 9}


def test_an_expired_or_forged_challenge_is_challenge_expired(enrolled):
    client, totp, _ = enrolled
    sub = jwt.decode(login(client).json()["challenge"], options={"verify_signature": False})["sub"]
    forged = jwt.encode({"sub": sub, "purpose": "mfa", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    for challenge in (forged, "not-a-jwt"):
        r = client.post("/auth/mfa/verify", json={"challenge": challenge, "code": totp.now()})
        assert (r.status_code, r.json()["code"]) == (401, "challenge_expired")


def test_the_challenge_is_not_an_access_token(enrolled):
    client, _, _ = enrolled
    challenge = login(client).json()["challenge"]
    assert client.get("/auth/me", headers=bearer(challenge)).status_code == 401


def test_attempts_are_rate_limited(make_client):
    client = make_client(rate_limit_auth="5/60")
    pair = register(client, email="limited@example.com")
    enroll(client, pair["access_token"])
    statuses = []
    for _ in range(8):
        challenge = client.post("/auth/login", json={"email": "limited@example.com", "password": "correct horse"})
        if challenge.status_code != 200:
            statuses.append(challenge.status_code)
            continue
        statuses.append(
            client.post(
                "/auth/mfa/verify", json={"challenge": challenge.json()["challenge"], "code": "123456"}
            ).status_code
        )
    assert 429 in statuses


def test_disabling_takes_a_code_and_restores_password_only_sign_in(enrolled):
    client, totp, codes = enrolled
    token = client.post("/auth/mfa/verify", json={"challenge": login(client).json()["challenge"], "recovery_code": codes[1]}).json()["access_token"]
    wrong = client.post("/auth/mfa/totp/disable", json={"code": "000000", "password": PASSWORD}, headers=bearer(token))
    # 403, not 401: a 401 would make the SDK's auth.fetch refresh and replay it.
    assert (wrong.status_code, wrong.json()["code"]) == (403, "invalid_code")
    assert client.post("/auth/mfa/totp/disable", json={"code": codes[2], "password": PASSWORD}, headers=bearer(token)).status_code == 204
    assert "access_token" in login(client).json()
    assert client.get("/auth/mfa", headers=bearer(token)).json() == {"totp": False, "recovery_codes_left": 0}


def test_enrolling_twice_while_on_is_refused_and_oauth2_password_grant_says_mfa_required(enrolled):
    client, _, codes = enrolled
    token = client.post("/auth/mfa/verify", json={"challenge": login(client).json()["challenge"], "recovery_code": codes[3]}).json()["access_token"]
    assert client.post("/auth/mfa/totp/enroll", json={"password": PASSWORD}, headers=bearer(token)).status_code == 409
    r = client.post("/auth/token", data={"grant_type": "password", "username": "ada@example.com", "password": "correct horse"})
    assert (r.status_code, r.json()["code"]) == (400, "mfa_required")


# --- Issue 16 finding 4: challenges are single-use and die after five wrong codes ---


def wrong_code(totp: pyotp.TOTP) -> str:
    """A six-digit code no step within the drift window accepts."""
    valid = {code_at(totp, s) for s in (-1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in valid)


def test_a_challenge_gives_one_session(enrolled):
    client, totp, codes = enrolled
    challenge = login(client).json()["challenge"]
    assert client.post("/auth/mfa/verify", json={"challenge": challenge, "code": code_at(totp, 1)}).status_code == 200
    # The same challenge with another valid factor: no second session.
    again = client.post("/auth/mfa/verify", json={"challenge": challenge, "recovery_code": codes[0]})
    assert (again.status_code, again.json()["code"]) == (401, "challenge_expired")


def test_a_challenge_used_on_one_worker_is_refused_on_another(make_client):
    a, b = make_client(), make_client()  # two apps, one database: two workers
    pair = register(a)
    _, codes = enroll(a, pair["access_token"])
    challenge = login(a).json()["challenge"]
    assert a.post("/auth/mfa/verify", json={"challenge": challenge, "recovery_code": codes[0]}).status_code == 200
    r = b.post("/auth/mfa/verify", json={"challenge": challenge, "recovery_code": codes[1]})
    assert (r.status_code, r.json()["code"]) == (401, "challenge_expired")


def test_a_challenge_dies_after_five_wrong_codes(enrolled):
    client, totp, _ = enrolled
    challenge = login(client).json()["challenge"]
    answers = [client.post("/auth/mfa/verify", json={"challenge": challenge, "code": wrong_code(totp)}).json()["code"] for _ in range(5)]
    assert answers == ["invalid_code"] * 4 + ["challenge_expired"]
    right = client.post("/auth/mfa/verify", json={"challenge": challenge, "code": code_at(totp, 1)})
    assert (right.status_code, right.json()["code"]) == (401, "challenge_expired"), "even the right code"
    # A new sign-in gets a new challenge (the lockout has not started yet: five free).
    fresh = client.post("/auth/mfa/verify", json={"challenge": login(client).json()["challenge"], "code": code_at(totp, 1)})
    assert fresh.status_code == 200, fresh.text


def test_wrong_codes_in_a_row_lock_two_factor_with_a_growing_delay(enrolled, caplog):
    from backend.db import TotpFactor

    client, totp, codes = enrolled
    state = client.app.state.auth

    def unlock() -> None:  # the clock moving on, without waiting
        with state.sessions() as db:
            db.query(TotpFactor).update({TotpFactor.locked_until: 0})
            db.commit()

    def verify(code=None, recovery_code=None):
        body = {"challenge": login(client).json()["challenge"], "code": code, "recovery_code": recovery_code}
        return client.post("/auth/mfa/verify", json={k: v for k, v in body.items() if v})

    for _ in range(5):
        assert verify(wrong_code(totp)).json()["code"] == "invalid_code"
    caplog.set_level("INFO", logger="backend")
    assert verify(wrong_code(totp)).json()["code"] == "invalid_code"  # the sixth: locks
    locked = verify(code_at(totp, 1))
    assert (locked.status_code, locked.json()["code"]) == (429, "rate_limited"), "even the right code waits"
    assert 25 <= int(locked.headers["retry-after"]) <= 30
    assert verify(recovery_code=codes[0]).status_code == 429, "recovery codes too"
    assert any("mfa_locked" in r.getMessage() for r in caplog.records), "the user is told"
    unlock()
    assert verify(wrong_code(totp)).json()["code"] == "invalid_code"
    longer = verify(code_at(totp, 1))
    assert longer.status_code == 429 and 55 <= int(longer.headers["retry-after"]) <= 60, "the delay doubles"
    unlock()
    assert verify(code_at(totp, 1)).status_code == 200
    # A right code ends the run: the next wrong one is free again.
    assert verify(wrong_code(totp)).json()["code"] == "invalid_code"
    assert verify(recovery_code=codes[0]).status_code == 200


# --- finding 4: step-up for changing two-factor, and the notices ---


def test_changing_two_factor_needs_the_password_again(client, caplog):
    token = register(client)["access_token"]
    for body in ({}, {"password": "wrong horse"}):
        r = client.post("/auth/mfa/totp/enroll", json=body, headers=bearer(token))
        assert (r.status_code, r.json()["code"]) == (403, "invalid_credentials"), body
    assert client.post("/auth/mfa/totp/enroll", headers=bearer(token)).status_code == 403
    secret = client.post("/auth/mfa/totp/enroll", json={"password": PASSWORD}, headers=bearer(token)).json()["secret"]
    totp = pyotp.TOTP(secret)
    assert client.post("/auth/mfa/totp/confirm", json={"code": totp.now()}, headers=bearer(token)).status_code == 403
    caplog.set_level("INFO", logger="backend")
    first = client.post("/auth/mfa/totp/confirm", json={"code": totp.now(), "password": PASSWORD}, headers=bearer(token))
    assert first.status_code == 200
    old_codes = first.json()["recovery_codes"]

    assert client.post("/auth/mfa/recovery-codes", json={"password": "wrong horse"}, headers=bearer(token)).status_code == 403
    new = client.post("/auth/mfa/recovery-codes", json={"password": PASSWORD}, headers=bearer(token))
    assert new.status_code == 200 and len(set(new.json()["recovery_codes"])) == 10
    assert not set(new.json()["recovery_codes"]) & set(old_codes)
    stale = client.post("/auth/mfa/verify", json={"challenge": login(client).json()["challenge"], "recovery_code": old_codes[0]})
    assert stale.json()["code"] == "invalid_code"

    codes = new.json()["recovery_codes"]
    denied = client.post("/auth/mfa/totp/disable", json={"code": codes[0]}, headers=bearer(token))
    assert (denied.status_code, denied.json()["code"]) == (403, "invalid_credentials")
    assert client.post("/auth/mfa/totp/disable", json={"code": codes[0], "password": PASSWORD}, headers=bearer(token)).status_code == 204

    logged = "\n".join(r.getMessage() for r in caplog.records)
    for what in ("totp_enabled", "recovery_codes_regenerated", "totp_disabled"):
        assert "security notice for user " in logged and what in logged, what
    for secret_text in (secret, PASSWORD, *codes, *old_codes):
        assert secret_text not in logged, "notices carry no secrets"


def test_an_account_without_a_password_steps_up_with_a_recent_sign_in(client):
    from datetime import timedelta

    from backend.db import AuthSession, User, utcnow

    token = register(client)["access_token"]
    state = client.app.state.auth
    with state.sessions() as db:  # as a social-only account: no password
        db.query(User).update({User.password_hash: ""})
        db.commit()
    assert client.post("/auth/mfa/totp/enroll", headers=bearer(token)).status_code == 200, "signed in just now"
    with state.sessions() as db:
        db.query(AuthSession).update({AuthSession.created_at: utcnow() - timedelta(minutes=11)})
        db.commit()
    r = client.post("/auth/mfa/totp/enroll", json={"password": "anything"}, headers=bearer(token))
    assert (r.status_code, r.json()["code"]) == (403, "recent_sign_in_required")


def test_a_foreign_token_without_a_session_cannot_step_up(client):
    from .conftest import forge

    token = forge({"sub": "ext-1", "email": "ext@example.com"})
    assert client.get("/auth/me", headers=bearer(token)).status_code == 200  # adopted, no password
    r = client.post("/auth/mfa/totp/enroll", headers=bearer(token))
    assert (r.status_code, r.json()["code"]) == (403, "recent_sign_in_required")


# --- finding 9: recovery codes of 80 bits, stored as an HMAC under a derived key ---


def test_recovery_codes_have_80_bits_and_are_stored_as_a_keyed_hmac(make_client):
    import hashlib
    import hmac
    import re

    from sqlalchemy import inspect

    from backend.db import RecoveryCode

    client = make_client()
    pair = register(client)
    _, codes = enroll(client, pair["access_token"])
    assert all(re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", c) for c in codes), codes  # 16 base32 = 80 bits
    state = client.app.state.auth
    user_id = claims_of(pair["access_token"])["sub"]
    with state.sessions() as db:
        stored = {row.code_hash for row in db.query(RecoveryCode).filter(RecoveryCode.user_id == user_id)}
    key = hmac.new(SECRET.encode(), b"auth-wasm recovery code", hashlib.sha256).digest()
    expected = {hmac.new(key, f"{user_id}\x00{c.replace('-', '')}".encode(), hashlib.sha256).hexdigest() for c in codes}
    assert stored == expected
    assert not stored & {hashlib.sha256(c.encode()).hexdigest() for c in codes}, "not a bare SHA-256"
    assert [c.name for c in inspect(RecoveryCode).primary_key] == ["user_id", "code_hash"]
    # Typed without dashes, in capitals, with spaces: still the code.
    typed = codes[0].replace("-", "").upper()
    typed = f"{typed[:8]} {typed[8:]}"
    assert client.post("/auth/mfa/verify", json={"challenge": login(client).json()["challenge"], "recovery_code": typed}).status_code == 200


def test_recovery_codes_survive_a_secret_rotation(make_client, tmp_path):
    import secrets as pysecrets

    client = make_client()
    _, codes = enroll(client, register(client)["access_token"])
    rotated = make_client(better_auth_secret=pysecrets.token_urlsafe(48), better_auth_secret_previous=SECRET)
    challenge = rotated.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD}).json()["challenge"]
    assert rotated.post("/auth/mfa/verify", json={"challenge": challenge, "recovery_code": codes[0]}).status_code == 200


# --- finding 10: a TOTP code is six ASCII digits, else 422 (was a 500) ---


@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "１２３４５６", "12345６", "12345", "1234567", "abcdef"])
def test_a_code_that_is_not_six_ascii_digits_is_422(enrolled, code):
    client, _, codes = enrolled
    challenge = login(client).json()["challenge"]
    r = client.post("/auth/mfa/verify", json={"challenge": challenge, "code": code})
    assert (r.status_code, r.json()["code"]) == (422, "validation")
    assert "code" in r.json()["fields"]
    token = client.post("/auth/mfa/verify", json={"challenge": challenge, "recovery_code": codes[0]}).json()["access_token"]
    r = client.post("/auth/mfa/totp/disable", json={"code": code * 2, "password": PASSWORD}, headers=bearer(token))
    assert r.status_code in (403, 422), "never a 500"
    assert client.post("/auth/mfa/verify", json={"challenge": login(client).json()["challenge"], "code": "123 456"}).status_code != 422, "spaces are fine"


def test_confirm_takes_only_ascii_digits(client):
    token = register(client)["access_token"]
    client.post("/auth/mfa/totp/enroll", json={"password": PASSWORD}, headers=bearer(token))
    r = client.post("/auth/mfa/totp/confirm", json={"code": "١٢٣٤٥٦", "password": PASSWORD}, headers=bearer(token))
    assert (r.status_code, r.json()["code"]) == (422, "validation")


def test_the_owner_is_told_by_mail_of_two_factor_changes(make_client, mailbox):
    """The notices reach a real SMTP server on loopback, and carry no secret."""
    client = make_client(smtp_url=mailbox.url)
    token = register(client, email="told@example.com")["access_token"]
    secret = client.post("/auth/mfa/totp/enroll", json={"password": PASSWORD}, headers=bearer(token)).json()["secret"]
    codes = client.post(
        "/auth/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).now(), "password": PASSWORD}, headers=bearer(token)
    ).json()["recovery_codes"]
    assert client.post("/auth/mfa/totp/disable", json={"code": codes[0], "password": PASSWORD}, headers=bearer(token)).status_code == 204

    wanted = {"Two-factor sign-in was turned on", "Two-factor sign-in was turned off"}
    deadline = time.monotonic() + 10  # the notices leave on their own thread
    while not wanted <= {m["Subject"] for m in mailbox.messages} and time.monotonic() < deadline:
        time.sleep(0.05)
    notices = [m for m in mailbox.messages if m["Subject"] in wanted]
    assert {m["Subject"] for m in notices} == wanted
    for message in notices:
        assert message["To"] == "told@example.com"
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert secret not in text and PASSWORD not in text and not any(c in text for c in codes)
