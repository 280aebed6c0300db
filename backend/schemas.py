"""Request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, EmailStr, Field, model_validator


class RegisterIn(BaseModel):
    email: EmailStr
    password: str = Field(min_length=8, max_length=1024)
    name: str = Field(default="", max_length=200)


class LoginIn(BaseModel):
    email: str | None = Field(default=None, max_length=320)
    username: str | None = Field(default=None, max_length=320)
    password: str = Field(min_length=1, max_length=1024)

    @model_validator(mode="after")
    def _one_identifier(self) -> LoginIn:
        if not (self.email or self.username):
            raise ValueError("email or username is required")
        return self

    @property
    def identifier(self) -> str:
        return (self.email or self.username or "").strip().lower()


class RefreshIn(BaseModel):
    # Optional in the schema: with REFRESH_TOKEN_TRANSPORT=cookie the cookie carries it
    # (and a body of {} is what the client sends); body transport requires it.
    refresh_token: str | None = Field(default=None, min_length=1, max_length=512)


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (a setting, not a secret)
    expires_in: int
    # None when the refresh token travels as an httpOnly cookie instead.
    refresh_token: str | None


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    email_verified: bool
    created_at: datetime


class VerifyEmailIn(BaseModel):
    token: str = Field(min_length=1, max_length=2048)


class IdentityOut(BaseModel):
    provider: str
    created_at: datetime


class IdentitiesOut(BaseModel):
    """The user's ways to sign in: linked providers, and whether a password is set."""

    identities: list[IdentityOut]
    has_password: bool


class SessionOut(BaseModel):
    id: str
    created_at: datetime
    last_used_at: datetime
    user_agent: str
    ip: str
    current: bool


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class NoteOut(BaseModel):
    id: int
    text: str
    created_at: datetime


class MfaChallengeOut(BaseModel):
    """A password sign-in of an account with two-factor: the second step to take."""

    mfa_required: bool = True
    challenge: str
    methods: list[str]
    expires_in: int


class TotpEnrollOut(BaseModel):
    secret: str
    otpauth_uri: str


# A TOTP code: six ASCII digits (spaces, as apps display "123 456", are dropped
# first). str.isdigit would also take other scripts' digits.
TOTP_CODE = r"^[0-9]{6}$"
# A recovery code (xxxx-xxxx-xxxx-xxxx, any case, spaces allowed), or a TOTP code
# where either is accepted.
RECOVERY_CODE = r"^[A-Za-z0-9 -]+$"


def _without_spaces(value: object) -> object:
    return value.replace(" ", "") if isinstance(value, str) else value


TotpCode = Annotated[str, BeforeValidator(_without_spaces), Field(pattern=TOTP_CODE)]


class StepUpIn(BaseModel):
    """Changing two-factor settings asks for the password again (step-up). Accounts
    without a password (social sign-in only) leave it out and need a recent sign-in."""

    password: str | None = Field(default=None, max_length=1024)


class TotpConfirmIn(StepUpIn):
    code: TotpCode


class TotpDisableIn(StepUpIn):
    """`code`: a current TOTP code or a recovery code."""

    code: str = Field(min_length=6, max_length=64, pattern=RECOVERY_CODE)


class MfaVerifyIn(BaseModel):
    challenge: str = Field(min_length=1, max_length=2048)
    code: TotpCode | None = None
    recovery_code: str | None = Field(default=None, max_length=64, pattern=RECOVERY_CODE)


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str]


class MfaStatusOut(BaseModel):
    totp: bool
    recovery_codes_left: int


# Base64url text (RFC 4648 section 5): PKCE verifiers and challenges, state.
B64URL = r"^[A-Za-z0-9_-]+$"


class OAuthProviderOut(BaseModel):
    id: str
    name: str


class OAuthStartIn(BaseModel):
    redirect_uri: str = Field(min_length=1, max_length=2048)
    # RFC 7636 4.2: S256 of a 43..128 character verifier is 43 characters.
    code_challenge: str = Field(min_length=43, max_length=43, pattern=B64URL)
    code_challenge_method: str = Field(default="S256", pattern="^S256$")
    state: str = Field(min_length=16, max_length=512, pattern=B64URL)
    # Link this provider to the signed-in user (bearer required) instead of signing in;
    # step-up: the password, or a sign-in of the last 10 minutes (step_up.py).
    link: bool = False
    password: str | None = Field(default=None, max_length=1024)


class OAuthStartOut(BaseModel):
    authorization_url: str
    flow: str
    # RFC 9207: the provider's issuer, which the callback's `iss` must equal, and
    # whether the provider always sends `iss` (then a callback without it is refused).
    issuer: str
    iss_parameter_supported: bool


class LinkedOut(BaseModel):
    """A link-mode callback's answer: the provider now linked to the signed-in user."""

    linked: str


class OAuthCallbackIn(BaseModel):
    code: str = Field(min_length=1, max_length=4096)
    # RFC 7636 4.1: 43..128 unreserved characters.
    code_verifier: str = Field(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9._~-]+$")
    flow: str = Field(min_length=1, max_length=4096)
    # The `iss` of the authorization response, as the browser received it (RFC 9207).
    iss: str | None = Field(default=None, min_length=1, max_length=2048)


# --- passkeys (WebAuthn) -----------------------------------------------------------

PasskeyName = Annotated[str, Field(max_length=100)]


class PasskeyOptionsOut(BaseModel):
    """A ceremony's first step: the options for navigator.credentials (WebAuthn's JSON
    form, binary fields in base64url) and the signed `ceremony` to send back with the
    credential (five minutes, one use)."""

    ceremony: str
    options: dict[str, Any]


class PasskeyRegisterOptionsIn(StepUpIn):
    """Adding a passkey is a change of how the account signs in: step-up as for
    two-factor (the password, or a recent sign-in for an account without one)."""


class PasskeySignUpOptionsIn(BaseModel):
    email: EmailStr
    name: str = Field(default="", max_length=200)


class PasskeyCredentialIn(BaseModel):
    ceremony: str = Field(min_length=1, max_length=4096)
    # The PublicKeyCredential as JSON (toJSON(): id, rawId, type, response{...}).
    credential: dict[str, Any]
    name: PasskeyName | None = None


class PasskeyOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    # A synced passkey (backup eligible) and whether it is backed up now.
    backup_eligible: bool
    backed_up: bool


class PasskeysOut(BaseModel):
    passkeys: list[PasskeyOut]


class PasskeyRenameIn(BaseModel):
    name: PasskeyName
