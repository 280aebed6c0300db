"""Passkeys: this backend as a WebAuthn relying party (py_webauthn verifies the
attestations and assertions; this module decides what a ceremony may do).

A ceremony (add a passkey, sign up with one, sign in with one) is two requests: its
options, then the browser's credential. Nothing is kept between them on the server:
the options come with a signed `ceremony` token (kind, challenge, the user it is for,
five minutes) under a key derived for this purpose only, and any worker can finish what
another started. Single use is state: finishing a ceremony first inserts its id into
`passkey_challenges` (the database every worker shares, as two-factor challenges do),
so a replayed credential, or a second answer to the same options, is refused.

RP ID and the allowed origins come from settings (the CORS origins on RP_ID) and are
compared exactly; user verification is required in every ceremony; the signature
counter may only grow (a conditional UPDATE, so two racing sign-ins cannot both pass
with one count), and the backup flags are stored at each use."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .db import Passkey, PasskeyChallenge, rowcount, utcnow
from .errors import ApiError
from .security import PurposeSigner
from .settings import Settings

CEREMONY_TTL = 300
# What the browser is told to wait for the person (a hint; the token's TTL is the rule).
TIMEOUT_MS = 120_000
REGISTER, SIGN_UP, SIGN_IN = "register", "signup", "signin"
# What a hostile or broken credential makes py_webauthn raise: its own refusals, and
# the errors of fields of the wrong type or encoding (never a 500).
MALFORMED = (WebAuthnException, ValueError, KeyError, TypeError, AttributeError, IndexError)


@dataclass(frozen=True)
class Ceremony:
    kind: str
    challenge: bytes
    jti: str
    expires_at: int
    # register: the signed-in user; signup: the id the new account will get.
    user_id: str | None = None
    email: str | None = None
    name: str | None = None


class RelyingParty:
    """The WebAuthn side: options and verification, with RP_ID and origins from settings."""

    def __init__(self, settings: Settings, secret: str, previous: list[str] | tuple[str, ...] = ()) -> None:
        self.rp_id = settings.passkey_rp_id
        self.rp_name = settings.webauthn_rp_name
        self.origins = settings.passkey_origins
        self._signer = PurposeSigner(b"auth-wasm passkey ceremony", secret, previous)

    # --- ceremonies -------------------------------------------------------------------

    def _issue(self, kind: str, challenge: bytes, **who: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "purpose": "passkey",
            "kind": kind,
            "chl": bytes_to_base64url(challenge),
            "jti": secrets.token_hex(16),
            "iat": now,
            "exp": now + CEREMONY_TTL,
            **who,
        }
        return self._signer.sign(claims)

    def read(self, token: str, kind: str) -> Ceremony:
        """The ceremony of `kind` that `token` signs, or 400 `challenge_expired`."""
        claims = self._signer.read(token, ["exp", "jti", "chl"]) if token else None
        if claims is None or claims.get("purpose") != "passkey" or claims.get("kind") != kind:
            raise ceremony_expired()
        text = {k: claims.get(k) for k in ("chl", "jti", "sub", "email", "name")}
        if not all(isinstance(v, str) for v in (text["chl"], text["jti"])):
            raise ceremony_expired()
        def opt(key: str) -> str | None:
            value = text[key]
            return value if isinstance(value, str) else None

        return Ceremony(
            kind=kind,
            challenge=base64url_to_bytes(str(text["chl"])),
            jti=str(text["jti"]),
            expires_at=int(claims["exp"]),
            user_id=opt("sub"),
            email=opt("email"),
            name=opt("name"),
        )

    def registration(self, kind: str, user_id: str, email: str, name: str, exclude: list[Passkey]) -> tuple[str, str]:
        """(ceremony token, options JSON) to create a discoverable, user-verified passkey."""
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=self.rp_name,
            # The user handle is the account id (random, no personal data): a discoverable
            # passkey hands it back at sign-in.
            user_id=user_id.encode(),
            user_name=email,
            user_display_name=name or email,
            timeout=TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in exclude],
        )
        who = {"sub": user_id} if kind == REGISTER else {"sub": user_id, "email": email, "name": name}
        return self._issue(kind, options.challenge, **who), options_to_json(options)

    def authentication(self) -> tuple[str, str]:
        """(ceremony token, options JSON) for a usernameless sign-in (no allowCredentials:
        the authenticator offers the passkeys it holds for RP_ID; autofill uses the same)."""
        options = generate_authentication_options(
            rp_id=self.rp_id, timeout=TIMEOUT_MS, user_verification=UserVerificationRequirement.REQUIRED
        )
        return self._issue(SIGN_IN, options.challenge), options_to_json(options)

    def verify_registration(self, ceremony: Ceremony, credential: dict[str, Any]) -> Passkey:
        """The new passkey (not yet stored), or 400 `passkey_invalid`."""
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=ceremony.challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origins,
                require_user_verification=True,
            )
        except MALFORMED as exc:
            raise passkey_invalid(exc) from None
        transports = credential.get("response", {}).get("transports") if isinstance(credential.get("response"), dict) else None
        return Passkey(
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            backup_eligible=verified.credential_device_type == "multi_device",
            backed_up=verified.credential_backed_up,
            transports=",".join(t for t in transports if isinstance(t, str))[:200] if isinstance(transports, list) else "",
            aaguid=verified.aaguid[:36],
        )

    def verify_authentication(self, db: Session, ceremony: Ceremony, credential: dict[str, Any]) -> Passkey:
        """The passkey that signed this sign-in, its counter and flags updated; 401
        `invalid_credentials` for an unknown passkey (or one whose user handle names
        another account), 400 `passkey_invalid` for an answer that does not verify."""
        try:
            parsed = parse_authentication_credential_json(credential)
        except MALFORMED as exc:
            raise passkey_invalid(exc) from None
        passkey = db.scalars(select(Passkey).where(Passkey.credential_id == bytes_to_base64url(parsed.raw_id))).first()
        handle = parsed.response.user_handle
        if passkey is None or (handle is not None and handle != passkey.user_id.encode()):
            raise unknown_passkey()
        try:
            verified = verify_authentication_response(
                credential=parsed,
                expected_challenge=ceremony.challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origins,
                credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=True,
            )
        except MALFORMED as exc:
            raise passkey_invalid(exc) from None
        # Only from the count this check saw: two answers racing with one count, or a
        # cloned authenticator's, cannot both pass.
        won = rowcount(db.execute(
            update(Passkey)
            .where(Passkey.id == passkey.id, Passkey.sign_count == passkey.sign_count)
            .values(
                sign_count=verified.new_sign_count,
                backed_up=verified.credential_backed_up,
                last_used_at=utcnow(),
            )
        ))
        db.commit()
        if won != 1:
            raise passkey_invalid(ValueError("signature counter changed meanwhile"))
        db.refresh(passkey)
        return passkey


def use_ceremony(db: Session, ceremony: Ceremony) -> None:
    """Mark the ceremony answered (before its credential is even checked, so two answers
    to one set of options never both proceed); 400 `challenge_expired` when it was."""
    db.execute(delete(PasskeyChallenge).where(PasskeyChallenge.expires_at < int(time.time()) - 60))
    db.add(PasskeyChallenge(jti=ceremony.jti, expires_at=ceremony.expires_at))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise ceremony_expired("This passkey request was already answered: start again") from None


def passkeys_of(db: Session, user_id: str) -> list[Passkey]:
    return list(db.scalars(select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at, Passkey.id)))


def ceremony_expired(detail: str = "The passkey request expired: start again") -> ApiError:
    return ApiError(400, "challenge_expired", detail)


def passkey_invalid(exc: Exception) -> ApiError:
    # py_webauthn's reason names what failed (origin, RP ID, challenge, counter, flags),
    # never key material: safe to return, and what a developer needs.
    return ApiError(400, "passkey_invalid", f"The passkey answer was refused: {exc}")


def unknown_passkey() -> ApiError:
    return ApiError(401, "invalid_credentials", "This passkey is not registered here")
