"""Security notices: the user is told when their account's protection changes or is
under attack (two-factor turned on or off, new recovery codes, a recovery code used,
two-factor locked after wrong codes).

Every notice goes through `security_notice`, the one place to connect a mailer. Until
then it logs the event with the user id only (never a code, secret or password)."""

from __future__ import annotations

import logging
from typing import Literal

from .db import User

log = logging.getLogger("backend")

Notice = Literal[
    "totp_enabled",
    "totp_disabled",
    "recovery_codes_regenerated",
    "recovery_code_used",
    "mfa_locked",
]


def security_notice(state: object, user: User, what: Notice) -> None:
    """Tell `user` that `what` happened to their account. `state` (the AppState) is
    where a mailer will come from; a failure to notify never fails the request."""
    del state  # unused until the mailer is connected
    try:
        log.info("security notice for user %s: %s", user.id, what)
    except Exception:  # noqa: BLE001 - a notice must never break the action it reports
        pass
