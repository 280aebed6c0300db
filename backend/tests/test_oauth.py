"""Social sign-in (OpenID Connect, code + PKCE): the backend against a provider whose
network answers come from `FakeProvider` (real RSA-signed ID tokens, single-use
codes, PKCE checked as a provider does). The browser suite (e2e/social.test.mjs)
runs the same flow against the real `oidc-provider` package."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pyotp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import ValidationError

from backend.app import create_app
from backend.settings import OAuthProvider

from .conftest import bearer, claims_of, forge, make_settings, register, verify_email

ISSUER = "https://id.example.test"
CLIENT_ID = "auth-wasm-demo"
CLIENT_SECRET = "provider-client-secret-for-tests"
REDIRECT = "http://localhost:3000/auth/callback"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce() -> tuple[str, str]:
    verifier = b64url(secrets.token_bytes(32))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


class FakeProvider:
    """An OpenID provider's endpoints as an httpx transport. `claims` is the user who
    signs in; `tamper` rewrites the ID token's claims (or `sign` its signing)."""

    def __init__(self, issuer: str = ISSUER, iss_parameter_supported: bool = False) -> None:
        self.issuer = issuer
        self.iss_parameter_supported = iss_parameter_supported
        self.discovery_overrides: dict = {}
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.claims = {"sub": "alice-1", "email": "alice@example.com", "email_verified": True, "name": "Alice"}
        self.codes: dict[str, dict] = {}
        self.tamper = lambda claims: claims
        self.sign = lambda claims: jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})
        self.id_token_has_email = True
        self.down = False
        self.token_requests = 0
        self.codes_received: list[dict] = []

    def jwks(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}

    def authorize(self, url: str) -> str:
        """The user consents: the code the provider would put in the redirect."""
        params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert params["client_id"] == CLIENT_ID and params["response_type"] == "code"
        assert params["code_challenge_method"] == "S256" and "openid" in params["scope"].split()
        code = secrets.token_urlsafe(16)
        self.codes[code] = params
        return code

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("provider down", request=request)
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "authorization_response_iss_parameter_supported": self.iss_parameter_supported,
                **self.discovery_overrides,
            })
        if path == "/jwks":
            return httpx.Response(200, json=self.jwks())
        if path == "/userinfo":
            assert request.headers["authorization"] == "Bearer provider-access"
            return httpx.Response(200, json=self.claims)
        if path == "/token":
            return self.token(request)
        return httpx.Response(404)

    def token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests += 1
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"error": "invalid_client"})
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.codes_received.append(form)
        params = self.codes.pop(form.get("code", ""), None)
        verifier_ok = (
            params is not None
            and b64url(hashlib.sha256(form["code_verifier"].encode()).digest()) == params["code_challenge"]
        )
        if params is None or not verifier_ok or form["redirect_uri"] != params["redirect_uri"]:
            return httpx.Response(400, json={"error": "invalid_grant"})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": params["nonce"],
            **self.claims,
        }
        if not self.id_token_has_email:
            claims = {k: v for k, v in claims.items() if k not in ("email", "email_verified")}
        return httpx.Response(
            200,
            json={
                "access_token": "provider-access",
                "token_type": "Bearer",
                "id_token": self.sign(self.tamper(claims)),
            },
        )


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


PROVIDERS = {"acme": {"name": "Acme ID", "issuer": ISSUER, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}}


@pytest.fixture
def app_client(tmp_path, provider):
    settings = make_settings(tmp_path, oauth_providers=PROVIDERS)
    with TestClient(create_app(settings, oauth_transport=httpx.MockTransport(provider.handler))) as client:
        yield client


def start(client, redirect_uri=REDIRECT, provider_id="acme"):
    verifier, challenge = pkce()
    r = client.post(
        f"/auth/oauth/{provider_id}/start",
        json={"redirect_uri": redirect_uri, "code_challenge": challenge, "state": b64url(secrets.token_bytes(16))},
    )
    return r, verifier


def sign_in(client, provider, **callback_overrides):
    r, verifier = start(client)
    assert r.status_code == 200, r.text
    code = provider.authorize(r.json()["authorization_url"])
    body = {"code": code, "code_verifier": verifier, "flow": r.json()["flow"], **callback_overrides}
    return client.post("/auth/oauth/acme/callback", json=body), body


def test_under_dpop_required_a_proofless_callback_spends_no_code_and_creates_nobody(tmp_path, provider):
    """DPOP=required refuses a sign-in's callback without a proof before the code is
    redeemed at the provider or a first-time user is created (it used to do both, then
    refuse at token issue): the same code and flow then succeed with a proof."""
    from backend.db import User

    from .test_dpop import BASE, Key, nonce_of

    app = create_app(make_settings(tmp_path, oauth_providers=PROVIDERS, dpop="required"), oauth_transport=httpx.MockTransport(provider.handler))
    with TestClient(app) as client:
        r, body = sign_in(client, provider)
        assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", r.text
        with app.state.auth.sessions() as db:
            assert db.query(User).filter(User.email == "alice@example.com").count() == 0
        proof = Key().proof("POST", f"{BASE}/auth/oauth/acme/callback", nonce=nonce_of(client))
        r = client.post("/auth/oauth/acme/callback", json=body, headers={"DPoP": proof})
        assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text


def test_providers_are_listed_without_secrets(app_client):
    r = app_client.get("/auth/oauth/providers")
    assert r.json() == [{"id": "acme", "name": "Acme ID"}]


def test_authorization_url_carries_pkce_state_and_nonce(app_client):
    r, _ = start(app_client)
    url = r.json()["authorization_url"]
    assert url.startswith(f"{ISSUER}/authorize?")
    params = parse_qs(urlsplit(url).query)
    assert params["redirect_uri"] == [REDIRECT] and params["code_challenge_method"] == ["S256"]
    assert len(params["nonce"][0]) >= 32 and len(params["state"][0]) >= 16
    assert CLIENT_SECRET not in url and CLIENT_SECRET not in r.text


def test_first_sign_in_creates_the_user_and_the_next_one_finds_it(app_client, provider):
    r, _ = sign_in(app_client, provider)
    assert r.status_code == 200, r.text
    me = app_client.get("/auth/me", headers=bearer(r.json()["access_token"])).json()
    assert me["email"] == "alice@example.com" and me["name"] == "Alice"
    # Same provider account, email changed at the provider: still the same user.
    provider.claims["email"] = "alice@new.example.com"
    again, _ = sign_in(app_client, provider)
    assert app_client.get("/auth/me", headers=bearer(again.json()["access_token"])).json()["id"] == me["id"]
    # No password was set: the account cannot be signed in with an empty one.
    login = app_client.post("/auth/login", json={"email": "alice@example.com", "password": ""})
    assert login.status_code in (401, 422)


def test_an_existing_verified_account_is_linked_by_verified_email(app_client, provider):
    pair = register(app_client, email="alice@example.com")
    verify_email(app_client, pair["access_token"])
    user_id = app_client.get("/auth/me", headers=bearer(pair["access_token"])).json()["id"]
    r, _ = sign_in(app_client, provider)
    assert app_client.get("/auth/me", headers=bearer(r.json()["access_token"])).json()["id"] == user_id
    assert (
        app_client.post("/auth/login", json={"email": "alice@example.com", "password": "correct horse"}).status_code
        == 200
    )


def identities(client, token):
    r = client.get("/auth/identities", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()


def test_pre_account_takeover_an_unverified_account_is_never_linked_by_email(app_client, provider):
    """Issue 16 finding 1: someone registers the victim's address with a password of
    their own; the victim's later social sign-in must not hand them the account."""
    attacker = register(app_client, email="alice@example.com", password="attacker's password")
    r, _ = sign_in(app_client, provider)
    assert (r.status_code, r.json().get("code")) == (409, "user_exists"), r.text
    assert "access_token" not in r.json()
    # Nothing was linked: the attacker's account has no provider, and a second try
    # is refused the same way.
    again = app_client.post("/auth/login", json={"email": "alice@example.com", "password": "attacker's password"})
    assert identities(app_client, again.json()["access_token"]) == {"identities": [], "has_password": True}
    assert identities(app_client, attacker["access_token"])["identities"] == []
    r2, _ = sign_in(app_client, provider)
    assert r2.status_code == 409


def test_pre_account_takeover_through_an_adopted_foreign_token(app_client, provider):
    """The same through deps.py: an HS256 token with only sub + email (no issuer
    vouching for the address) creates an unverified local user, which the victim's
    social sign-in must not join."""
    token = forge({"sub": "attacker-1", "email": "alice@example.com"})
    me = app_client.get("/auth/me", headers=bearer(token))
    assert me.status_code == 200 and me.json().get("email_verified") is not True
    r, _ = sign_in(app_client, provider)
    assert (r.status_code, r.json().get("code")) == (409, "user_exists"), r.text


def test_a_user_created_by_social_sign_in_is_verified(app_client, provider):
    r, _ = sign_in(app_client, provider)
    assert app_client.get("/auth/me", headers=bearer(r.json()["access_token"])).json()["email_verified"] is True


def link(client, provider, token, provider_id="acme", password=None):
    verifier, challenge = pkce()
    body = {"redirect_uri": REDIRECT, "code_challenge": challenge, "state": b64url(secrets.token_bytes(16)), "link": True}
    if password is not None:
        body["password"] = password
    started = client.post(f"/auth/oauth/{provider_id}/start", json=body, headers=bearer(token) if token else {})
    if started.status_code != 200:
        return started
    code = provider.authorize(started.json()["authorization_url"])
    callback = {"code": code, "code_verifier": verifier, "flow": started.json()["flow"]}
    return client.post(f"/auth/oauth/{provider_id}/callback", json=callback, headers=bearer(token) if token else {})


def test_a_signed_in_user_links_a_provider_and_then_signs_in_with_it(app_client, provider):
    pair = register(app_client, email="bob@example.com")
    user_id = claims_of(pair["access_token"])["sub"]
    assert link(app_client, provider, None).status_code == 401, "link mode needs the bearer"
    r = link(app_client, provider, pair["access_token"])
    assert (r.status_code, r.json()) == (200, {"linked": "acme"}), r.text
    listed = identities(app_client, pair["access_token"])
    assert [i["provider"] for i in listed["identities"]] == ["acme"] and listed["has_password"] is True
    # The provider account (alice@... at the provider) now signs in as bob.
    signed, _ = sign_in(app_client, provider)
    assert claims_of(signed.json()["access_token"])["sub"] == user_id
    # Linking it again is harmless; another user cannot take it.
    assert link(app_client, provider, pair["access_token"]).status_code == 200
    other = register(app_client, email="carol@example.com")
    taken = link(app_client, provider, other["access_token"])
    assert (taken.status_code, taken.json()["code"]) == (409, "user_exists")


def test_a_stolen_access_token_alone_cannot_link_the_thiefs_provider(app_client, provider):
    """A linked provider account signs in to the account from then on, without its
    password: adding one changes how the account signs in, so it takes step-up as adding
    a passkey does. Before, any access token linked (a thief holding one for its 15
    minutes kept the account for good through their own provider account); now one of a
    session started over 10 minutes ago is refused unless the password comes with it."""
    from datetime import timedelta

    from backend.db import AuthSession, utcnow

    victim = register(app_client, email="bob@example.com")
    victim_id = claims_of(victim["access_token"])["sub"]
    with app_client.app.state.auth.sessions() as db:  # signed in 11 minutes ago
        db.query(AuthSession).update({AuthSession.created_at: utcnow() - timedelta(minutes=11)})
        db.commit()
    # The thief has the access token and a provider account of their own (alice-1).
    r = link(app_client, provider, victim["access_token"])
    assert (r.status_code, r.json().get("code")) == (403, "recent_sign_in_required"), r.text
    assert identities(app_client, victim["access_token"])["identities"] == []
    r = link(app_client, provider, victim["access_token"], password="not the password")
    assert (r.status_code, r.json().get("code")) == (403, "invalid_credentials"), r.text
    signed, _ = sign_in(app_client, provider)
    assert claims_of(signed.json()["access_token"])["sub"] != victim_id, "the thief's provider signs in as the victim"
    # The owner links with the password (or just after signing in: the tests above).
    bob = {**provider.claims, "sub": "bob-1", "email": "bob@example.com"}
    provider.claims = bob
    r = link(app_client, provider, victim["access_token"], password="correct horse")
    assert (r.status_code, r.json()) == (200, {"linked": "acme"}), r.text


def test_a_password_sent_with_a_link_is_checked_even_just_after_signing_in(app_client, provider):
    """A password in the start body is verified whenever it comes, a recent sign-in or
    not: "" is a wrong one. So the SDK's linkWith leaves an empty `password` out (a
    recent sign-in then suffices) rather than sending it."""
    pair = register(app_client, email="bob@example.com")
    for wrong in ("", "not the password"):
        r = link(app_client, provider, pair["access_token"], password=wrong)
        assert (r.status_code, r.json().get("code")) == (403, "invalid_credentials"), r.text
    assert identities(app_client, pair["access_token"])["identities"] == []
    r = link(app_client, provider, pair["access_token"], password="correct horse")
    assert (r.status_code, r.json()) == (200, {"linked": "acme"}), r.text


def test_a_link_is_finished_only_by_the_user_who_started_it(app_client, provider):
    bob = register(app_client, email="bob@example.com")
    mallory = register(app_client, email="mallory@example.com")
    verifier, challenge = pkce()
    body = {"redirect_uri": REDIRECT, "code_challenge": challenge, "state": b64url(secrets.token_bytes(16)), "link": True}
    started = app_client.post("/auth/oauth/acme/start", json=body, headers=bearer(bob["access_token"]))
    code = provider.authorize(started.json()["authorization_url"])
    callback = {"code": code, "code_verifier": verifier, "flow": started.json()["flow"]}
    for headers in ({}, bearer(mallory["access_token"])):
        r = app_client.post("/auth/oauth/acme/callback", json=callback, headers=headers)
        assert r.status_code in (401, 403), r.text
    assert identities(app_client, bob["access_token"])["identities"] == []


def test_unlink_never_removes_the_last_way_to_sign_in(app_client, provider):
    # A password account: its provider can go.
    pair = register(app_client, email="bob@example.com")
    link(app_client, provider, pair["access_token"])
    assert app_client.delete("/auth/identities/acme", headers=bearer(pair["access_token"])).status_code == 204
    assert identities(app_client, pair["access_token"])["identities"] == []
    gone = app_client.delete("/auth/identities/acme", headers=bearer(pair["access_token"]))
    assert gone.status_code == 404
    # An account made by social sign-in has no password: its only provider stays.
    provider.claims = {"sub": "dave-1", "email": "dave@example.com", "email_verified": True, "name": "Dave"}
    r, _ = sign_in(app_client, provider)
    token = r.json()["access_token"]
    last = app_client.delete("/auth/identities/acme", headers=bearer(token))
    assert (last.status_code, last.json()["code"]) == (422, "last_sign_in_method")
    assert [i["provider"] for i in identities(app_client, token)["identities"]] == ["acme"]


def test_an_unverified_email_is_refused_and_links_nothing(app_client, provider):
    register(app_client, email="alice@example.com")
    provider.claims["email_verified"] = False
    r, _ = sign_in(app_client, provider)
    assert (r.status_code, r.json()["code"]) == (403, "email_unverified")


def test_email_from_userinfo_when_the_id_token_has_none(app_client, provider):
    provider.id_token_has_email = False
    r, _ = sign_in(app_client, provider)
    assert r.status_code == 200, r.text
    assert app_client.get("/auth/me", headers=bearer(r.json()["access_token"])).json()["email"] == "alice@example.com"


def test_a_used_code_is_refused(app_client, provider):
    first, body = sign_in(app_client, provider)
    assert first.status_code == 200
    replay = app_client.post("/auth/oauth/acme/callback", json=body)
    assert (replay.status_code, replay.json()["code"]) == (400, "code_used")


def test_a_verifier_that_does_not_match_the_challenge_is_refused_before_the_provider(app_client, provider):
    other, _ = pkce()
    r, _ = sign_in(app_client, provider, code_verifier=other)
    assert (r.status_code, r.json()["code"]) == (422, "validation")
    assert provider.token_requests == 0


def test_a_forged_or_foreign_flow_is_refused(app_client, provider):
    r, _ = sign_in(app_client, provider, flow="not-a-flow")
    assert (r.status_code, r.json()["code"]) == (400, "challenge_expired")
    forged = jwt.encode(
        {"purpose": "oauth", "prv": "acme", "ruri": REDIRECT, "nonce": "n", "cc": "c", "exp": int(time.time()) + 60},
        "x" * 40,
        algorithm="HS256",
    )
    r, _ = sign_in(app_client, provider, flow=forged)
    assert r.json()["code"] == "challenge_expired"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda c: {**c, "nonce": "another-sign-in"}, id="nonce"),
        pytest.param(lambda c: {**c, "aud": "someone-else"}, id="audience"),
        pytest.param(lambda c: {**c, "iss": "https://evil.example.test"}, id="issuer"),
        pytest.param(lambda c: {**c, "exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, id="expired"),
        pytest.param(lambda c: {k: v for k, v in c.items() if k != "nonce"}, id="no-nonce"),
        pytest.param(lambda c: {**c, "aud": [CLIENT_ID, "other"], "azp": "other"}, id="azp"),
    ],
)
def test_id_tokens_that_fail_verification_sign_nobody_in(app_client, provider, tamper):
    provider.tamper = tamper
    r, _ = sign_in(app_client, provider)
    assert (r.status_code, r.json()["code"]) == (502, "provider_error"), r.text
    assert "access_token" not in r.json()


@pytest.mark.parametrize("how", ["other-key", "hs256-client-secret", "none"])
def test_id_tokens_not_signed_by_the_providers_key_are_refused(app_client, provider, how):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider.sign = {
        "other-key": lambda c: jwt.encode(c, other, algorithm="RS256", headers={"kid": "k1"}),
        "hs256-client-secret": lambda c: jwt.encode(c, CLIENT_SECRET, algorithm="HS256"),
        "none": lambda c: jwt.encode(c, "", algorithm="none"),
    }[how]
    r, _ = sign_in(app_client, provider)
    assert (r.status_code, r.json()["code"]) == (502, "provider_error")


def test_redirects_only_back_to_the_app(app_client):
    for uri in ("https://evil.example.test/cb", "http://localhost:3000/cb#frag", "javascript:alert(1)"):
        r, _ = start(app_client, redirect_uri=uri)
        assert (r.status_code, r.json()["code"]) == (422, "validation"), uri


def test_unknown_provider_and_bad_pkce_input(app_client):
    r, _ = start(app_client, provider_id="nope")
    assert (r.status_code, r.json()["fields"]) == (422, {"provider": "Unknown sign-in provider"})
    r = app_client.post(
        "/auth/oauth/acme/start", json={"redirect_uri": REDIRECT, "code_challenge": "short", "state": "s" * 16}
    )
    assert r.status_code == 422
    r = app_client.post(
        "/auth/oauth/acme/start",
        json={
            "redirect_uri": REDIRECT,
            "code_challenge": "a" * 43,
            "code_challenge_method": "plain",
            "state": "s" * 16,
        },
    )
    assert r.status_code == 422


def test_an_unreachable_provider_is_a_clear_502(app_client, provider):
    provider.down = True
    r, _ = start(app_client)
    assert (r.status_code, r.json()["code"]) == (502, "provider_error")


def test_an_account_with_two_factor_gets_the_challenge(app_client, provider):
    first, _ = sign_in(app_client, provider)
    token = first.json()["access_token"]
    secret = app_client.post("/auth/mfa/totp/enroll", headers=bearer(token)).json()["secret"]
    assert (
        app_client.post(
            "/auth/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=bearer(token)
        ).status_code
        == 200
    )
    r, _ = sign_in(app_client, provider)
    assert r.json()["mfa_required"] is True and "access_token" not in r.json()


def test_provider_settings_refuse_plain_http_off_loopback():
    with pytest.raises(ValidationError):
        OAuthProvider(issuer="http://id.example.test", client_id="c", client_secret="s")
    with pytest.raises(ValidationError):
        OAuthProvider(issuer=ISSUER, client_id="c", client_secret="s", scopes="email")
    assert (
        OAuthProvider(issuer="http://127.0.0.1:9999", client_id="c", client_secret="s").scopes == "openid email profile"
    )


def test_cookie_transport_delivers_the_refresh_token_only_as_the_cookie(tmp_path, provider):
    settings = make_settings(tmp_path, oauth_providers=PROVIDERS, refresh_token_transport="cookie")
    app = create_app(settings, oauth_transport=httpx.MockTransport(provider.handler))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        r, _ = sign_in(client, provider)
        assert r.status_code == 200, r.text
        assert r.json()["refresh_token"] is None
        assert "httponly" in r.headers["set-cookie"].lower()
        assert client.cookies.get("__Secure-refresh_token")


def test_linking_a_provider_that_verified_the_same_address_verifies_the_account(app_client, provider):
    # The owner proved both: the password (signed in) and the address (at the provider).
    pair = register(app_client, email="alice@example.com")
    assert link(app_client, provider, pair["access_token"]).status_code == 200
    assert app_client.get("/auth/me", headers=bearer(pair["access_token"])).json()["email_verified"] is True


# ---- mix-up (RFC 9700 4.4, RFC 9207) ---------------------------------------------------

EVIL_ISSUER = "https://evil-id.example.test"


@pytest.fixture
def two_providers(tmp_path):
    """An honest provider and an attacker's, both configured, sharing one redirect URI."""
    honest = FakeProvider(iss_parameter_supported=True)
    evil = FakeProvider(issuer=EVIL_ISSUER)
    by_host = {urlsplit(ISSUER).hostname: honest, urlsplit(EVIL_ISSUER).hostname: evil}
    transport = httpx.MockTransport(lambda request: by_host[request.url.host].handler(request))
    providers = {**PROVIDERS, "evil": {"issuer": EVIL_ISSUER, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}}
    with TestClient(create_app(make_settings(tmp_path, oauth_providers=providers), oauth_transport=transport)) as client:
        yield client, honest, evil


def test_mix_up_a_code_from_the_honest_provider_never_reaches_the_attackers(two_providers):
    client, honest, evil = two_providers
    # The victim starts a sign-in with the attacker's provider (say, a link that picked it).
    victim_start, victim_verifier = start(client, provider_id="evil")
    victim_url = parse_qs(urlsplit(victim_start.json()["authorization_url"]).query)
    state, challenge = victim_url["state"][0], victim_url["code_challenge"][0]
    # The attacker's authorization endpoint starts a sign-in at the honest provider with
    # the victim's PKCE challenge and state, and sends the victim there.
    attacker = client.post("/auth/oauth/acme/start", json={"redirect_uri": REDIRECT, "code_challenge": challenge, "state": state}).json()
    # The victim (signed in at the honest provider) comes back with its code, its state
    # (which matches the pending sign-in) and the honest issuer in `iss`.
    code = honest.authorize(attacker["authorization_url"])
    victim = client.post(
        "/auth/oauth/evil/callback",
        json={"code": code, "code_verifier": victim_verifier, "flow": victim_start.json()["flow"], "iss": ISSUER},
    )
    stolen = evil.codes_received
    if stolen:  # what the attacker would do with them (the hole this test closes)
        redeemed = client.post(
            "/auth/oauth/acme/callback",
            json={"code": stolen[0]["code"], "code_verifier": stolen[0]["code_verifier"], "flow": attacker["flow"]},
        )
        assert redeemed.status_code != 200, "the attacker signed in as the victim"
    assert stolen == [], "the honest provider's code and the verifier reached the attacker's token endpoint"
    assert (victim.status_code, victim.json()["code"]) == (400, "state_mismatch")


def test_start_names_the_issuer_and_whether_it_sends_iss(two_providers):
    client, _honest, _evil = two_providers
    honest, _ = start(client)
    assert (honest.json()["issuer"], honest.json()["iss_parameter_supported"]) == (ISSUER, True)
    evil, _ = start(client, provider_id="evil")
    assert (evil.json()["issuer"], evil.json()["iss_parameter_supported"]) == (EVIL_ISSUER, False)


def test_callback_iss_must_be_the_flows_issuer_and_is_required_when_advertised(two_providers):
    client, honest, _evil = two_providers

    def callback(**extra):
        r, verifier = start(client)
        code = honest.authorize(r.json()["authorization_url"])
        body = {"code": code, "code_verifier": verifier, "flow": r.json()["flow"], **extra}
        return client.post("/auth/oauth/acme/callback", json=body)

    for extra in ({}, {"iss": EVIL_ISSUER}, {"iss": ISSUER + "/"}):
        refused = callback(**extra)
        assert (refused.status_code, refused.json()["code"]) == (400, "state_mismatch"), extra
    assert honest.token_requests == 0, "refused before the code went anywhere"
    assert callback(iss=ISSUER).status_code == 200


def test_a_flow_of_one_provider_cannot_finish_at_another(two_providers):
    client, _honest, evil = two_providers
    r, verifier = start(client, provider_id="evil")
    code = evil.authorize(r.json()["authorization_url"])
    body = {"code": code, "code_verifier": verifier, "flow": r.json()["flow"], "iss": EVIL_ISSUER}
    moved = client.post("/auth/oauth/acme/callback", json=body)
    assert moved.json()["code"] == "challenge_expired"
    assert client.post("/auth/oauth/evil/callback", json=body).status_code == 200


# ---- loopback and https rules ----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost.evil.example",
        "http://127.0.0.1.evil.example:9000",
        "http://localhost@evil.example",
        "http://[::1].evil.example",
        "http://evil.example/http://localhost",
        "ftp://localhost",
        "https://",
    ],
)
def test_only_an_exact_loopback_host_may_use_plain_http(url):
    with pytest.raises(ValidationError):
        OAuthProvider(issuer=url, client_id="c", client_secret="s")


@pytest.mark.parametrize("url", ["http://localhost:9400", "http://127.0.0.1", "http://127.8.0.1:1/x", "http://[::1]:9400/"])
def test_loopback_hosts_may_use_plain_http(url):
    assert OAuthProvider(issuer=url, client_id="c", client_secret="s").issuer == url


@pytest.mark.parametrize("key", ["authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"])
def test_discovered_endpoints_must_be_https_off_loopback(app_client, provider, key):
    provider.discovery_overrides = {key: "http://localhost.evil.example/steal"}
    r, _ = start(app_client)
    assert (r.status_code, r.json()["code"]) == (502, "provider_error")
    assert "authorization_url" not in r.json()
