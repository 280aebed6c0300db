"""Email verification: a signed link token (24 h) that proves the owner of an address
reads its mail. The token names the user and the address it was sent to, under a key
derived for this purpose only (it can never pass as an access token, a challenge or
a social flow). Single use: the first use marks the account verified with a
conditional UPDATE, and a token of a verified account is refused as used, so two
uses racing have one winner."""

from __future__ import annotations

import secrets
import time
from enum import Enum
from urllib.parse import quote

from sqlalchemy import update
from sqlalchemy.orm import Session

from .db import User, rowcount
from .errors import ApiError
from .mailer import Mail
from .security import PurposeSigner

TOKEN_TTL = 24 * 3600
PURPOSE = "verify-email"


class Outcome(Enum):
    VERIFIED = "verified"
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"


class EmailVerifier:
    def __init__(self, secret: str, previous: list[str] | tuple[str, ...], link_prefix: str) -> None:
        self._signer = PurposeSigner(b"auth-wasm email verification", secret, previous)
        self._link_prefix = link_prefix

    def issue(self, user: User, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {
            "purpose": PURPOSE,
            "sub": user.id,
            "email": user.email,
            "iat": issued,
            "exp": issued + TOKEN_TTL,
            "jti": secrets.token_hex(8),
        }
        return self._signer.sign(claims)

    def mail(self, user: User) -> Mail:
        link = self._link_prefix + quote(self.issue(user), safe="")
        body = (
            f"Confirm that {user.email} is your address by opening this link (valid for 24 hours):\n\n"
            f"{link}\n\n"
            "If you did not create an account, ignore this mail: nothing happens without the link.\n"
        )
        return Mail(to=user.email, subject="Confirm your email address", body=body)

    def use(self, db: Session, token: str) -> tuple[Outcome, User | None]:
        """What the token did, and the account it verified."""
        outcome, user = self._use(db, token)
        if outcome is Outcome.VERIFIED and user is not None:
            db.refresh(user)
        return outcome, user

    def _use(self, db: Session, token: str) -> tuple[Outcome, User | None]:
        claims = self._signer.read(token, ["exp", "sub", "email"], verify_exp=False)
        if claims is None or claims.get("purpose") != PURPOSE:
            return Outcome.INVALID, None
        sub, email, exp = claims.get("sub"), claims.get("email"), claims.get("exp")
        if not isinstance(sub, str) or not isinstance(email, str) or not isinstance(exp, int):
            return Outcome.INVALID, None
        user = db.get(User, sub)
        # Sent to another address than the account has now: not proof of this one.
        if user is None or user.email != email:
            return Outcome.INVALID, None
        if user.email_verified:
            return Outcome.USED, None
        if exp < time.time():
            return Outcome.EXPIRED, None
        won = rowcount(
            db.execute(update(User).where(User.id == sub, User.email == email, User.email_verified.is_(False)).values(email_verified=True))
        )
        db.commit()
        return (Outcome.VERIFIED, user) if won == 1 else (Outcome.USED, None)


def refusal(outcome: Outcome) -> ApiError:
    """The 400 for a token that verified nothing; each reason has its code."""
    if outcome is Outcome.EXPIRED:
        return ApiError(400, "verification_expired", "This verification link has expired: ask for a new one")
    if outcome is Outcome.USED:
        return ApiError(400, "verification_used", "This verification link was already used")
    return ApiError(400, "verification_invalid", "This verification link is not valid")
