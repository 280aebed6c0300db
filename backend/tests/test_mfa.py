"""Two-factor sign-in (TOTP, RFC 6238): enroll, confirm, the challenge, codes that
work once, the time window, recovery codes, disabling, rate limits."""

from __future__ import annotations

import time

import jwt
import pyotp
import pytest

from .conftest import SECRET, bearer, register


def enroll(client, token: str) -> tuple[pyotp.TOTP, list[str]]:
    r = client.post("/auth/mfa/totp/enroll", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/auth-wasm:")
    totp = pyotp.TOTP(r.json()["secret"])
    confirmed = client.post("/auth/mfa/totp/confirm", json={"code": totp.now()}, headers=bearer(token))
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
    token = client.post(
        "/auth/mfa/verify", json={"challenge": login(client).json()["challenge"], "recovery_code": codes[1]}
    ).json()["access_token"]
    assert client.post("/auth/mfa/totp/disable", json={"code": "000000"}, headers=bearer(token)).status_code in (
        401,
        429,
    )
    assert client.post("/auth/mfa/totp/disable", json={"code": codes[2]}, headers=bearer(token)).status_code == 204
    assert "access_token" in login(client).json()
    assert client.get("/auth/mfa", headers=bearer(token)).json() == {"totp": False, "recovery_codes_left": 0}


def test_enrolling_twice_while_on_is_refused_and_oauth2_password_grant_says_mfa_required(enrolled):
    client, _, codes = enrolled
    token = client.post(
        "/auth/mfa/verify", json={"challenge": login(client).json()["challenge"], "recovery_code": codes[3]}
    ).json()["access_token"]
    assert client.post("/auth/mfa/totp/enroll", headers=bearer(token)).status_code == 409
    r = client.post(
        "/auth/token", data={"grant_type": "password", "username": "ada@example.com", "password": "correct horse"}
    )
    assert (r.status_code, r.json()["code"]) == (400, "mfa_required")
