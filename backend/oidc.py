"""Social sign-in: this backend as an OpenID Connect client (relying party) of the
providers configured in OAUTH_PROVIDERS.

The browser holds the PKCE verifier (the SDK makes it) and the provider redirects to
the app, not here, so the backend keeps no per-sign-in state: `start` returns the
authorization URL and a signed `flow` (provider, redirect URI, nonce, PKCE challenge),
and `finish` takes the code, the verifier and that flow back, exchanges the code and
verifies the ID token (signature from the provider's JWKS, iss, aud, exp, nonce).
The flow also names the provider's issuer: the authorization response's `iss`
(RFC 9207) must be that one, so a code from another provider is never sent to this
one's token endpoint (the mix-up attack, RFC 9700 4.4).
Any worker can finish what another started."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt

from .errors import ApiError
from .security import PurposeSigner
from .settings import OAuthProvider, is_secure_url

if TYPE_CHECKING:
    from jwt.algorithms import AllowedPublicKeys

log = logging.getLogger("backend")

FLOW_TTL = 600
DISCOVERY_TTL = 3600
HTTP_TIMEOUT = 10.0
# ID tokens are verified only with the provider's public keys: a symmetric algorithm
# (HS256 keyed with the client secret) or "none" is refused whatever the provider says.
ASYMMETRIC = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
ID_TOKEN_LEEWAY = 60


def provider_error(detail: str) -> ApiError:
    return ApiError(502, "provider_error", detail)


def s256(verifier: str) -> str:
    """RFC 7636 code_challenge for `verifier` (method S256)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Flow:
    provider: str
    redirect_uri: str
    nonce: str
    code_challenge: str
    issuer: str
    # Link mode: the signed-in user the provider account is to be linked to.
    link_user: str | None = None


class Flows:
    """The signed record of a started sign-in, under a key derived for this purpose
    only (it can never pass as an access token or an MFA challenge)."""

    def __init__(self, secret: str, previous: list[str] | tuple[str, ...] = ()) -> None:
        self._signer = PurposeSigner(b"auth-wasm oauth flow", secret, previous)

    def issue(self, flow: Flow) -> str:
        now = int(time.time())
        claims = {
            "purpose": "oauth",
            "prv": flow.provider,
            "ruri": flow.redirect_uri,
            "nonce": flow.nonce,
            "cc": flow.code_challenge,
            "idp": flow.issuer,
            **({"link": flow.link_user} if flow.link_user is not None else {}),
            "iat": now,
            "exp": now + FLOW_TTL,
        }
        return self._signer.sign(claims)

    def read(self, token: str) -> Flow | None:
        """The flow, or None when expired or forged."""
        c = self._signer.read(token, ["exp"])
        if c is None:
            return None
        fields = [f for f in (c.get(k) for k in ("prv", "ruri", "nonce", "cc", "idp")) if isinstance(f, str)]
        link = c.get("link")
        if c.get("purpose") != "oauth" or len(fields) != 5 or not (link is None or isinstance(link, str)):
            return None
        provider, redirect_uri, nonce, code_challenge, issuer = fields
        return Flow(provider, redirect_uri, nonce, code_challenge, issuer, link_user=link)


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in."""

    subject: str
    email: str
    name: str


class OidcClient:
    """One configured provider: discovery, the authorization URL, the code exchange
    and ID token verification. `http` is injectable so tests can stand in for the
    provider's network answers."""

    def __init__(self, provider_id: str, config: OAuthProvider, http: httpx.Client) -> None:
        self.id = provider_id
        self.config = config
        self._http = http
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: jwt.PyJWKSet | None = None

    # ---- provider metadata ------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """Discovery (cached), with any endpoint set in the config taking precedence."""
        if self._metadata is None or time.monotonic() - self._metadata_at > DISCOVERY_TTL:
            found: dict[str, Any] = {}
            explicit = self.config.authorization_endpoint and self.config.token_endpoint and self.config.jwks_uri
            if not explicit:
                url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
                found = self._get_json(url, "discovery document")
                if found.get("issuer") != self.config.issuer:
                    raise provider_error("The provider's discovery document names another issuer")
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
                value = getattr(self.config, key) or found.get(key)
                if value is not None:
                    found[key] = value
            if not all(isinstance(found.get(k), str) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")):
                raise provider_error("The provider's metadata lacks an endpoint")
            # The same rule as the configured URLs: a discovery document must not send the
            # code, the client secret or the key fetch over plain http off loopback.
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
                value = found.get(key)
                if value is not None and not (isinstance(value, str) and is_secure_url(value)):
                    log.warning("Provider %s: its discovery document names a %s that is not https", self.id, key)
                    raise provider_error("The provider's metadata names an endpoint that is not https")
            self._metadata, self._metadata_at = found, time.monotonic()
        return self._metadata

    def _get_json(self, url: str, what: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers=headers)
        except httpx.HTTPError:
            raise provider_error(f"The sign-in provider could not be reached ({what})") from None
        return self._json(response, what)

    @staticmethod
    def _json(response: httpx.Response, what: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            raise provider_error(f"The sign-in provider answered its {what} with HTTP {response.status_code}")
        return body

    def iss_parameter_supported(self) -> bool:
        """Whether the provider says it puts `iss` in every authorization response
        (RFC 9207): then a response without one is refused."""
        return self.metadata().get("authorization_response_iss_parameter_supported") is True

    # ---- the two steps --------------------------------------------------------------------

    def authorization_url(self, redirect_uri: str, state: str, nonce: str, code_challenge: str) -> str:
        endpoint = self.metadata()["authorization_endpoint"]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.config.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}{'&' if urlsplit(endpoint).query else '?'}{query}"

    def finish(self, code: str, verifier: str, flow: Flow) -> Identity:
        """Exchange the code and return the verified identity."""
        tokens = self._exchange(code, verifier, flow.redirect_uri)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise provider_error("The provider's token response has no ID token")
        claims = self._verify_id_token(id_token, flow.nonce)
        if "email" not in claims and isinstance(tokens.get("access_token"), str):
            claims = {**self._userinfo(tokens["access_token"], claims["sub"]), **claims}
        email = claims.get("email")
        verified = claims.get("email_verified") in (True, "true")
        if not isinstance(email, str) or not email or not verified:
            raise ApiError(403, "email_unverified", "The provider has not verified an email address for this account")
        name = claims.get("name")
        name = name[:200] if isinstance(name, str) else ""
        return Identity(subject=claims["sub"], email=email.strip().lower(), name=name)

    def _exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        metadata = self.metadata()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth = httpx.Auth()  # none: the secret goes in the form
        if "client_secret_basic" in methods:
            auth = httpx.BasicAuth(self.config.client_id, self.config.client_secret)
        else:
            data |= {"client_id": self.config.client_id, "client_secret": self.config.client_secret}
        try:
            response = self._http.post(
                metadata["token_endpoint"], data=data, auth=auth, headers={"Accept": "application/json"}
            )
        except httpx.HTTPError:
            raise provider_error("The sign-in provider could not be reached (token)") from None
        if response.status_code == 400 and _oauth_error(response) == "invalid_grant":
            raise ApiError(400, "code_used", "This sign-in code was already used or has expired: sign in again")
        return self._json(response, "token request")

    def _verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise provider_error("The provider's ID token is malformed") from None
        offered = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        allowed = [a for a in offered if a in ASYMMETRIC]
        if header.get("alg") not in allowed:
            raise provider_error("The provider's ID token uses an algorithm that is not accepted")
        key = self._signing_key(header.get("kid"), header["alg"])
        try:
            claims = jwt.decode(
                id_token,
                key,
                algorithms=allowed,
                audience=self.config.client_id,
                issuer=self.config.issuer,
                leeway=ID_TOKEN_LEEWAY,
                options={"require": ["iss", "aud", "sub", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            # The reason (never the token) helps whoever configures the provider.
            log.warning("ID token from %s refused: %s", self.id, type(exc).__name__)
            raise provider_error("The provider's ID token failed verification") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise provider_error("The provider's ID token was issued to another party")
        if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
            log.warning("ID token from %s refused: nonce mismatch", self.id)
            raise provider_error("The provider's ID token belongs to another sign-in")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise provider_error("The provider's ID token has no subject")
        return claims

    def _signing_key(self, kid: str | None, alg: str) -> AllowedPublicKeys:
        """The JWKS key for `kid` (fetched again once when the provider rotated keys)."""
        for attempt in range(2):
            if self._jwks is None or attempt == 1:
                body = self._get_json(self.metadata()["jwks_uri"], "key set")
                try:
                    self._jwks = jwt.PyJWKSet.from_dict(body)
                except jwt.PyJWTError:
                    raise provider_error("The provider's key set is unusable") from None
            candidates = [
                k for k in self._jwks.keys if (kid is None or k.key_id == kid) and k.public_key_use in (None, "sig")
            ]
            if kid is None and len(candidates) > 1:
                candidates = [k for k in candidates if k.algorithm_name == alg] or candidates
            if candidates:
                key: AllowedPublicKeys = candidates[0].key
                return key
        raise provider_error("The provider's ID token is signed with an unknown key")

    def _userinfo(self, access_token: str, subject: str) -> dict[str, Any]:
        endpoint = self.metadata().get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        info = self._get_json(endpoint, "userinfo request", headers={"Authorization": f"Bearer {access_token}"})
        # OIDC Core 5.3.2: userinfo about anyone else must not be used.
        return info if info.get("sub") == subject else {}


def _oauth_error(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


class Providers:
    """The configured providers by id; one HTTP client for all of them."""

    def __init__(self, configs: dict[str, OAuthProvider], transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(timeout=HTTP_TIMEOUT, transport=transport, follow_redirects=False)
        self.clients = {pid: OidcClient(pid, cfg, self._http) for pid, cfg in configs.items()}

    def get(self, provider_id: str) -> OidcClient | None:
        return self.clients.get(provider_id)
