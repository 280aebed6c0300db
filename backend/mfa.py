"""Two-factor sign-in: TOTP (RFC 6238) factors, one-time recovery codes and the
short-lived challenge a password sign-in answers with when a factor is enabled.

Codes are checked within one time step either way (clock drift) and only for steps
newer than the last one accepted (a conditional UPDATE), so a code works once even
when two requests race. The challenge is a JWT signed with a key derived from the
secret for this purpose only, so it can never pass as an access token; the database
records its use (mfa_challenges), so it gives one session and dies after five wrong
codes on every worker. Wrong codes in a row also lock the factor for a growing time."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import MfaChallenge, RecoveryCode, TotpFactor, rowcount, utcnow
from .security import PurposeSigner

ISSUER = "auth-wasm"
CHALLENGE_TTL = 300
RECOVERY_CODES = 10
METHODS = ["totp", "recovery_code"]


def new_secret() -> str:
    return pyotp.random_base32()


def otpauth_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


TOTP_CODE = re.compile(r"[0-9]{6}")


def accept_totp(db: Session, factor: TotpFactor, code: str, now: float | None = None) -> bool:
    """True (and the step recorded) when `code` is valid now and newer than the last used."""
    code = code.strip().replace(" ", "")
    # ASCII digits only: str.isdigit also takes e.g. Arabic-Indic digits, which
    # compare_digest then refuses with a TypeError.
    if TOTP_CODE.fullmatch(code) is None:
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


# --- recovery codes -------------------------------------------------------------

RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base32, lower case
RECOVERY_CHARS = 16  # 80 bits
RECOVERY_GROUP = 4


def normalize_recovery_code(code: str) -> str:
    """What is hashed: case, spaces and dashes do not matter when typing one."""
    return "".join(code.split()).replace("-", "").lower()


class RecoveryCodes:
    """Issues and accepts one-time recovery codes: 80 random bits each, shown as
    xxxx-xxxx-xxxx-xxxx, stored as HMAC-SHA256 of (user id, code) under a key derived
    from the secret for this purpose only. A code hashed before a secret rotation
    still works while that secret is listed in BETTER_AUTH_SECRET_PREVIOUS."""

    def __init__(self, secret: str, previous: list[str] | tuple[str, ...] = ()) -> None:
        self._keys = [hmac.new(s.encode(), b"auth-wasm recovery code", hashlib.sha256).digest() for s in (secret, *previous)]

    def _hashes(self, user_id: str, code: str) -> list[str]:
        message = f"{user_id}\x00{normalize_recovery_code(code)}".encode()
        return [hmac.new(key, message, hashlib.sha256).hexdigest() for key in self._keys]

    def issue(self, db: Session, user_id: str) -> list[str]:
        """Ten fresh codes; any earlier ones stop working."""
        db.query(RecoveryCode).filter(RecoveryCode.user_id == user_id).delete()
        codes = []
        for _ in range(RECOVERY_CODES):
            raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CHARS))
            codes.append("-".join(raw[i : i + RECOVERY_GROUP] for i in range(0, RECOVERY_CHARS, RECOVERY_GROUP)))
        db.add_all(RecoveryCode(user_id=user_id, code_hash=self._hashes(user_id, c)[0]) for c in codes)
        db.commit()
        return codes

    def accept(self, db: Session, user_id: str, code: str) -> bool:
        """True when `code` is one of the user's unused codes; it is used up at once
        (a conditional UPDATE, so two racing requests cannot both use it)."""
        if len(normalize_recovery_code(code)) != RECOVERY_CHARS:
            return False
        won = rowcount(db.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash.in_(self._hashes(user_id, code)),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
        ))
        db.commit()
        return won == 1


def recovery_codes_left(db: Session, user_id: str) -> int:
    return len(db.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))).all())


# --- lockout --------------------------------------------------------------------

# Wrong codes (across challenges) before each further one locks the factor for a while:
# 30 s, then 60 s, 120 s, ... at most an hour. A guesser then gets about 24 tries a day;
# with three codes in a million accepted at a time, a year of it succeeds under 3%.
FREE_FAILURES = 5
LOCKOUT_BASE = 30
LOCKOUT_MAX = 3600


def lockout_delay(failures: int) -> int:
    """Seconds the factor is locked after its `failures`-th wrong code in a row."""
    if failures <= FREE_FAILURES:
        return 0
    return min(LOCKOUT_MAX, LOCKOUT_BASE << min(failures - FREE_FAILURES - 1, 16))


def locked_for(factor: TotpFactor, now: float | None = None) -> int | None:
    """Seconds left of a lockout (for Retry-After), or None when codes may be tried."""
    left = factor.locked_until - (now if now is not None else time.time())
    return max(1, math.ceil(left)) if left > 0 else None


def record_failure(db: Session, user_id: str) -> int:
    """Count one wrong code; returns the lockout it starts (0 for none). The count is
    incremented in the database, so workers share it."""
    db.execute(update(TotpFactor).where(TotpFactor.user_id == user_id).values(failed_attempts=TotpFactor.failed_attempts + 1))
    db.commit()
    failures = db.scalar(select(TotpFactor.failed_attempts).where(TotpFactor.user_id == user_id)) or 0
    delay = lockout_delay(failures)
    if delay:
        until = int(time.time()) + delay
        db.execute(update(TotpFactor).where(TotpFactor.user_id == user_id, TotpFactor.locked_until < until).values(locked_until=until))
        db.commit()
    return delay


def record_success(db: Session, user_id: str) -> None:
    db.execute(update(TotpFactor).where(TotpFactor.user_id == user_id).values(failed_attempts=0, locked_until=0))
    db.commit()


# --- challenges -----------------------------------------------------------------

CHALLENGE_MAX_FAILURES = 5


@dataclass(frozen=True)
class ChallengeRef:
    user_id: str
    jti: str
    expires_at: int


def claim_challenge(db: Session, ref: ChallengeRef) -> bool:
    """Take the challenge for one code check. False when it was already used, is being
    checked by another request right now, or has had its five wrong codes. Claiming
    first means parallel guesses on one challenge cannot get past the limit."""
    db.execute(delete(MfaChallenge).where(MfaChallenge.expires_at < int(time.time()) - 60))
    db.commit()
    try:
        db.add(MfaChallenge(jti=ref.jti, user_id=ref.user_id, expires_at=ref.expires_at))
        db.commit()
    except IntegrityError:
        db.rollback()  # seen before (this worker or another)
    won = rowcount(db.execute(
        update(MfaChallenge)
        .where(
            MfaChallenge.jti == ref.jti,
            MfaChallenge.user_id == ref.user_id,
            MfaChallenge.claimed_at.is_(None),
            MfaChallenge.failures < CHALLENGE_MAX_FAILURES,
        )
        .values(claimed_at=utcnow())
    ))
    db.commit()
    return won == 1


def release_challenge(db: Session, ref: ChallengeRef) -> bool:
    """After a wrong code: one more failure, claim released. True while it still lives."""
    db.execute(
        update(MfaChallenge)
        .where(MfaChallenge.jti == ref.jti)
        .values(claimed_at=None, failures=MfaChallenge.failures + 1)
    )
    db.commit()
    failures = db.scalar(select(MfaChallenge.failures).where(MfaChallenge.jti == ref.jti)) or 0
    return failures < CHALLENGE_MAX_FAILURES


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
        ref = self.open(challenge)
        return ref.user_id if ref is not None else None

    def open(self, challenge: str) -> ChallengeRef | None:
        """The challenge's user, id and expiry, or None for an expired or forged one.
        Whether it was used already is for claim_challenge (the database) to say."""
        claims = self._signer.read(challenge, ["exp", "sub", "jti"])
        if claims is None or claims.get("purpose") != "mfa":
            return None
        sub, jti, exp = claims.get("sub"), claims.get("jti"), claims.get("exp")
        if not (isinstance(sub, str) and isinstance(jti, str) and isinstance(exp, int)):
            return None
        return ChallengeRef(user_id=sub, jti=jti, expires_at=exp)
