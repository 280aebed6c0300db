//! `Engine`: core::engine behind the boundary, for js/client.js (internal, not the
//! public API). Only strings, numbers and booleans cross: requests and errors as
//! JSON text, which the shell turns into fetch calls and `AuthError`s.

use crate::prelude::*;

use wasm_bindgen::prelude::*;

use crate::core::account::AccountOp;
use crate::core::config::{Config, RawConfig};
use crate::core::engine::{self, Access, Outgoing, Reply, SignIn};
use crate::core::error::{AuthError, ErrorCode};
use crate::core::json::{self, write_str, Json};
use crate::core::protocol::{Credential, HttpRequest, Op, SessionsOp};
use crate::core::schedule::Page;
use crate::core::social::Returned;

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

/// A request as JSON text: `{"method","url","type"?,"body"?,"bearer"?,"cookie"?}`;
/// `cookie`: send credentials and the CSRF header (the refresh token is a cookie).
fn request_text(out: &Outgoing, cookie: bool) -> String {
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
    if cookie {
        text.push_str(",\"cookie\":true");
    }
    text.push('}');
    text
}

/// The operations of `Engine::call`; js/engine-ops.js mirrors these numbers.
mod op {
    pub const CONFIGURE: u32 = 0;
    pub const SETTINGS: u32 = 1;
    pub const RESTORE: u32 = 2;
    pub const ADOPT: u32 = 3;
    pub const PERSISTED: u32 = 4;
    pub const STATUS: u32 = 5;
    pub const VIEW: u32 = 6;
    pub const ERROR: u32 = 7;
    pub const FAIL: u32 = 8;
    pub const CLEAR_ERROR: u32 = 9;
    pub const LOGIN: u32 = 10;
    pub const REGISTER: u32 = 11;
    pub const LOGIN_ANSWER: u32 = 12;
    pub const REGISTER_ANSWER: u32 = 13;
    pub const SIGN_OUT: u32 = 14;
    pub const LOGOUT: u32 = 15;
    pub const ACCESS: u32 = 16;
    pub const USABLE: u32 = 17;
    pub const BEARER_ALLOWED: u32 = 18;
    pub const REFRESH_TOKEN: u32 = 19;
    pub const SUPERSEDED: u32 = 20;
    pub const REFRESH_REQUEST: u32 = 21;
    pub const REFRESH_ANSWER: u32 = 22;
    pub const REFRESH_OUTCOME: u32 = 23;
    pub const BACKOFF_WAIT: u32 = 24;
    pub const POSTPONED: u32 = 25;
    pub const NEXT_WAKE: u32 = 26;
    pub const REFRESH_NOW: u32 = 27;
    pub const ME: u32 = 28;
    pub const CLAIMS: u32 = 29;
    pub const ME_ANSWER: u32 = 30;
    pub const FINGERPRINT: u32 = 31;
    pub const CURRENT: u32 = 32;
    pub const MFA_VERIFY: u32 = 33;
    pub const MFA_ANSWER: u32 = 34;
    pub const SESSIONS: u32 = 35;
    pub const SESSIONS_ANSWER: u32 = 36;
    pub const SOCIAL_START: u32 = 37;
    pub const SOCIAL_STARTED: u32 = 38;
    pub const SOCIAL_FINISH: u32 = 39;
    pub const SOCIAL_ANSWER: u32 = 40;
    pub const ACCOUNT: u32 = 41;
    pub const ACCOUNT_ANSWER: u32 = 42;
}

/// `which`: 0 verify email (`arg`: the token), 1 resend verification, 2 identities,
/// 3 unlink (`arg`: the provider), 4 a link's callback.
fn account_op(which: f64, arg: &str) -> AccountOp<'_> {
    match which as u8 {
        0 => AccountOp::VerifyEmail(arg),
        1 => AccountOp::ResendVerification,
        3 => AccountOp::Unlink(arg),
        4 => AccountOp::Linked,
        _ => AccountOp::Identities,
    }
}

fn sessions_op(which: f64, id: &str) -> SessionsOp<'_> {
    match which as u8 {
        1 => SessionsOp::Revoke(id),
        2 => SessionsOp::RevokeAll,
        _ => SessionsOp::List,
    }
}

/// An empty argument is an absent one.
fn opt(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

fn flag(on: bool) -> String {
    if on { "1" } else { "" }.to_owned()
}

fn num(n: f64) -> String {
    Json::Num(n).to_text()
}

/// A failure: `!` and the error's JSON.
pub(super) fn failure(e: &AuthError) -> String {
    ["!", &error_text(e)].concat()
}

fn page(flags: &str) -> Page {
    Page {
        hidden: flags.contains('h'),
        online: flags.contains('o'),
    }
}

/// A short fingerprint (FNV-1a, 64 bits) naming a refresh token in lock names and
/// messages without revealing it.
fn fingerprint(token: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in token.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    (0..16)
        .rev()
        .map(|i| char::from(HEX[((hash >> (i * 4)) & 15) as usize]))
        .collect()
}

/// core::engine for js/client.js. One export: every export is a shim of its own
/// in the wasm, and one call with string arguments costs less than thirty.
#[wasm_bindgen]
#[derive(Default)]
pub struct Engine(Option<engine::Engine>);

#[wasm_bindgen]
impl Engine {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Engine {
        Engine(None)
    }

    /// `op` (see `mod op`) with numbers `x`, `y` and strings `a`..`d` ("" = absent).
    /// Answers text; a failure starts with `!` followed by the AuthError as JSON.
    #[allow(clippy::too_many_arguments)]
    pub fn call(&mut self, op: u32, x: f64, y: f64, a: &str, b: &str, c: &str, d: &str) -> String {
        if op == op::CONFIGURE {
            return match RawConfig::from_json(a).and_then(Config::validate) {
                Ok(cfg) => {
                    self.0 = Some(engine::Engine::new(cfg));
                    String::new()
                }
                Err(e) => failure(&e),
            };
        }
        if op == op::FINGERPRINT {
            return fingerprint(a);
        }
        let Some(e) = self.0.as_mut() else {
            return failure(&AuthError::config("The client is not configured"));
        };
        let reply = Reply {
            status: y as u16,
            body: a,
            date: opt(b),
            retry_after: opt(c),
            auth_token: opt(d),
        };
        // The client's own auth requests carry the refresh cookie (never `me`).
        let cookie = e.cfg.refresh_cookie;
        let request = |r| {
            request_text(
                &Outgoing {
                    request: r,
                    bearer: None,
                },
                cookie,
            )
        };
        match op {
            op::SETTINGS => {
                let mut out = String::from("{\"storage\":");
                write_str(&mut out, e.cfg.storage.as_str());
                out.push_str(",\"key\":");
                write_str(&mut out, &e.cfg.storage_key);
                out.push_str(",\"lockTimeout\":");
                out.push_str(&num(e.cfg.lock_timeout_ms));
                out.push_str(",\"timeout\":");
                out.push_str(&num(e.cfg.timeout_ms));
                if cookie {
                    out.push_str(",\"cookie\":true");
                }
                if e.cfg.dpop {
                    out.push_str(",\"dpop\":true");
                }
                out.push('}');
                out
            }
            op::RESTORE => flag(e.restore(opt(a), x)),
            op::ADOPT => flag(e.adopt(opt(a), x)),
            op::PERSISTED => e.persisted().unwrap_or_default(),
            op::STATUS => e.status(x).as_str().to_owned(),
            op::VIEW => e.view(x),
            op::ERROR => e.error().map(error_text).unwrap_or_default(),
            op::FAIL => {
                let mut err = AuthError::new(ErrorCode::parse(a).unwrap_or(ErrorCode::Network), b);
                err.status = (y > 0.0).then_some(y as u16);
                let text = error_text(&err);
                e.set_error(Some(err));
                text
            }
            op::CLEAR_ERROR => {
                e.set_error(None);
                String::new()
            }
            op::LOGIN => e
                .login(opt(a), opt(b), opt(c))
                .map_or_else(|e| failure(&e), request),
            op::REGISTER => e
                .register(opt(a), opt(b), opt(c))
                .map_or_else(|e| failure(&e), request),
            op::LOGIN_ANSWER | op::REGISTER_ANSWER | op::SOCIAL_ANSWER => {
                let kind = match op {
                    op::LOGIN_ANSWER => Op::Login,
                    op::REGISTER_ANSWER => Op::Register,
                    _ => Op::Social,
                };
                match e.sign_in_answer(kind, &reply, x) {
                    Ok(SignIn::Done) => String::new(),
                    Ok(SignIn::LogIn) => "login".to_owned(),
                    Ok(SignIn::Mfa) => "mfa".to_owned(),
                    Ok(SignIn::Exchange(out)) => request_text(&out, cookie),
                    Err(err) => failure(&err),
                }
            }
            // `x`: 1 for a link of the provider to the signed-in user.
            op::SOCIAL_START => e
                .social_start(a, b, c, d, x == 1.0)
                .map_or_else(|e| failure(&e), request),
            op::SOCIAL_STARTED => e.social_started(&reply, x).unwrap_or_else(|e| failure(&e)),
            op::SOCIAL_FINISH => {
                // b: the callback as `{"state","code","error","iss","at"}` (js/client.js).
                let parsed = json::parse(b).filter(Json::is_object);
                let returned = parsed.as_ref().map(Returned::from_json).unwrap_or_default();
                match e.social_finish(opt(a), returned) {
                    // A link's callback: `"link":true`, answered through ACCOUNT_ANSWER.
                    Ok(Some(r)) if r.credential == Credential::Access => {
                        let mut text = request(r);
                        text.pop();
                        text.push_str(",\"link\":true}");
                        text
                    }
                    Ok(r) => r.map(request).unwrap_or_default(),
                    Err(err) => failure(&err),
                }
            }
            op::SIGN_OUT => {
                e.sign_out(None);
                String::new()
            }
            op::LOGOUT => e
                .logout()
                .map(|o| request_text(&o, cookie))
                .unwrap_or_default(),
            op::ACCESS => match e.access(x) {
                Access::SignedOut => "0".to_owned(),
                Access::Use(token) => ["1", &token].concat(),
                Access::Refresh => "2".to_owned(),
                Access::Expired(first) => if first { "3" } else { "4" }.to_owned(),
            },
            op::USABLE => e.usable_token(x).unwrap_or_default(),
            op::BEARER_ALLOWED => flag(e.bearer_allowed(a)),
            op::REFRESH_TOKEN => e.refresh_token(x).unwrap_or_else(|e| failure(&e)),
            op::SUPERSEDED => flag(e.superseded(a)),
            op::REFRESH_REQUEST => request_text(&e.refresh_request(a), cookie),
            op::REFRESH_ANSWER => e
                .refresh_answer(&reply, x)
                .map_or_else(|e| failure(&e), |_| String::new()),
            op::REFRESH_OUTCOME => {
                let err = if a.is_empty() {
                    None
                } else {
                    e.error().cloned()
                };
                flag(e.refresh_outcome(err.as_ref(), x, y))
            }
            op::BACKOFF_WAIT => e.backoff_wait(x).map(num).unwrap_or_default(),
            op::POSTPONED => e.postponed(x).as_ref().map(error_text).unwrap_or_default(),
            op::NEXT_WAKE => e.next_wake(x, page(a)).map(num).unwrap_or_default(),
            op::REFRESH_NOW => flag(e.refresh_now(x, page(a))),
            op::ME => match e.me() {
                Ok(out) => out.map(|o| request_text(&o, false)).unwrap_or_default(),
                Err(err) => failure(&err),
            },
            op::CURRENT => e.bearer(Credential::Access).unwrap_or_default(),
            // `y`: 0 list, 1 revoke `a` (its id), 2 revoke all.
            op::SESSIONS => e.sessions(sessions_op(y, a)).map_or_else(
                |e| failure(&e),
                |r| {
                    request_text(
                        &Outgoing {
                            request: r,
                            bearer: None,
                        },
                        false,
                    )
                },
            ),
            // `c`: 0 list, 1 revoke, 2 revoke all (as for SESSIONS); `d`: the id.
            op::SESSIONS_ANSWER => {
                let which = f64::from(c.parse::<u8>().unwrap_or(0));
                e.sessions_answer(sessions_op(which, d), &reply, x)
                    .unwrap_or_else(|e| failure(&e))
            }
            // `y`: which (see `account_op`); `a`: its argument.
            op::ACCOUNT => e.account(account_op(y, a)).map_or_else(
                |e| failure(&e),
                |r: HttpRequest| {
                    request_text(
                        &Outgoing {
                            request: r,
                            bearer: None,
                        },
                        false,
                    )
                },
            ),
            // `c`: Retry-After; `d`: which (one digit, as ACCOUNT's `y`) then its argument.
            op::ACCOUNT_ANSWER => {
                let which = d.get(..1).and_then(|w| w.parse::<u8>().ok()).unwrap_or(2);
                let arg = d.get(1..).unwrap_or("");
                e.account_answer(account_op(f64::from(which), arg), &reply, x)
                    .unwrap_or_else(|e| failure(&e))
            }
            op::MFA_VERIFY => e
                .verify_mfa(opt(a), opt(b))
                .map_or_else(|e| failure(&e), request),
            op::MFA_ANSWER => e
                .mfa_answer(&reply, x)
                .map_or_else(|e| failure(&e), |_| String::new()),
            op::CLAIMS => e.claims().unwrap_or_default().to_owned(),
            op::ME_ANSWER => e.me_answer(&reply, x).unwrap_or_else(|e| failure(&e)),
            _ => failure(&AuthError::config("Unknown engine operation")),
        }
    }
}
