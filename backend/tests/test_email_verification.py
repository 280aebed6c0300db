"""Email verification: the mail a real SMTP server on loopback receives, its link, and
the token's rules (single use, 24 h, signed for this purpose only)."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from backend.db import User
from backend.email_verification import TOKEN_TTL
from backend.mailer import parse_smtp_url
from backend.security import PurposeSigner
from backend.settings import ConfigError

from .conftest import SECRET, bearer, claims_of, forge, register


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


@pytest.fixture
def mailed(make_client, mailbox):
    return make_client(smtp_url=mailbox.url)


def test_sign_up_mails_a_link_that_verifies_the_account(mailed, mailbox):
    pair = register(mailed, email="new@example.com")
    me = mailed.get("/auth/me", headers=bearer(pair["access_token"])).json()
    assert me["email_verified"] is False, "signed in at once, but not verified"
    [message] = mailbox.messages
    assert message["To"] == "new@example.com"
    [link] = mailbox.links()
    # The link opens the app's page; the page posts the token (no sign-in needed).
    r = mailed.post("/auth/verify-email", json={"token": token_of(link)})
    assert r.status_code == 200, r.text
    assert r.json()["email_verified"] is True and r.json()["id"] == me["id"]
    assert mailed.get("/auth/me", headers=bearer(pair["access_token"])).json()["email_verified"] is True


def test_a_link_works_once(mailed, mailbox):
    register(mailed, email="once@example.com")
    token = token_of(mailbox.links()[0])
    assert mailed.post("/auth/verify-email", json={"token": token}).status_code == 200
    again = mailed.post("/auth/verify-email", json={"token": token})
    assert (again.status_code, again.json()["code"]) == (400, "verification_used")


def test_an_expired_link_is_refused_and_verifies_nothing(mailed):
    pair = register(mailed, email="late@example.com")
    state = mailed.app.state.auth
    with state.sessions() as db:
        user = db.get(User, claims_of(pair["access_token"])["sub"])
        token = state.verifier.issue(user, now=time.time() - TOKEN_TTL - 60)
    r = mailed.post("/auth/verify-email", json={"token": token})
    assert (r.status_code, r.json()["code"]) == (400, "verification_expired")
    assert mailed.get("/auth/me", headers=bearer(pair["access_token"])).json()["email_verified"] is False


def test_forged_and_foreign_tokens_are_refused(mailed):
    pair = register(mailed, email="forge@example.com")
    sub = claims_of(pair["access_token"])["sub"]
    now = int(time.time())
    claims = {"purpose": "verify-email", "sub": sub, "email": "forge@example.com", "iat": now, "exp": now + 600}
    for token in [
        # Signed with the raw secret (an access token's key) instead of the derived one.
        forge(claims),
        # Another purpose's key (the social sign-in flow's).
        PurposeSigner(b"auth-wasm oauth flow", SECRET).sign(claims),
        # The access token itself.
        pair["access_token"],
        "not-a-token",
    ]:
        r = mailed.post("/auth/verify-email", json={"token": token})
        assert (r.status_code, r.json()["code"]) == (400, "verification_invalid"), token
    assert mailed.get("/auth/me", headers=bearer(pair["access_token"])).json()["email_verified"] is False


def test_resend_mails_a_new_link_and_is_rate_limited(make_client, mailbox):
    client = make_client(smtp_url=mailbox.url, rate_limit_auth="4/60")
    pair = register(client, email="again@example.com")
    assert client.post("/auth/verify-email/resend").status_code == 401
    statuses = [client.post("/auth/verify-email/resend", headers=bearer(pair["access_token"])).status_code for _ in range(4)]
    assert statuses[0] == 204 and statuses[-1] == 429
    links = mailbox.links()
    assert len(links) == 1 + statuses.count(204) and len(set(links)) == len(links)
    # Any of them verifies; afterwards there is nothing to resend.
    client.app.state.auth.auth_limiter.reset()
    assert client.post("/auth/verify-email", json={"token": token_of(links[-1])}).status_code == 200
    done = client.post("/auth/verify-email/resend", headers=bearer(pair["access_token"]))
    assert (done.status_code, done.json()["code"]) == (409, "already_verified")
    old = client.post("/auth/verify-email", json={"token": token_of(links[0])})
    assert old.json()["code"] == "verification_used"


def test_links_point_at_the_configured_page(make_client, mailbox):
    client = make_client(smtp_url=mailbox.url, email_verify_url="https://app.example/confirm?t=")
    register(client, email="page@example.com")
    assert mailbox.links("https://app.example/confirm?t=")


def test_dev_mode_without_smtp_logs_the_mail_and_production_never_logs_a_link(make_client, caplog):
    caplog.set_level(logging.WARNING, logger="backend")
    register(make_client(auth_dev_mode=True), email="dev@example.com")
    assert "/verify-email?token=" in caplog.text
    caplog.clear()
    register(make_client(), email="prod@example.com")
    assert "token=" not in caplog.text
    assert "not sent" in caplog.text


def test_smtp_url_errors_never_echo_the_value():
    with pytest.raises(ConfigError) as err:
        parse_smtp_url("http://user:hunter2@mail.example")
    assert "hunter2" not in str(err.value)
    parsed = parse_smtp_url("smtps://me%40x:p%3Ass@mail.example")
    assert (parsed.host, parsed.port, parsed.implicit_tls, parsed.user, parsed.password) == ("mail.example", 465, True, "me@x", "p:ss")


def test_mail_is_never_sent_in_clear_to_a_server_without_starttls():
    """Past loopback a server that offers no STARTTLS (or an attacker who stripped the
    offer) gets nothing: the mail carries a sign-in link. 127.0.0.2 is loopback to the
    kernel but not to the mailer's allow-list, so it stands in for a remote host."""
    import smtplib

    from backend.mailer import Mail, SmtpMailer

    from .conftest import serve_mailbox

    with serve_mailbox("127.0.0.2") as box:
        mailer = SmtpMailer(parse_smtp_url(box.url), "auth@example.com")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            mailer.send(Mail(to="a@example.com", subject="s", body="link"))
        assert box.messages == []
