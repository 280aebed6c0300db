"""Security notices: the user is told when their account's protection changes or is
under attack (two-factor turned on or off, new recovery codes, a recovery code used,
two-factor locked after wrong codes).

Every notice goes through `security_notice`, the one place to connect a mailer. Until
then it logs the event with the user id only (never a code, secret or password)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from .db import User

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


def security_notice(state: AppState, user: User, what: Notice) -> None:
    """Tell `user` that `what` happened to their account. `state` is where the mailer
    will come from; once it sends mail, a failure to send must be logged, never raised
    (the change it reports has already happened)."""
    del state  # unused until the mailer is connected
    log.info("security notice for user %s: %s", user.id, what)
