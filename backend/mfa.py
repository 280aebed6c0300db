"""Two-factor sign-in: TOTP (RFC 6238) factors, one-time recovery codes and the
short-lived challenge a password sign-in answers with when a factor is enabled.

Codes are checked within one time step either way (clock drift) and only for steps
newer than the last one accepted (a conditional UPDATE), so a code works once even
when two requests race. The challenge is a JWT signed with a key derived from the
secret for this purpose only, so it can never pass as an access token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime

import pyotp
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .db import RecoveryCode, TotpFactor, rowcount, utcnow
from .security import PurposeSigner

ISSUER = "auth-wasm"
CHALLENGE_TTL = 300
RECOVERY_CODES = 10
METHODS = ["totp", "recovery_code"]


def new_secret() -> str:
    return pyotp.random_base32()


def otpauth_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def accept_totp(db: Session, factor: TotpFactor, code: str, now: float | None = None) -> bool:
    """True (and the step recorded) when `code` is valid now and newer than the last used."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(factor.secret)
    current = totp.timecode(datetime.fromtimestamp(now if now is not None else time.time(), UTC))
    for step in (current - 1, current, current + 1):
        if step > factor.last_step and hmac.compare_digest(totp.generate_otp(step), code):
            won = rowcount(db.execute(
                update(TotpFactor)
                .where(TotpFactor.user_id == factor.user_id, TotpFactor.last_step < step)
                .values(last_step=step)
            ))
            db.commit()
            return won == 1
    return False


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()


def new_recovery_codes(db: Session, user_id: str) -> list[str]:
    """Ten fresh codes (xxxxx-xxxxx); any earlier ones stop working."""
    db.query(RecoveryCode).filter(RecoveryCode.user_id == user_id).delete()
    codes = [f"{secrets.token_hex(3)[:5]}-{secrets.token_hex(3)[:5]}" for _ in range(RECOVERY_CODES)]
    db.add_all(RecoveryCode(code_hash=_hash(c), user_id=user_id) for c in codes)
    db.commit()
    return codes


def accept_recovery_code(db: Session, user_id: str, code: str) -> bool:
    won = rowcount(db.execute(
        update(RecoveryCode)
        .where(RecoveryCode.code_hash == _hash(code), RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    ))
    db.commit()
    return won == 1


def recovery_codes_left(db: Session, user_id: str) -> int:
    return len(
        db.scalars(
            select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        ).all()
    )


class Challenges:
    """Issues and reads the pending second step of a sign-in."""

    def __init__(self, secret: str, previous: list[str] | tuple[str, ...] = ()) -> None:
        self._signer = PurposeSigner(b"auth-wasm mfa challenge", secret, previous)

    def issue(self, user_id: str) -> str:
        now = int(time.time())
        claims = {"sub": user_id, "purpose": "mfa", "iat": now, "exp": now + CHALLENGE_TTL, "jti": secrets.token_hex(8)}
        return self._signer.sign(claims)

    def read(self, challenge: str) -> str | None:
        """The user id, or None for an expired or forged challenge."""
        claims = self._signer.read(challenge, ["exp", "sub"])
        if claims is None:
            return None
        return claims["sub"] if claims.get("purpose") == "mfa" and isinstance(claims.get("sub"), str) else None
