"""Outgoing mail (verification links): SMTP when SMTP_URL is set; in dev mode without
it, the message goes to the backend log; otherwise nothing is sent (a warning at start).

SMTP_URL is `smtp://[user:pass@]host[:port]` (STARTTLS required unless the host is
loopback) or `smtps://...` (TLS from the first byte)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

from .settings import ConfigError, Settings

log = logging.getLogger("backend")

SMTP_TIMEOUT = 10.0
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    def send(self, mail: Mail) -> None:
        """Deliver `mail`; raises on failure (callers log the type only)."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool
    user: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpConfig:
    """SMTP_URL's parts; ConfigError (never echoing the value: it may hold a password)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("SMTP_URL must look like smtp://[user:pass@]host[:port] or smtps://...")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise ConfigError("SMTP_URL has an invalid port") from None
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return SmtpConfig(parts.hostname, port, parts.scheme == "smtps", user, password)


class SmtpMailer:
    def __init__(self, config: SmtpConfig, sender: str) -> None:
        self._config = config
        self._sender = sender

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        # 7bit when it can be: the link stays one line a person can copy from the raw
        # mail (quoted-printable would cut it); lines stay far under SMTP's 998.
        message.set_content(mail.body, cte="7bit" if mail.body.isascii() else None)
        c = self._config
        if c.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=SMTP_TIMEOUT)
        with smtp:
            smtp.ehlo()
            if not c.implicit_tls and c.host not in LOOPBACK_HOSTS:
                # Never in clear past this machine: the mail carries a sign-in link and
                # the login a password, and an attacker on the path can strip the offer.
                if not smtp.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError("the SMTP server offers no STARTTLS")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if c.user is not None:
                smtp.login(c.user, c.password or "")
            smtp.send_message(message)


class LogMailer:
    """Dev mode without SMTP: the message in the backend log (the only place a
    verification link is ever logged)."""

    def send(self, mail: Mail) -> None:
        log.warning("AUTH_DEV_MODE mail to %s: %s\n%s", mail.to, mail.subject, mail.body)


class NoMailer:
    """Neither SMTP nor dev mode: nothing is sent (accounts stay unverified)."""

    def send(self, mail: Mail) -> None:
        log.warning("no SMTP_URL: a mail (%s) was not sent", mail.subject)


def make_mailer(settings: Settings) -> Mailer:
    if settings.smtp_url:
        return SmtpMailer(parse_smtp_url(settings.smtp_url), settings.mail_from)
    if settings.auth_dev_mode:
        return LogMailer()
    log.warning("SMTP_URL is not set: verification mail is not sent, so new accounts stay unverified")
    return NoMailer()


def deliver(mailer: Mailer, mail: Mail) -> None:
    """Send after the response (a background task): a mail server that is down or
    slow must not fail or delay the request; the owner can ask for another mail."""
    try:
        mailer.send(mail)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("mail to %s not sent: %s", mail.to, type(exc).__name__)
