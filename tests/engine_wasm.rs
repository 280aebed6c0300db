//! The engine and token helpers across the real wasm boundary, in headless
//! Chromium (the client's behaviour end to end is e2e/client.test.mjs).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auth_wasm::core::jwt::MAX_TOKEN_LEN;
use auth_wasm::web::engine::{call_handle as call_text, engine_call};
use auth_wasm::web::functions::{decode_jwt, is_expired};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CONFIGURE: u32 = 0;
const SETTINGS: u32 = 1;
const STATUS: u32 = 5;
const ERROR: u32 = 7;
const FAIL: u32 = 8;
const LOGIN: u32 = 10;
const SOCIAL_START: u32 = 13;
const SOCIAL_FINISH: u32 = 14;
const ACCOUNT: u32 = 19;
const REPLY: u32 = 20;
const SIGN_OUT: u32 = 21;
const ACCESS: u32 = 22;
const REFRESH_OUTCOME: u32 = 27;
const BACKOFF_WAIT: u32 = 28;
const FINGERPRINT: u32 = 33;
const PASSKEY: u32 = 35;
const DPOP_CLAIMS: u32 = 36;
const DPOP_ANSWER: u32 = 37;
const DPOP_CLEAR: u32 = 38;
const FREE: u32 = 39;
const INPUT: u32 = 40;
const SCRATCH: u32 = 41;
const EXPIRED: u32 = 42;
const DECODE: u32 = 43;

/// `op` through `engine_call` as js/engine.js makes the call (`call_kept`), the answer's
/// text with `!` before a failure's and `>` before REPLY's next request (the kept answer's
/// third word says which), as the tests read them.
#[allow(clippy::too_many_arguments)]
fn call_handle(
    handle: u32,
    op: u32,
    n: u32,
    x: f64,
    y: f64,
    a: &str,
    b: &str,
    c: &str,
    d: &str,
) -> String {
    let args = [a.as_bytes(), b.as_bytes(), c.as_bytes(), d.as_bytes()];
    let (text, kind) = call_kept(handle, op, n, x, y, args, None);
    match kind {
        0 => text,
        1 => ["!", &text].concat(),
        2 => [">", &text].concat(),
        _ => panic!("kind {kind}: {text}"),
    }
}

fn call(e: u32, op: u32, x: f64, y: f64, a: &str) -> String {
    call_handle(e, op, 0, x, y, a, "", "", "")
}

/// The handle of an engine configured with `config` (JSON text).
fn configured(config: &str) -> u32 {
    let answer = call(0, CONFIGURE, 0.0, 0.0, config);
    answer.parse().expect(&answer)
}

/// The id a request's JSON text carries (`{"id":N,...}`).
fn id_of(request: &str) -> u32 {
    let digits: String = request
        .trim_start_matches("{\"id\":")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// The answer to `request`: status and body.
fn reply(e: u32, request: &str, now: f64, status: f64, body: &str) -> String {
    call_handle(e, REPLY, id_of(request), now, status, body, "", "", "")
}

fn b64(s: &str) -> String {
    let raw = btoa(s);
    raw.trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// `btoa` through js-sys (the crate has no web-sys).
fn btoa(s: &str) -> String {
    let btoa: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"btoa".into())
        .unwrap()
        .into();
    btoa.call1(&wasm_bindgen::JsValue::NULL, &s.into())
        .unwrap()
        .as_string()
        .unwrap()
}

fn jwt(exp: i64) -> String {
    format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(&format!(r#"{{"sub":"u1","email":"a@b.c","exp":{exp}}}"#))
    )
}

/// An engine of the reference backend, signed in now with a JWT good for 15 minutes.
fn signed_in() -> (u32, f64) {
    let e = configured(r#"{"baseUrl":"http://127.0.0.1:8000"}"#);
    let now = js_sys::Date::now();
    let login = call_handle(e, LOGIN, 0, 0.0, 0.0, "", "a@b.c", "pw", "");
    let body = format!(
        r#"{{"access_token":"{}","refresh_token":"r1"}}"#,
        jwt((now / 1000.0) as i64 + 900)
    );
    assert_eq!(reply(e, &login, now, 200.0, &body), "");
    (e, now)
}

#[wasm_bindgen_test]
fn a_login_round_trip_across_the_boundary() {
    let e = configured(r#"{"baseUrl":"http://127.0.0.1:8000"}"#);
    let req = call_handle(e, LOGIN, 0, 0.0, 0.0, "", "a@b.c", "pw", "");
    assert!(
        req.starts_with(r#"{"id":1,"method":"POST","url":"http://127.0.0.1:8000/auth/login""#),
        "{req}"
    );
    let now = js_sys::Date::now();
    let token = jwt((now / 1000.0) as i64 + 900);
    let body = format!(r#"{{"access_token":"{token}","refresh_token":"r1"}}"#);
    assert_eq!(reply(e, &req, now, 200.0, &body), "");
    assert_eq!(call(e, STATUS, now, 0.0, ""), "authenticated");
    assert_eq!(call(e, ACCESS, now, 0.0, ""), ["1", &token].concat());
    // An answer is taken once: a second one for the same id is no answer to anything.
    let again = reply(e, &req, now, 200.0, &body);
    assert!(again.starts_with(r#"!{"code":"config""#), "{again}");
    let req = call_handle(e, LOGIN, 0, 0.0, 0.0, "", "a@b.c", "pw", "");
    let html = reply(e, &req, now, 502.0, "<html>bad gateway</html>");
    assert!(html.starts_with(r#"!{"code":"server""#), "{html}");
    // Signed out: no token, said as "" (js/client.js compares the one character it
    // answers otherwise: "r" refresh first, "e" expired).
    call(e, SIGN_OUT, now, 0.0, "");
    assert_eq!(call(e, ACCESS, now, 0.0, ""), "");
}

/// ACCESS answers "1" and the token, or one character js/client.js compares: "r"
/// (refresh first), "e" (expired with nothing to renew it: said once), then "".
#[wasm_bindgen_test]
fn access_answers_one_character_besides_the_token() {
    let now = js_sys::Date::now();
    let token = jwt((now / 1000.0) as i64 + 900);
    for (body, late) in [
        (
            format!(r#"{{"access_token":"{token}","refresh_token":"r1"}}"#),
            "r",
        ),
        (format!(r#"{{"access_token":"{token}"}}"#), "e"),
    ] {
        let e = configured(r#"{"baseUrl":"http://127.0.0.1:8000"}"#);
        let req = call_handle(e, LOGIN, 0, 0.0, 0.0, "", "a@b.c", "pw", "");
        assert_eq!(reply(e, &req, now, 200.0, &body), "");
        assert_eq!(call(e, ACCESS, now, 0.0, ""), ["1", &token].concat());
        // An hour on: past the token's expiry.
        let later = now + 3_600_000.0;
        assert_eq!(call(e, ACCESS, later, 0.0, ""), late, "{body}");
        if late == "e" {
            assert_eq!(call(e, ACCESS, later, 0.0, ""), "");
        }
    }
}

#[wasm_bindgen_test]
fn account_calls_and_a_link_across_the_boundary() {
    let e = configured(r#"{"baseUrl":"http://127.0.0.1:8000"}"#);
    // n = 0: verify email, no sign-in needed.
    let req = call_handle(e, ACCOUNT, 0, 0.0, 0.0, "tok", "", "", "");
    assert!(
        req.contains(r#""id":1,"method":"POST","url":"http://127.0.0.1:8000/auth/verify-email""#),
        "{req}"
    );
    let used = reply(
        e,
        &req,
        0.0,
        400.0,
        r#"{"detail":"used","code":"verification_used"}"#,
    );
    assert!(used.starts_with(r#"!{"code":"code_used""#), "{used}");
    // c: Retry-After.
    let req = call_handle(e, ACCOUNT, 0, 0.0, 0.0, "tok", "", "", "");
    let limited = call_handle(e, REPLY, id_of(&req), 0.0, 429.0, "{}", "", "30", "");
    assert!(limited.contains(r#""retryAfter":30"#), "{limited}");
    // The user's calls and a link need a session.
    let list = call_handle(e, ACCOUNT, 2, 0.0, 0.0, "", "", "", "");
    assert!(list.starts_with(r#"!{"code":"session_expired""#), "{list}");
    let link = call_handle(
        e,
        SOCIAL_START,
        1,
        0.0,
        0.0,
        "acme",
        "http://localhost:3000/cb",
        "c",
        "s",
    );
    assert!(link.starts_with(r#"!{"code":"session_expired""#), "{link}");
    // a: the pending record (with the provider's issuer and the redirect path, RFC 9207);
    // b: the callback as the shell reads it from the URL.
    let pending = r#"{"provider":"acme","state":"s","verifier":"v","flow":"f","issuer":"https://id.acme.test","issRequired":false,"redirect":"http://localhost:3000/cb","link":true}"#;
    let callback = r#"{"state":"s","code":"code","iss":"https://id.acme.test","at":"http://localhost:3000/cb"}"#;
    let finish = call_handle(e, SOCIAL_FINISH, 0, 0.0, 0.0, pending, callback, "", "");
    assert!(finish.ends_with(r#","link":true}"#), "{finish}");
    let linked = reply(e, &finish, 0.0, 200.0, r#"{"linked":"acme"}"#);
    assert_eq!(linked, "");
}

/// SOCIAL_START's fifth text, after the four every op has: a link's step-up password,
/// which js/client.js passes only for linkWith. It reaches the link's start body; a
/// sign-in's start never carries one, whatever the fifth text holds.
#[wasm_bindgen_test]
fn a_links_password_crosses_as_the_fifth_text() {
    let (e, now) = signed_in();
    let start = |link: u32, password: &str| {
        let args: [&[u8]; 5] = [
            b"acme",
            b"http://localhost:3000/cb",
            b"ch",
            b"st",
            password.as_bytes(),
        ];
        call_kept(e, SOCIAL_START, link, now, 0.0, args, None).0
    };
    let linked = start(1, "correct horse");
    assert!(
        linked.contains(r#"\"link\":true,\"password\":\"correct horse\"}"#),
        "{linked}"
    );
    assert!(!start(1, "").contains("password"));
    let signed_in = start(0, "correct horse");
    assert!(
        !signed_in.contains("password") && !signed_in.contains("link"),
        "{signed_in}"
    );
}

/// The ACCOUNT op never asks for a link (its request is SOCIAL_START's): no `which`
/// reaches a refusal of its own, each is the list's request or the account calls' refusal.
#[wasm_bindgen_test]
fn no_account_op_is_a_link() {
    let (e, now) = signed_in();
    for which in [2, 4, 5, 9, u32::MAX] {
        let req = call_handle(e, ACCOUNT, which, now, 0.0, "acme", "", "", "");
        assert!(
            req.contains(r#""method":"GET","url":"http://127.0.0.1:8000/auth/identities""#),
            "{which}: {req}"
        );
    }
    // Without account endpoints (Better Auth), the account calls' own refusal.
    let ba = configured(r#"{"baseUrl":"http://127.0.0.1:3000","protocol":"better-auth"}"#);
    let refused = call_handle(ba, ACCOUNT, 0, now, 0.0, "tok", "", "", "");
    assert!(
        refused.starts_with(
            r#"!{"code":"config","message":"This call needs the json protocol's account endpoints""#
        ),
        "{refused}"
    );
}

#[wasm_bindgen_test]
fn token_helpers() {
    let now_ms = js_sys::Date::now();
    let now = (now_ms / 1000.0) as i64;
    assert!(decode_jwt(&jwt(now + 60)).is_ok_and(|claims| claims.contains(r#""email":"a@b.c""#)));
    assert!(decode_jwt("nope").is_err_and(|e| e.starts_with(r#"{"code":"invalid_token""#)));
    assert!(!is_expired(&jwt(now + 60), None, now_ms));
    assert!(is_expired(&jwt(now - 60), None, now_ms));
    assert!(!is_expired(&jwt(now - 60), Some(120.0), now_ms));
    // A leeway not finite or below zero is none.
    for none in [-120.0, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(is_expired(&jwt(now - 60), Some(none), now_ms), "{none}");
    }
    assert!(
        !is_expired(&jwt(now - 60), Some(1e300), now_ms),
        "saturated"
    );
    assert!(is_expired(&jwt(now - 60), Some(-0.0), now_ms), "-0 is 0");
    assert!(is_expired("garbage", None, now_ms));
    assert!(
        is_expired(&format!("{}.", jwt(now + 60)), None, now_ms),
        "four segments"
    );
}

/// decodeJwt's fast path (the scratch buffer js/jwt.js writes into): the payload's own
/// text comes back, for JSON.parse, not a re-serialisation of it; and it refuses what
/// the slow path refuses.
#[wasm_bindgen_test]
fn token_helpers_leave_the_payload_text_as_sent() {
    let b64 = |text: &str| {
        let bytes = text.as_bytes();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(char::from(alphabet[(n >> (18 - 6 * i) & 63) as usize]));
            }
        }
        out
    };
    let header = b64(r#"{"alg":"HS256"}"#);
    let payload = r#"{ "sub": "42", "ratio": 0.12345678912345, "big": 12345678901234567890, "name": "Zoë 😀" }"#;
    let token = format!("{header}.{}.sig", b64(payload));
    assert_eq!(decode_jwt(&token).as_deref(), Ok(payload));
    let two = format!("{header}.{}", b64(payload));
    let array = format!("{header}.{}.s", b64("[1]"));
    let text_exp = format!("{header}.{}.s", b64(r#"{"exp":"soon"}"#));
    for bad in ["", "a.b.c", "nope", &two, &array, &text_exp] {
        let error = decode_jwt(bad).expect_err(bad);
        assert!(
            error.starts_with(r#"{"code":"invalid_token""#),
            "{bad}: {error}"
        );
    }
    let huge = format!(
        "{header}.{}.s",
        b64(&format!(r#"{{"pad":"{}"}}"#, "x".repeat(20_000)))
    );
    let error = decode_jwt(&huge).expect_err("longer than the buffer");
    assert!(error.contains("too long"), "{error}");
    // After an error the buffer serves the next token as before.
    assert_eq!(decode_jwt(&token).as_deref(), Ok(payload));
}

/// What js/engine.js asks once for the token buffer: the op SCRATCH answers its address
/// (`n` = 0) and its length, and a token written there is what the ops DECODE (its
/// payload left at that address) and EXPIRED judge.
#[wasm_bindgen_test]
fn the_token_buffer_is_where_scratch_says() {
    let at = engine_call(SCRATCH, 0, 0.0, 0.0, 0) as *mut u8;
    assert_eq!(engine_call(SCRATCH, 1, 0.0, 0.0, 0), MAX_TOKEN_LEN);
    // {"alg":"HS256"} . {"sub":"42"} . sig
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.sig";
    // SAFETY: SCRATCH answered a buffer of MAX_TOKEN_LEN bytes, longer than the token.
    unsafe { core::ptr::copy_nonoverlapping(token.as_ptr(), at, token.len()) };
    // No `exp`: never expired, whatever the time; nor is a leeway of NaN (none) a refusal.
    let expired = |len: usize| engine_call(EXPIRED, len as u32, 1e15, f64::NAN, 0);
    assert_eq!(expired(token.len()), 0);
    // Judged in place (as js/engine.js, which writes the token before each op): written
    // again. SAFETY: as above.
    unsafe { core::ptr::copy_nonoverlapping(token.as_ptr(), at, token.len()) };
    // The answer as js/engine.js reads it (`| 0`): an i32.
    let len = engine_call(DECODE, token.len() as u32, 0.0, 0.0, 0) as i32;
    assert_eq!(len, 12);
    let payload = unsafe { core::slice::from_raw_parts(at, 12) };
    assert_eq!(payload, br#"{"sub":"42"}"#);
    // Decoded in place, the buffer now holds no token: its decoding is the error's JSON
    // (-1 - its length), and it is expired (malformed).
    let error = engine_call(DECODE, token.len() as u32, 0.0, 0.0, 0) as i32;
    assert!(error < 0);
    let text = unsafe { core::slice::from_raw_parts(at, (-1 - error) as usize) };
    assert!(text.starts_with(br#"{"code":"invalid_token""#));
    // SAFETY: as above (11 bytes, fewer than the token's).
    unsafe { core::ptr::copy_nonoverlapping(b"not.a.token".as_ptr(), at, 11) };
    assert_eq!(expired(11), 1);
    // Longer than the buffer: expired (malformed), as before.
    assert_eq!(expired(MAX_TOKEN_LEN + 1), 1);
}

/// A refresh that failed in the shell (offline, a sibling tab's refresh that never
/// arrived) is a failure the engine never saw: it must still count as one (a retry
/// pending, a backoff), never as a success that resets the backoff.
#[wasm_bindgen_test]
fn a_refresh_failure_the_shell_met_counts_as_a_failure() {
    let e = configured(r#"{"baseUrl":"http://127.0.0.1:8000"}"#);
    let now = js_sys::Date::now();
    let token = jwt((now / 1000.0) as i64 + 900);
    let body = format!(r#"{{"access_token":"{token}","refresh_token":"r1"}}"#);
    let req = call_handle(e, LOGIN, 0, 0.0, 0.0, "", "a@b.c", "pw", "");
    assert_eq!(reply(e, &req, now, 200.0, &body), "");
    // The shell met "offline" before any request: nothing recorded in the engine.
    let retrying = call_handle(e, REFRESH_OUTCOME, 0, now, 0.5, "network", "", "", "");
    assert_eq!(retrying, "1", "a retry is pending after a failure");
    let wait = call(e, BACKOFF_WAIT, now, 0.0, "");
    assert!(!wait.is_empty(), "the failure starts a backoff");
}

/// The kept answer's third word says what its text is: 1 an AuthError's JSON, 2 REPLY's
/// next request (its JSON), 0 anything else; no mark is written before the text, and a
/// call's kind is its own (a failure's does not outlive it).
#[wasm_bindgen_test]
fn the_kept_answers_kind_says_a_failure_or_a_next_request() {
    let e = configured(r#"{"baseUrl":"http://127.0.0.1:3000","protocol":"better-auth"}"#);
    let none = [b"" as &[u8]; 4];
    let (status, kind) = call_kept(e, STATUS, 0, 0.0, 0.0, none, None);
    assert_eq!((status.as_str(), kind), ("anonymous", 0));
    let (refused, kind) = call_kept(e, LOGIN, 0, 0.0, 0.0, none, None);
    assert_eq!(kind, 1);
    assert!(refused.starts_with(r#"{"code":"validation","#), "{refused}");
    let (unknown, kind) = call_kept(u32::MAX, STATUS, 0, 0.0, 0.0, none, None);
    assert_eq!(kind, 1);
    assert_eq!(
        unknown,
        r#"{"code":"config","message":"The client is not configured"}"#
    );
    let args = [b"" as &[u8], b"a@b.c", b"pw", b""];
    let (login, kind) = call_kept(e, LOGIN, 0, 0.0, 0.0, args, None);
    assert_eq!(kind, 0, "{login}");
    let now = js_sys::Date::now();
    let body = br#"{"token":"sess-1","user":{"id":"u1"}}"#;
    let args = [body as &[u8], b"", b"", b"sess-1"];
    let (next, kind) = call_kept(e, REPLY, id_of(&login), now, 200.0, args, None);
    assert_eq!(kind, 2);
    assert!(next.starts_with(r#"{"id":"#), "{next}");
    // The request's answer given twice: the second is a failure, then a plain answer again.
    let args = [b"{}" as &[u8], b"", b"", b""];
    let (_, kind) = call_kept(e, REPLY, id_of(&login), now, 200.0, args, None);
    assert_eq!(kind, 1);
    assert_eq!(call_kept(e, STATUS, 0, now, 0.0, none, None).1, 0);
}

/// FAIL records the failure the shell met, its status read as a whole number (0, below
/// 0 or NaN: none), and answers it as ERROR does.
#[wasm_bindgen_test]
fn a_failure_the_shell_met_keeps_its_status() {
    let e = configured(r#"{"baseUrl":"http://127.0.0.1:8000"}"#);
    let fail = |status: f64| call_handle(e, FAIL, 0, 0.0, status, "server", "Down", "", "");
    let down = r#"{"code":"server","message":"Down","status":503}"#;
    assert_eq!(fail(503.0), down);
    assert_eq!(call(e, ERROR, 0.0, 0.0, ""), down);
    assert_eq!(
        fail(404.9),
        r#"{"code":"server","message":"Down","status":404}"#
    );
    for none in [0.0, -1.0, f64::NAN] {
        assert_eq!(fail(none), r#"{"code":"server","message":"Down"}"#);
    }
}

/// Better Auth's exchange: the answer to the sign-in is the next request (`>` and its
/// JSON, a new id), and its answer, given by that id alone, signs in.
#[wasm_bindgen_test]
fn a_next_request_is_answered_by_its_own_id() {
    let e = configured(r#"{"baseUrl":"http://127.0.0.1:3000","protocol":"better-auth"}"#);
    let login = call_handle(e, LOGIN, 0, 0.0, 0.0, "", "a@b.c", "pw", "");
    let now = js_sys::Date::now();
    let body = r#"{"token":"sess-1","user":{"id":"u1"}}"#;
    let next = call_handle(e, REPLY, id_of(&login), now, 200.0, body, "", "", "sess-1");
    let exchange = next.strip_prefix('>').unwrap();
    assert_ne!(id_of(exchange), id_of(&login));
    assert!(exchange.contains(r#""bearer":"sess-1""#), "{exchange}");
    let token = jwt((now / 1000.0) as i64 + 900);
    let jwt_body = format!(r#"{{"token":"{token}"}}"#);
    assert_eq!(reply(e, exchange, now, 200.0, &jwt_body), "");
    assert_eq!(call(e, STATUS, now, 0.0, ""), "authenticated");
}

#[wasm_bindgen_test]
fn passkey_calls_cross_the_boundary() {
    let e = configured(r#"{"baseUrl":"http://127.0.0.1:8000"}"#);
    // n = 4: sign-in options, no session needed.
    let options = call_handle(e, PASSKEY, 4, 0.0, 0.0, "", "", "", "");
    assert!(
        options.contains(r#""url":"http://127.0.0.1:8000/auth/passkeys/signin/options""#),
        "{options}"
    );
    // Handed to the shell as the backend wrote them.
    let body = r#"{"ceremony":"c1","options":{"challenge":"AAEC","rpId":"localhost"}}"#;
    assert_eq!(reply(e, &options, 0.0, 200.0, body), body);
    // n = 5: the assertion (a: ceremony, b: the credential's JSON); read as a sign-in.
    let credential =
        r#"{"id":"AQI","rawId":"AQI","type":"public-key","response":{"signature":"AA"}}"#;
    let signin = call_handle(e, PASSKEY, 5, 0.0, 0.0, "c1", credential, "", "");
    assert!(signin.contains(r#"/auth/passkeys/signin""#), "{signin}");
    let unknown = reply(
        e,
        &signin,
        0.0,
        401.0,
        r#"{"detail":"This passkey is not registered here","code":"invalid_credentials"}"#,
    );
    assert!(
        unknown.starts_with(r#"!{"code":"invalid_credentials""#),
        "{unknown}"
    );
    // The list is the signed-in user's.
    let list = call_handle(e, PASSKEY, 6, 0.0, 0.0, "", "", "", "");
    assert!(list.starts_with(r#"!{"code":"session_expired""#), "{list}");
    // With the refresh token in a cookie, the sign-ins carry it as a password sign-in
    // does (their answer sets it); the options do not need it.
    let e = configured(
        r#"{"baseUrl":"http://127.0.0.1:8000","refreshTransport":"cookie","storage":"memory"}"#,
    );
    let signin = call_handle(e, PASSKEY, 5, 0.0, 0.0, "c1", credential, "", "");
    assert!(signin.ends_with(r#","cookie":true}"#), "{signin}");
    let options = call_handle(e, PASSKEY, 4, 0.0, 0.0, "", "", "", "");
    assert!(!options.contains("cookie"), "{options}");
}

/// DPoP's decisions through the engine's one call: the argument packing js/engine.js
/// uses (`d`: WWW-Authenticate for a 401, the body otherwise) reaches core::dpop whole.
#[wasm_bindgen_test]
fn dpop_decisions_cross_the_boundary() {
    let e = configured(r#"{"baseUrl":"http://127.0.0.1:8000","dpop":true}"#);
    let url = "http://127.0.0.1:8000/auth/login?x=1";
    let now = js_sys::Date::now();
    let claims = call_handle(e, DPOP_CLAIMS, 0, now, 0.0, "POST", url, "j1", "");
    assert!(
        claims.starts_with(
            r#"{"jti":"j1","htm":"POST","htu":"http://127.0.0.1:8000/auth/login","iat":"#
        ),
        "{claims}"
    );
    assert!(
        !claims.contains("nonce") && !claims.contains("ath"),
        "{claims}"
    );
    assert_eq!(
        call_handle(e, DPOP_CLAIMS, 0, now, 0.0, "GET", "/relative", "j", ""),
        ""
    );
    // A token route's 400 use_dpop_nonce with a nonce: send again, with it.
    let body = r#"{"error":"use_dpop_nonce"}"#;
    assert_eq!(
        call_handle(e, DPOP_ANSWER, 0, now, 400.0, url, "n-1", "", body),
        "r"
    );
    let claims = call_handle(e, DPOP_CLAIMS, 0, now, 0.0, "GET", url, "j2", "h");
    assert!(claims.ends_with(r#","nonce":"n-1","ath":"h"}"#), "{claims}");
    // A resource's 401 is read by its WWW-Authenticate.
    let www = r#"DPoP error="use_dpop_nonce""#;
    assert_eq!(
        call_handle(e, DPOP_ANSWER, 0, now, 401.0, url, "n-2", "", www),
        "r"
    );
    assert_eq!(
        call_handle(e, DPOP_ANSWER, 0, now, 401.0, url, "n-3", "", "DPoP"),
        ""
    );
    // Tokens issued as bearer under dpop: true are refused.
    let bearer = r#"{"access_token":"t","token_type":"Bearer"}"#;
    assert_eq!(
        call_handle(e, DPOP_ANSWER, 0, now, 200.0, url, "", "", bearer),
        "u"
    );
    // Signed out: the nonce is forgotten.
    assert_eq!(call_handle(e, DPOP_CLEAR, 0, now, 0.0, "", "", "", ""), "");
    let claims = call_handle(e, DPOP_CLAIMS, 0, now, 0.0, "GET", url, "j3", "");
    assert!(!claims.contains("nonce"), "{claims}");
}

/// What js/engine.js's `run` does: the arguments' UTF-8 written into the input buffer,
/// each followed by 0xFF, the answer read where the engine says it is: its text and its
/// kind (0 text, 1 an AuthError's JSON, 2 REPLY's next request). `len`: the length passed
/// instead of the bytes written.
fn call_kept<const N: usize>(
    handle: u32,
    op: u32,
    n: u32,
    x: f64,
    y: f64,
    args: [&[u8]; N],
    len: Option<u32>,
) -> (String, u32) {
    let input: Vec<u8> = args
        .iter()
        .flat_map(|arg| [*arg, &[0xFF]].concat())
        .collect();
    let at = engine_call(INPUT, input.len() as u32, 0.0, 0.0, 0) as *mut u8;
    // SAFETY: INPUT gave at least the arguments' total length.
    unsafe { core::ptr::copy_nonoverlapping(input.as_ptr(), at, input.len()) };
    let len = len.unwrap_or(input.len() as u32);
    let kept = engine_call(handle << 6 | op, n, x, y, len) as *const [u32; 3];
    // SAFETY: the engine answers the address of [address, length, kind] of its kept answer.
    let [ptr, len, kind] = unsafe { *kept };
    let bytes = unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) };
    (String::from_utf8(bytes.to_vec()).unwrap(), kind)
}

fn call_in_memory(handle: u32, op: u32, args: [&[u8]; 4], len: Option<u32>) -> String {
    call_kept(handle, op, 0, 0.0, 0.0, args, len).0
}

#[wasm_bindgen_test]
fn arguments_and_answers_cross_through_the_wasms_memory() {
    // Longer than any fixed buffer, not ASCII: the input and the answer grow the memory.
    let pages = core::arch::wasm32::memory_size(0);
    let key = "ключ🙂".repeat(100_000);
    let config = [
        r#"{"baseUrl":"http://127.0.0.1:1","storageKey":""#,
        &key,
        r#""}"#,
    ]
    .concat();
    let e: u32 = call_in_memory(0, CONFIGURE, [config.as_bytes(), b"", b"", b""], None)
        .parse()
        .unwrap();
    let settings = call_in_memory(e, SETTINGS, [b"", b"", b"", b""], None);
    assert!(core::arch::wasm32::memory_size(0) > pages);
    assert_eq!(
        settings,
        call_text(e, SETTINGS, 0, 0.0, 0.0, "", "", "", "", "")
    );
    assert!(settings.contains(&[r#""key":""#, &key, "\""].concat()));
    // The second argument, not the first: each starts after the 0xFF that ends the one
    // before.
    let login = call_in_memory(
        e,
        LOGIN,
        [b"", "zoë@b.c".as_bytes(), "pw 🙂".as_bytes(), b""],
        None,
    );
    assert!(
        login.contains("zoë@b.c") && login.contains("pw 🙂"),
        "{login}"
    );
    // An argument that is no UTF-8 (half a character), or a length past the buffer (all
    // of them), reads as "": a bad argument, no panic and nothing read beyond what was
    // written.
    let args = [b"" as &[u8], &"ë".as_bytes()[..1], b"pw", b""];
    let (split, kind) = call_kept(e, LOGIN, 0, 0.0, 0.0, args, None);
    assert!(
        kind == 1 && split.starts_with(r#"{"code":"validation""#),
        "{split}"
    );
    let args = [b"" as &[u8], b"a@b.c", b"pw", b""];
    let (past, kind) = call_kept(e, LOGIN, 0, 0.0, 0.0, args, Some(u32::MAX));
    assert!(
        kind == 1 && past.starts_with(r#"{"code":"validation""#),
        "{past}"
    );
}

/// What js/engine.js does with handles: CONFIGURE answers a new engine's handle, each
/// handle's engine keeps its own state, FREE (once the JS `Engine` is collected) frees
/// the slot, and a freed or never-issued handle is refused with a `config` error (an
/// AuthError in JS), never another engine's answer or a trap. A freed slot is taken again.
#[wasm_bindgen_test]
fn engines_are_named_by_handles_and_freed() {
    let config = r#"{"baseUrl":"http://127.0.0.1:8000"}"#;
    let handle = |answer: String| -> u32 { answer.parse().expect(&answer) };
    let first = handle(call_handle(0, CONFIGURE, 0, 0.0, 0.0, config, "", "", ""));
    let second = handle(call_handle(
        first, CONFIGURE, 0, 0.0, 0.0, config, "", "", "",
    ));
    assert_ne!(first, second);
    // A refused config answers the error and issues no handle.
    let refused = call_handle(
        0,
        CONFIGURE,
        0,
        0.0,
        0.0,
        r#"{"baseUrl":"ftp://x"}"#,
        "",
        "",
        "",
    );
    assert!(refused.starts_with(r#"!{"code":"config""#), "{refused}");
    // Each engine's requests are numbered by itself.
    let login = |h| call_handle(h, LOGIN, 0, 0.0, 0.0, "", "a@b.c", "pw", "");
    assert!(login(first).starts_with(r#"{"id":1,"#));
    assert!(login(first).starts_with(r#"{"id":2,"#));
    assert!(login(second).starts_with(r#"{"id":1,"#));
    assert_eq!(call_handle(first, FREE, 0, 0.0, 0.0, "", "", "", ""), "");
    let not_configured = r#"!{"code":"config","message":"The client is not configured"}"#;
    assert_eq!(
        call_handle(first, STATUS, 0, 0.0, 0.0, "", "", "", ""),
        not_configured
    );
    assert_eq!(
        call_handle(u32::MAX, STATUS, 0, 0.0, 0.0, "", "", "", ""),
        not_configured
    );
    // Freeing twice, or a handle never issued, is harmless.
    assert_eq!(call_handle(first, FREE, 0, 0.0, 0.0, "", "", "", ""), "");
    assert_eq!(
        call_handle(u32::MAX, FREE, 0, 0.0, 0.0, "", "", "", ""),
        not_configured
    );
    assert_eq!(
        call_handle(second, STATUS, 0, 0.0, 0.0, "", "", "", ""),
        "anonymous"
    );
    // The freed slot is taken by the next engine, which starts afresh.
    let third = handle(call_handle(0, CONFIGURE, 0, 0.0, 0.0, config, "", "", ""));
    assert_eq!(third, first);
    assert!(login(third).starts_with(r#"{"id":1,"#));
}

/// A refresh token's fingerprint (lock names, messages) is FNV-1a 64 in 16 lower-case hex
/// digits (the published values), answered without an engine.
#[wasm_bindgen_test]
fn a_fingerprint_is_fnv1a_in_sixteen_hex_digits() {
    for (token, hex) in [
        ("", "cbf29ce484222325"),
        ("a", "af63dc4c8601ec8c"),
        ("foobar", "85944171f73967e8"),
    ] {
        assert_eq!(call(u32::MAX, FINGERPRINT, 0.0, 0.0, token), hex);
    }
}

/// The wasm's stack is 64 KiB (build.rs): the deepest JSON the engine accepts is read,
/// stored and written back within it, and one level deeper is refused, never a trap.
#[wasm_bindgen_test]
fn the_deepest_json_accepted_fits_the_wasms_stack() {
    const PERSISTED: u32 = 4;
    const ME: u32 = 17;
    let e = configured(r#"{"baseUrl":"http://127.0.0.1:8000"}"#);
    let now = js_sys::Date::now();
    let token = jwt((now / 1000.0) as i64 + 900);
    let req = call_handle(e, LOGIN, 0, 0.0, 0.0, "", "a@b.c", "pw", "");
    let body = format!(r#"{{"access_token":"{token}","refresh_token":"r1"}}"#);
    assert_eq!(reply(e, &req, now, 200.0, &body), "");
    // `levels` objects, each the member "a" of the one around it: the user `me` answers
    // is the body (depth 0), so 65 levels reach the deepest accepted, 64.
    let nested = |levels: usize| {
        [
            r#"{"a":"#.repeat(levels - 1),
            "{}".into(),
            "}".repeat(levels - 1),
        ]
        .concat()
    };
    let deepest = nested(65);
    let req = call_handle(e, ME, 0, 0.0, 0.0, "", "", "", "");
    assert_eq!(reply(e, &req, now, 200.0, &deepest), deepest);
    let stored = call(e, PERSISTED, now, 0.0, "");
    assert!(stored.contains(&deepest), "{stored}");
    let req = call_handle(e, ME, 0, 0.0, 0.0, "", "", "", "");
    let refused = reply(e, &req, now, 200.0, &nested(66));
    assert!(
        refused.starts_with(r#"!{"code":"invalid_response""#),
        "{refused}"
    );
}
