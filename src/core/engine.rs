//! The client as a sans-IO state machine: config, session, clock, retry state and
//! the last error. The shell (js/client.js) feeds it what happened (a response,
//! what storage or another tab holds, the local time) and performs what it answers
//! (send this request, store this text, emit this event). Nothing here waits,
//! fetches or touches storage, so every rule is tested natively.

use crate::prelude::*;

use super::account::{self, AccountOp};
use super::better_auth;
use super::clock::{Clock, Millis};
use super::config::{path, Config, Protocol};
use super::dpop::Dpop;
use super::error::{AuthError, ErrorCode};
use super::json::{self, write_num, Json};
use super::object::Object;
use super::passkey::{self, PasskeyOp};
use super::persist;
use super::protocol::{self, Credential, HttpRequest, HttpResponse, Op, SessionsOp};
use super::schedule::{self, Page, RetryState, Wake};
use super::session::{same_state, status_of, Session, Status, TokenSet};
use super::social::{self, Returned};

mod requests;
pub use requests::{Answer, Issued, Kind};

/// Refresh waits longer than this (Retry-After, backoff) fail fast instead.
const MAX_INLINE_WAIT_MS: Millis = 60_000.0;

/// The refresh credential of a session whose refresh token is an httpOnly cookie:
/// the client never holds the token, only the knowledge that the browser does.
pub const COOKIE_CREDENTIAL: &str = "cookie";

/// What listeners are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    SignedIn,
    SignedOut,
    TokenRefreshed,
    SessionExpired,
    UserUpdated,
    Synced,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::SignedIn => "signed_in",
            Event::SignedOut => "signed_out",
            Event::TokenRefreshed => "token_refreshed",
            Event::SessionExpired => "session_expired",
            Event::UserUpdated => "user_updated",
            Event::Synced => "synced",
        }
    }
}

/// A response as the shell read it: the protocol's own (its fields are not copied into
/// another struct at each answer; the boundary sets `now` to the local time it passes).
pub type Reply<'a> = HttpResponse<'a>;

/// A request with the bearer it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub request: HttpRequest,
    pub bearer: Option<String>,
}

/// Whether the current token can be used now.
#[derive(Debug, Clone, PartialEq)]
pub enum Access<'a> {
    SignedOut,
    /// The session's token, borrowed: the shell's answer copies it once.
    Use(&'a str),
    /// Refresh first (then ask again).
    Refresh,
    /// Expired with nothing to renew it; `true` the first time (emit the event).
    Expired(bool),
}

/// The state machine itself.
#[derive(Debug)]
pub struct Engine {
    pub cfg: Config,
    session: Option<Session>,
    clock: Clock,
    retry: RetryState,
    /// The last failure as the snapshot shows it: its code and its JSON text
    /// (`error_json`). Kept as text, not as an `AuthError`: the error itself goes
    /// back to the caller, and a second copy would link `AuthError`'s clone.
    error: Option<(ErrorCode, String)>,
    /// Better Auth: the session token of a sign-in whose JWT exchange is pending.
    exchanging: Option<String>,
    /// A two-factor sign-in halfway: the challenge and the methods offered, as the
    /// view's JSON (`{"methods":[..]}`, written once by the answer's reader).
    mfa: Option<(String, String)>,
    /// The requests the shell sent and has not answered (see requests.rs).
    requests: requests::Pending,
    /// The DPoP decisions (nonces, the server's clock) for js/dpop.js, which signs.
    pub dpop: Dpop,
}

impl Engine {
    pub fn new(cfg: Config) -> Engine {
        Engine {
            cfg,
            session: None,
            clock: Clock::default(),
            retry: RetryState::default(),
            error: None,
            exchanging: None,
            mfa: None,
            requests: requests::Pending::default(),
            dpop: Dpop::default(),
        }
    }

    // ---- time, state, views ------------------------------------------------------

    /// Server time estimated from the local clock.
    pub fn now(&self, local: Millis) -> Millis {
        self.clock.now(local)
    }

    pub fn status(&self, local: Millis) -> Status {
        if self.session.is_none() && self.mfa.is_some() {
            return Status::MfaRequired;
        }
        status_of(self.session.as_ref(), self.now(local), self.cfg.leeway)
    }

    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The last failure's code.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.error.as_ref().map(|(code, _)| *code)
    }

    /// The last failure as JSON text (`error_json`).
    // Inlined into its two callers: out of line its `Option<&str>` went through memory.
    #[inline(always)]
    pub fn error_json(&self) -> Option<&str> {
        self.error.as_ref().map(|(_, text)| text.as_str())
    }

    // A match, not `err.map(..)`: its closure compiles larger in the wasm (-8 B gzip).
    #[allow(clippy::manual_map)]
    pub fn set_error(&mut self, err: Option<&AuthError>) {
        self.error = match err {
            Some(e) => Some((e.code, error_json(e))),
            None => None,
        };
    }

    /// Record a text answer's outcome as it is (the failure; a success clears the last
    /// one unless `keeps`): the answer is returned by the caller, not moved out of its
    /// `Result` and into another. `reply` records every text answer here, once.
    fn record(&mut self, answer: &Result<String, AuthError>, keeps: bool) {
        let failed = match answer {
            Ok(_) if keeps => return,
            Ok(_) => None,
            Err(e) => Some(e),
        };
        self.set_error(failed);
    }

    /// Record a failure (it shows in the snapshot) and pass it on.
    pub fn fail<T>(&mut self, err: AuthError) -> Result<T, AuthError> {
        self.set_error(Some(&err));
        Err(err)
    }

    /// `{"status","user","claims","expiresAt"}`: the snapshot's session part, with
    /// `expiresAt` on the device's clock (what `Date.now()` compares with).
    pub fn view(&self, local: Millis) -> String {
        let session = self.session.as_ref();
        // `Option<&String>` (one pointer, in a register), not `as_deref`'s `Option<&str>`
        // answered through memory.
        let (user, claims) = match session {
            Some(s) => (s.user.as_ref(), s.claims.as_ref()),
            None => (None, None),
        };
        fn text(part: Option<&String>) -> &str {
            match part {
                Some(t) => t,
                None => "null",
            }
        }
        let mut out = Object::new();
        out.str("status", self.status(local).as_str())
            .raw("user", text(user.or(claims)))
            .raw("claims", text(claims));
        // Numbers and the methods written straight into the view (no text of their own).
        let expires = out.member("expiresAt");
        match session.and_then(|s| s.expires_at) {
            Some(e) => write_num(expires, crate::core::float::round(e - self.clock.offset_ms)),
            None => expires.push_str("null"),
        }
        out.raw(
            "mfa",
            match &self.mfa {
                Some((_, methods)) => methods,
                None => "null",
            },
        );
        out.end()
    }

    /// The text to store for the current session ("": remove it). A text, not an
    /// `Option`: the boundary answers "" for none, and an `Option<String>` went through
    /// memory to be copied into its answer.
    pub fn persisted(&self) -> String {
        match &self.session {
            Some(s) => persist::encode(s),
            None => String::new(),
        }
    }

    /// Restore what storage held at start-up; false when it was unreadable (the
    /// shell removes it).
    pub fn restore(&mut self, text: Option<&str>, local: Millis) -> bool {
        let Some(text) = text else { return true };
        match persist::decode_at_start(text, self.now(local)) {
            Ok(session) => {
                self.session = Some(session);
                true
            }
            Err(_) => false,
        }
    }

    /// Take the session another tab stored or sent; true when it differed (emit
    /// `synced`). None is a sign-out; unreadable text (another tab, an extension or
    /// a user writing garbage) is ignored: it must not cost this tab its session.
    pub fn adopt(&mut self, text: Option<&str>, local: Millis) -> bool {
        let incoming = match text {
            None => None,
            Some(t) => match persist::decode(t, self.now(local)) {
                Ok(session) => Some(session),
                Err(_) => return false,
            },
        };
        if same_state(incoming.as_ref(), self.session.as_ref()) {
            return false;
        }
        self.session = incoming;
        self.set_error(None);
        true
    }

    /// Learn the server's clock from a response's `Date`; true when it moved. `reply`
    /// does it for every answer before reading it (the `*_answer` methods do not).
    /// `date` is "" for none (no HTTP-date: false), as the shell passes it.
    pub fn observe(&mut self, date: &str, local: Millis) -> bool {
        self.clock.observe_date(date, local)
    }

    /// The token a request built here asks for.
    pub fn bearer(&self, credential: Credential) -> Option<String> {
        let session = self.session.as_ref()?;
        match credential {
            Credential::None => None,
            Credential::Access => Some(session.access_token.clone()),
            Credential::Refresh => session.refresh_token.clone(),
        }
    }

    // ---- signing in and out --------------------------------------------------------

    /// The login request for `{username | email, password}`.
    pub fn login(
        &mut self,
        username: Option<&str>,
        email: Option<&str>,
        password: Option<&str>,
    ) -> Result<Issued, AuthError> {
        let (key, identifier) = match (username, email) {
            (Some(u), _) => ("username", u),
            (None, Some(e)) => ("email", e),
            (None, None) => {
                return self.fail(missing_field("username", "Enter your email or username"))
            }
        };
        let Some(password) = password else {
            return self.fail(missing_field("password", "Enter your password"));
        };
        self.exchanging = None;
        self.end_mfa();
        let request = protocol::login_request(&self.cfg, key, identifier, password);
        self.issue_request(Kind::SignIn(Op::Login), Ok(request))
    }

    /// The sign-up request for `{email, password, name?}`.
    pub fn register(
        &mut self,
        email: Option<&str>,
        password: Option<&str>,
        name: Option<&str>,
    ) -> Result<Issued, AuthError> {
        let (Some(email), Some(password)) = (email, password) else {
            let field = if email.is_none() { "email" } else { "password" };
            return self.fail(missing_field(field, "This field is required"));
        };
        self.exchanging = None;
        let request = protocol::register_request(&self.cfg, email, password, name);
        self.issue_request(Kind::SignIn(Op::Register), request)
    }

    /// The answer to a login, register or social callback request (or to the exchange
    /// it asked for): done, a next request (Better Auth's exchange), log in, or a second factor.
    pub fn sign_in_answer(
        &mut self,
        op: Op,
        reply: &Reply,
        local: Millis,
    ) -> Result<Answer, AuthError> {
        // Parsed once for every question (and the error mapping), read borrowed by a
        // function of its own: dropped here once, not at each of its nine returns.
        let parsed = json::parse(reply.body);
        self.sign_in_read(op, reply, parsed.as_ref(), local)
    }

    /// `sign_in_answer` with the body parsed (`body`: `json::parse` of `reply.body`).
    #[inline(never)]
    fn sign_in_read(
        &mut self,
        op: Op,
        reply: &Reply,
        body: Option<&Json>,
        local: Millis,
    ) -> Result<Answer, AuthError> {
        // Every refusal leaves through one exit (`break 'fail`): the `Result` answered
        // through memory is then written once for them, not at each return.
        let err = 'fail: {
            if op == Op::Register
                && (200..300).contains(&reply.status)
                && !protocol::has_tokens(&self.cfg, body, reply.auth_token)
            {
                return Ok(Answer::LogIn);
            }
            let better_auth = self.cfg.protocol == Protocol::BetterAuth;
            if better_auth {
                if let Some(session_token) = self.exchanging.take() {
                    let mut tokens = match protocol::parse_tokens(&self.cfg, op, reply, body) {
                        Ok(t) => t,
                        Err(e) => break 'fail e,
                    };
                    tokens.refresh_token = Some(session_token);
                    return self.sign_in(tokens, Event::SignedIn, local);
                }
            }
            // A second factor asked for, kept at one place for both protocols.
            let challenge = match (better_auth, op) {
                // The challenge is Better Auth's cookie; nothing to keep but the methods.
                (true, Op::Login) => {
                    better_auth::two_factor_methods(reply.status, body).map(|m| (String::new(), m))
                }
                (false, Op::Login | Op::Social) => {
                    protocol::parse_mfa_challenge(reply.status, body)
                }
                _ => None,
            };
            if let Some(challenge) = challenge {
                self.mfa = Some(challenge);
                self.set_error(None);
                return Ok(Answer::Mfa);
            }
            if better_auth {
                // Each branch refuses by itself (no `Result` made of the first and read again).
                let session_token = if op == Op::Social && (200..300).contains(&reply.status) {
                    match better_auth::session_token_of(body) {
                        Some(t) => t.clone(),
                        None => break 'fail better_auth::no_session(),
                    }
                } else {
                    match protocol::parse_session_token(op, reply, reply.auth_token, body) {
                        Ok(t) => t,
                        Err(e) => break 'fail e,
                    }
                };
                let request = protocol::refresh_request(&self.cfg, &session_token);
                self.exchanging = Some(session_token.clone());
                // Sent next, answered as a sign-in again (`exchanging` says which step).
                let out = Outgoing {
                    request,
                    bearer: Some(session_token),
                };
                return Ok(Answer::Next(self.issue(Kind::SignIn(op), out)));
            }
            match protocol::parse_tokens(&self.cfg, op, reply, body) {
                Ok(tokens) => return self.sign_in(tokens, Event::SignedIn, local),
                Err(e) => e,
            }
        };
        self.fail(err)
    }

    /// The second step of a two-factor sign-in: a code from the app, or a recovery code.
    pub fn verify_mfa(
        &mut self,
        code: Option<&str>,
        recovery_code: Option<&str>,
    ) -> Result<Issued, AuthError> {
        // Every refusal through one exit (`break 'fail`): one `Result` written for them.
        let err = 'fail: {
            let Some((challenge, _)) = self.mfa.as_ref() else {
                break 'fail AuthError::new(
                    ErrorCode::ChallengeExpired,
                    "Sign in with your password first",
                );
            };
            // The app's code when given, else a recovery code: chosen once for both protocols.
            let (recovery, code) = match (code, recovery_code) {
                (Some(c), _) => (false, c),
                (None, Some(r)) => (true, r),
                (None, None) => break 'fail missing_field("code", "Enter the code from your app"),
            };
            // Better Auth's two-factor plugin has its own routes (core::better_auth).
            let request = match (self.cfg.protocol, path(self.cfg.endpoints.mfa())) {
                (Protocol::BetterAuth, Some(path)) => Some(better_auth::two_factor_request(
                    &self.cfg, path, recovery, code,
                )),
                _ => protocol::mfa_request(&self.cfg, challenge, recovery, code),
            };
            match request {
                Some(request) => return self.issue_request(Kind::Mfa, Ok(request)),
                None => {
                    AuthError::config("Two-factor sign-in needs the json protocol's mfa endpoint")
                }
            }
        };
        self.fail(err)
    }

    /// The answer to `verify_mfa`'s request: signed in, or a typed error; a wrong
    /// code keeps the challenge for another try, an expired one ends it. Better Auth
    /// answers with a session token: exchanged for the JWT as after a password (the
    /// exchange is answered as a sign-in, which ends the challenge).
    pub fn mfa_answer(&mut self, reply: &Reply, local: Millis) -> Result<Answer, AuthError> {
        if self.cfg.protocol == Protocol::BetterAuth && (200..300).contains(&reply.status) {
            return self.sign_in_answer(Op::Login, reply, local);
        }
        match self.tokens(Op::Login, reply) {
            Ok(tokens) => {
                self.end_mfa();
                self.sign_in(tokens, Event::SignedIn, local)
            }
            Err(e) => {
                // A mistyped code (422: not six digits), a wrong one, or a wait keep the
                // challenge for another try; the backend ends it after five wrong codes.
                let retry = matches!(
                    e.code,
                    ErrorCode::InvalidCode | ErrorCode::RateLimited | ErrorCode::Validation
                );
                if !retry {
                    self.end_mfa();
                }
                self.fail(e)
            }
        }
    }

    /// A token answer read by `protocol::parse_tokens` (the body parsed here): the
    /// second factor's and the refresh's, which ask nothing else of it.
    /// Inlined into its two callers: out of line its `Result<TokenSet, _>` went through
    /// memory to each.
    #[inline(always)]
    fn tokens(&self, op: Op, reply: &Reply) -> Result<TokenSet, AuthError> {
        let parsed = json::parse(reply.body);
        protocol::parse_tokens(&self.cfg, op, reply, parsed.as_ref())
    }

    /// Take new tokens. A refresh keeps the user and, when not rotated, the
    /// refresh token. Answers `Done`, as each of its four callers answers (no `()`
    /// mapped to it at each).
    fn sign_in(
        &mut self,
        tokens: TokenSet,
        event: Event,
        local: Millis,
    ) -> Result<Answer, AuthError> {
        let mut session = match Session::from_tokens(tokens, self.now(local)) {
            Ok(s) => s,
            Err(e) => {
                return self.fail(AuthError::joined(
                    ErrorCode::InvalidResponse,
                    "The server sent a malformed token: ",
                    &e.message,
                ))
            }
        };
        if session.claims.is_some() {
            self.clock
                .observe_iat((session.issued_at / 1000.0) as i64, local);
        }
        if self.cfg.refresh_cookie && session.refresh_token.is_none() {
            session.refresh_token = Some(COOKIE_CREDENTIAL.to_owned());
        }
        // Taken from the previous session in place (no partial move: the old session is
        // dropped whole when replaced).
        if let (Some(previous), Event::TokenRefreshed) = (self.session.as_mut(), event) {
            // A refresh answer that carries the user (`fields.user`) updates it. Swapped
            // with the `None` here (not assigned `take()`'s): no drop of that `None`.
            if session.user.is_none() {
                core::mem::swap(&mut session.user, &mut previous.user);
            }
            if session.refresh_token.is_none() {
                core::mem::swap(&mut session.refresh_token, &mut previous.refresh_token);
            }
        }
        self.session = Some(session);
        self.set_error(None);
        if event == Event::SignedIn {
            // Signed in: a pending second factor (Better Auth's, answered through an
            // exchange) is over.
            self.end_mfa();
        }
        Ok(Answer::Done)
    }

    /// No two-factor sign-in halfway any more. Out of line: the challenge's drop and the
    /// store were written out at each of its callers.
    #[inline(never)]
    fn end_mfa(&mut self) {
        self.mfa = None;
    }

    /// Signed out here (the shell stores, broadcasts and emits `event`).
    pub fn sign_out(&mut self, err: Option<&AuthError>) {
        self.session = None;
        self.set_error(err);
        self.exchanging = None;
        self.end_mfa();
    }

    /// The best-effort revocation request, when the protocol has one.
    #[allow(clippy::manual_map)]
    pub fn logout(&mut self) -> Option<Issued> {
        let session = self.session.as_ref()?;
        // A pattern, not `as_deref` (out of line, its `Option<&str>` through memory).
        let refresh_token = match &session.refresh_token {
            Some(t) => Some(t.as_str()),
            None => None,
        };
        let request = protocol::logout_request(&self.cfg, refresh_token)?;
        // The bearer read here, from the session at hand (`outgoing`, shared with `me`,
        // answered its `Outgoing` through memory): the access token, or Better Auth's
        // session token (the two credentials a sign-out takes).
        let bearer = if request.credential == Credential::Access {
            Some(session.access_token.clone())
        } else {
            session.refresh_token.clone()
        };
        Some(self.issue(Kind::Logout, Outgoing { request, bearer }))
    }

    // ---- using the token ---------------------------------------------------------------

    /// The token to send now, or what must happen first.
    pub fn access(&mut self, local: Millis) -> Access<'_> {
        let now = self.now(local);
        let Some(s) = self.session.as_ref() else {
            return Access::SignedOut;
        };
        if s.refresh_due(now, self.cfg.refresh_margin) {
            return Access::Refresh;
        }
        if s.is_expired(now, self.cfg.leeway) {
            let first = self.error_code() != Some(ErrorCode::SessionExpired);
            if first {
                self.set_error(Some(&AuthError::new(
                    ErrorCode::SessionExpired,
                    "The session has expired",
                )));
            }
            return Access::Expired(first);
        }
        // Borrowed again (the one above may not outlive `set_error`'s path).
        match &self.session {
            Some(s) => Access::Use(&s.access_token),
            None => Access::SignedOut,
        }
    }

    /// The token after a refresh attempt (failed or not): still usable, or "" (a text,
    /// as `persisted`).
    pub fn usable_token(&self, local: Millis) -> String {
        let now = self.now(local);
        match self.session.as_ref() {
            Some(s) if !s.is_expired(now, self.cfg.leeway) => s.access_token.clone(),
            _ => String::new(),
        }
    }

    /// Whether `url` may receive the bearer.
    pub fn bearer_allowed(&self, url: &str) -> bool {
        self.cfg.bearer_allowed(url)
    }

    // ---- refreshing ------------------------------------------------------------------------

    /// The refresh credential; an error (and, once expired, signed out) when there
    /// is none.
    pub fn refresh_token(&mut self, local: Millis) -> Result<String, AuthError> {
        if let Some(Session {
            refresh_token: Some(t),
            ..
        }) = &self.session
        {
            return Ok(t.clone());
        }
        let err = AuthError::new(ErrorCode::SessionExpired, "The session cannot be refreshed");
        if self.status(local) == Status::Expired {
            self.sign_out(Some(&err));
        }
        Err(err)
    }

    /// Whether another tab already replaced `refresh_token` (as far as this one knows).
    pub fn superseded(&self, refresh_token: &str) -> bool {
        // A pattern, not `Option<&str> !=` (a monomorph of its own in the wasm).
        !matches!(
            &self.session,
            Some(Session { refresh_token: Some(t), .. }) if t.as_str() == refresh_token
        )
    }

    pub fn refresh_request(&mut self, refresh_token: &str) -> Issued {
        let request = protocol::refresh_request(&self.cfg, refresh_token);
        // Better Auth's exchange takes the session token as its bearer.
        let bearer = (request.credential == Credential::Refresh).then(|| refresh_token.to_owned());
        self.issue(Kind::Refresh, Outgoing { request, bearer })
    }

    /// The refresh answer: new tokens (`token_refreshed`), or an error; a rejected
    /// refresh token signs out (`session_expired`), anything else keeps the session.
    pub fn refresh_answer(&mut self, reply: &Reply, local: Millis) -> Result<Answer, AuthError> {
        match self.tokens(Op::Refresh, reply) {
            // `Done`, as `reply` answers it (no event mapped here and again there).
            Ok(tokens) => self.sign_in(tokens, Event::TokenRefreshed, local),
            Err(e) => {
                // Signed out, the error recorded by the one `fail` below.
                if e.code == ErrorCode::RefreshFailed {
                    self.sign_out(None);
                }
                self.fail(e)
            }
        }
    }

    /// Record how the refresh went: `failed`, the failure's code (None: it succeeded),
    /// with its Retry-After in seconds; true while a retry is pending.
    pub fn refresh_outcome(
        &mut self,
        failed: Option<ErrorCode>,
        retry_after: Option<u32>,
        local: Millis,
        random: f64,
    ) -> bool {
        let now = self.now(local);
        match failed {
            None => {
                self.retry.succeeded(now);
                false
            }
            Some(code) => {
                self.retry
                    .failed(code, retry_after, now, &self.cfg.backoff, random)
                    && self.session.is_some()
            }
        }
    }

    /// Remaining backoff after failures (the floor after a success only paces the
    /// timer; explicit calls pass it). Inlined: its `Option<f64>` folds into its two callers'
    /// tests instead of going through memory.
    #[inline(always)]
    pub fn backoff_wait(&self, local: Millis) -> Option<Millis> {
        let now = self.now(local);
        // Not allowed yet: `not_before` is a time, not `NO_WAIT`.
        (self.retry.failures > 0 && !self.retry.allows(now)).then_some(self.retry.not_before - now)
    }

    /// During backoff, the error to answer at once instead of a request (as JSON
    /// text, `error_json`): the last one while the token is still usable,
    /// `rate_limited` when the wait is too long to sit out; "": go ahead (after
    /// `backoff_wait`).
    pub fn postponed(&self, local: Millis) -> String {
        let Some(wait) = self.backoff_wait(local) else {
            return String::new();
        };
        // Whether the token is still usable, without a copy of it.
        let now = self.now(local);
        let usable = match &self.session {
            Some(s) => !s.is_expired(now, self.cfg.leeway),
            None => false,
        };
        if usable {
            if let Some(last) = self.error_json() {
                return last.to_owned();
            }
        }
        if wait <= MAX_INLINE_WAIT_MS {
            return String::new();
        }
        let mut err = AuthError::new(
            ErrorCode::RateLimited,
            "Refreshing is paused; try again later",
        );
        err.retry_after = Some(crate::core::float::ceil(wait / 1000.0) as u32);
        error_json(&err)
    }

    /// Local-clock delay until the proactive refresh; None: no timer (nothing to
    /// refresh, hidden, or offline until the browser says otherwise).
    pub fn next_wake(&self, local: Millis, page: Page) -> Option<Millis> {
        match schedule::next_wake(
            self.session.as_ref(),
            self.cfg.refresh_margin,
            &self.retry,
            page,
        ) {
            Wake::At(at) => Some(at - self.now(local)),
            Wake::WhenOnline | Wake::Idle => None,
        }
    }

    /// Whether a refresh should start now (timer, tab shown, back online).
    pub fn refresh_now(&self, local: Millis, page: Page) -> bool {
        schedule::refresh_now(
            self.session.as_ref(),
            self.now(local),
            self.cfg.refresh_margin,
            &self.retry,
            page,
        )
    }

    // ---- social sign-in ---------------------------------------------------------------

    /// The request that starts a social sign-in (see core::social); `link`: Some for a
    /// link of the provider to the signed-in user instead, with its step-up password
    /// ("" for none).
    pub fn social_start(
        &mut self,
        provider: &str,
        redirect_to: &str,
        challenge: &str,
        state: &str,
        link: Option<&str>,
    ) -> Result<Issued, AuthError> {
        if link.is_some() && self.session.is_none() {
            return self.fail(not_signed_in());
        }
        if link.is_none() {
            self.end_mfa();
        }
        let request =
            social::start_request(&self.cfg, provider, redirect_to, challenge, state, link);
        self.issue_request(Kind::SocialStart, request)
    }

    /// Its answer: `{"url", "flow"}` (see core::social::parse_started). A failure is
    /// recorded by `reply`; a success keeps the last one.
    pub fn social_started(&self, reply: &Reply) -> Result<String, AuthError> {
        let better_auth = self.cfg.protocol == Protocol::BetterAuth;
        social::parse_started(reply, better_auth)
    }

    /// The callback request, or None when the page is no callback: a sign-in's
    /// (answered as `sign_in_answer(Op::Social, ..)`), or a link's, the signed-in
    /// user's call (answered as `account_answer(AccountOp::Linked, ..)`).
    /// An `Option` of a `Result` (not a `Result` of an `Option`): the boundary's
    /// `Result<Issued, _>` is then the `Some`'s payload as it is, not rebuilt by a copy.
    pub fn social_finish(
        &mut self,
        pending: &str,
        returned: Returned,
    ) -> Option<Result<Issued, AuthError>> {
        if !returned.is_callback() {
            return None;
        }
        let request = social::callback_request(&self.cfg, pending, returned);
        // Through `issue_request` (issued, or the failure recorded), as the builders' others.
        let kind = match &request {
            Ok(r) if r.credential == Credential::Access => Kind::Account(AccountOp::Linked),
            _ => Kind::SignIn(Op::Social),
        };
        Some(self.issue_request(kind, request))
    }

    // ---- the account: email verification, linked providers ----------------------------

    /// An account request (the user's ones go through the shell's bearer rules).
    pub fn account(&mut self, op: AccountOp) -> Result<Issued, AuthError> {
        if op.needs_session() && self.session.is_none() {
            return self.fail(not_signed_in());
        }
        let request = account::request(&self.cfg, op);
        self.issue_request(Kind::Account(op.blank()), request)
    }

    /// Its answer: the identity list as JSON text (for `Identities`), or "" (recorded
    /// by `reply`).
    pub fn account_answer(&self, op: AccountOp, reply: &Reply) -> Result<String, AuthError> {
        account::parse_answer(op, reply)
    }

    // ---- passkeys ----------------------------------------------------------------------

    /// A passkey request (the user's ones go through the shell's bearer rules; the
    /// sign-ins' answers are read as a password sign-in's).
    pub fn passkey(&mut self, op: PasskeyOp) -> Result<Issued, AuthError> {
        if op.needs_session() && self.session.is_none() {
            return self.fail(not_signed_in());
        }
        let kind = if op.signs_in() {
            self.end_mfa();
            Kind::SignIn(Op::Passkey)
        } else {
            Kind::Passkey(op.answer())
        };
        let request = passkey::request(&self.cfg, op);
        self.issue_request(kind, request)
    }

    /// The answer to a passkey call that is no sign-in: options, a passkey, the list, or ""
    /// (recorded by `reply`).
    pub fn passkey_answer(
        &self,
        kind: passkey::Answer,
        reply: &Reply,
    ) -> Result<String, AuthError> {
        passkey::parse_answer(kind, reply)
    }

    // ---- sessions (devices) ---------------------------------------------------------------

    /// A sessions request (sent through the shell's bearer rules).
    pub fn sessions(&mut self, what: SessionsOp) -> Result<Issued, AuthError> {
        if self.session.is_none() {
            return self.fail(not_signed_in());
        }
        match protocol::sessions_request(&self.cfg, what) {
            Some(request) => self.issue_request(Kind::Sessions(what.blank()), Ok(request)),
            None => self.fail(AuthError::config(
                "Sessions need the json protocol's sessions endpoint",
            )),
        }
    }

    /// The answer to a sessions request: the list as JSON text (for `List`), or "". A
    /// failure is recorded by `reply`; a success keeps the last one.
    pub fn sessions_answer(&self, what: SessionsOp, reply: &Reply) -> Result<String, AuthError> {
        match what {
            SessionsOp::List => protocol::parse_sessions(reply),
            _ if (200..300).contains(&reply.status) => Ok(String::new()),
            _ => Err(protocol::error_from_response(Op::Me, reply)),
        }
    }

    // ---- the user --------------------------------------------------------------------------

    /// The `me` request; None when the protocol has none (the claims are the user).
    /// The bearer is set only for the refresh credential (Better Auth's session);
    /// an access-token request goes through the shell's refresh-and-replay instead.
    /// An `Option` of a `Result`, as `social_finish`.
    pub fn me(&mut self) -> Option<Result<Issued, AuthError>> {
        let Some(session) = &self.session else {
            return Some(self.fail(not_signed_in()));
        };
        let request = protocol::me_request(&self.cfg)?;
        // Only the refresh credential (Better Auth's session) is sent from here.
        let bearer = match request.credential {
            Credential::Refresh => session.refresh_token.clone(),
            _ => None,
        };
        Some(Ok(self.issue(Kind::Me, Outgoing { request, bearer })))
    }

    /// The claims, for protocols without a `me` endpoint: `me()`'s answer there, so a
    /// session without them (or none) is refused as `me` refuses one signed out
    /// (recorded: the shell throws it as it is).
    pub fn claims(&mut self) -> Result<String, AuthError> {
        // A pattern, not `as_deref` (a call answering through memory).
        match &self.session {
            Some(Session {
                claims: Some(c), ..
            }) => Ok(c.clone()),
            _ => self.fail(not_signed_in()),
        }
    }

    /// The `me` answer: the user as JSON text (`user_updated`); a revoked session
    /// signs out (`session_expired`). Recorded by `reply`.
    pub fn me_answer(&mut self, reply: &Reply) -> Result<String, AuthError> {
        let answer = protocol::parse_user(self.cfg.protocol, reply);
        match &answer {
            Ok(user) => {
                if let Some(s) = self.session.as_mut() {
                    s.user = Some(user.clone());
                }
            }
            Err(e) => {
                if e.code == ErrorCode::SessionExpired {
                    self.sign_out(None);
                }
            }
        }
        answer
    }
}

/// An error as JSON text, as the shell's `AuthError` takes it:
/// `{"code","message","status"?,"retryAfter"?,"fields"?}`.
pub fn error_json(err: &AuthError) -> String {
    let mut out = Object::new();
    out.str("code", err.code.as_str())
        .str("message", &err.message);
    if err.status != 0 {
        out.int("status", err.status.into());
    }
    if let Some(wait) = err.retry_after {
        out.int("retryAfter", wait.into());
    }
    if !err.fields.is_empty() {
        // The members as the error holds them, closed into an object here.
        let fields = out.member("fields");
        fields.push('{');
        fields.push_str(&err.fields);
        fields.push('}');
    }
    out.end()
}

fn missing_field(field: &str, message: &str) -> AuthError {
    account::invalid_field(field, message, message)
}

fn not_signed_in() -> AuthError {
    AuthError::new(ErrorCode::SessionExpired, "Not signed in")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::config::RawConfig;
    use crate::core::json::Json;
    use crate::core::session::tests::jwt;

    /// An engine for `protocol` on a loopback backend (also core::engine::requests' tests).
    pub(crate) fn engine(protocol: &str) -> Engine {
        Engine::new(
            Config::validate(RawConfig {
                base_url: Some("http://127.0.0.1:8000"),
                protocol: Some(protocol),
                ..RawConfig::default()
            })
            .unwrap(),
        )
    }

    /// A bare answer: a status and a body, no headers.
    pub(crate) fn reply(status: u16, body: &str) -> Reply<'_> {
        Reply {
            status,
            body,
            date: "",
            retry_after: "",
            auth_token: "",
            now: T0,
        }
    }

    const T0: Millis = 1_700_000_000_000.0;

    fn tokens(exp_s: i64, refresh: &str) -> String {
        let access = jwt(&format!(
            r#"{{"sub":"u1","iat":{},"exp":{exp_s}}}"#,
            exp_s - 900
        ));
        format!(
            r#"{{"access_token":"{access}","refresh_token":"{refresh}","token_type":"bearer"}}"#
        )
    }

    fn signed_in(e: &mut Engine, refresh: &str) {
        let body = tokens((T0 / 1000.0) as i64 + 900, refresh);
        assert_eq!(
            e.sign_in_answer(Op::Login, &reply(200, &body), T0),
            Ok(Answer::Done)
        );
    }

    #[test]
    fn login_validates_then_signs_in_and_persists() {
        let mut e = engine("json");
        let err = e.login(None, None, Some("pw")).unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
        assert_eq!(e.error_code(), Some(ErrorCode::Validation));
        let req = e.login(None, Some("a@b.c"), Some("pw")).unwrap();
        assert_eq!(req.out.request.url, "http://127.0.0.1:8000/auth/login");
        signed_in(&mut e, "r1");
        assert_eq!(e.status(T0), Status::Authenticated);
        assert!(e.error_code().is_none());
        let stored = e.persisted();
        let mut other = engine("json");
        assert!(other.restore(Some(&stored), T0));
        assert_eq!(other.bearer(Credential::Refresh).as_deref(), Some("r1"));
        assert!(!other.restore(Some("garbage"), T0));
    }

    #[test]
    fn claims_answer_me_without_an_endpoint_and_a_session_without_them_is_refused() {
        let mut e = engine("json");
        let err = e.claims().unwrap_err();
        assert_eq!(err.code, ErrorCode::SessionExpired);
        assert_eq!(err.message, "Not signed in");
        assert_eq!(e.error_code(), Some(ErrorCode::SessionExpired));
        signed_in(&mut e, "r1");
        assert!(e.claims().unwrap().contains(r#""sub":"u1""#));
    }

    #[test]
    fn a_passkey_sign_in_signs_in_like_a_password_and_never_asks_for_a_second_factor() {
        use crate::core::passkey::Finish;
        let mut e = engine("json");
        let add = PasskeyOp::RegisterOptions { password: "" };
        assert_eq!(e.passkey(add).unwrap_err().code, ErrorCode::SessionExpired);
        let options = e.passkey(PasskeyOp::SignInOptions).unwrap();
        assert_eq!(
            options.kind,
            Kind::Passkey(passkey::Answer::Options { request: true })
        );
        let credential = r#"{"id":"AQ","rawId":"AQ","type":"public-key","response":{}}"#;
        let finish = Finish {
            ceremony: "c",
            credential,
            name: "",
        };
        let first = e.passkey(PasskeyOp::SignIn(finish)).unwrap();
        assert_eq!(first.kind, Kind::SignIn(Op::Passkey));
        let wrong = reply(
            401,
            r#"{"detail":"This passkey is not registered here","code":"invalid_credentials"}"#,
        );
        let err = e.reply(first.id, &wrong, T0).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidCredentials);
        assert_eq!(e.error_code(), Some(ErrorCode::InvalidCredentials));
        // A body that looks like a two-factor challenge is no tokens, not a second step.
        let challenge = reply(
            200,
            r#"{"mfa_required":true,"challenge":"c","methods":["totp"],"expires_in":300}"#,
        );
        let second = e.passkey(PasskeyOp::SignIn(finish)).unwrap();
        assert_eq!(
            e.reply(second.id, &challenge, T0).unwrap_err().code,
            ErrorCode::InvalidResponse
        );
        let body = tokens((T0 / 1000.0) as i64 + 900, "r1");
        let third = e.passkey(PasskeyOp::SignIn(finish)).unwrap();
        assert_eq!(e.reply(third.id, &reply(200, &body), T0), Ok(Answer::Done));
        assert_eq!(e.status(T0), Status::Authenticated);
        assert!(e.error_code().is_none());
        let list = e.passkey(PasskeyOp::List).unwrap();
        assert_eq!(list.out.request.credential, Credential::Access);
        let remove = e.passkey(PasskeyOp::Remove { id: "ab" }).unwrap();
        assert_eq!(
            e.reply(remove.id, &reply(204, ""), T0),
            Ok(Answer::Text(String::new()))
        );
    }

    #[test]
    fn a_stored_opaque_token_without_expiry_is_removed_at_start() {
        // design contract: such a session is removed like any unreadable value.
        let mut e = engine("json");
        let bare = r#"{"v":1,"access_token":"opaque","refresh_token":"r","expires_at":null}"#;
        assert!(!e.restore(Some(bare), T0), "the shell must remove it");
        assert_eq!(e.status(T0), Status::Anonymous);
        assert_eq!(e.persisted(), "");
        let dated = format!(
            r#"{{"v":1,"access_token":"opaque","refresh_token":"r","expires_at":{}}}"#,
            T0 + 60_000.0
        );
        assert!(e.restore(Some(&dated), T0));
        assert_eq!(e.status(T0), Status::Authenticated);
    }

    #[test]
    fn the_view_carries_status_user_claims_and_expiry() {
        let mut e = engine("json");
        assert_eq!(
            e.view(T0),
            r#"{"status":"anonymous","user":null,"claims":null,"expiresAt":null,"mfa":null}"#
        );
        signed_in(&mut e, "r1");
        let view = crate::core::json::parse(&e.view(T0)).unwrap();
        assert_eq!(view.str_of("status"), Some("authenticated"));
        assert_eq!(view.get("user").and_then(|u| u.str_of("sub")), Some("u1"));
        assert_eq!(view.num_of("expiresAt"), Some(T0 + 900_000.0));
    }

    #[test]
    fn access_asks_for_a_refresh_when_due_and_reports_expiry_once() {
        let mut e = engine("json");
        assert_eq!(e.access(T0), Access::SignedOut);
        signed_in(&mut e, "r1");
        assert!(matches!(e.access(T0), Access::Use(_)));
        assert_eq!(e.access(T0 + 890_000.0), Access::Refresh);
        // Without a refresh token, an expired session is reported once.
        let body = format!(
            r#"{{"access_token":"{}"}}"#,
            jwt(&format!(
                r#"{{"sub":"u1","exp":{}}}"#,
                (T0 / 1000.0) as i64 + 10
            ))
        );
        let mut e = engine("json");
        e.sign_in_answer(Op::Login, &reply(200, &body), T0).unwrap();
        assert_eq!(e.access(T0 + 60_000.0), Access::Expired(true));
        assert_eq!(e.access(T0 + 61_000.0), Access::Expired(false));
    }

    #[test]
    fn a_refresh_rotates_keeps_the_user_and_a_rejected_one_signs_out() {
        let mut e = engine("json");
        signed_in(&mut e, "r1");
        let me = reply(200, r#"{"id":"u1","email":"a@b.c"}"#);
        assert_eq!(e.me_answer(&me).unwrap(), r#"{"id":"u1","email":"a@b.c"}"#);
        let out = e.refresh_request("r1");
        assert_eq!(out.out.request.url, "http://127.0.0.1:8000/auth/refresh");
        let body = tokens((T0 / 1000.0) as i64 + 1800, "r2");
        assert_eq!(e.refresh_answer(&reply(200, &body), T0), Ok(Answer::Done));
        assert!(e.superseded("r1"));
        assert!(e.view(T0).contains("a@b.c"), "the user survives a refresh");
        let err = e
            .refresh_answer(&reply(401, r#"{"detail":"Refresh token reused"}"#), T0)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::RefreshFailed);
        assert_eq!(e.status(T0), Status::Anonymous);
    }

    #[test]
    fn transient_refresh_failures_back_off_and_then_fail_fast() {
        let mut e = engine("json");
        signed_in(&mut e, "r1");
        let err = e
            .refresh_answer(&reply(503, "<html>down</html>"), T0)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Server);
        assert_eq!(e.status(T0), Status::Authenticated, "the session is kept");
        assert!(e.refresh_outcome(Some(err.code), err.retry_after, T0, 0.5));
        assert!(e.backoff_wait(T0).is_some());
        // The token is still usable: callers get the last error at once.
        let code_of = |text: String| {
            crate::core::json::parse(&text).and_then(|j| j.str_of("code").map(str::to_owned))
        };
        assert_eq!(code_of(e.postponed(T0)).as_deref(), Some("server"));
        assert!(e.refresh_outcome(Some(ErrorCode::RateLimited), Some(600), T0, 0.5));
        e.set_error(None);
        let limited = crate::core::json::parse(&e.postponed(T0)).unwrap();
        assert_eq!(limited.str_of("code"), Some("rate_limited"));
        assert_eq!(limited.num_of("retryAfter"), Some(600.0));
        assert!(!e.refresh_outcome(None, None, T0 + 700_000.0, 0.5));
        assert_eq!(e.backoff_wait(T0 + 700_000.0), None);
    }

    fn better_auth_jwt_body() -> String {
        format!(
            r#"{{"token":"{}"}}"#,
            jwt(&format!(
                r#"{{"sub":"u1","exp":{}}}"#,
                (T0 / 1000.0) as i64 + 900
            ))
        )
    }

    /// The two-factor plugin: the password answer asks for a second factor, a wrong
    /// code is another try, the right one gives a session token, exchanged for the JWT
    /// (each answer routed by its request's id, as the shell hands them in).
    #[test]
    fn better_auth_two_factor_is_mfa_required_then_verify_mfa() {
        let mut e = engine("better-auth");
        let login = e.login(None, Some("a@b.c"), Some("pw")).unwrap();
        let asked = reply(
            200,
            r#"{"twoFactorRedirect":true,"twoFactorMethods":["totp"]}"#,
        );
        assert_eq!(e.reply(login.id, &asked, T0), Ok(Answer::Mfa));
        assert_eq!(e.status(T0), Status::MfaRequired);
        assert!(e
            .view(T0)
            .contains(r#""mfa":{"methods":["totp","recovery_code"]}"#));
        let req = e.verify_mfa(Some("123456"), None).unwrap();
        assert_eq!(
            req.out.request.url,
            "http://127.0.0.1:8000/api/auth/two-factor/verify-totp"
        );
        let wrong = reply(401, r#"{"code":"INVALID_CODE","message":"Invalid code"}"#);
        assert_eq!(
            e.reply(req.id, &wrong, T0).unwrap_err().code,
            ErrorCode::InvalidCode
        );
        assert_eq!(e.status(T0), Status::MfaRequired, "another try");
        let again = e.verify_mfa(Some("654321"), None).unwrap();
        let verified = Reply {
            auth_token: "sess-2",
            ..reply(200, r#"{"token":"sess-2","user":{"id":"u1"}}"#)
        };
        let Ok(Answer::Next(exchange)) = e.reply(again.id, &verified, T0) else {
            panic!("expected an exchange");
        };
        assert_eq!(exchange.out.bearer.as_deref(), Some("sess-2"));
        assert_eq!(
            e.reply(exchange.id, &reply(200, &better_auth_jwt_body()), T0),
            Ok(Answer::Done)
        );
        assert_eq!(e.status(T0), Status::Authenticated);
        assert!(e.view(T0).contains(r#""mfa":null"#));
        assert_eq!(e.bearer(Credential::Refresh).as_deref(), Some("sess-2"));
        // A pending sign-in Better Auth no longer knows ends the challenge.
        let login = e.login(None, Some("a@b.c"), Some("pw")).unwrap();
        assert_eq!(e.reply(login.id, &asked, T0), Ok(Answer::Mfa));
        let backup = e.verify_mfa(None, Some("abcde-fghij")).unwrap();
        assert_eq!(
            backup.out.request.url,
            "http://127.0.0.1:8000/api/auth/two-factor/verify-backup-code"
        );
        let gone = reply(
            401,
            r#"{"code":"INVALID_TWO_FACTOR_COOKIE","message":"Invalid two factor cookie"}"#,
        );
        assert_eq!(
            e.reply(backup.id, &gone, T0).unwrap_err().code,
            ErrorCode::ChallengeExpired
        );
        assert_ne!(e.status(T0), Status::MfaRequired);
    }

    /// Social sign-in: back from Better Auth, its get-session answer (read with its
    /// cookie) gives the session token, exchanged like a password sign-in's.
    #[test]
    fn better_auth_social_reads_the_session_then_exchanges() {
        let mut e = engine("better-auth");
        let session = reply(200, r#"{"session":{"token":"sess-3"},"user":{"id":"u1"}}"#);
        let Ok(Answer::Next(exchange)) = e.sign_in_answer(Op::Social, &session, T0) else {
            panic!("expected an exchange");
        };
        assert_eq!(exchange.out.bearer.as_deref(), Some("sess-3"));
        assert_eq!(
            e.reply(exchange.id, &reply(200, &better_auth_jwt_body()), T0),
            Ok(Answer::Done)
        );
        assert_eq!(e.bearer(Credential::Refresh).as_deref(), Some("sess-3"));
        let mut e = engine("better-auth");
        let err = e
            .sign_in_answer(Op::Social, &reply(200, "null"), T0)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ProviderError);
    }

    #[test]
    fn better_auth_exchanges_the_session_token_for_the_jwt() {
        let mut e = engine("better-auth");
        e.login(None, Some("a@b.c"), Some("pw")).unwrap();
        let first = Reply {
            auth_token: "sess-1",
            ..reply(200, r#"{"token":"sess-1","user":{"id":"u1"}}"#)
        };
        let Answer::Next(Issued { out, .. }) = e.sign_in_answer(Op::Login, &first, T0).unwrap()
        else {
            panic!("expected an exchange");
        };
        assert_eq!(out.bearer.as_deref(), Some("sess-1"));
        assert_eq!(out.request.url, "http://127.0.0.1:8000/api/auth/token");
        let jwt_body = format!(
            r#"{{"token":"{}"}}"#,
            jwt(&format!(
                r#"{{"sub":"u1","exp":{}}}"#,
                (T0 / 1000.0) as i64 + 900
            ))
        );
        assert_eq!(
            e.sign_in_answer(Op::Login, &reply(200, &jwt_body), T0),
            Ok(Answer::Done)
        );
        assert_eq!(e.bearer(Credential::Refresh).as_deref(), Some("sess-1"));
        assert_eq!(
            e.logout().and_then(|o| o.out.bearer).as_deref(),
            Some("sess-1")
        );
    }

    #[test]
    fn a_register_answer_without_tokens_asks_for_a_login() {
        let mut e = engine("json");
        e.register(Some("a@b.c"), Some("pw"), None).unwrap();
        assert_eq!(
            e.sign_in_answer(Op::Register, &reply(201, r#"{"id":"u1"}"#), T0),
            Ok(Answer::LogIn)
        );
        let err = e.register(Some("a@b.c"), None, None).unwrap_err();
        assert_eq!(
            err.field_list(),
            vec![("password".to_owned(), "This field is required".to_owned())]
        );
    }

    #[test]
    fn with_the_cookie_transport_the_client_never_holds_a_refresh_token() {
        let mut e = Engine::new(
            Config::validate(RawConfig {
                base_url: Some("http://127.0.0.1:8000"),
                storage: Some("memory"),
                refresh_transport: Some("cookie"),
                ..RawConfig::default()
            })
            .unwrap(),
        );
        let access = jwt(&format!(
            r#"{{"sub":"u1","exp":{}}}"#,
            (T0 / 1000.0) as i64 + 900
        ));
        let body = format!(r#"{{"access_token":"{access}","refresh_token":null}}"#);
        assert_eq!(
            e.sign_in_answer(Op::Login, &reply(200, &body), T0),
            Ok(Answer::Done)
        );
        let rt = e.refresh_token(T0).unwrap();
        assert_eq!(rt, COOKIE_CREDENTIAL);
        let out = e.refresh_request(&rt);
        assert_eq!(
            out.out.request.body.as_deref(),
            Some("{}"),
            "the cookie carries the token"
        );
        assert_eq!(out.out.bearer, None);
        assert_eq!(
            e.logout().and_then(|o| o.out.request.body).as_deref(),
            Some("{}")
        );
        assert!(
            !e.persisted().contains("refresh_token\":null"),
            "refreshable after restore"
        );
    }

    #[test]
    fn a_social_sign_in_signs_in_like_a_password_one_and_records_its_errors() {
        let mut e = engine("json");
        let pending = r#"{"provider":"acme","state":"st","verifier":"v","flow":"f","issuer":"https://id.test","redirect":"http://localhost:3000/cb"}"#;
        let returned = |state| Returned {
            state: Some(state),
            code: Some("c"),
            error: None,
            iss: Some("https://id.test"),
            at: Some("http://localhost:3000/cb"),
        };
        assert_eq!(
            e.social_finish(pending, returned("forged"))
                .unwrap()
                .unwrap_err()
                .code,
            ErrorCode::StateMismatch
        );
        assert_eq!(
            e.error_code(),
            Some(ErrorCode::StateMismatch),
            "shown in the snapshot"
        );
        let req = e.social_finish(pending, returned("st")).unwrap().unwrap();
        assert_eq!(
            req.out.request.url,
            "http://127.0.0.1:8000/auth/oauth/acme/callback"
        );
        let challenge = reply(
            200,
            r#"{"mfa_required":true,"challenge":"ch-2","methods":["totp"],"expires_in":300}"#,
        );
        assert_eq!(
            e.sign_in_answer(Op::Social, &challenge, T0),
            Ok(Answer::Mfa)
        );
        assert_eq!(e.status(T0), Status::MfaRequired);
        let used = reply(400, r#"{"detail":"used","code":"code_used"}"#);
        assert_eq!(
            e.sign_in_answer(Op::Social, &used, T0).unwrap_err().code,
            ErrorCode::CodeUsed
        );
        let body = tokens((T0 / 1000.0) as i64 + 900, "r1");
        assert_eq!(
            e.sign_in_answer(Op::Social, &reply(200, &body), T0),
            Ok(Answer::Done)
        );
        assert_eq!(e.status(T0), Status::Authenticated);
        assert_eq!(e.error_code(), None);
    }

    #[test]
    fn account_calls_of_the_user_need_a_session_and_record_their_errors() {
        let mut e = engine("json");
        assert_eq!(
            e.account(AccountOp::Identities).unwrap_err().code,
            ErrorCode::SessionExpired
        );
        assert_eq!(
            e.social_start("acme", "http://localhost:3000/cb", "c", "s", Some(""))
                .unwrap_err()
                .code,
            ErrorCode::SessionExpired,
            "a link needs someone to link to"
        );
        // Following a link needs no session.
        let req = e.account(AccountOp::VerifyEmail("tok")).unwrap();
        assert_eq!(req.out.request.credential, Credential::None);
        let used = reply(400, r#"{"detail":"used","code":"verification_used"}"#);
        // Answered through `reply`, which records it.
        assert_eq!(
            e.reply(req.id, &used, T0).unwrap_err().code,
            ErrorCode::CodeUsed
        );
        assert_eq!(e.error_code(), Some(ErrorCode::CodeUsed));
        signed_in(&mut e, "r1");
        assert_eq!(
            e.account(AccountOp::Unlink("acme"))
                .unwrap()
                .out
                .request
                .credential,
            Credential::Access
        );
        let start = e
            .social_start("acme", "http://localhost:3000/cb", "c", "s", Some(""))
            .unwrap();
        assert_eq!(start.out.request.credential, Credential::Access);
        assert_eq!(
            e.account_answer(AccountOp::Linked, &reply(200, r#"{"linked":"acme"}"#)),
            Ok(String::new())
        );
        assert_eq!(
            e.status(T0),
            Status::Authenticated,
            "a link keeps the session"
        );
    }

    #[test]
    fn a_two_factor_sign_in_waits_for_the_code() {
        let mut e = engine("json");
        e.login(None, Some("a@b.c"), Some("pw")).unwrap();
        let challenge = reply(
            200,
            r#"{"mfa_required":true,"challenge":"ch-1","methods":["totp","recovery_code"],"expires_in":300}"#,
        );
        assert_eq!(e.sign_in_answer(Op::Login, &challenge, T0), Ok(Answer::Mfa));
        assert_eq!(e.status(T0), Status::MfaRequired);
        assert!(e
            .view(T0)
            .contains(r#""mfa":{"methods":["totp","recovery_code"]}"#));
        assert_eq!(
            e.verify_mfa(None, None).unwrap_err().code,
            ErrorCode::Validation
        );
        let req = e.verify_mfa(Some("123456"), None).unwrap();
        assert_eq!(req.out.request.url, "http://127.0.0.1:8000/auth/mfa/verify");
        assert_eq!(
            req.out.request.body.as_deref(),
            Some(r#"{"challenge":"ch-1","code":"123456"}"#)
        );
        let wrong = reply(
            401,
            r#"{"detail":"The code is not valid","code":"invalid_code"}"#,
        );
        assert_eq!(
            e.mfa_answer(&wrong, T0).unwrap_err().code,
            ErrorCode::InvalidCode
        );
        assert_eq!(e.status(T0), Status::MfaRequired, "another try");
        let mistyped = reply(
            422,
            r#"{"detail":"The request has invalid fields","code":"validation","fields":{"code":"String should match pattern"}}"#,
        );
        assert_eq!(
            e.mfa_answer(&mistyped, T0).unwrap_err().code,
            ErrorCode::Validation
        );
        assert_eq!(e.status(T0), Status::MfaRequired, "a typo is another try");
        let body = tokens((T0 / 1000.0) as i64 + 900, "r1");
        assert_eq!(e.mfa_answer(&reply(200, &body), T0), Ok(Answer::Done));
        assert_eq!(e.status(T0), Status::Authenticated);
        assert!(e.view(T0).contains(r#""mfa":null"#));
        // A challenge that ran out ends the attempt.
        e.sign_out(None);
        e.sign_in_answer(Op::Login, &challenge, T0).unwrap();
        let late = reply(401, r#"{"detail":"too late","code":"challenge_expired"}"#);
        assert_eq!(
            e.mfa_answer(&late, T0).unwrap_err().code,
            ErrorCode::ChallengeExpired
        );
        assert_eq!(e.status(T0), Status::Anonymous);
        assert_eq!(
            e.verify_mfa(Some("1"), None).unwrap_err().code,
            ErrorCode::ChallengeExpired
        );
    }

    #[test]
    fn sessions_are_listed_in_js_shape_and_revoked_by_id() {
        let mut e = engine("json");
        assert_eq!(
            e.sessions(SessionsOp::List).unwrap_err().code,
            ErrorCode::SessionExpired
        );
        signed_in(&mut e, "r1");
        let list = e.sessions(SessionsOp::List).unwrap();
        assert_eq!(
            (list.out.request.method, list.out.request.url.as_str()),
            ("GET", "http://127.0.0.1:8000/auth/sessions")
        );
        let body = r#"[{"id":"s1","created_at":"2026-11-25T00:00:00Z","last_used_at":"2026-11-25T01:00:00Z","user_agent":"Chrome","ip":"127.0.0.1","current":true}]"#;
        assert_eq!(
            e.sessions_answer(SessionsOp::List, &reply(200, body))
                .unwrap(),
            r#"[{"id":"s1","createdAt":"2026-11-25T00:00:00Z","lastUsedAt":"2026-11-25T01:00:00Z","userAgent":"Chrome","ip":"127.0.0.1","current":true}]"#
        );
        let revoke = e.sessions(SessionsOp::Revoke("a/b c")).unwrap();
        assert_eq!(
            (revoke.out.request.method, revoke.out.request.url.as_str()),
            ("DELETE", "http://127.0.0.1:8000/auth/sessions/a%2Fb%20c")
        );
        assert_eq!(
            e.sessions(SessionsOp::RevokeAll).unwrap().out.request.url,
            "http://127.0.0.1:8000/auth/sessions"
        );
        let missing = reply(404, r#"{"detail":"No such session","code":"not_found"}"#);
        assert!(e
            .sessions_answer(SessionsOp::Revoke("x"), &missing)
            .is_err());
        assert_eq!(
            e.sessions_answer(SessionsOp::List, &reply(200, "<html>"))
                .unwrap_err()
                .code,
            ErrorCode::InvalidResponse
        );
    }

    #[test]
    fn adopting_another_tabs_state_reports_only_changes() {
        let mut a = engine("json");
        signed_in(&mut a, "r1");
        let text = a.persisted();
        let mut b = engine("json");
        assert!(b.adopt(Some(&text), T0));
        assert!(!b.adopt(Some(&text), T0));
        assert!(!b.adopt(Some("{garbage"), T0), "garbage is ignored");
        assert_eq!(b.status(T0), Status::Authenticated);
        assert!(b.adopt(None, T0));
        assert_eq!(b.status(T0), Status::Anonymous);
    }

    #[test]
    fn the_proactive_timer_follows_the_session_and_the_page() {
        let mut e = engine("json");
        let visible = Page {
            hidden: false,
            online: true,
        };
        assert_eq!(e.next_wake(T0, visible), None);
        signed_in(&mut e, "r1");
        assert_eq!(e.next_wake(T0, visible), Some(840_000.0));
        assert_eq!(
            e.next_wake(
                T0,
                Page {
                    hidden: true,
                    online: true
                }
            ),
            None
        );
        assert!(!e.refresh_now(T0, visible));
        assert!(e.refresh_now(T0 + 850_000.0, visible));
    }

    /// An engine for a token server with other field names (`fields`).
    fn engine_with_fields(fields: &[(&str, &str)]) -> Engine {
        Engine::new(
            Config::validate(RawConfig {
                base_url: Some("http://127.0.0.1:8000"),
                fields: &crate::core::fields::tests::pairs(fields),
                ..RawConfig::default()
            })
            .unwrap(),
        )
    }

    #[test]
    fn a_simplejwt_session_signs_in_refreshes_with_rotation_and_signs_out_when_blacklisted() {
        let mut e = engine_with_fields(&[
            ("accessToken", "access"),
            ("refreshToken", "refresh"),
            ("refreshBody", "refresh"),
        ]);
        let exp = (T0 / 1000.0) as i64 + 300;
        let access = |exp: i64| {
            jwt(&format!(
                r#"{{"user_id":"7","iat":{},"exp":{exp}}}"#,
                exp - 300
            ))
        };
        let login = format!(r#"{{"refresh":"r1","access":"{}"}}"#, access(exp));
        assert_eq!(
            e.sign_in_answer(Op::Login, &reply(200, &login), T0),
            Ok(Answer::Done)
        );
        assert_eq!(e.status(T0), Status::Authenticated);
        assert!(
            e.view(T0).contains(r#""user_id":"7""#),
            "the user from the claims"
        );
        let out = e.refresh_request("r1");
        assert_eq!(out.out.request.body.as_deref(), Some(r#"{"refresh":"r1"}"#));
        // ROTATE_REFRESH_TOKENS: a new refresh token with the access token.
        let rotated = format!(r#"{{"access":"{}","refresh":"r2"}}"#, access(exp + 300));
        assert_eq!(
            e.refresh_answer(&reply(200, &rotated), T0),
            Ok(Answer::Done)
        );
        assert!(e.superseded("r1"));
        assert_eq!(
            e.refresh_request("r2").out.request.body.as_deref(),
            Some(r#"{"refresh":"r2"}"#)
        );
        // Without rotation only the access token comes back: r2 is kept.
        let plain = format!(r#"{{"access":"{}"}}"#, access(exp + 600));
        e.refresh_answer(&reply(200, &plain), T0).unwrap();
        assert!(!e.superseded("r2"));
        assert!(e.persisted().contains(r#""refresh_token":"r2""#));
        // BLACKLIST_AFTER_ROTATION: a spent or blacklisted token is a 401 that signs out.
        let err = e
            .refresh_answer(
                &reply(
                    401,
                    r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#,
                ),
                T0,
            )
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::RefreshFailed);
        assert_eq!(e.status(T0), Status::Anonymous);
        assert_eq!(e.persisted(), "");
    }

    #[test]
    fn the_user_an_answer_carries_is_the_snapshots_until_a_newer_one() {
        let mut e = engine_with_fields(&[
            ("accessToken", "data.token"),
            ("refreshToken", "data.refresh"),
            ("expiresIn", "data.ttl"),
            ("user", "data.user"),
        ]);
        let answer = |user: &str| {
            format!(r#"{{"data":{{"token":"opaque-1","refresh":"r1","ttl":600,"user":{user}}}}}"#)
        };
        e.sign_in_answer(
            Op::Login,
            &reply(200, &answer(r#"{"id":1,"name":"Ada"}"#)),
            T0,
        )
        .unwrap();
        let view = crate::core::json::parse(&e.view(T0)).unwrap();
        assert_eq!(view.get("user").and_then(|u| u.str_of("name")), Some("Ada"));
        assert_eq!(
            view.get("expiresAt").and_then(Json::as_f64),
            Some(T0 + 600_000.0),
            "an opaque token lives expiresIn seconds"
        );
        let mut restored = engine_with_fields(&[]);
        assert!(restored.restore(Some(&e.persisted()), T0));
        assert!(
            restored.view(T0).contains("Ada"),
            "the user is stored with the session"
        );
        e.refresh_answer(&reply(200, &answer("null")), T0).unwrap();
        assert!(
            e.view(T0).contains("Ada"),
            "a refresh without a user keeps it"
        );
        e.refresh_answer(&reply(200, &answer(r#"{"id":1,"name":"Ada L."}"#)), T0)
            .unwrap();
        assert!(
            e.view(T0).contains("Ada L."),
            "a refresh with one replaces it"
        );
    }
}
