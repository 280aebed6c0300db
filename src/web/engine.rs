//! `Engine`: core::engine behind the boundary, for js/client.js (internal, not the
//! public API). Only strings, numbers and booleans cross: requests and errors as
//! JSON text, which the shell turns into fetch calls and `AuthError`s.

use crate::prelude::*;

use wasm_bindgen::prelude::*;

use crate::core::config::{Config, RawConfig};
use crate::core::engine::{self, Access, Outgoing, Reply, SignIn};
use crate::core::error::{AuthError, ErrorCode};
use crate::core::json::write_str;
use crate::core::protocol::Op;
use crate::core::schedule::Page;

/// An error as JSON text: `{"code","message","status"?,"retryAfter"?,"fields"?}`.
fn error_text(err: &AuthError) -> String {
    let mut out = String::from("{\"code\":");
    write_str(&mut out, err.code.as_str());
    out.push_str(",\"message\":");
    write_str(&mut out, &err.message);
    if let Some(status) = err.status {
        out.push_str(",\"status\":");
        push_int(&mut out, u32::from(status));
    }
    if let Some(wait) = err.retry_after {
        out.push_str(",\"retryAfter\":");
        push_int(&mut out, wait);
    }
    if !err.fields.is_empty() {
        out.push_str(",\"fields\":{");
        for (i, (k, v)) in err.fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, k);
            out.push(':');
            write_str(&mut out, v);
        }
        out.push('}');
    }
    out.push('}');
    out
}

fn push_int(out: &mut String, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in digits.iter().skip(i) {
        out.push(char::from(*d));
    }
}

/// A request as JSON text: `{"method","url","type"?,"body"?,"bearer"?}`.
fn request_text(out: &Outgoing) -> String {
    let r = &out.request;
    let mut text = String::from("{\"method\":");
    write_str(&mut text, r.method);
    text.push_str(",\"url\":");
    write_str(&mut text, &r.url);
    for (key, value) in [
        ("type", r.content_type),
        ("body", r.body.as_deref()),
        ("bearer", out.bearer.as_deref()),
    ] {
        if let Some(value) = value {
            text.push_str(",\"");
            text.push_str(key);
            text.push_str("\":");
            write_str(&mut text, value);
        }
    }
    text.push('}');
    text
}

type Answer<T> = Result<T, String>;

fn err<T>(e: AuthError) -> Answer<T> {
    Err(error_text(&e))
}

fn op_of(op: u8) -> Op {
    match op {
        0 => Op::Login,
        1 => Op::Register,
        2 => Op::Refresh,
        3 => Op::Logout,
        _ => Op::Me,
    }
}

#[wasm_bindgen]
pub struct Engine(engine::Engine);

#[wasm_bindgen]
impl Engine {
    /// `config`: `JSON.stringify` of the options object.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str) -> Answer<Engine> {
        match RawConfig::from_json(config).and_then(Config::validate) {
            Ok(cfg) => Ok(Engine(engine::Engine::new(cfg))),
            Err(e) => err(e),
        }
    }

    /// "local" | "session" | "memory".
    pub fn storage(&self) -> String {
        self.0.cfg.storage.as_str().to_owned()
    }

    /// The storage key; lock and channel names start with it.
    pub fn key(&self) -> String {
        self.0.cfg.storage_key.clone()
    }

    #[wasm_bindgen(js_name = lockTimeout)]
    pub fn lock_timeout(&self) -> f64 {
        self.0.cfg.lock_timeout_ms
    }

    pub fn restore(&mut self, text: Option<String>, now: f64) -> bool {
        self.0.restore(text.as_deref(), now)
    }

    pub fn adopt(&mut self, text: Option<String>, now: f64) -> bool {
        self.0.adopt(text.as_deref(), now)
    }

    pub fn persisted(&self) -> Option<String> {
        self.0.persisted()
    }

    pub fn status(&self, now: f64) -> String {
        self.0.status(now).as_str().to_owned()
    }

    pub fn view(&self, now: f64) -> String {
        self.0.view(now)
    }

    pub fn error(&self) -> Option<String> {
        self.0.error().map(error_text)
    }

    /// Record a failure the shell met (network, aborted); returns it as JSON.
    pub fn fail(&mut self, code: &str, message: &str) -> String {
        let e = AuthError::new(
            ErrorCode::parse(code).unwrap_or(ErrorCode::Network),
            message,
        );
        let text = error_text(&e);
        self.0.set_error(Some(e));
        text
    }

    #[wasm_bindgen(js_name = clearError)]
    pub fn clear_error(&mut self) {
        self.0.set_error(None);
    }

    pub fn login(
        &mut self,
        username: Option<String>,
        email: Option<String>,
        password: Option<String>,
    ) -> Answer<String> {
        match self
            .0
            .login(username.as_deref(), email.as_deref(), password.as_deref())
        {
            Ok(request) => Ok(request_text(&Outgoing {
                request,
                bearer: None,
            })),
            Err(e) => err(e),
        }
    }

    pub fn register(
        &mut self,
        email: Option<String>,
        password: Option<String>,
        name: Option<String>,
    ) -> Answer<String> {
        match self
            .0
            .register(email.as_deref(), password.as_deref(), name.as_deref())
        {
            Ok(request) => Ok(request_text(&Outgoing {
                request,
                bearer: None,
            })),
            Err(e) => err(e),
        }
    }

    /// "" signed in; "login": log in now; else the next request (JSON).
    #[wasm_bindgen(js_name = signInAnswer)]
    #[allow(clippy::too_many_arguments)]
    pub fn sign_in_answer(
        &mut self,
        op: u8,
        status: u16,
        body: &str,
        date: Option<String>,
        retry_after: Option<String>,
        auth_token: Option<String>,
        now: f64,
    ) -> Answer<String> {
        let reply = Reply {
            status,
            body,
            date: date.as_deref(),
            retry_after: retry_after.as_deref(),
            auth_token: auth_token.as_deref(),
        };
        match self.0.sign_in_answer(op_of(op), &reply, now) {
            Ok(SignIn::Done) => Ok(String::new()),
            Ok(SignIn::LogIn) => Ok("login".to_owned()),
            Ok(SignIn::Exchange(out)) => Ok(request_text(&out)),
            Err(e) => err(e),
        }
    }

    #[wasm_bindgen(js_name = signOut)]
    pub fn sign_out(&mut self) {
        self.0.sign_out(None);
    }

    /// The revocation request (JSON), when the protocol has one.
    pub fn logout(&self) -> Option<String> {
        self.0.logout().as_ref().map(request_text)
    }

    /// 0 signed out, 1 use `usableToken`, 2 refresh first, 3 expired (first time:
    /// emit `session_expired`), 4 expired (already said).
    pub fn access(&mut self, now: f64) -> u8 {
        match self.0.access(now) {
            Access::SignedOut => 0,
            Access::Use(_) => 1,
            Access::Refresh => 2,
            Access::Expired(true) => 3,
            Access::Expired(false) => 4,
        }
    }

    #[wasm_bindgen(js_name = usableToken)]
    pub fn usable_token(&self, now: f64) -> Option<String> {
        self.0.usable_token(now)
    }

    #[wasm_bindgen(js_name = bearerAllowed)]
    pub fn bearer_allowed(&self, url: &str) -> bool {
        self.0.bearer_allowed(url)
    }

    #[wasm_bindgen(js_name = refreshToken)]
    pub fn refresh_token(&mut self, now: f64) -> Answer<String> {
        self.0.refresh_token(now).or_else(err)
    }

    pub fn superseded(&self, refresh_token: &str) -> bool {
        self.0.superseded(refresh_token)
    }

    #[wasm_bindgen(js_name = refreshRequest)]
    pub fn refresh_request(&self, refresh_token: &str) -> String {
        request_text(&self.0.refresh_request(refresh_token))
    }

    /// Ok: `token_refreshed`. A `refresh_failed` error has signed out.
    #[wasm_bindgen(js_name = refreshAnswer)]
    pub fn refresh_answer(
        &mut self,
        status: u16,
        body: &str,
        date: Option<String>,
        retry_after: Option<String>,
        now: f64,
    ) -> Answer<()> {
        let reply = Reply {
            status,
            body,
            date: date.as_deref(),
            retry_after: retry_after.as_deref(),
            auth_token: None,
        };
        self.0.refresh_answer(&reply, now).map(|_| ()).or_else(err)
    }

    /// After a refresh: `failed` uses the recorded error. True while a retry is pending.
    #[wasm_bindgen(js_name = refreshOutcome)]
    pub fn refresh_outcome(&mut self, failed: bool, now: f64, random: f64) -> bool {
        let error = if failed {
            self.0.error().cloned()
        } else {
            None
        };
        self.0.refresh_outcome(error.as_ref(), now, random)
    }

    /// Remaining backoff in ms, or -1.
    #[wasm_bindgen(js_name = backoffWait)]
    pub fn backoff_wait(&self, now: f64) -> f64 {
        self.0.backoff_wait(now).unwrap_or(-1.0)
    }

    pub fn postponed(&self, now: f64) -> Option<String> {
        self.0.postponed(now).as_ref().map(error_text)
    }

    /// Delay (local ms) of the proactive refresh, or -1 for no timer.
    #[wasm_bindgen(js_name = nextWake)]
    pub fn next_wake(&self, now: f64, hidden: bool, online: bool) -> f64 {
        self.0
            .next_wake(now, Page { hidden, online })
            .unwrap_or(-1.0)
    }

    #[wasm_bindgen(js_name = refreshNow)]
    pub fn refresh_now(&self, now: f64, hidden: bool, online: bool) -> bool {
        self.0.refresh_now(now, Page { hidden, online })
    }

    /// The `me` request (JSON); None: the claims are the user.
    pub fn me(&self) -> Answer<Option<String>> {
        match self.0.me() {
            Ok(out) => Ok(out.as_ref().map(request_text)),
            Err(e) => err(e),
        }
    }

    pub fn claims(&self) -> Option<String> {
        self.0.claims().map(str::to_owned)
    }

    /// The user (JSON). A `session_expired` error has signed out.
    #[wasm_bindgen(js_name = meAnswer)]
    pub fn me_answer(
        &mut self,
        status: u16,
        body: &str,
        date: Option<String>,
        now: f64,
    ) -> Answer<String> {
        let reply = Reply {
            status,
            body,
            date: date.as_deref(),
            retry_after: None,
            auth_token: None,
        };
        self.0.me_answer(&reply, now).or_else(err)
    }
}
