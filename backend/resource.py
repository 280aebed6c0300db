"""Access to protected routes: `Authorization: Bearer` or `Authorization: DPoP` with a
proof (RFC 9449 7). `AccessGuard` is what this backend's routes use; `access_dependency`
builds one for another FastAPI service that shares BETTER_AUTH_SECRET:

    from backend.resource import access_dependency
    current_claims = access_dependency(secret, dpop="required", redis_url=REDIS_URL)

    @app.get("/orders")
    def orders(claims: Annotated[AccessClaims, Depends(current_claims)]) -> ...: ...

Failures are HTTPException 401 with the RFC 6750 / RFC 9449 `WWW-Authenticate`
challenge, so they need no exception handler of ours."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request, Response

from .dpop import MODES, DpopError, DpopVerifier, Nonces, challenge, make_replay_cache
from .security import AccessClaims, Tokens
from .settings import DEFAULT_AUDIENCE, DEFAULT_ISSUER


class AccessGuard:
    """`mode`: "off" (Bearer only; a DPoP-bound token is still refused as Bearer),
    "optional" (either; a bound token only with its proof), "required" (DPoP only)."""

    def __init__(
        self,
        tokens: Tokens,
        verifier: DpopVerifier,
        mode: str,
        fallback: Callable[[str], AccessClaims | None] | None = None,
    ) -> None:
        """`fallback`: another verifier for tokens that are not ours (JWT_JWKS_URL)."""
        if mode not in MODES:
            raise ValueError("DPOP must be off, optional or required")
        self.tokens = tokens
        self.fallback = fallback
        self.verifier = verifier
        self.mode = mode

    def refuse(self, detail: str, error: str | None = None, *, dpop: bool | None = None, nonce: bool = False) -> HTTPException:
        use_dpop = self.mode == "required" if dpop is None else dpop
        if use_dpop:
            headers = {"WWW-Authenticate": challenge(error, detail if error else None)}
        else:
            headers = {"WWW-Authenticate": "Bearer"}
            if self.mode == "optional":
                # Both schemes are accepted: say so (RFC 9449 7.1, RFC 9110 11.6.1).
                headers["WWW-Authenticate"] += ", " + challenge(None)
        if nonce:
            headers["DPoP-Nonce"] = self.verifier.nonces.current()
        return HTTPException(401, detail, headers=headers)

    def verify_token(self, token: str) -> AccessClaims | None:
        claims = self.tokens.verify_access(token)
        if claims is None and self.fallback is not None:
            claims = self.fallback(token)
        return claims

    def authenticate(self, request: Request, response: Response | None = None) -> AccessClaims:
        """The claims of the request's valid access token, its proof checked when it
        is DPoP-bound; else HTTPException 401."""
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        scheme, token = scheme.lower(), token.strip()
        if not token or scheme not in ("bearer", "dpop"):
            raise self.refuse("Not authenticated")
        if scheme == "bearer":
            if self.mode == "required":
                raise self.refuse("This service takes DPoP-bound tokens only", "invalid_token", dpop=True)
            claims = self.verify_token(token)
            if claims is None:
                raise self.refuse("Invalid or expired token", "invalid_token")
            if claims.jkt is not None:
                # RFC 9449 7.2: a bound token is no bearer token; its thief has no key.
                raise self.refuse("This token is DPoP-bound: send it with the DPoP scheme and a proof", "invalid_token", dpop=True)
            return claims
        if self.mode == "off":
            raise self.refuse("DPoP is not enabled here", "invalid_token")
        claims = self.verify_token(token)
        if claims is None or claims.jkt is None:
            raise self.refuse("Invalid, expired or unbound token", "invalid_token", dpop=True)
        try:
            proof = self.verifier.verify(request.headers.getlist("dpop"), request.method, str(request.url), token)
        except DpopError as exc:
            raise self.refuse(exc.description, exc.error, dpop=True, nonce=exc.error == "use_dpop_nonce") from None
        if proof.jkt != claims.jkt:
            raise self.refuse("The DPoP proof is signed by another key than the token's", "invalid_dpop_proof", dpop=True)
        if response is not None and self.verifier.require_nonce:
            response.headers["DPoP-Nonce"] = self.verifier.nonces.current()
        return claims


def access_dependency(
    secret: str,
    *,
    dpop: str = "optional",
    redis_url: str | None = None,
    issuers: list[str] | None = None,
    audience: list[str] | None = None,
    previous_secrets: list[str] | None = None,
    leeway: int = 5,
    nonce: bool = True,
    nonce_period: int = 300,
    proof_max_age: int = 60,
) -> Callable[[Request, Response], AccessClaims]:
    """A FastAPI dependency answering the verified AccessClaims for a service that
    shares the secret (and so the access-token key and the DPoP nonces) with this
    backend. `redis_url`: the proof replay cache shared with its other workers."""
    tokens = Tokens(
        secret, 0, leeway, issuers or [DEFAULT_ISSUER], audience or [DEFAULT_AUDIENCE], previous_secrets=previous_secrets
    )
    all_secrets = [secret, *(previous_secrets or [])]
    verifier = DpopVerifier(
        Nonces(all_secrets, nonce_period),
        make_replay_cache(redis_url),
        max_age=proof_max_age,
        leeway=leeway,
        require_nonce=nonce,
    )
    guard = AccessGuard(tokens, verifier, dpop)

    def current_claims(request: Request, response: Response) -> AccessClaims:
        return guard.authenticate(request, response)

    return current_claims
