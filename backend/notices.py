"""Security notices: the user is told by mail when their account's protection changes
or is under attack (two-factor turned on or off, new recovery codes, a recovery code
used, two-factor locked after wrong codes).

Every notice goes through `security_notice`. The mail leaves on a thread of its own:
some notices accompany an error answer (the lockout), where FastAPI's background tasks
never run, and no notice may delay or fail the request (the change already happened).
The log line names the user id and the event only (never a code, secret or password)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Literal

from .db import User
from .mailer import Mail, deliver

if TYPE_CHECKING:
    from .deps import AppState

log = logging.getLogger("backend")

Notice = Literal[
    "totp_enabled",
    "totp_disabled",
    "recovery_codes_regenerated",
    "recovery_code_used",
    "mfa_locked",
]

# What each notice says; the closing line is the same for all of them.
_SUBJECTS: dict[Notice, str] = {
    "totp_enabled": "Two-factor sign-in was turned on",
    "totp_disabled": "Two-factor sign-in was turned off",
    "recovery_codes_regenerated": "New recovery codes were made",
    "recovery_code_used": "A recovery code was used to sign in",
    "mfa_locked": "Two-factor sign-in is locked after wrong codes",
}
_UNEXPECTED = (
    "If this was not you, sign in, change your password and review your sessions and "
    "two-factor settings on the security page at once."
)


def notice_mail(user: User, what: Notice) -> Mail:
    subject = _SUBJECTS[what]
    body = f"{subject} on the account {user.email}.\n\n{_UNEXPECTED}\n"
    return Mail(to=user.email, subject=subject, body=body)


def security_notice(state: AppState, user: User, what: Notice) -> None:
    """Tell `user` that `what` happened to their account."""
    log.info("security notice for user %s: %s", user.id, what)
    threading.Thread(target=deliver, args=(state.mailer, notice_mail(user, what)), daemon=True).start()
