"""DPoP (RFC 9449): every check of a proof, binding at sign-in and refresh, server
nonces across workers, the modes, and the dependency other services import."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm

from backend.dpop import DpopError, DpopVerifier, MemoryReplayCache, Nonces, access_token_hash, normalise_htu, thumbprint
from backend.resource import access_dependency
from backend.security import AccessClaims

from .conftest import SECRET, bearer, claims_of

BASE = "http://testserver"


class Key:
    """A client's DPoP key pair and the proofs it signs."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        self.jkt = thumbprint(self.jwk)

    def proof(self, method: str, url: str, *, nonce: str | None = None, token: str | None = None, **override: Any) -> str:
        claims: dict[str, Any] = {"jti": uuid.uuid4().hex, "htm": method, "htu": url, "iat": int(time.time())}
        if nonce is not None:
            claims["nonce"] = nonce
        if token is not None:
            claims["ath"] = access_token_hash(token)
        header = {"typ": "dpop+jwt", "jwk": self.jwk, **override.pop("header", {})}
        claims.update(override)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.private, algorithm="ES256", headers=header)


def nonce_of(client: TestClient) -> str:
    """The server's current nonce, as a client learns it: from a use_dpop_nonce answer."""
    r = client.post("/auth/login", json={"email": "x@example.com", "password": "x"}, headers={"DPoP": Key().proof("POST", f"{BASE}/auth/login")})
    assert r.status_code == 400 and r.json()["error"] == "use_dpop_nonce", r.text
    return r.headers["DPoP-Nonce"]


def sign_up(client: TestClient, key: Key, email: str = "ada@example.com") -> dict:
    nonce = nonce_of(client)
    r = client.post(
        "/auth/register",
        json={"email": email, "password": "correct horse", "name": "Ada"},
        headers={"DPoP": key.proof("POST", f"{BASE}/auth/register", nonce=nonce)},
    )
    assert r.status_code == 201, r.text
    assert r.headers["DPoP-Nonce"]
    return r.json()


def dpop_get(client: TestClient, key: Key, token: str, path: str = "/auth/me", **proof: Any):
    nonce = proof.pop("nonce", None) or nonce_of(client)
    url = proof.pop("url", f"{BASE}{path}")
    method = proof.pop("method", "GET")
    return client.get(
        path, headers={"Authorization": f"DPoP {token}", "DPoP": key.proof(method, url, nonce=nonce, token=proof.pop("ath_token", token), **proof)}
    )


def refused_proof(r, error: str = "invalid_dpop_proof") -> None:
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"].startswith(f'DPoP error="{error}"'), r.headers["WWW-Authenticate"]


# ---- building blocks ---------------------------------------------------------------


def test_thumbprint_matches_rfc_7638s_example():
    # RFC 7638 section 3.1.
    jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjB"
            "ZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8"
            "KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_"
            "xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_htu_is_compared_normalised_without_query_or_fragment():
    assert normalise_htu("HTTP://Example.COM:80/a/%7euser?x=1#f") == "http://example.com/a/~user"
    assert normalise_htu("https://example.com:443") == "https://example.com/"
    assert normalise_htu("https://example.com:8443/a%2fb") == "https://example.com:8443/a%2Fb"
    assert normalise_htu("ftp://example.com/") is None


def test_nonces_rotate_are_shared_by_the_secret_and_expire():
    now = [1_000_000.0]
    a = Nonces([SECRET], 300, clock=lambda: now[0])
    b = Nonces([SECRET], 300, clock=lambda: now[0])
    first = a.current()
    assert b.valid(first)  # another worker of the same secret
    assert not Nonces(["another secret " * 3], 300, clock=lambda: now[0]).valid(first)
    now[0] += 300
    assert a.current() != first and b.valid(first)  # the previous one still holds
    now[0] += 300
    assert not b.valid(first)
    assert not a.valid("123.forged") and not a.valid(None)


# ---- sign-in binds ---------------------------------------------------------------------


def test_a_sign_in_with_a_proof_gives_tokens_bound_to_the_key(client):
    key = Key()
    pair = sign_up(client, key)
    assert pair["token_type"] == "DPoP"
    assert claims_of(pair["access_token"])["cnf"] == {"jkt": key.jkt}
    r = dpop_get(client, key, pair["access_token"])
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "ada@example.com"
    assert r.headers["DPoP-Nonce"]


def test_login_token_and_refresh_bind_too(client):
    key = Key()
    sign_up(client, key)
    r = client.post(
        "/auth/login",
        json={"email": "ada@example.com", "password": "correct horse"},
        headers={"DPoP": key.proof("POST", f"{BASE}/auth/login", nonce=nonce_of(client))},
    )
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP"
    r = client.post(
        "/auth/token",
        data={"grant_type": "password", "username": "ada@example.com", "password": "correct horse"},
        headers={"DPoP": key.proof("POST", f"{BASE}/auth/token", nonce=nonce_of(client))},
    )
    assert r.status_code == 200 and claims_of(r.json()["access_token"])["cnf"]["jkt"] == key.jkt
    refresh = r.json()["refresh_token"]
    r = client.post(
        "/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        headers={"DPoP": key.proof("POST", f"{BASE}/auth/token", nonce=nonce_of(client))},
    )
    assert r.status_code == 200 and claims_of(r.json()["access_token"])["cnf"]["jkt"] == key.jkt


def test_without_a_proof_a_sign_in_stays_bearer_in_optional_mode(client):
    r = client.post("/auth/register", json={"email": "b@example.com", "password": "correct horse", "name": "B"})
    assert r.status_code == 201 and r.json()["token_type"] == "bearer"
    assert "cnf" not in claims_of(r.json()["access_token"])
    assert client.get("/auth/me", headers=bearer(r.json()["access_token"])).status_code == 200


def test_a_sign_in_without_the_servers_nonce_is_asked_for_it(client):
    key = Key()
    r = client.post(
        "/auth/register",
        json={"email": "ada@example.com", "password": "correct horse", "name": "Ada"},
        headers={"DPoP": key.proof("POST", f"{BASE}/auth/register")},
    )
    assert r.status_code == 400
    assert r.json()["error"] == "use_dpop_nonce"
    nonce = r.headers["DPoP-Nonce"]
    r = client.post(
        "/auth/register",
        json={"email": "ada@example.com", "password": "correct horse", "name": "Ada"},
        headers={"DPoP": key.proof("POST", f"{BASE}/auth/register", nonce=nonce)},
    )
    assert r.status_code == 201, r.text


def test_a_bad_proof_at_sign_in_is_400_invalid_dpop_proof_and_issues_nothing(client):
    key = Key()
    proof = key.proof("POST", f"{BASE}/auth/other", nonce=nonce_of(client))
    r = client.post("/auth/register", json={"email": "ada@example.com", "password": "correct horse", "name": "Ada"}, headers={"DPoP": proof})
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof"
    assert "access_token" not in r.json()


# ---- the checks of RFC 9449 4.3 on a protected route ----------------------------------


@pytest.fixture
def signed_in(client):
    key = Key()
    return client, key, sign_up(client, key)["access_token"]


def test_a_replayed_proof_is_refused(signed_in):
    client, key, token = signed_in
    proof = key.proof("GET", f"{BASE}/auth/me", nonce=nonce_of(client), token=token)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    assert client.get("/auth/me", headers=headers).status_code == 200
    refused_proof(client.get("/auth/me", headers=headers))


def test_a_proof_for_another_url_or_method_is_refused(signed_in):
    client, key, token = signed_in
    refused_proof(dpop_get(client, key, token, url=f"{BASE}/notes"))
    refused_proof(dpop_get(client, key, token, url="http://elsewhere.example/auth/me"))
    refused_proof(dpop_get(client, key, token, method="POST"))
    # Query and fragment are not part of htu; case and default port are normalised.
    assert dpop_get(client, key, token, url="HTTP://TESTSERVER:80/auth/me?x=1#y").status_code == 200


def test_a_proof_for_another_access_token_is_refused(signed_in):
    client, key, token = signed_in
    refused_proof(dpop_get(client, key, token, ath_token=token + "x"))
    refused_proof(dpop_get(client, key, token, ath=None, ath_token=None))


def test_an_old_or_future_proof_is_refused(signed_in):
    client, key, token = signed_in
    refused_proof(dpop_get(client, key, token, iat=int(time.time()) - 120))
    refused_proof(dpop_get(client, key, token, iat=int(time.time()) + 60))
    assert dpop_get(client, key, token, iat=int(time.time()) - 30).status_code == 200


def test_a_proof_whose_iat_is_no_finite_number_is_refused():
    """Check 11 (iat in the window): JSON's NaN, which Python's parser reads, compares
    false with both bounds, so a proof with `iat: NaN` was never too old. Signed once by
    whoever could use the client's key (a script on the page), it passed at any time,
    and again each time the replay cache had forgotten its jti (max_age + 2 leeway):
    one proof for POST /auth/refresh (no `ath`) served again and again without the key."""
    now = [1_000_000.0]
    verifier = DpopVerifier(
        Nonces([SECRET], 300, clock=lambda: now[0]),
        MemoryReplayCache(clock=lambda: now[0]),
        max_age=60,
        leeway=5,
        require_nonce=False,
        clock=lambda: now[0],
    )
    key = Key()
    url = f"{BASE}/auth/refresh"
    for iat in (float("nan"), float("inf"), float("-inf")):
        proof = key.proof("POST", url, iat=iat)
        for _ in range(2):
            with pytest.raises(DpopError):
                verifier.verify([proof], "POST", url)
            now[0] += 3600  # an hour on: past max_age and the replay cache's memory
    assert verifier.verify([key.proof("POST", url, iat=int(now[0]))], "POST", url).jkt == key.jkt


def test_a_proof_signed_by_another_key_is_refused(signed_in):
    client, _key, token = signed_in
    refused_proof(dpop_get(client, Key(), token))


def test_a_proof_whose_signature_is_not_the_jwks_is_refused(signed_in):
    client, key, token = signed_in
    # Signed by another private key, naming the token's public key.
    impostor = Key()
    impostor.jwk = key.jwk
    refused_proof(dpop_get(client, impostor, token))


def test_hs256_and_none_proofs_are_refused(signed_in):
    client, key, token = signed_in
    claims = {
        "jti": uuid.uuid4().hex,
        "htm": "GET",
        "htu": f"{BASE}/auth/me",
        "iat": int(time.time()),
        "nonce": nonce_of(client),
        "ath": access_token_hash(token),
    }
    oct_jwk = {"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}
    hs = jwt.encode(claims, b"secretsecretsecretsecretsecretsecret", algorithm="HS256", headers={"typ": "dpop+jwt", "jwk": oct_jwk})
    refused_proof(client.get("/auth/me", headers={"Authorization": f"DPoP {token}", "DPoP": hs}))
    none = jwt.encode(claims, "", algorithm="none", headers={"typ": "dpop+jwt", "jwk": key.jwk})
    refused_proof(client.get("/auth/me", headers={"Authorization": f"DPoP {token}", "DPoP": none}))


def test_a_wrong_typ_a_private_jwk_two_headers_or_missing_claims_are_refused(signed_in):
    client, key, token = signed_in
    refused_proof(dpop_get(client, key, token, header={"typ": "JWT"}))
    private_jwk = json.loads(ECAlgorithm.to_jwk(key.private))
    refused_proof(dpop_get(client, key, token, header={"jwk": private_jwk}))
    refused_proof(dpop_get(client, key, token, jti=None))
    proof = key.proof("GET", f"{BASE}/auth/me", nonce=nonce_of(client), token=token)
    two = [("Authorization", f"DPoP {token}"), ("DPoP", proof), ("DPoP", proof)]
    refused_proof(client.get("/auth/me", headers=two))
    refused_proof(client.get("/auth/me", headers={"Authorization": f"DPoP {token}"}))


def test_a_proof_without_a_current_nonce_is_asked_for_one(signed_in):
    client, key, token = signed_in
    r = client.get("/auth/me", headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", f"{BASE}/auth/me", token=token)})
    refused_proof(r, "use_dpop_nonce")
    assert r.headers["DPoP-Nonce"]
    r = client.get(
        "/auth/me", headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", f"{BASE}/auth/me", token=token, nonce=r.headers["DPoP-Nonce"])}
    )
    assert r.status_code == 200


def test_a_bound_token_used_as_bearer_is_refused(signed_in):
    client, _key, token = signed_in
    r = client.get("/auth/me", headers=bearer(token))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith('DPoP error="invalid_token"')


def test_a_bearer_token_with_the_dpop_scheme_is_refused(client):
    pair = client.post("/auth/register", json={"email": "b@example.com", "password": "correct horse", "name": "B"}).json()
    key = Key()
    r = dpop_get(client, key, pair["access_token"])
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]


# ---- refresh tokens are bound -----------------------------------------------------------


def refresh(client: TestClient, token: str, key: Key | None, nonce: str | None = None):
    headers = {"DPoP": key.proof("POST", f"{BASE}/auth/refresh", nonce=nonce or nonce_of(client))} if key else {}
    return client.post("/auth/refresh", json={"refresh_token": token}, headers=headers)


def test_a_bound_refresh_token_needs_a_proof_from_its_key(client):
    key = Key()
    pair = sign_up(client, key)
    assert refresh(client, pair["refresh_token"], None).status_code == 401
    assert refresh(client, pair["refresh_token"], Key()).status_code == 401
    # Neither attempt spent it: the owner still refreshes (no reuse detection fired).
    r = refresh(client, pair["refresh_token"], key)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
    assert claims_of(r.json()["access_token"])["cnf"]["jkt"] == key.jkt
    assert refresh(client, r.json()["refresh_token"], key).status_code == 200


def test_a_bound_session_is_logged_out_only_with_a_proof_from_its_key(client):
    key = Key()
    pair = sign_up(client, key)
    assert client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    thief = {"DPoP": Key().proof("POST", f"{BASE}/auth/logout", nonce=nonce_of(client))}
    assert client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=thief).status_code == 204
    assert dpop_get(client, key, pair["access_token"]).status_code == 200, "still signed in"
    owner = {"DPoP": key.proof("POST", f"{BASE}/auth/logout", nonce=nonce_of(client))}
    assert client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=owner).status_code == 204
    assert dpop_get(client, key, pair["access_token"]).status_code == 401, "signed out"


# ---- modes ----------------------------------------------------------------------------------


def test_required_mode_refuses_bearer_sign_ins_and_bearer_tokens(make_client):
    client = make_client(dpop="required")
    r = client.post("/auth/register", json={"email": "b@example.com", "password": "correct horse", "name": "B"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof"
    key = Key()
    token = sign_up(client, key)["access_token"]
    assert dpop_get(client, key, token).status_code == 200
    r = client.get("/auth/me")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("DPoP ")


def test_required_mode_refuses_a_sign_up_without_a_proof_before_creating_the_account(make_client):
    from backend.db import User

    client = make_client(dpop="required")
    body = {"email": "b@example.com", "password": "correct horse", "name": "B"}
    r = client.post("/auth/register", json=body)
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof"
    with client.app.state.auth.sessions() as db:
        assert db.query(User).filter(User.email == "b@example.com").count() == 0
    # The address is still free for the same sign-up with a proof.
    key = Key()
    r = client.post("/auth/register", json=body, headers={"DPoP": key.proof("POST", f"{BASE}/auth/register", nonce=nonce_of(client))})
    assert r.status_code == 201 and r.json()["token_type"] == "DPoP", r.text


def test_required_mode_refuses_a_two_factor_step_without_a_proof_before_spending_it(make_client):
    """A proofless /auth/mfa/verify under DPOP=required is refused before its code and
    challenge are checked: the same challenge and code then succeed with a proof (they
    used to be spent first, then refused)."""
    import pyotp

    client = make_client(dpop="required")
    key = Key()
    token = sign_up(client, key)["access_token"]

    def dpop_post(path: str, body: dict[str, Any]):
        proof = key.proof("POST", f"{BASE}{path}", nonce=nonce_of(client), token=token)
        return client.post(path, json=body, headers={"Authorization": f"DPoP {token}", "DPoP": proof})

    enrolled = dpop_post("/auth/mfa/totp/enroll", {"password": "correct horse"})
    assert enrolled.status_code == 200, enrolled.text
    totp = pyotp.TOTP(enrolled.json()["secret"])
    # The confirming code's step is spent: the sign-in's code is the next one.
    assert dpop_post("/auth/mfa/totp/confirm", {"code": totp.now(), "password": "correct horse"}).status_code == 200
    login = client.post(
        "/auth/login",
        json={"email": "ada@example.com", "password": "correct horse"},
        headers={"DPoP": key.proof("POST", f"{BASE}/auth/login", nonce=nonce_of(client))},
    )
    assert login.status_code == 200 and login.json().get("mfa_required"), login.text
    body = {"challenge": login.json()["challenge"], "code": totp.at(time.time() + totp.interval)}
    r = client.post("/auth/mfa/verify", json=body)
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", r.text
    r = client.post("/auth/mfa/verify", json=body, headers={"DPoP": key.proof("POST", f"{BASE}/auth/mfa/verify", nonce=nonce_of(client))})
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text


def test_off_mode_ignores_proofs_and_refuses_the_dpop_scheme(make_client):
    client = make_client(dpop="off")
    key = Key()
    r = client.post(
        "/auth/register",
        json={"email": "ada@example.com", "password": "correct horse", "name": "Ada"},
        headers={"DPoP": key.proof("POST", f"{BASE}/auth/register")},
    )
    assert r.status_code == 201 and r.json()["token_type"] == "bearer"
    token = r.json()["access_token"]
    assert client.get("/auth/me", headers=bearer(token)).status_code == 200
    r = client.get("/auth/me", headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", f"{BASE}/auth/me", token=token)})
    assert r.status_code == 401


def test_without_nonces_a_proof_needs_none(make_client):
    client = make_client(dpop_nonce=False)
    key = Key()
    r = client.post(
        "/auth/register",
        json={"email": "ada@example.com", "password": "correct horse", "name": "Ada"},
        headers={"DPoP": key.proof("POST", f"{BASE}/auth/register")},
    )
    assert r.status_code == 201, r.text
    token = r.json()["access_token"]
    r = client.get("/auth/me", headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", f"{BASE}/auth/me", token=token)})
    assert r.status_code == 200


# ---- two workers ------------------------------------------------------------------------------


def test_nonces_and_tokens_from_one_worker_work_on_another(make_client):
    first, second = make_client(), make_client()
    key = Key()
    token = sign_up(first, key)["access_token"]
    nonce = nonce_of(first)
    r = second.get("/auth/me", headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", f"{BASE}/auth/me", nonce=nonce, token=token)})
    assert r.status_code == 200, r.text


def test_a_proof_replayed_to_another_worker_is_refused_when_they_share_redis(make_client):
    from .conftest import REDIS_URL

    if not REDIS_URL:
        pytest.skip("needs TEST_REDIS_URL (scripts/test-backend's PostgreSQL + Redis run)")
    first, second = make_client(), make_client()
    key = Key()
    token = sign_up(first, key)["access_token"]
    headers = {"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", f"{BASE}/auth/me", nonce=nonce_of(first), token=token)}
    assert first.get("/auth/me", headers=headers).status_code == 200
    refused_proof(second.get("/auth/me", headers=headers))


def test_the_in_process_replay_cache_forgets_after_the_window():
    now = [0.0]
    cache = MemoryReplayCache(clock=lambda: now[0])
    assert cache.first_use("a", 70) and not cache.first_use("a", 70)
    now[0] += 71
    assert cache.first_use("a", 70)


# ---- the dependency other services import -------------------------------------------------------


def test_a_resource_server_of_the_same_secret_verifies_bound_tokens(client):
    key = Key()
    token = sign_up(client, key)["access_token"]
    api = FastAPI()
    current = access_dependency(SECRET, dpop="required")

    @api.get("/orders")
    def orders(claims: AccessClaims = Depends(current)) -> dict[str, str | None]:  # noqa: B008 (a local dependency: a string annotation could not name it)
        return {"sub": claims.sub, "jkt": claims.jkt}

    with TestClient(api) as other:
        r = other.get("/orders", headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", f"{BASE}/orders", token=token)})
        refused_proof(r, "use_dpop_nonce")
        nonce = r.headers["DPoP-Nonce"]
        r = other.get("/orders", headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", f"{BASE}/orders", token=token, nonce=nonce)})
        assert r.status_code == 200 and r.json()["jkt"] == key.jkt
        assert other.get("/orders", headers=bearer(token)).status_code == 401
