//! The engine's requests as the shell sees them: every request the engine asks for
//! (login, refresh_request, me, ...) carries an id and a kind, and one input (`reply`) takes every answer; the
//! engine remembers what each id was (as quinn-proto's `Connection` keeps its streams,
//! and matrix-sdk-crypto's `mark_request_as_sent(id, type, response)` is answered by id).
//! So the shell never says which answer it is handing back, nor repeats the context
//! (which sessions call, which account call) it started with.

use crate::prelude::*;

use super::{Engine, Outgoing, Reply};
use crate::core::account::AccountOp;
use crate::core::clock::Millis;
use crate::core::error::AuthError;
use crate::core::passkey;
use crate::core::protocol::{HttpRequest, Op, SessionsOp};

/// Requests awaiting an answer are forgotten beyond this many (a logout sent best
/// effort, a request whose fetch failed): the shell never answers those. Far more than
/// a page has in flight at once (one refresh, a few user calls).
const REMEMBERED: usize = 32;

/// What a request is. Calls with an argument keep only which call it was: their
/// answers never read the argument (a revoked session's id, a verification token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Login, register, a social callback, and Better Auth's exchange after them.
    SignIn(Op),
    Mfa,
    Refresh,
    Logout,
    Me,
    Sessions(SessionsOp<'static>),
    Account(AccountOp<'static>),
    /// The start of a social sign-in (or link): the provider's URL comes back.
    SocialStart,
    /// A passkey call that is no sign-in (the sign-ins are `SignIn(Op::Passkey)`).
    Passkey(passkey::Answer),
}

impl Kind {
    /// The client's own auth requests carry the refresh cookie (with the cookie
    /// transport); the user's API calls (me, sessions, account) do not.
    pub fn carries_cookie(self) -> bool {
        !matches!(
            self,
            Kind::Me
                | Kind::Sessions(_)
                | Kind::Passkey(_)
                | Kind::Account(
                    AccountOp::VerifyEmail(_)
                        | AccountOp::ResendVerification
                        | AccountOp::Identities
                        | AccountOp::Unlink(_)
                )
        )
    }
}

/// A request for the shell to send; `id` comes back with its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Issued {
    pub id: u32,
    pub kind: Kind,
    pub out: Outgoing,
}

/// What an answer leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Done: signed in (store, broadcast, emit `signed_in`), refreshed, or a call
    /// with nothing to return.
    Done,
    /// Send this next and answer it the same way (Better Auth's exchange).
    Next(Issued),
    /// The account exists but the answer signed nobody in: log in now.
    LogIn,
    /// The password was right and a second factor is needed.
    Mfa,
    /// What was asked for, as JSON text: the user, a list, the provider's URL.
    Text(String),
}

/// The requests awaiting an answer: request `id` in slot `id % REMEMBERED`, so a
/// new request takes the place of the one issued `REMEMBERED` requests before it.
#[derive(Debug)]
pub struct Pending {
    next_id: u32,
    open: [(u32, Option<Kind>); REMEMBERED],
}

impl Default for Pending {
    // `from_fn`, not an array repeat: the repeat was built aside and copied in.
    fn default() -> Self {
        Pending {
            next_id: 0,
            open: core::array::from_fn(|_| (0, None)),
        }
    }
}

impl Engine {
    /// The one input for every answer: the reply to the request `id`.
    pub fn reply(&mut self, id: u32, reply: &Reply, local: Millis) -> Result<Answer, AuthError> {
        let kind = match self.requests.open.get_mut(id as usize % REMEMBERED) {
            Some((open, kind)) if *open == id => kind.take(),
            _ => None,
        };
        let Some(kind) = kind else {
            return Err(AuthError::config("No request is waiting for this answer"));
        };
        // Every answer's `Date` tells the server's clock, once here for all kinds.
        self.observe(reply.date, local);
        // The answers that are text share one conversion to `Answer::Text`.
        let text = match kind {
            Kind::SignIn(op) => return self.sign_in_answer(op, reply, local),
            Kind::Mfa => return self.mfa_answer(reply, local),
            Kind::Refresh => return self.refresh_answer(reply, local),
            // Sent best effort: signing out never waits for, nor reads, its answer.
            Kind::Logout => return Ok(Answer::Done),
            Kind::Me => self.me_answer(reply),
            Kind::Sessions(what) => self.sessions_answer(what, reply),
            Kind::Account(op) => self.account_answer(op, reply),
            Kind::SocialStart => self.social_started(reply),
            Kind::Passkey(kind) => self.passkey_answer(kind, reply),
        };
        // Recorded once here for the five (sessions' and a social start's success keep
        // the last failure, as they always did).
        self.record(&text, matches!(kind, Kind::Sessions(_) | Kind::SocialStart));
        text.map(Answer::Text)
    }

    /// A request with no bearer, as its builder answered it: issued, or its failure
    /// recorded. The builders' `Result` read here, once, not matched (with an issue and
    /// a `fail`) at each of four callers; the issued request written into the caller's
    /// `Result` here too, not moved into it at each of seven.
    pub(super) fn issue_request(
        &mut self,
        kind: Kind,
        request: Result<HttpRequest, AuthError>,
    ) -> Result<Issued, AuthError> {
        match request {
            Ok(request) => Ok(self.issue(
                kind,
                Outgoing {
                    request,
                    bearer: None,
                },
            )),
            Err(e) => self.fail(e),
        }
    }

    // Not inlined: every request-building method ends here.
    #[inline(never)]
    pub(super) fn issue(&mut self, kind: Kind, out: Outgoing) -> Issued {
        let pending = &mut self.requests;
        pending.next_id = pending.next_id.wrapping_add(1);
        let id = pending.next_id;
        if let Some(slot) = pending.open.get_mut(id as usize % REMEMBERED) {
            *slot = (id, Some(kind));
        }
        Issued { id, kind, out }
    }
}

impl SessionsOp<'_> {
    /// Which call it was, without its argument.
    pub fn blank(self) -> SessionsOp<'static> {
        match self {
            SessionsOp::List => SessionsOp::List,
            SessionsOp::Revoke(_) => SessionsOp::Revoke(""),
            SessionsOp::RevokeAll => SessionsOp::RevokeAll,
        }
    }
}

impl AccountOp<'_> {
    /// Which call it was, without its argument.
    pub fn blank(self) -> AccountOp<'static> {
        match self {
            AccountOp::VerifyEmail(_) => AccountOp::VerifyEmail(""),
            AccountOp::ResendVerification => AccountOp::ResendVerification,
            AccountOp::Identities => AccountOp::Identities,
            AccountOp::Unlink(_) => AccountOp::Unlink(""),
            AccountOp::Linked => AccountOp::Linked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::engine::tests::{engine, reply};
    use crate::core::error::ErrorCode;
    use crate::core::session::tests::jwt;
    use crate::core::session::Status;
    use crate::core::social::Returned;

    const T0: Millis = 1_700_000_000_000.0;

    fn login(e: &mut Engine) -> Issued {
        e.login(None, Some("a@b.c"), Some("pw")).unwrap()
    }

    #[test]
    fn a_text_answer_is_recorded_and_only_sessions_and_a_social_start_keep_the_last_failure() {
        let mut e = engine("json");
        let refused = AuthError::new(ErrorCode::Network, "offline");
        // Set up signed in with a failure recorded.
        let req = login(&mut e);
        let body = format!(
            r#"{{"access_token":"{}","token_type":"bearer"}}"#,
            jwt(r#"{"sub":"u1","iat":1700000000,"exp":1700000900}"#)
        );
        assert_eq!(e.reply(req.id, &reply(200, &body), T0), Ok(Answer::Done));
        e.set_error(Some(&refused));
        // A sessions list and a social start that succeed keep it.
        let list = e.sessions(SessionsOp::List).unwrap();
        assert_eq!(
            e.reply(list.id, &reply(200, "[]"), T0),
            Ok(Answer::Text("[]".to_owned()))
        );
        assert_eq!(e.error_code(), Some(ErrorCode::Network));
        let start = e
            .social_start("acme", "http://localhost:3000/cb", "c", "s", None)
            .unwrap();
        let started = r#"{"authorization_url":"https://idp.example/a","flow":"f1","issuer":"https://idp.example"}"#;
        assert!(e.reply(start.id, &reply(200, started), T0).is_ok());
        assert_eq!(e.error_code(), Some(ErrorCode::Network));
        // Their failures are recorded.
        let revoke = e.sessions(SessionsOp::RevokeAll).unwrap();
        let gone = reply(404, r#"{"detail":"No such session","code":"not_found"}"#);
        assert!(e.reply(revoke.id, &gone, T0).is_err());
        assert_ne!(e.error_code(), Some(ErrorCode::Network));
        assert!(e.error_code().is_some());
        // An account call that succeeds clears the last failure.
        e.set_error(Some(&refused));
        let identities = e.account(AccountOp::Identities).unwrap();
        let none = r#"{"identities":[],"has_password":true}"#;
        assert!(e.reply(identities.id, &reply(200, none), T0).is_ok());
        assert_eq!(e.error_code(), None);
    }

    fn tokens() -> String {
        let exp = (T0 / 1000.0) as i64 + 900;
        let access = jwt(&format!(r#"{{"sub":"u1","exp":{exp}}}"#));
        format!(r#"{{"access_token":"{access}","refresh_token":"r1"}}"#)
    }

    #[test]
    fn each_request_has_its_own_id_and_its_answer_is_read_as_its_kind() {
        let mut e = engine("json");
        let first = login(&mut e);
        assert_eq!(first.kind, Kind::SignIn(Op::Login));
        let second = login(&mut e);
        assert_ne!(first.id, second.id);
        // Answered out of order: each answer is read as what its request was.
        assert_eq!(
            e.reply(second.id, &reply(200, &tokens()), T0),
            Ok(Answer::Done)
        );
        assert_eq!(e.status(T0), Status::Authenticated);
        let me = e.me().unwrap().unwrap();
        let list = e.sessions(SessionsOp::List).unwrap();
        let revoke = e.sessions(SessionsOp::Revoke("s1")).unwrap();
        assert_eq!(revoke.kind, Kind::Sessions(SessionsOp::Revoke("")));
        // The shell never says which sessions call it was: the engine remembers.
        assert_eq!(
            e.reply(list.id, &reply(200, "[]"), T0),
            Ok(Answer::Text("[]".into()))
        );
        assert_eq!(
            e.reply(revoke.id, &reply(204, ""), T0),
            Ok(Answer::Text(String::new()))
        );
        assert_eq!(
            e.reply(me.id, &reply(200, r#"{"id":"u1"}"#), T0),
            Ok(Answer::Text(r#"{"id":"u1"}"#.into()))
        );
        // The first login's answer still comes in as a sign-in's.
        let err = e
            .reply(
                first.id,
                &reply(401, r#"{"detail":"no","code":"invalid_credentials"}"#),
                T0,
            )
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidCredentials);
    }

    #[test]
    fn an_answer_is_taken_once_and_an_unknown_id_is_a_config_error() {
        let mut e = engine("json");
        let req = login(&mut e);
        assert_eq!(
            e.reply(req.id, &reply(200, &tokens()), T0),
            Ok(Answer::Done)
        );
        for id in [req.id, req.id + 1, 0] {
            let err = e.reply(id, &reply(200, &tokens()), T0).unwrap_err();
            assert_eq!(err.code, ErrorCode::Config);
        }
    }

    #[test]
    fn unanswered_requests_are_forgotten_beyond_a_few() {
        let mut e = engine("json");
        let oldest = login(&mut e);
        let rest: Vec<Issued> = (0..REMEMBERED).map(|_| login(&mut e)).collect();
        assert_eq!(
            e.reply(oldest.id, &reply(200, &tokens()), T0)
                .unwrap_err()
                .code,
            ErrorCode::Config
        );
        for req in &rest {
            assert!(e.reply(req.id, &reply(200, &tokens()), T0).is_ok());
        }
        for req in &rest {
            assert!(e.reply(req.id, &reply(200, &tokens()), T0).is_err());
        }
    }

    #[test]
    fn better_auth_exchange_is_the_next_request_of_the_same_kind() {
        let mut e = engine("better-auth");
        let req = login(&mut e);
        let first = Reply {
            auth_token: "sess-1",
            ..reply(200, r#"{"token":"sess-1","user":{"id":"u1"}}"#)
        };
        let Ok(Answer::Next(next)) = e.reply(req.id, &first, T0) else {
            panic!("expected the exchange");
        };
        assert_eq!(next.kind, Kind::SignIn(Op::Login));
        assert_ne!(next.id, req.id);
        assert_eq!(next.out.bearer.as_deref(), Some("sess-1"));
        let exp = (T0 / 1000.0) as i64 + 900;
        let body = format!(
            r#"{{"token":"{}"}}"#,
            jwt(&format!(r#"{{"sub":"u1","exp":{exp}}}"#))
        );
        assert_eq!(e.reply(next.id, &reply(200, &body), T0), Ok(Answer::Done));
        assert_eq!(e.status(T0), Status::Authenticated);
    }

    #[test]
    fn a_social_callback_is_a_sign_in_or_a_link_by_its_credential() {
        let mut e = engine("json");
        let pending = r#"{"provider":"acme","state":"st","verifier":"v","flow":"f","issuer":"https://id.test","redirect":"http://localhost:3000/cb","link":true}"#;
        let returned = Returned {
            state: Some("st"),
            code: Some("c"),
            error: None,
            iss: Some("https://id.test"),
            at: Some("http://localhost:3000/cb"),
        };
        let link = e.social_finish(pending, returned).unwrap().unwrap();
        assert_eq!(link.kind, Kind::Account(AccountOp::Linked));
        // As today: a link's callback goes with the client's own requests' cookie.
        assert!(link.kind.carries_cookie());
        let no_callback = e.social_finish(pending, Returned::default());
        assert_eq!(no_callback, None);
        assert!(!Kind::Me.carries_cookie());
        assert!(!Kind::Sessions(SessionsOp::List).carries_cookie());
        assert!(!Kind::Account(AccountOp::Identities).carries_cookie());
        assert!(Kind::Refresh.carries_cookie());
    }
}
