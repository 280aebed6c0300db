//! core::engine behind the boundary, for js/engine.js (internal, not the public API):
//! one exported function over a handle, no exported class. Only strings, numbers and
//! booleans cross: requests and errors as JSON text, which the shell turns into fetch
//! calls and `AuthError`s.

use crate::prelude::*;

use super::functions::{decode_jwt_scratch, is_expired_scratch, jwt_scratch};
use super::Shared;
use crate::core::account::AccountOp;
use crate::core::config::Config;
use crate::core::dpop::Verdict;
use crate::core::engine::{self, Access, Answer, Issued, Kind, Reply};
use crate::core::error::{AuthError, ErrorCode};
use crate::core::json;
use crate::core::jwt::MAX_TOKEN_LEN;
use crate::core::object::Object;
use crate::core::passkey::{Finish, PasskeyOp};
use crate::core::protocol::SessionsOp;
use crate::core::schedule::Page;
use crate::core::social::Returned;

/// A request as JSON text: `{"id","method","url","type"?,"body"?,"bearer"?,"cookie"?,"link"?}`;
/// `id` names it in the answer (`REPLY`); `cookie`: send credentials and the CSRF
/// header (the refresh token is a cookie); `link`: a link's callback, the signed-in
/// user's call. The shell needs no other part of the request's kind. Taken by value: the
/// request is dropped here, not at each of the two callers.
fn request_text(issued: Issued, cookie: bool) -> String {
    let out = &issued.out;
    let r = &out.request;
    let mut text = Object::new();
    text.int("id", issued.id.into())
        .str("method", r.method)
        .str("url", &r.url)
        .opt_str("type", r.content_type);
    // Patterns, not `as_deref` (out of line, its `Option<&str>` answered through memory).
    if let Some(body) = &r.body {
        text.str("body", body);
    }
    if let Some(bearer) = &out.bearer {
        text.str("bearer", bearer);
    }
    if cookie && issued.kind.carries_cookie() {
        text.raw("cookie", "true");
    }
    if matches!(issued.kind, Kind::Account(AccountOp::Linked)) {
        text.raw("link", "true");
    }
    text.end()
}

/// The operations of `call_handle`: the one table, which js/ops.js and
/// tests/engine_wasm.rs copy (tests/ops-table.test.mjs fails when a copy differs).
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
    pub const MFA_VERIFY: u32 = 12;
    pub const SOCIAL_START: u32 = 13;
    pub const SOCIAL_FINISH: u32 = 14;
    pub const REFRESH_REQUEST: u32 = 15;
    pub const LOGOUT: u32 = 16;
    pub const ME: u32 = 17;
    pub const SESSIONS: u32 = 18;
    pub const ACCOUNT: u32 = 19;
    pub const REPLY: u32 = 20;
    pub const SIGN_OUT: u32 = 21;
    pub const ACCESS: u32 = 22;
    pub const USABLE: u32 = 23;
    pub const BEARER_ALLOWED: u32 = 24;
    pub const REFRESH_TOKEN: u32 = 25;
    pub const SUPERSEDED: u32 = 26;
    pub const REFRESH_OUTCOME: u32 = 27;
    pub const BACKOFF_WAIT: u32 = 28;
    pub const POSTPONED: u32 = 29;
    pub const NEXT_WAKE: u32 = 30;
    pub const REFRESH_NOW: u32 = 31;
    pub const CLAIMS: u32 = 32;
    pub const FINGERPRINT: u32 = 33;
    pub const CURRENT: u32 = 34;
    pub const PASSKEY: u32 = 35;
    pub const DPOP_CLAIMS: u32 = 36;
    pub const DPOP_ANSWER: u32 = 37;
    pub const DPOP_CLEAR: u32 = 38;
    pub const FREE: u32 = 39;
    /// Not the engine's: `engine_call` answers the input buffer's address for it.
    pub const INPUT: u32 = 40;
    /// Not the engine's either: `engine_call` answers where the token buffer starts
    /// (`n` = 0) or its length in bytes (else): two exports of their own cost more.
    pub const SCRATCH: u32 = 41;
    /// Not the engine's either: `isExpired` for the token of `n` bytes in the token
    /// buffer, at `x` (the device's clock) allowing `y` seconds (src/web/functions.rs):
    /// 1 or 0. An op, not an export of its own: wasm-bindgen's wrapper of one costs its
    /// arguments written to the stack and read back.
    pub const EXPIRED: u32 = 42;
    /// Not the engine's either: `decodeJwt` for the token of `n` bytes in the token
    /// buffer (src/web/functions.rs): the payload's length, or -1 - the error's length
    /// as a u32 (js/engine.js reads it back with `| 0`).
    pub const DECODE: u32 = 43;
}

/// `which`: 0 verify email (`arg`: the token), 1 resend verification, 2 identities,
/// 3 unlink (`arg`: the provider).
fn account_op(which: u32, arg: &str) -> AccountOp<'_> {
    match which {
        0 => AccountOp::VerifyEmail(arg),
        1 => AccountOp::ResendVerification,
        3 => AccountOp::Unlink(arg),
        _ => AccountOp::Identities,
    }
}

/// `which`: 0 register options (`a`: the password), 1 register, 3 sign up, 5 sign in
/// (`a`: the ceremony, `b`: the credential's JSON, `c`: the passkey's name), 2 sign-up
/// options (`a`: email, `b`: name), 4 sign-in options, 6 list, 7 rename (`a`: id, `b`:
/// name), 8 remove (`a`: id).
fn passkey_op<'a>(which: u32, a: &'a str, b: &'a str, c: &'a str) -> PasskeyOp<'a> {
    let finish = Finish {
        ceremony: a,
        credential: b,
        name: c,
    };
    match which {
        0 => PasskeyOp::RegisterOptions { password: a },
        1 => PasskeyOp::Register(finish),
        2 => PasskeyOp::SignUpOptions { email: a, name: b },
        3 => PasskeyOp::SignUp(finish),
        4 => PasskeyOp::SignInOptions,
        5 => PasskeyOp::SignIn(finish),
        7 => PasskeyOp::Rename { id: a, name: b },
        8 => PasskeyOp::Remove { id: a },
        _ => PasskeyOp::List,
    }
}

fn sessions_op(which: u32, id: &str) -> SessionsOp<'_> {
    match which {
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
    let mut text = String::new();
    json::write_num(&mut text, n);
    text
}

/// A failure: the error's JSON, its answer marked as one (`keep`'s third word), not a
/// `!` written before it (a second text and a copy). Taken by value: the error is
/// dropped here, not at each caller.
fn failure(e: AuthError) -> String {
    kept().1[2] = FAILED;
    engine::error_json(&e)
}

// Inlined into its two callers: out of line its `Page` was answered through memory.
#[inline(always)]
fn page(flags: &str) -> Page {
    // One loop over the bytes: `str::contains(char)`'s char searcher and two
    // `bytes().any(..)` (unrolled) cost the wasm more.
    let mut page = Page {
        hidden: false,
        online: false,
    };
    for b in flags.bytes() {
        page.hidden |= b == b'h';
        page.online |= b == b'o';
    }
    page
}

/// A short fingerprint (FNV-1a, 64 bits) naming a refresh token in lock names and
/// messages without revealing it.
fn fingerprint(token: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in token.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::new();
    let mut shift = 64;
    while shift > 0 {
        shift -= 4;
        out.push(char::from(
            b"0123456789abcdef"[(hash >> shift) as usize & 15],
        ));
    }
    out
}

/// Where js/engine.js writes a call's five string arguments, their UTF-8 one after the
/// other (`TextEncoder.encodeInto`). Taking `&str` arguments instead costs wasm-bindgen's
/// copy in per argument (`Box<[u8]>::from_abi`, which links `Vec::into_boxed_slice`'s
/// shrink path and panic text) and the glue's `passStringToWasm0` and allocator exports.
static INPUT: Shared<Vec<u8>> = Shared::new(Vec::new());

fn input() -> &'static mut Vec<u8> {
    INPUT.get()
}

/// The last answer of `call`, kept until the next one so that JS reads its UTF-8 in place:
/// the text and `[address, length, kind]` of its bytes (`kind`: 0 the answer, `FAILED`,
/// `NEXT`). Returning a `String` instead costs wasm-bindgen's copy out and the glue's
/// decode-and-free.
static KEPT: Shared<(String, [u32; 3])> = Shared::new((String::new(), [0; 3]));

fn kept() -> &'static mut (String, [u32; 3]) {
    KEPT.get()
}

/// The address of at least `len` bytes for the next call's arguments (the buffer grows
/// to fit, and the wasm's memory with it: views of it are made after this). The op INPUT
/// of `engine_call`: an export of its own cost the wasm and the glue 35 B gzip more.
fn call_input(len: usize) -> usize {
    let input = input();
    // Grown by zeroed chunks (it may end longer than asked): `extend_from_slice` is
    // the reserve and copy `push_str` links anyway; `resize` linked its generic
    // `extend_with` for this one call.
    while input.len() < len {
        input.extend_from_slice(&[0; 256]);
    }
    input.as_ptr() as usize
}

/// The five arguments: the input buffer's first `len` bytes, split at each 0xFF (a byte
/// UTF-8 never has; js/engine.js writes one after each argument, the buffer's end ends
/// one too). One that is no UTF-8, or all of them when `len` is beyond the buffer
/// (js/engine.js writes neither), reads as ""; a sixth and later part is not read.
fn args(len: u32) -> [&'static str; 5] {
    let bytes: &[u8] = input().get(..len as usize).unwrap_or_default();
    let mut args = [""; 5];
    // One pass over the bytes by index (no iterator adapters: their generic code).
    let (mut which, mut start, mut end) = (0, 0, 0);
    while end <= bytes.len() {
        if bytes.get(end).is_none_or(|&b| b == ARG_END) {
            if let (Some(arg), Some(part)) = (args.get_mut(which), bytes.get(start..end)) {
                *arg = utf8(part).unwrap_or_default();
            }
            which += 1;
            start = end + 1;
        }
        end += 1;
    }
    args
}

/// What ends each argument in the input buffer: a byte UTF-8 never has.
const ARG_END: u8 = 0xFF;

/// The kept answer's third word: the text is an AuthError's JSON (`failure`).
const FAILED: u32 = 1;
/// The kept answer's third word: the text is the next request's JSON (REPLY).
const NEXT: u32 = 2;

/// Keeps `answer` (dropping the one before) and answers where its address and length are.
fn keep(answer: String) -> usize {
    let kept = kept();
    kept.1[0] = answer.as_ptr() as u32;
    kept.1[1] = answer.len() as u32;
    kept.0 = answer;
    kept.1.as_ptr() as usize
}

/// The engines JS holds, each named by its handle: its index here. A slot whose engine
/// was freed is `None` and refuses every op (`config` error) until CONFIGURE takes it
/// again. A plain function over a handle instead of a wasm-bindgen class: no
/// constructor and free exports, no `Rc<WasmRefCell<..>>` with its borrow checks and
/// their texts, no class in the glue.
static ENGINES: Shared<Vec<Option<engine::Engine>>> = Shared::new(Vec::new());

/// `call_handle` through the wasm's memory (js/engine.js): `key` is the handle shifted
/// left by 6 bits with the op in the low 6 (`handle << 6 | op`), its strings `a`..`d` and `p` the
/// input buffer's first `len` bytes (`args`). Five arguments, not nine: wasm-bindgen's
/// export wrapper writes every argument and three pointers for it to the stack and reads
/// them back (its closure's captures), about 36 B gzip an argument. Answers the address
/// of three u32s, the address and length of the answer's UTF-8, which stays until the
/// next call, and its kind (0, `FAILED` or `NEXT`); but INPUT answers the address of at
/// least `n` bytes for that input (`call_input`), and SCRATCH the token buffer's address
/// (`n` = 0) or length (src/web/functions.rs).
///
/// A plain wasm export, not a wasm-bindgen one: its arguments and answer are numbers,
/// which cross as they are either way, and wasm-bindgen's wrapper passes them to its
/// `maybe_catch_unwind` closure by reference (each argument and three more pointers
/// stored on the stack). scripts/lib/glue.mjs writes its JS function (`>>> 0`, as
/// wasm-bindgen's wrapper did); `jwt_scratch` stays a wasm-bindgen export, as
/// wasm-bindgen's CLI fails on a wasm with none.
#[export_name = "engineCall"]
pub extern "C" fn engine_call(key: u32, n: u32, x: f64, y: f64, len: u32) -> usize {
    let (handle, op) = (key >> 6, key & 63);
    if op == op::INPUT {
        return call_input(n as usize);
    }
    if op == op::SCRATCH {
        return if n == 0 { jwt_scratch() } else { MAX_TOKEN_LEN };
    }
    if op == op::EXPIRED {
        return is_expired_scratch(n as usize, y, x).into();
    }
    if op == op::DECODE {
        return decode_jwt_scratch(n as usize) as usize;
    }
    let [a, b, c, d, p] = args(len);
    // A plain answer unless `failure` or REPLY says otherwise.
    kept().1[2] = 0;
    keep(call_handle(handle, op, n, x, y, a, b, c, d, p))
}

/// `op` (see `mod op`) on the engine `handle` names, with a count `n`, numbers `x`, `y`
/// and strings `a`..`d` and `p` ("" = absent; `p`: SOCIAL_START's password, the one op
/// with five texts); js/engine.js is the one caller (through
/// `engine_call`) and says what each op takes. Answers text; a failure answers the
/// AuthError as JSON and marks the answer as one (`failure`), REPLY's next request its
/// JSON marked `NEXT`. CONFIGURE (`handle` unread) makes an engine in the
/// first free slot and answers its handle (a refused config takes no slot); FREE frees
/// the handle's slot (js/engine.js, once its `Engine` is collected); a handle no engine
/// holds is refused as unconfigured. FINGERPRINT reads no engine.
#[allow(clippy::too_many_arguments)]
pub fn call_handle(
    handle: u32,
    op: u32,
    n: u32,
    x: f64,
    y: f64,
    a: &str,
    b: &str,
    c: &str,
    d: &str,
    p: &str,
) -> String {
    if op == op::FINGERPRINT {
        return fingerprint(a);
    }
    let engines = ENGINES.get();
    if op == op::CONFIGURE {
        let cfg = match Config::from_json(a) {
            Ok(cfg) => cfg,
            Err(e) => return failure(e),
        };
        // The first free slot, else a new one.
        let mut slot = 0;
        loop {
            match engines.get(slot) {
                Some(Some(_)) => slot += 1,
                Some(None) => break,
                None => {
                    engines.push(None);
                    break;
                }
            }
        }
        // One place the engine is made in (each branch of a push-or-assign made its own).
        if let Some(free) = engines.get_mut(slot) {
            *free = Some(engine::Engine::new(cfg));
        }
        return num(slot as f64);
    }
    // One refusal for a handle beyond the table and a freed one.
    let e = match engines.get_mut(handle as usize) {
        Some(slot) if op == op::FREE => {
            *slot = None;
            return String::new();
        }
        Some(Some(e)) => e,
        _ => return not_configured(),
    };
    let cookie = e.cfg.refresh_cookie;
    // One match for every op (one jump table): the ops that ask for a request give it
    // (or the failure) to the tail below; the others answer their text at once.
    let issued = match op {
        op::SETTINGS => {
            let mut out = Object::new();
            out.str("storage", e.cfg.storage)
                .str("key", &e.cfg.storage_key);
            // Numbers written into the object (no text of their own).
            json::write_num(out.member("lockTimeout"), e.cfg.lock_timeout_ms);
            json::write_num(out.member("timeout"), e.cfg.timeout_ms);
            if cookie {
                out.raw("cookie", "true");
            }
            if e.cfg.dpop {
                out.raw("dpop", "true");
            }
            return out.end();
        }
        op::PERSISTED => return e.persisted(),
        op::STATUS => return e.status(x).as_str().to_owned(),
        op::VIEW => return e.view(x),
        // FAIL records the failure the shell met, then answers it as ERROR does.
        op::ERROR | op::FAIL => {
            if op == op::FAIL {
                e.set_error(Some(&shell_error(a, b, y)));
            }
            return e.error_json().unwrap_or_default().to_owned();
        }
        // The three ops that answer nothing, by one arm (one "" made).
        op::CLEAR_ERROR | op::SIGN_OUT | op::DPOP_CLEAR => {
            match op {
                op::CLEAR_ERROR => e.set_error(None),
                op::SIGN_OUT => e.sign_out(None),
                _ => e.dpop.clear(),
            }
            return String::new();
        }
        // `n`: the request's id; `y`: the status; `a`..`d`: body, Date,
        // Retry-After, set-auth-token. A next request is marked `NEXT`.
        op::REPLY => {
            let reply = Reply {
                status: status_of(y),
                body: a,
                date: b,
                retry_after: c,
                auth_token: d,
                now: x,
            };
            return match e.reply(n, &reply, x) {
                Ok(Answer::Done) => String::new(),
                Ok(Answer::LogIn) => "login".to_owned(),
                Ok(Answer::Mfa) => "mfa".to_owned(),
                Ok(Answer::Text(text)) => text,
                // Marked as a request by the kept answer's third word (js/engine.js answers
                // it parsed), not by a `>` written before it (a second text and a copy).
                Ok(Answer::Next(next)) => {
                    kept().1[2] = NEXT;
                    request_text(next, cookie)
                }
                Err(err) => failure(err),
            };
        }
        // "1" and the token, else one character js/client.js compares: "r" (refresh
        // first), "e" (expired, said once), "" (none).
        op::ACCESS => {
            return match e.access(x) {
                Access::Use(token) => {
                    // Pushed, not `concat`: its parts' array was written to the stack.
                    let mut text = "1".to_owned();
                    text.push_str(token);
                    text
                }
                Access::Refresh => "r".to_owned(),
                Access::Expired(true) => "e".to_owned(),
                Access::SignedOut | Access::Expired(false) => String::new(),
            };
        }
        op::USABLE => return e.usable_token(x),
        // Matches, not `unwrap_or_else(failure)`: its monomorph was a function of its own.
        op::REFRESH_TOKEN => {
            return match e.refresh_token(x) {
                Ok(token) => token,
                Err(err) => failure(err),
            }
        }
        // The ops that answer a flag, written by one arm (one `flag` call).
        op::RESTORE
        | op::ADOPT
        | op::BEARER_ALLOWED
        | op::SUPERSEDED
        | op::REFRESH_OUTCOME
        | op::REFRESH_NOW => {
            return flag(match op {
                op::RESTORE => e.restore(opt(a), x),
                op::ADOPT => e.adopt(opt(a), x),
                op::BEARER_ALLOWED => e.bearer_allowed(a),
                op::SUPERSEDED => e.superseded(a),
                // The failure the shell met (`a`: its code, "" for none; `n`: its
                // Retry-After in seconds, 0 for none), never the engine's last error: a
                // failure the engine never saw (offline, a sibling tab's refresh that never
                // arrived) must not count as a success.
                // The code and the wait are all the record reads: no error made of them.
                op::REFRESH_OUTCOME => {
                    let failed = opt(a).map(shell_code);
                    e.refresh_outcome(failed, (n > 0).then_some(n), x, y)
                }
                _ => e.refresh_now(x, page(a)),
            });
        }
        // Two times in milliseconds, "" for none, written by one arm.
        op::BACKOFF_WAIT | op::NEXT_WAKE => {
            let at = if op == op::NEXT_WAKE {
                e.next_wake(x, page(a))
            } else {
                e.backoff_wait(x)
            };
            // A match: `map(num)`'s `Option<String>` went through memory to be copied.
            return match at {
                Some(t) => num(t),
                None => String::new(),
            };
        }
        op::POSTPONED => return e.postponed(x),
        // The session's access token, "" signed out: read where it is (no
        // `Option<String>` of `bearer` copied through memory).
        op::CURRENT => {
            return match e.session() {
                Some(s) => s.access_token.clone(),
                None => String::new(),
            }
        }
        op::CLAIMS => {
            return match e.claims() {
                Ok(claims) => claims,
                Err(err) => failure(err),
            }
        }
        // The claims of a proof (`a`: method, `b`: url, `c`: jti, `d`: ath or ""),
        // "" when `b` is no absolute http(s) URL.
        op::DPOP_CLAIMS => return e.dpop.claims(a, b, c, x, d),
        // An answer's verdict, one character js/dpop.js compares: "" (as it is), "r"
        // (send again), "u" (tokens not bound). `a`: url, `y`: status, `b`: DPoP-Nonce,
        // `c`: Date, `d`: WWW-Authenticate for a 401, else the body (core::dpop reads
        // only the one that status makes relevant).
        op::DPOP_ANSWER => {
            return match e.dpop.answer(a, status_of(y), b, d, c, x) {
                Verdict::Done => "",
                Verdict::Retry => "r",
                Verdict::Unbound => "u",
            }
            .to_owned()
        }
        op::LOGIN => Some(e.login(opt(a), opt(b), opt(c))),
        op::REGISTER => Some(e.register(opt(a), opt(b), opt(c))),
        op::MFA_VERIFY => Some(e.verify_mfa(opt(a), opt(b))),
        // `n`: 1 for a link of the provider to the signed-in user, `p` its step-up
        // password ("" for none); a sign-in reads no password.
        op::SOCIAL_START => Some(e.social_start(a, b, c, d, (n == 1).then_some(p))),
        op::SOCIAL_FINISH => {
            // b: the callback as `{"state","code","error","iss","at"}` (js/engine.js).
            // The parsed callback dropped before the result is read (one drop site).
            let parsed = json::object(b);
            let returned = match &parsed {
                Some(callback) => Returned::from_json(callback),
                None => Returned::default(),
            };
            e.social_finish(a, returned)
        }
        op::REFRESH_REQUEST => Some(Ok(e.refresh_request(a))),
        op::LOGOUT => e.logout().map(Ok),
        op::ME => e.me(),
        // `n`: 0 list, 1 revoke `a` (its id), 2 revoke all.
        op::SESSIONS => Some(e.sessions(sessions_op(n, a))),
        // `n`: which (see `account_op`); `a`: its argument.
        op::ACCOUNT => Some(e.account(account_op(n, a))),
        // `n`: which (see `passkey_op`); `a`..`c`: its arguments.
        op::PASSKEY => Some(e.passkey(passkey_op(n, a, b, c))),
        _ => return failure(AuthError::config("Unknown engine operation")),
    };
    // None: nothing to send (no logout or `me` request, no callback), answered "" here once.
    match issued {
        Some(Ok(issued)) => request_text(issued, cookie),
        Some(Err(err)) => failure(err),
        None => String::new(),
    }
}

fn not_configured() -> String {
    failure(AuthError::config("The client is not configured"))
}

/// An HTTP status passed as a number: through `u32`, not `as u16`'s clamp to 65,535 (a
/// status is below 600, or 0 for none; NaN and below 0 read as 0 either way).
fn status_of(n: f64) -> u16 {
    n as u32 as u16
}

/// The code of an error the shell met (unknown: `network`). Inlined into its two
/// callers (REFRESH_OUTCOME's and FAIL's), where out of line it was a function of 22 B.
#[inline(always)]
fn shell_code(code: &str) -> ErrorCode {
    ErrorCode::parse(code).unwrap_or(ErrorCode::Network)
}

/// An error the shell met (FAIL), from its code, message and status (0: none).
fn shell_error(code: &str, message: &str, status: f64) -> AuthError {
    let mut err = AuthError::new(shell_code(code), message);
    // 0 (or below, or not a number) is none, as `AuthError::status` says it.
    err.status = status_of(status);
    err
}
