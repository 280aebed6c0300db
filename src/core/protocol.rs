//! Per-protocol request building and response parsing, as plain values.
//! The shell sends `HttpRequest`s and hands back `HttpResponse`s; every status,
//! header and body is interpreted here.

use crate::prelude::*;

use super::clock::{parse_retry_after, Millis};
use super::config::{path, Config, Protocol};
use super::error::{
    laid_out, laid_out_len, lay_out, lengths_of, push_field, starts_of, AuthError, ErrorCode,
};
use super::fields::lookup;
use super::json::{self, write_str, Json};
use super::object::Object;
use super::session::TokenSet;
use super::url::{find, join};

/// An operation, which decides how an error status is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Login,
    Register,
    Refresh,
    Logout,
    Me,
    /// The callback of a social sign-in.
    Social,
    /// A passkey call (core::passkey): its sign-ins and the list's changes.
    Passkey,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    /// `Content-Type` of `body`, when there is one.
    pub content_type: Option<&'static str>,
    pub body: Option<String>,
    /// Which token goes in `Authorization`.
    pub credential: Credential,
}

/// The bearer a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    None,
    /// The access token (JWT), as for API calls.
    Access,
    /// The refresh credential: Better Auth's session token, which its token,
    /// session and sign-out endpoints take as the bearer.
    Refresh,
}

pub const JSON_TYPE: &str = "application/json";
pub const FORM_TYPE: &str = "application/x-www-form-urlencoded";

/// What the shell read from a response.
#[derive(Debug, Clone, Copy)]
pub struct HttpResponse<'a> {
    pub status: u16,
    pub body: &'a str,
    /// `Date`, "" for none (no HTTP-date: the engine's clock learns nothing from it).
    pub date: &'a str,
    /// `Retry-After`, "" for none (as the shell passes it: no `Option` made of it).
    pub retry_after: &'a str,
    /// Better Auth's bearer plugin: `set-auth-token`, "" for none.
    pub auth_token: &'a str,
    /// Local time the response arrived (for an HTTP-date Retry-After).
    pub now: Millis,
}

/// Percent-encodes `text` onto `out`: for a form (`*` kept, space as `+`) or a path
/// segment (`~` kept). One loop for both: each copy costs the wasm.
fn escape_into(out: &mut String, text: &str, form: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_')
            || b == if form { b'*' } else { b'~' }
        {
            out.push(char::from(b));
        } else if form && b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

pub(super) fn post(
    cfg: &Config,
    path: &str,
    content_type: &'static str,
    body: String,
) -> HttpRequest {
    HttpRequest {
        method: "POST",
        url: join(&cfg.base_url, path),
        content_type: Some(content_type),
        body: Some(body),
        credential: Credential::None,
    }
}

pub(super) fn get(cfg: &Config, path: &str, credential: Credential) -> HttpRequest {
    HttpRequest {
        method: "GET",
        url: join(&cfg.base_url, path),
        content_type: None,
        body: None,
        credential,
    }
}

/// `identifier` is the username or email; the JSON protocol sends it under the key the caller used.
pub fn login_request(cfg: &Config, id_key: &str, identifier: &str, password: &str) -> HttpRequest {
    // The body per protocol, then one `post` (not one per arm).
    let (content_type, body) = match cfg.protocol {
        // Better Auth signs in by email only. One body for both JSON protocols.
        json @ (Protocol::Json | Protocol::BetterAuth) => {
            let id_key = if json == Protocol::Json {
                id_key
            } else {
                "email"
            };
            (
                JSON_TYPE,
                Object::new()
                    .str(id_key, identifier)
                    .str("password", password)
                    .end(),
            )
        }
        // application/x-www-form-urlencoded (WHATWG URL "urlencoded serializer"): the
        // fixed names written as text, the values escaped onto it (no pair list).
        Protocol::OAuth2Password => {
            let mut body = String::from("grant_type=password&username=");
            escape_into(&mut body, identifier, true);
            body.push_str("&password=");
            escape_into(&mut body, password, true);
            (FORM_TYPE, body)
        }
    };
    post(cfg, cfg.endpoints.login(), content_type, body)
}

pub fn register_request(
    cfg: &Config,
    email: &str,
    password: &str,
    name: Option<&str>,
) -> Result<HttpRequest, AuthError> {
    let path = path(cfg.endpoints.register()).ok_or_else(|| {
        AuthError::config("register needs endpoints.register() with this protocol")
    })?;
    // Written member by member (no `Vec` of pairs grown for the optional name).
    let mut body = Object::new();
    body.str("email", email).str("password", password);
    // Better Auth requires a name; an empty one is accepted. One writer call.
    body.opt_str(
        "name",
        match name {
            None if cfg.protocol == Protocol::BetterAuth => Some(""),
            name => name,
        },
    );
    Ok(post(cfg, path, JSON_TYPE, body.end()))
}

pub fn refresh_request(cfg: &Config, refresh_token: &str) -> HttpRequest {
    let (content_type, body) = match cfg.protocol {
        // The JWT is exchanged again with the session token (jwt plugin).
        Protocol::BetterAuth => return get(cfg, cfg.endpoints.refresh(), Credential::Refresh),
        Protocol::Json => (JSON_TYPE, token_body(cfg, Some(refresh_token))),
        // A form as login's; the field's name is the configured one.
        Protocol::OAuth2Password => {
            let mut body = String::from("grant_type=refresh_token&");
            escape_into(&mut body, &cfg.fields.refresh_body, true);
            body.push('=');
            escape_into(&mut body, refresh_token, true);
            (FORM_TYPE, body)
        }
    };
    post(cfg, cfg.endpoints.refresh(), content_type, body)
}

/// The JSON body of a refresh or logout: the refresh token under its field, or `{}`
/// when a cookie carries it (or there is none to send). One writer for both requests.
fn token_body(cfg: &Config, refresh_token: Option<&str>) -> String {
    let mut body = Object::new();
    if let Some(token) = refresh_token {
        // The cookie carries the token: nothing to send but the request itself (`{}`).
        if !cfg.refresh_cookie {
            body.str(&cfg.fields.refresh_body, token);
        }
    }
    body.end()
}

/// None: the backend has no logout call; signing out is local only.
pub fn logout_request(cfg: &Config, refresh_token: Option<&str>) -> Option<HttpRequest> {
    let path = path(cfg.endpoints.logout())?;
    // Better Auth's sign-out takes the session token as the bearer and no body; the
    // others the access token, and the refresh token unless a cookie carries it.
    let better_auth = cfg.protocol == Protocol::BetterAuth;
    let body = token_body(cfg, if better_auth { None } else { refresh_token });
    let mut request = post(cfg, path, JSON_TYPE, body);
    request.credential = session_bearer(cfg);
    Some(request)
}

/// None: no `me` endpoint; the user comes from the token's claims.
pub fn me_request(cfg: &Config) -> Option<HttpRequest> {
    let path = path(cfg.endpoints.me())?;
    Some(get(cfg, path, session_bearer(cfg)))
}

/// The bearer of a call about the session itself (`me`, sign-out): Better Auth's
/// session token, the others' access token.
fn session_bearer(cfg: &Config) -> Credential {
    if cfg.protocol == Protocol::BetterAuth {
        Credential::Refresh
    } else {
        Credential::Access
    }
}

/// Better Auth's sign-in / sign-up answer: the session token, from the bearer
/// plugin's `set-auth-token` header or the body's `token`. `body` is `json::parse` of
/// `resp.body`: the sign-in answer is read once for every question asked of it.
pub fn parse_session_token(
    op: Op,
    resp: &HttpResponse,
    set_auth_token: &str,
    body: Option<&Json>,
) -> Result<String, AuthError> {
    if !(200..300).contains(&resp.status) {
        return Err(error_from(op, resp, body));
    }
    // The header as the shell passes it, "" for none.
    let token = trim(set_auth_token);
    if !token.is_empty() {
        return Ok(token.to_owned());
    }
    // A match, not `filter`/`map`/`ok_or_else` closures.
    match text_at(parse_body(resp, body)?, "token") {
        Some(token) => Ok(token.to_owned()),
        _ => Err(invalid_response(
            "The response has no session token (is the bearer plugin enabled?)",
            resp.status,
        )),
    }
}

/// Parse a successful sign-in / refresh response (read where `cfg.fields` says), or
/// map its error. `body` is `json::parse` of `resp.body`.
pub fn parse_tokens(
    cfg: &Config,
    op: Op,
    resp: &HttpResponse,
    body: Option<&Json>,
) -> Result<TokenSet, AuthError> {
    // Every refusal breaks out of one block: the `Result`'s error written once, not
    // its tag and pointer at each of five exits (leaf6's pattern).
    let refusal = 'fail: {
        if !(200..300).contains(&resp.status) {
            break 'fail error_from(op, resp, body);
        }
        let body = match parse_body(resp, body) {
            Ok(body) => body,
            Err(e) => break 'fail e,
        };
        let fields = &cfg.fields;
        // Better Auth's /token answers {"token": "<jwt>"}; the refresh credential stays
        // the session token the client already holds.
        // Matches, not `or_else`/`filter`/`ok_or_else` closures.
        let access_token = match text_at(body, &fields.access_token) {
            None if cfg.protocol == Protocol::BetterAuth => text_at(body, "token"),
            token => token,
        };
        let Some(access_token) = access_token else {
            break 'fail AuthError::joined(
                ErrorCode::InvalidResponse,
                "The response has no access token at ",
                &fields.access_token,
            )
            .with_status(resp.status);
        };
        // No user path: none (an empty path would read a member named "").
        // `is_empty`, not a match on `""`: that was a call to `str`'s comparison.
        let user = if fields.user.is_empty() {
            None
        } else {
            lookup(body, &fields.user)
        };
        let user = match user {
            None | Some(Json::Null) => None,
            // Written out last, when nothing can refuse the answer any more.
            Some(user @ Json::Obj(_)) => Some(user),
            Some(_) => {
                break 'fail invalid_response(
                    "The user in the response is not an object",
                    resp.status,
                )
            }
        };
        // "DPoP" (RFC 9449 5): a token bound to the key whose proof went with the request;
        // with `dpop: true` an answer that is not is refused before this (core::dpop).
        if let Some(kind) = body.str_of("token_type") {
            if !kind.eq_ignore_ascii_case("bearer") && !kind.eq_ignore_ascii_case("dpop") {
                break 'fail invalid_response("The token_type is not bearer or DPoP", resp.status);
            }
        }
        let expires_in = match lookup(body, &fields.expires_in) {
            // Finite and not below zero by one comparison of the bits: after `+ 0.0`
            // (-0 becomes +0), those are exactly the numbers below +infinity's
            // 0x7FF0... (a sign bit or NaN's exponent is above it). `is_finite() && n >= 0.0`
            // was lowered to a float classification by bit masks three times as large.
            Some(Json::Num(n)) => match n.value() + 0.0 {
                n if n.to_bits() < f64::INFINITY.to_bits() => n,
                _ => f64::NAN,
            },
            _ => f64::NAN,
        };
        let user = user.map(Json::to_text);
        // A match, not `Option::cloned` (a monomorph linked for this call alone).
        #[allow(clippy::manual_map)]
        let refresh_token = match text_at(body, &fields.refresh_token) {
            Some(token) => Some(token.clone()),
            None => None,
        };
        // The access token's copy made last, in the answer itself: the values made before
        // the `TokenSet` were each written to the stack and copied into the answer.
        return Ok(TokenSet {
            access_token: access_token.to_owned(),
            refresh_token,
            expires_in,
            user,
        });
    };
    Err(refusal)
}

/// A 2xx sign-in answer asking for a second factor: the challenge and the methods
/// offered (`{"mfa_required": true, "challenge", "methods"}`), the methods as the view
/// shows them (`{"methods":["totp"]}`: written once here, no list of texts kept to be
/// written at every view). `body` is `json::parse` of the answer's body.
pub fn parse_mfa_challenge(status: u16, body: Option<&Json>) -> Option<(String, String)> {
    if !(200..300).contains(&status) {
        return None;
    }
    let body = body?;
    if !body.is_true("mfa_required") {
        return None;
    }
    let challenge = text_at(body, "challenge")?.to_owned();
    // The strings of `methods`, in order; a comma before every one but the first.
    let mut methods = String::from("{\"methods\":[");
    let start = methods.len();
    if let Some(items) = body.list_of("methods") {
        for method in items {
            if let Json::Str(method) = method {
                if methods.len() > start {
                    methods.push(',');
                }
                write_str(&mut methods, method);
            }
        }
    }
    methods.push_str("]}");
    Some((challenge, methods))
}

/// What to do with the user's sessions (devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionsOp<'a> {
    List,
    Revoke(&'a str),
    RevokeAll,
}

/// A sessions request (with the access token, through the shell's bearer rules);
/// None when the protocol has no sessions endpoint.
pub fn sessions_request(cfg: &Config, what: SessionsOp) -> Option<HttpRequest> {
    let base = path(cfg.endpoints.sessions())?;
    // `get`'s request (no second construction), then the id's segment pushed onto its
    // joined URL (no path copied and joined again, as passkeys' URLs) and the method.
    let mut request = get(cfg, base, Credential::Access);
    match what {
        SessionsOp::List => {}
        SessionsOp::RevokeAll => request.method = "DELETE",
        SessionsOp::Revoke(id) => {
            request.url.push('/');
            escape_into(&mut request.url, id, false);
            request.method = "DELETE";
        }
    }
    Some(request)
}

/// A path segment with everything but unreserved characters percent-encoded (its test
/// pins `escape_into`'s segment form; account's unlink needs none: see there).
#[cfg(test)]
pub(super) fn percent_encode(segment: &str) -> String {
    let mut out = String::new();
    escape_into(&mut out, segment, false);
    out
}

/// The text of `body`'s member `key`, or "" (an empty `static`): one pointer, by
/// `Json::text_of` (out of line, its answer a value), not `str_of`'s pointer and length.
#[inline(always)]
pub(super) fn member_text<'a>(body: &'a Json, key: &str) -> &'a String {
    static EMPTY: String = String::new();
    match body.text_of(key) {
        Some(text) => text,
        None => &EMPTY,
    }
}

/// The session list as JSON text for JS: `[{id, createdAt, lastUsedAt, userAgent, ip, current}]`.
pub fn parse_sessions(resp: &HttpResponse) -> Result<String, AuthError> {
    if !(200..300).contains(&resp.status) {
        return Err(error_from_response(Op::Me, resp));
    }
    // One text for a list that is none and a session without its id, worded as
    // account's and passkey's lists are.
    const REFUSED: &str = "The session list is not what the backend sends";
    // Borrowed from the parsed value (one drop of it on every path).
    let parsed = json::parse(resp.body);
    let Some(Json::Arr(items)) = &parsed else {
        return Err(invalid_response(REFUSED, resp.status));
    };
    // Written as it is read (no `Json` tree of the answer); a comma before every
    // object but the first.
    let mut out = String::from("[");
    for item in items {
        let Some(id) = item.text_of("id") else {
            return Err(invalid_response(REFUSED, resp.status));
        };
        let current = item.is_true("current");
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(
            &Object::new()
                .str("id", id)
                .str("createdAt", member_text(item, "created_at"))
                .str("lastUsedAt", member_text(item, "last_used_at"))
                .str("userAgent", member_text(item, "user_agent"))
                .str("ip", member_text(item, "ip"))
                .raw("current", if current { "true" } else { "false" })
                .end(),
        );
    }
    out.push(']');
    Ok(out)
}

/// The second step of a two-factor sign-in (json protocol; Better Auth's is
/// core::better_auth::two_factor_request) with the app's code, or a recovery code
/// when `recovery`; None when there is no mfa endpoint.
pub fn mfa_request(
    cfg: &Config,
    challenge: &str,
    recovery: bool,
    code: &str,
) -> Option<HttpRequest> {
    let path = path(cfg.endpoints.mfa())?;
    let key = if recovery { "recovery_code" } else { "code" };
    let body = Object::new()
        .str("challenge", challenge)
        .str(key, code)
        .end();
    Some(post(cfg, path, JSON_TYPE, body))
}

/// Whether a 2xx register response signed the user in (else the client logs in).
/// `body` is `json::parse` of the response's body; `set_auth_token` "" for none.
pub fn has_tokens(cfg: &Config, body: Option<&Json>, set_auth_token: &str) -> bool {
    let better_auth = cfg.protocol == Protocol::BetterAuth;
    let path = if better_auth {
        "token"
    } else {
        &cfg.fields.access_token
    };
    (better_auth && !set_auth_token.is_empty()) || body.is_some_and(|b| text_at(b, path).is_some())
}

/// The text at `path` in `body` when it is a string and not empty: a token's test for
/// the sign-in answer, the refresh and the register answer alike. Out of line, answering
/// the `String` it found: `Option<&String>` is one pointer (0 for none), returned as a
/// value; an `Option<&str>` (pointer and length) came back through memory, so it was
/// inlined into each of its seven callers.
#[inline(never)]
pub(super) fn text_at<'a>(body: &'a Json, path: &str) -> Option<&'a String> {
    match lookup(body, path) {
        Some(Json::Str(t)) if !t.is_empty() => Some(t),
        _ => None,
    }
}

/// A successful `me` response: a JSON object, returned as JSON text.
pub fn parse_user(protocol: Protocol, resp: &HttpResponse) -> Result<String, AuthError> {
    // Parsed once, for the error's mapping as for the user.
    let parsed = json::parse(resp.body);
    if !(200..300).contains(&resp.status) {
        return Err(error_from(Op::Me, resp, parsed.as_ref()));
    }
    // Better Auth's get-session answers `null` once the session is gone: read from
    // the parsed body (no text trimmed and compared).
    if protocol == Protocol::BetterAuth && matches!(parsed, Some(Json::Null)) {
        return Err(
            // The engine's text for an expired session (one copy in the data).
            AuthError::new(ErrorCode::SessionExpired, "The session has expired")
                .with_status(resp.status),
        );
    }
    let body = parse_body(resp, parsed.as_ref())?;
    // Better Auth: {"session": {...}, "user": {...}}: its user, else the whole body.
    // The members read for Better Auth alone, and one `to_text` for both answers.
    let mut user = body;
    if protocol == Protocol::BetterAuth && body.get("session").is_some() {
        if let Some(inner @ Json::Obj(_)) = body.get("user") {
            user = inner;
        }
    }
    Ok(user.to_text())
}

pub(super) fn invalid_response(message: &str, status: u16) -> AuthError {
    AuthError::new(ErrorCode::InvalidResponse, message).with_status(status)
}

/// The parsed `body` of `resp` when it is an object. One refusal for an empty body,
/// HTML or another JSON value: none is what the protocol promises. Inlined into its
/// three callers: out of line, its `Result` came back through memory to be read.
#[inline(always)]
fn parse_body<'a>(resp: &HttpResponse, body: Option<&'a Json>) -> Result<&'a Json, AuthError> {
    match body {
        Some(v @ Json::Obj(_)) => Ok(v),
        _ => Err(invalid_response(
            "The server did not answer a JSON object",
            resp.status,
        )),
    }
}

/// The server's own message (`detail`, `message`, `error_description`) when it is short text.
fn server_message(body: Option<&Json>) -> Option<&str> {
    let body = body?;
    // The first of the three that is text, by one `get` each (a loop over the keys
    // stored the three texts onto the stack at every call; no `find_map`/`filter`
    // closures).
    let m = match body.get("detail") {
        Some(Json::Str(m)) => m,
        _ => match body.get("message") {
            Some(Json::Str(m)) => m,
            _ => match body.get("error_description") {
                Some(Json::Str(m)) => m,
                _ => return None,
            },
        },
    };
    if !m.is_empty() && m.len() <= 300 {
        Some(m)
    } else {
        None
    }
}

/// Field errors from `{"fields": {name: msg}}`, FastAPI's `{"detail": [{loc, msg}]}`
/// or Django REST framework's `{name: [msg, ...]}`, written onto `out` (the error's own
/// `fields` text, by `push_field`: nothing returned and the error's empty one dropped).
fn field_errors(out: &mut String, body: Option<&Json>) {
    match body.and_then(|b| b.get("fields")) {
        Some(Json::Obj(members)) => {
            for (k, v) in members {
                if let Json::Str(msg) = v {
                    push_field(out, k, msg);
                }
            }
        }
        _ => {
            // DRF: a list of messages per field; `non_field_errors` (and a generic
            // `errors` list) concern the whole form, not a field.
            if let Some(Json::Obj(members)) = body {
                for (k, v) in members {
                    if let (Json::Arr(items), false) =
                        (v, matches!(k.as_str(), "non_field_errors" | "errors"))
                    {
                        if let Some(Json::Str(msg)) = items.first() {
                            push_field(out, k, msg);
                        }
                    }
                }
            }
            if let Some(items) = body.and_then(|b| b.list_of("detail")) {
                for item in items {
                    // The last string of `loc` names the field (a loop from the end,
                    // not `rev().find_map(..)`).
                    let mut name = "body";
                    if let Some(loc) = item.list_of("loc") {
                        let mut i = loc.len();
                        while i > 0 {
                            i -= 1;
                            if let Some(Json::Str(part)) = loc.get(i) {
                                name = part;
                                break;
                            }
                        }
                    }
                    if let Some(msg) = item.text_of("msg") {
                        push_field(out, name, msg);
                    }
                }
            }
        }
    }
}

/// Whether the error body names fields (the forms `field_errors` reads).
fn names_fields(body: Option<&Json>) -> bool {
    let mut found = String::new();
    field_errors(&mut found, body);
    !found.is_empty()
}

/// What the error body says about duplicates, in the forms backends use: its code
/// (`code` or `error`) and its message, as `error_from_response` read them. Compared
/// without lowercased copies of the body's text.
fn says_already_exists(code: &str, text: &str) -> bool {
    code.eq_ignore_ascii_case("user_exists")
        || contains_ignore_case(code, "already_exists")
        || contains_ignore_case(code, "already exists")
        || contains_ignore_case(text, "already exists")
        || contains_ignore_case(text, "already registered")
}

/// Whether `hay` contains `needle` (ASCII), ASCII letters compared without case: each
/// window of bytes by `eq_ignore_ascii_case`, which the engine links anyway (a byte loop
/// of its own linked a second, out-of-line copy of std's comparison for this one test).
/// Bytes, not `str::get` windows (whose `Option<&str>` came back through memory): an
/// ASCII needle matches only ASCII bytes, so a window inside a character never matches.
fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    let mut start = 0;
    while let Some(window) = hay.get(start..start + needle.len()) {
        if window.eq_ignore_ascii_case(needle) {
            return true;
        }
        start += 1;
    }
    false
}

/// Better Auth's `{message, code}` errors, by code family: the field
/// they concern, and the AuthError code. The families are upper case and compared
/// as written, so other backends' lower-case codes never match (no test of the
/// code's case first).
fn better_auth_code(code: &str) -> Option<(ErrorCode, Option<&'static str>)> {
    // A match on the text, not `==` per code (each a `&&str` constant in the data).
    match code {
        "INVALID_EMAIL_OR_PASSWORD" | "INVALID_PASSWORD" | "CREDENTIAL_ACCOUNT_NOT_FOUND" => {
            Some((ErrorCode::InvalidCredentials, None))
        }
        _ if find(code, "ALREADY_EXISTS").is_some() => Some((ErrorCode::UserExists, Some("email"))),
        _ if code.starts_with("PASSWORD_TOO_") => Some((ErrorCode::Validation, Some("password"))),
        _ if code.starts_with("INVALID_EMAIL") => Some((ErrorCode::Validation, Some("email"))),
        "VALIDATION_ERROR" => Some((ErrorCode::Validation, None)),
        // The two-factor plugin's second step: another try.
        "INVALID_CODE" | "INVALID_BACKUP_CODE" => Some((ErrorCode::InvalidCode, None)),
        // Its pending sign-in is gone (expired, used, or too many wrong codes).
        "INVALID_TWO_FACTOR_COOKIE" | "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE" => {
            Some((ErrorCode::ChallengeExpired, None))
        }
        _ => None,
    }
}

/// The message of an error whose body has none of its own, per code in `ErrorCode`'s
/// order (the few that say more are chosen in `error_from`). Laid out at compile time
/// as one text, each message once, with where each code's starts and its length (no
/// table of 20 pointers and 20 lengths, as a `match` was lowered to).
const FALLBACK: [&str; 20] = [
    // InvalidCredentials, UserExists, Validation
    "Invalid email or password",
    "An account with this email already exists",
    "Some fields are invalid",
    // Unauthorized: the engine's text for the same outcome (src/core/engine.rs).
    "Not signed in",
    // SessionExpired: never answered here.
    UNEXPECTED,
    // RefreshFailed: the engine's text for the same outcome (src/core/engine.rs).
    "The session cannot be refreshed",
    // RateLimited
    "Too many attempts; try again later",
    // Network: never answered here.
    UNEXPECTED,
    // Server, InvalidResponse, InvalidToken
    "The server failed",
    UNEXPECTED,
    "This verification link is not valid",
    // Storage, Config, Aborted: never answered here.
    UNEXPECTED,
    UNEXPECTED,
    UNEXPECTED,
    // InvalidCode, ChallengeExpired
    "The code is not valid",
    "The sign-in took too long: enter your password again",
    // StateMismatch: word for word the text src/core/social.rs uses for the same refusal.
    "This sign-in answer came from another provider: start it again",
    // CodeUsed
    "This sign-in link was already used: sign in again",
    // ConsentDenied: never answered here.
    UNEXPECTED,
    // ProviderError
    "The sign-in provider failed",
];
const UNEXPECTED: &str = "The server answered something unexpected";
const FALLBACK_TEXT: &str = laid_out(&FALLBACK_BYTES);
const FALLBACK_BYTES: [u8; laid_out_len(&FALLBACK)] = lay_out(&FALLBACK);
const FALLBACK_START: [u16; 20] = starts_of(&FALLBACK);
const FALLBACK_LEN: [u8; 20] = lengths_of(&FALLBACK);

/// `FALLBACK`'s message for `code`. Inlined into its one caller.
#[inline(always)]
fn fallback_message(code: ErrorCode) -> &'static str {
    let i = code as usize;
    match (FALLBACK_START.get(i), FALLBACK_LEN.get(i)) {
        (Some(&start), Some(&len)) => {
            let start = usize::from(start);
            FALLBACK_TEXT
                .get(start..start + usize::from(len))
                .unwrap_or("")
        }
        _ => "",
    }
}

/// Map a non-2xx response to an AuthError (README.md: the table of `code`s under "Using auth-wasm").
pub fn error_from_response(op: Op, resp: &HttpResponse) -> AuthError {
    error_from(op, resp, json::parse(resp.body).as_ref())
}

/// `error_from_response` with the body already parsed (`json::parse` of `resp.body`).
fn error_from(op: Op, resp: &HttpResponse, body: Option<&Json>) -> AuthError {
    use ErrorCode::*;
    let status = resp.status;
    let body = match body {
        Some(b @ Json::Obj(_)) => Some(b),
        _ => None,
    };
    // Matches, not `and_then`/`or_else` closures; the members by `text_of` (one
    // pointer answered as a value), "" for none.
    let code_in_body: &str = match body {
        Some(b) => match b.text_of("code") {
            Some(code) => code,
            None => member_text(b, "error"),
        },
        None => "",
    };
    let said = server_message(body);
    let better_auth = better_auth_code(code_in_body);
    let client_error = (400..500).contains(&status);
    // The codes of this crate's own (the reference backend's) that a body names, read
    // once by `ErrorCode::parse`: no comparison of the text per code.
    let named = ErrorCode::parse(code_in_body);
    // The code, and a message for the few cases that say more than `fallback_message`.
    let (code, special): (ErrorCode, Option<&str>) = match (status, named) {
        (429, _) => (RateLimited, None),
        // The second step of a two-factor sign-in says which it was; the backend's own
        // RFC 9207 check says the answer is from another provider; a social sign-in's
        // code works once (a reload or a replayed link).
        // One test of the status, then of the code (the four are neighbours in
        // `ErrorCode`: one range test), not the status tested again per code.
        (_, Some(c))
            if client_error
                && matches!(c, InvalidCode | ChallengeExpired | StateMismatch | CodeUsed) =>
        {
            (c, None)
        }
        _ if client_error && op != Op::Refresh && better_auth.is_some() => {
            (better_auth.map_or(Validation, |(code, _)| code), None)
        }
        // An unverified account holds the provider's email: nothing was linked.
        (409, Some(UserExists)) => (UserExists, None),
        // A verification link works once, for 24 hours, and only as signed.
        // One prefix test, then the code matched (no second comparison of the text).
        _ if client_error && code_in_body.starts_with("verification_") => match code_in_body {
            "verification_used" => (CodeUsed, Some("This verification link was already used")),
            _ => (InvalidToken, None),
        },
        (_, Some(ProviderError)) => (ProviderError, None),
        (500..=599, _) => (Server, None),
        _ if body.is_none() && !client_error => (InvalidResponse, None),
        _ => match op {
            Op::Login if status == 422 && matches!(named, Some(Validation)) => (Validation, None),
            // A 400 naming fields (DRF: `{"password": ["This field may not be
            // blank."]}`) refuses the form, not the credentials.
            Op::Login if status == 400 && names_fields(body) => (Validation, None),
            Op::Login if matches!(status, 400 | 401 | 403 | 422) => (InvalidCredentials, None),
            Op::Register
                if status == 409 || says_already_exists(code_in_body, said.unwrap_or("")) =>
            {
                (UserExists, None)
            }
            Op::Register if matches!(status, 400 | 422) => (Validation, None),
            // An unknown passkey, an answer that did not verify, a wrong step-up password.
            // `invalid_credentials` as `ErrorCode::parse` read it (no second comparison).
            Op::Passkey
                if matches!(named, Some(InvalidCredentials))
                    || matches!(code_in_body, "passkey_invalid") =>
            {
                (InvalidCredentials, Some("This passkey was not accepted"))
            }
            Op::Passkey if status == 404 => (Validation, Some("No such passkey")),
            // A link's step-up password was wrong (backend/step_up.py); "sign in again"
            // (`recent_sign_in_required`) stays `unauthorized` below.
            Op::Social if matches!(named, Some(InvalidCredentials)) => (InvalidCredentials, None),
            Op::Refresh if matches!(status, 400 | 401 | 403) => (RefreshFailed, None),
            _ if matches!(status, 401 | 403) => (Unauthorized, None),
            _ if status == 422 || status == 400 => (Validation, None),
            _ => (InvalidResponse, None),
        },
    };
    // Matches, not `or` and `unwrap_or_else`'s closure.
    let message = match (said, special) {
        (Some(m), _) | (None, Some(m)) => m,
        (None, None) => fallback_message(code),
    };
    let mut err = AuthError::new(code, message).with_status(status);
    if code == RateLimited {
        // "" for none is no number and no HTTP-date: None.
        err.retry_after = parse_retry_after(resp.retry_after, resp.now);
    }
    if code == Validation {
        field_errors(&mut err.fields, body);
        if let (Some((_, Some(field))), true) = (better_auth, err.fields.is_empty()) {
            push_field(&mut err.fields, field, message);
        }
    }
    err
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::config::RawConfig;

    pub(crate) fn cfg(protocol: &str) -> Config {
        Config::validate(RawConfig {
            base_url: Some("http://127.0.0.1:8000"),
            protocol: Some(protocol),
            ..RawConfig::default()
        })
        .unwrap()
    }

    // The readers as the engine calls them: the body parsed once, then handed to each.
    pub(crate) fn tokens(cfg: &Config, op: Op, resp: &HttpResponse) -> Result<TokenSet, AuthError> {
        parse_tokens(cfg, op, resp, json::parse(resp.body).as_ref())
    }

    fn session_token(
        op: Op,
        resp: &HttpResponse,
        header: Option<&str>,
    ) -> Result<String, AuthError> {
        parse_session_token(
            op,
            resp,
            header.unwrap_or(""),
            json::parse(resp.body).as_ref(),
        )
    }

    fn challenge_of(resp: &HttpResponse) -> Option<(String, String)> {
        parse_mfa_challenge(resp.status, json::parse(resp.body).as_ref())
    }

    fn registered_signed_in(cfg: &Config, body: &str, header: Option<&str>) -> bool {
        has_tokens(cfg, json::parse(body).as_ref(), header.unwrap_or(""))
    }

    pub(crate) fn resp(status: u16, body: &str) -> HttpResponse<'_> {
        HttpResponse {
            status,
            body,
            date: "",
            retry_after: "",
            auth_token: "",
            now: 0.0,
        }
    }

    #[test]
    fn mfa_challenges_keep_the_methods_named_by_strings() {
        let challenge = |body| challenge_of(&resp(200, body));
        assert_eq!(
            challenge(
                r#"{"mfa_required":true,"challenge":"c","methods":["totp",1,null,"backup"]}"#
            ),
            Some((
                "c".to_owned(),
                r#"{"methods":["totp","backup"]}"#.to_owned()
            ))
        );
        assert_eq!(
            challenge(r#"{"mfa_required":true,"challenge":"c","methods":"totp"}"#),
            Some(("c".to_owned(), r#"{"methods":[]}"#.to_owned()))
        );
        // Written as the view shows them: JSON strings, escaped.
        assert_eq!(
            challenge(r#"{"mfa_required":true,"challenge":"c","methods":["a\"b\u00e9"]}"#),
            Some(("c".to_owned(), r#"{"methods":["a\"bé"]}"#.to_owned()))
        );
        for not_one in [
            r#"{"mfa_required":false,"challenge":"c"}"#,
            r#"{"mfa_required":true,"challenge":""}"#,
            r#"{"mfa_required":true}"#,
        ] {
            assert_eq!(challenge(not_one), None, "{not_one}");
        }
        assert_eq!(
            challenge_of(&resp(401, r#"{"mfa_required":true,"challenge":"c"}"#)),
            None
        );
    }

    #[test]
    fn session_lists_are_written_in_order_with_missing_texts_empty() {
        assert_eq!(parse_sessions(&resp(200, "[]")).unwrap(), "[]");
        assert_eq!(
            parse_sessions(&resp(
                200,
                r#"[{"id":"a","ip":"::1","current":true},{"id":"b\"","user_agent":7,"current":1}]"#
            ))
            .unwrap(),
            concat!(
                r#"[{"id":"a","createdAt":"","lastUsedAt":"","userAgent":"","ip":"::1","current":true},"#,
                r#"{"id":"b\"","createdAt":"","lastUsedAt":"","userAgent":"","ip":"","current":false}]"#
            )
        );
        assert_eq!(
            parse_sessions(&resp(200, r#"[{"id":"a"},{"ip":"x"}]"#))
                .unwrap_err()
                .message,
            "The session list is not what the backend sends"
        );
    }

    #[test]
    fn json_login_and_refresh_requests() {
        let c = cfg("json");
        let r = login_request(&c, "email", "a\"@b.c", "p\\w");
        assert_eq!(r.url, "http://127.0.0.1:8000/auth/login");
        assert_eq!(r.content_type, Some(JSON_TYPE));
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"email":"a\"@b.c","password":"p\\w"}"#)
        );
        let r = refresh_request(&c, "rt");
        assert_eq!(
            (r.url.as_str(), r.body.as_deref()),
            (
                "http://127.0.0.1:8000/auth/refresh",
                Some(r#"{"refresh_token":"rt"}"#)
            )
        );
        let r = register_request(&c, "e", "p", Some("N")).unwrap();
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"email":"e","password":"p","name":"N"}"#)
        );
        let r = logout_request(&c, Some("rt")).unwrap();
        assert_eq!(r.credential, Credential::Access);
        assert_eq!(r.url, "http://127.0.0.1:8000/auth/logout");
        assert_eq!(me_request(&c).unwrap().url, "http://127.0.0.1:8000/auth/me");
    }

    #[test]
    fn forms_and_path_segments_keep_their_own_unreserved_sets() {
        // A form keeps `*` and writes a space as `+`; a path segment keeps `~`.
        let mut form = String::new();
        escape_into(&mut form, "k y=a*~ é", true);
        assert_eq!(form, "k+y%3Da*%7E+%C3%A9");
        assert_eq!(percent_encode("a*~ é/-._"), "a%2A~%20%C3%A9%2F-._");
    }

    #[test]
    fn oauth2_requests_are_forms() {
        let c = cfg("oauth2-password");
        let r = login_request(&c, "username", "a b@c.d", "p&w=1+é");
        assert_eq!(r.url, "http://127.0.0.1:8000/token");
        assert_eq!(r.content_type, Some(FORM_TYPE));
        assert_eq!(
            r.body.as_deref(),
            Some("grant_type=password&username=a+b%40c.d&password=p%26w%3D1%2B%C3%A9")
        );
        assert_eq!(
            refresh_request(&c, "r/t").body.as_deref(),
            Some("grant_type=refresh_token&refresh_token=r%2Ft")
        );
        assert_eq!(
            register_request(&c, "e", "p", None).unwrap_err().code,
            ErrorCode::Config
        );
        assert_eq!(logout_request(&c, Some("rt")), None);
        assert_eq!(me_request(&c), None);
    }

    #[test]
    fn better_auth_requests() {
        let c = cfg("better-auth");
        let r = login_request(&c, "username", "a@b.c", "pw");
        assert_eq!(r.url, "http://127.0.0.1:8000/api/auth/sign-in/email");
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"email":"a@b.c","password":"pw"}"#)
        );
        let r = register_request(&c, "a@b.c", "pw", None).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:8000/api/auth/sign-up/email");
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"email":"a@b.c","password":"pw","name":""}"#)
        );
        let r = refresh_request(&c, "session-token");
        assert_eq!(
            (r.method, r.url.as_str(), r.body.as_deref(), r.credential),
            (
                "GET",
                "http://127.0.0.1:8000/api/auth/token",
                None,
                Credential::Refresh
            )
        );
        let r = logout_request(&c, Some("session-token")).unwrap();
        assert_eq!(
            (r.url.as_str(), r.credential),
            (
                "http://127.0.0.1:8000/api/auth/sign-out",
                Credential::Refresh
            )
        );
        let r = me_request(&c).unwrap();
        assert_eq!(
            (r.url.as_str(), r.credential),
            (
                "http://127.0.0.1:8000/api/auth/get-session",
                Credential::Refresh
            )
        );
    }

    #[test]
    fn better_auth_responses() {
        let ok = resp(
            200,
            r#"{"redirect":false,"token":"body-token","user":{"id":"u1"}}"#,
        );
        assert_eq!(
            session_token(Op::Login, &ok, Some("header-token")).unwrap(),
            "header-token"
        );
        assert_eq!(session_token(Op::Login, &ok, None).unwrap(), "body-token");
        assert_eq!(
            session_token(
                Op::Register,
                &resp(200, r#"{"token":null,"user":{}}"#),
                None
            )
            .unwrap_err()
            .code,
            ErrorCode::InvalidResponse
        );
        let jwt = tokens(
            &cfg("better-auth"),
            Op::Refresh,
            &resp(200, r#"{"token":"eyJ.jwt.sig"}"#),
        )
        .unwrap();
        assert!(tokens(
            &cfg("json"),
            Op::Refresh,
            &resp(200, r#"{"token":"eyJ.jwt.sig"}"#)
        )
        .is_err());
        // An empty exchange token is none, as an empty access_token.
        assert_eq!(
            tokens(
                &cfg("better-auth"),
                Op::Refresh,
                &resp(200, r#"{"token":""}"#)
            )
            .unwrap_err()
            .code,
            ErrorCode::InvalidResponse
        );
        assert_eq!(
            (jwt.access_token.as_str(), jwt.refresh_token),
            ("eyJ.jwt.sig", None)
        );
        assert_eq!(
            parse_user(
                Protocol::BetterAuth,
                &resp(
                    200,
                    r#"{"session":{"id":"s"},"user":{"id":"u1","email":"a@b.c"}}"#
                )
            )
            .unwrap(),
            r#"{"id":"u1","email":"a@b.c"}"#
        );
        // Read as JSON: its white space around `null` is the same answer.
        for gone in ["null", " null\r\n"] {
            assert_eq!(
                parse_user(Protocol::BetterAuth, &resp(200, gone))
                    .unwrap_err()
                    .code,
                ErrorCode::SessionExpired
            );
        }
    }

    #[test]
    fn better_auth_error_codes_by_family() {
        let cases: &[(Op, u16, &str, ErrorCode, Option<&str>)] = &[
            (
                Op::Login,
                401,
                r#"{"message":"Invalid email or password","code":"INVALID_EMAIL_OR_PASSWORD"}"#,
                ErrorCode::InvalidCredentials,
                None,
            ),
            (
                Op::Register,
                422,
                r#"{"message":"User already exists. Use another email.","code":"USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"}"#,
                ErrorCode::UserExists,
                None,
            ),
            (
                Op::Register,
                400,
                r#"{"message":"Password too short","code":"PASSWORD_TOO_SHORT"}"#,
                ErrorCode::Validation,
                Some("password"),
            ),
            (
                Op::Register,
                400,
                r#"{"message":"Invalid email","code":"INVALID_EMAIL"}"#,
                ErrorCode::Validation,
                Some("email"),
            ),
            (
                Op::Register,
                400,
                r#"{"message":"Invalid body","code":"VALIDATION_ERROR"}"#,
                ErrorCode::Validation,
                None,
            ),
            (
                Op::Refresh,
                401,
                r#"{"message":"Unauthorized","code":"UNAUTHORIZED"}"#,
                ErrorCode::RefreshFailed,
                None,
            ),
            (Op::Refresh, 401, "", ErrorCode::RefreshFailed, None),
            // A family's text with a digit after it is still the family (the code is
            // not first tested for upper case only).
            (
                Op::Register,
                400,
                r#"{"code":"PASSWORD_TOO_SHORT_8"}"#,
                ErrorCode::Validation,
                Some("password"),
            ),
            // A lower-case look-alike is no Better Auth family: no field named.
            (
                Op::Register,
                400,
                r#"{"code":"password_too_short"}"#,
                ErrorCode::Validation,
                None,
            ),
        ];
        for (op, status, body, code, field) in cases {
            let e = error_from_response(*op, &resp(*status, body));
            assert_eq!(e.code, *code, "{body}");
            assert_eq!(
                e.field_list().first().map(|(f, _)| f.clone()),
                field.map(str::to_owned),
                "{body}"
            );
        }
        let mut r = resp(429, r#"{"message":"Too many requests"}"#);
        r.retry_after = "12";
        assert_eq!(error_from_response(Op::Login, &r).retry_after, Some(12));
    }

    #[test]
    fn parses_token_responses() {
        let t = tokens(&cfg("json"), Op::Login, &resp(200, r#"{"access_token":"a","token_type":"Bearer","expires_in":900,"refresh_token":"r"}"#)).unwrap();
        let bound = r#"{"access_token":"a","token_type":"DPoP","refresh_token":"r"}"#;
        assert!(tokens(&cfg("json"), Op::Login, &resp(200, bound)).is_ok());
        assert_eq!(
            (t.access_token.as_str(), t.refresh_token.as_deref()),
            ("a", Some("r"))
        );
        assert_eq!((expiry(&t), t.user), (Some(900.0), None));
        let t = tokens(
            &cfg("json"),
            Op::Login,
            &resp(200, r#"{"access_token":"a"}"#),
        )
        .unwrap();
        assert_eq!((t.refresh_token.as_deref(), expiry(&t)), (None, None));
    }

    /// `expires_in` as an `Option` (NaN is none; NaN never equals itself, so a
    /// `TokenSet` is compared member by member).
    fn expiry(t: &TokenSet) -> Option<f64> {
        (!t.expires_in.is_nan()).then_some(t.expires_in)
    }

    fn with_fields(protocol: &str, fields: &[(&str, &str)]) -> Config {
        Config::validate(RawConfig {
            base_url: Some("http://127.0.0.1:8000"),
            protocol: Some(protocol),
            fields: &crate::core::fields::tests::pairs(fields),
            ..RawConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn fields_name_the_refresh_body_in_json_and_form_requests() {
        let c = with_fields("json", &[("refreshBody", "refresh")]);
        assert_eq!(
            refresh_request(&c, "r1").body.as_deref(),
            Some(r#"{"refresh":"r1"}"#)
        );
        let mut c = c;
        if let Some(logout) = c.endpoints.slot("logout") {
            *logout = "/api/token/blacklist/".into();
        }
        let out = logout_request(&c, Some("r1")).unwrap();
        assert_eq!(
            (out.url.as_str(), out.body.as_deref()),
            (
                "http://127.0.0.1:8000/api/token/blacklist/",
                Some(r#"{"refresh":"r1"}"#)
            ),
            "the blacklist takes the token under the same name"
        );
        let c = with_fields("oauth2-password", &[("refreshBody", "refresh")]);
        assert_eq!(
            refresh_request(&c, "r/1").body.as_deref(),
            Some("grant_type=refresh_token&refresh=r%2F1")
        );
    }

    #[test]
    fn fields_read_tokens_expiry_and_user_where_the_server_puts_them() {
        // Django REST framework SimpleJWT: {"refresh", "access"}; rotation answers both.
        let simplejwt = with_fields(
            "json",
            &[("accessToken", "access"), ("refreshToken", "refresh")],
        );
        let t = tokens(
            &simplejwt,
            Op::Login,
            &resp(200, r#"{"refresh":"r1","access":"a1"}"#),
        )
        .unwrap();
        assert_eq!(
            (t.access_token.as_str(), t.refresh_token.as_deref()),
            ("a1", Some("r1"))
        );
        assert_eq!((expiry(&t), t.user), (None, None));
        let t = tokens(&simplejwt, Op::Refresh, &resp(200, r#"{"access":"a2"}"#)).unwrap();
        assert_eq!(
            (t.access_token.as_str(), t.refresh_token),
            ("a2", None),
            "no rotation: the refresh keeps the token it has"
        );
        // The default names are not read once other paths are set.
        let e = tokens(
            &simplejwt,
            Op::Login,
            &resp(200, r#"{"access_token":"a","refresh_token":"r"}"#),
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                ErrorCode::InvalidResponse,
                "The response has no access token at access"
            )
        );
        // An envelope: {"data": {"token", "refreshToken", "expiresIn", "user"}}.
        let nested = with_fields(
            "json",
            &[
                ("accessToken", "data.token"),
                ("refreshToken", "data.refreshToken"),
                ("expiresIn", "data.expiresIn"),
                ("user", "data.user"),
            ],
        );
        let t = tokens(
            &nested,
            Op::Login,
            &resp(
                200,
                r#"{"ok":true,"data":{"token":"opaque","refreshToken":"r","expiresIn":300,"user":{"id":7,"email":"a@b.c"}}}"#,
            ),
        )
        .unwrap();
        assert_eq!(
            (t.access_token.as_str(), t.refresh_token.as_deref()),
            ("opaque", Some("r"))
        );
        assert_eq!(
            (expiry(&t), t.user.as_deref()),
            (Some(300.0), Some(r#"{"id":7,"email":"a@b.c"}"#))
        );
        let t = tokens(
            &nested,
            Op::Refresh,
            &resp(200, r#"{"data":{"token":"t","user":null}}"#),
        )
        .unwrap();
        assert_eq!((expiry(&t), t.refresh_token, t.user), (None, None, None));
        for body in [
            r#"{"data":{"token":"t","user":"u1"}}"#,
            r#"{"data":{"token":"t","user":[{"id":1}]}}"#,
        ] {
            let e = tokens(&nested, Op::Login, &resp(200, body)).unwrap_err();
            assert_eq!(
                (e.code, e.message.as_str()),
                (
                    ErrorCode::InvalidResponse,
                    "The user in the response is not an object"
                ),
                "{body}"
            );
        }
        for body in [
            r#"{"token":"t"}"#,
            r#"{"data":"t"}"#,
            r#"{"data":{"token":""}}"#,
            r#"{"data":{"token":5}}"#,
            r#"{"data":{"token":"t","token_type":"mac"}}"#,
        ] {
            let e = tokens(&nested, Op::Login, &resp(200, body));
            if body.contains("mac") {
                assert!(e.is_ok(), "token_type is read at the top level only");
                continue;
            }
            assert_eq!(e.unwrap_err().code, ErrorCode::InvalidResponse, "{body}");
        }
        assert!(registered_signed_in(
            &nested,
            r#"{"data":{"token":"t"}}"#,
            None
        ));
        assert!(!registered_signed_in(
            &nested,
            r#"{"access_token":"t"}"#,
            None
        ));
        assert!(registered_signed_in(
            &simplejwt,
            r#"{"access":"t","refresh":"r"}"#,
            None
        ));
        assert!(!registered_signed_in(
            &simplejwt,
            r#"{"id":1,"username":"ada"}"#,
            None
        ));
    }

    #[test]
    fn expires_in_is_kept_only_when_finite_and_not_negative() {
        for (body, kept) in [
            (r#"{"access_token":"a","expires_in":300}"#, Some(300.0)),
            (r#"{"access_token":"a","expires_in":0.5}"#, Some(0.5)),
            (r#"{"access_token":"a","expires_in":0}"#, Some(0.0)),
            (r#"{"access_token":"a","expires_in":-0}"#, Some(0.0)),
            (r#"{"access_token":"a","expires_in":-1}"#, None),
            (r#"{"access_token":"a","expires_in":-1e-300}"#, None),
            (r#"{"access_token":"a","expires_in":"300"}"#, None),
            (r#"{"access_token":"a","expires_in":null}"#, None),
            (r#"{"access_token":"a"}"#, None),
        ] {
            let t = tokens(&cfg("json"), Op::Login, &resp(200, body)).unwrap();
            assert_eq!(expiry(&t), kept, "{body}");
        }
    }

    #[test]
    fn bad_success_bodies_are_invalid_response() {
        for body in [
            "",
            "<!doctype html><h1>hi</h1>",
            "{\"token\":\"x\"}",
            "[]",
            "{\"access_token\":\"\"}",
            "{\"access_token\":\"a\",\"token_type\":\"mac\"}",
            "{\"access_token\":5}",
        ] {
            let e = tokens(&cfg("json"), Op::Login, &resp(200, body)).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidResponse, "{body}");
            assert_eq!(e.status, 200);
            // Nothing, HTML and an array: one text for what is no JSON object.
            if matches!(body, "" | "[]") || body.starts_with('<') {
                assert_eq!(
                    e.message, "The server did not answer a JSON object",
                    "{body}"
                );
            }
        }
    }

    #[test]
    fn maps_error_statuses() {
        let cases: &[(Op, u16, &str, ErrorCode)] = &[
            (
                Op::Login,
                401,
                r#"{"detail":"Invalid email or password","code":"invalid_credentials"}"#,
                ErrorCode::InvalidCredentials,
            ),
            (
                Op::Login,
                400,
                r#"{"error":"invalid_grant"}"#,
                ErrorCode::InvalidCredentials,
            ),
            (
                Op::Login,
                422,
                r#"{"detail":"bad","code":"validation","fields":{"email":"x"}}"#,
                ErrorCode::Validation,
            ),
            (
                Op::Register,
                409,
                r#"{"detail":"exists","code":"user_exists"}"#,
                ErrorCode::UserExists,
            ),
            (
                Op::Register,
                400,
                r#"{"detail":"User already exists"}"#,
                ErrorCode::UserExists,
            ),
            (
                Op::Register,
                422,
                r#"{"code":"USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"}"#,
                ErrorCode::UserExists,
            ),
            (
                Op::Register,
                422,
                r#"{"detail":[{"loc":["body","password"],"msg":"too short"}]}"#,
                ErrorCode::Validation,
            ),
            (
                Op::Refresh,
                401,
                r#"{"code":"refresh_failed"}"#,
                ErrorCode::RefreshFailed,
            ),
            (
                Op::Refresh,
                400,
                r#"{"error":"invalid_grant"}"#,
                ErrorCode::RefreshFailed,
            ),
            (
                Op::Me,
                401,
                r#"{"code":"unauthorized"}"#,
                ErrorCode::Unauthorized,
            ),
            (Op::Me, 500, "<html>oops</html>", ErrorCode::Server),
            (Op::Login, 503, "", ErrorCode::Server),
            (
                Op::Login,
                429,
                r#"{"code":"rate_limited"}"#,
                ErrorCode::RateLimited,
            ),
            (Op::Me, 404, "<html>", ErrorCode::InvalidResponse),
            (Op::Me, 302, "", ErrorCode::InvalidResponse),
        ];
        for (op, status, body, code) in cases {
            let e = error_from_response(*op, &resp(*status, body));
            assert_eq!(e.code, *code, "{op:?} {status} {body}");
            assert_eq!(e.status, *status);
        }
    }

    #[test]
    fn keeps_field_errors_and_the_servers_message() {
        let e = error_from_response(
            Op::Register,
            &resp(
                422,
                r#"{"detail":"The request has invalid fields","code":"validation","fields":{"email":"not an email","password":"too short"}}"#,
            ),
        );
        assert_eq!(e.message, "The request has invalid fields");
        assert_eq!(
            e.field_list(),
            vec![
                ("email".into(), "not an email".into()),
                ("password".into(), "too short".into())
            ]
        );
        let e = error_from_response(
            Op::Register,
            &resp(422, r#"{"detail":[{"loc":["body","email"],"msg":"bad"}]}"#),
        );
        assert_eq!(e.field_list(), vec![("email".into(), "bad".into())]);
        // The field is the last string of `loc` (an index after it is skipped); none: "body".
        let e = error_from_response(
            Op::Register,
            &resp(
                422,
                r#"{"detail":[{"loc":["body","emails",0],"msg":"bad"},{"loc":[0],"msg":"x"},{"msg":"y"}]}"#,
            ),
        );
        assert_eq!(
            e.field_list(),
            vec![
                ("emails".into(), "bad".into()),
                ("body".into(), "x".into()),
                ("body".into(), "y".into())
            ]
        );
    }

    #[test]
    fn django_rest_framework_errors_are_mapped() {
        // SimpleJWT's answers (djangorestframework-simplejwt 5.5, DRF 3.18), as sent.
        let e = error_from_response(
            Op::Login,
            &resp(
                401,
                r#"{"detail":"No active account found with the given credentials"}"#,
            ),
        );
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                ErrorCode::InvalidCredentials,
                "No active account found with the given credentials"
            )
        );
        let e = error_from_response(
            Op::Login,
            &resp(
                400,
                r#"{"username":["This field may not be blank."],"password":["This field is required.","Second."]}"#,
            ),
        );
        assert_eq!(e.code, ErrorCode::Validation);
        assert_eq!(
            e.field_list(),
            vec![
                ("username".into(), "This field may not be blank.".into()),
                ("password".into(), "This field is required.".into())
            ]
        );
        // A form-level refusal (dj-rest-auth's wrong password) and OAuth 2's are credentials.
        for body in [
            r#"{"non_field_errors":["Unable to log in with provided credentials."]}"#,
            r#"{"errors":["Invalid credentials"]}"#,
            r#"{"error":"invalid_grant","error_description":"Bad credentials"}"#,
            r#"{"detail":"Incorrect username or password"}"#,
        ] {
            let e = error_from_response(Op::Login, &resp(400, body));
            assert_eq!(
                (e.code, e.field_list().len()),
                (ErrorCode::InvalidCredentials, 0),
                "{body}"
            );
        }
        let e = error_from_response(
            Op::Register,
            &resp(400, r#"{"email":["Enter a valid email address."]}"#),
        );
        assert_eq!(
            (e.code, e.field_list()),
            (
                ErrorCode::Validation,
                vec![("email".into(), "Enter a valid email address.".into())]
            )
        );
        // A blacklisted or rotated-away refresh token.
        let e = error_from_response(
            Op::Refresh,
            &resp(
                401,
                r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#,
            ),
        );
        assert_eq!(e.code, ErrorCode::RefreshFailed);
    }

    #[test]
    fn the_server_message_is_the_first_text_of_detail_message_error_description() {
        let said = |body: &str| {
            error_from_response(Op::Me, &resp(500, body))
                .message
                .clone()
        };
        assert_eq!(
            said(r#"{"detail":"d","message":"m","error_description":"e"}"#),
            "d"
        );
        // A member that is not text is passed over (FastAPI's `detail` list).
        assert_eq!(said(r#"{"detail":[{"msg":"x"}],"message":"m"}"#), "m");
        assert_eq!(said(r#"{"message":7,"error_description":"e"}"#), "e");
        // The first text decides: empty or over 300 bytes, the fallback (no later one).
        assert_eq!(said(r#"{"detail":"","message":"m"}"#), "The server failed");
        let long = [
            "{\"message\":\"",
            &"x".repeat(301),
            "\",\"error_description\":\"e\"}",
        ]
        .concat();
        assert_eq!(said(&long), "The server failed");
        assert_eq!(said("{}"), "The server failed");
    }

    #[test]
    fn every_code_has_its_fallback_message() {
        // By name (the messages are laid out at compile time by offsets).
        use ErrorCode::*;
        let unexpected = "The server answered something unexpected";
        for (code, message) in [
            (InvalidCredentials, "Invalid email or password"),
            (UserExists, "An account with this email already exists"),
            (Validation, "Some fields are invalid"),
            (Unauthorized, "Not signed in"),
            (SessionExpired, unexpected),
            (RefreshFailed, "The session cannot be refreshed"),
            (RateLimited, "Too many attempts; try again later"),
            (Network, unexpected),
            (Server, "The server failed"),
            (InvalidResponse, unexpected),
            (InvalidToken, "This verification link is not valid"),
            (Storage, unexpected),
            (Config, unexpected),
            (Aborted, unexpected),
            (InvalidCode, "The code is not valid"),
            (
                ChallengeExpired,
                "The sign-in took too long: enter your password again",
            ),
            (
                StateMismatch,
                "This sign-in answer came from another provider: start it again",
            ),
            (
                CodeUsed,
                "This sign-in link was already used: sign in again",
            ),
            (ConsentDenied, unexpected),
            (ProviderError, "The sign-in provider failed"),
        ] {
            assert_eq!(fallback_message(code), message, "{code:?}");
        }
    }

    #[test]
    fn contains_ignoring_ascii_case() {
        assert!(contains_ignore_case(
            "User Already Exists",
            "already exists"
        ));
        assert!(contains_ignore_case("ALREADY_EXISTS", "already_exists"));
        assert!(contains_ignore_case("x", ""));
        assert!(!contains_ignore_case("already", "already exists"));
        assert!(!contains_ignore_case("", "a"));
        assert!(!contains_ignore_case("alreadyexists", "already exists"));
        // Windows that start or end inside a character are skipped, not a failure.
        assert!(contains_ignore_case(
            "é déjà: Already Registered é",
            "already registered"
        ));
        assert!(!contains_ignore_case("éé", "a"));
    }

    #[test]
    fn rate_limits_carry_retry_after_in_both_forms() {
        let mut r = resp(429, "{}");
        r.retry_after = "7";
        assert_eq!(error_from_response(Op::Login, &r).retry_after, Some(7));
        r.retry_after = "Thu, 01 Jan 1970 00:00:30 GMT";
        r.now = 10_000.0;
        assert_eq!(error_from_response(Op::Login, &r).retry_after, Some(20));
        r.retry_after = "";
        assert_eq!(error_from_response(Op::Login, &r).retry_after, None);
    }

    #[test]
    fn register_without_tokens_is_detected() {
        assert!(registered_signed_in(
            &cfg("json"),
            r#"{"access_token":"a"}"#,
            None
        ));
        assert!(!registered_signed_in(
            &cfg("json"),
            r#"{"id":"1","email":"e"}"#,
            None
        ));
        assert!(!registered_signed_in(&cfg("json"), "<html>", None));
        assert!(registered_signed_in(
            &cfg("better-auth"),
            r#"{"token":"s","user":{}}"#,
            None
        ));
        assert!(registered_signed_in(
            &cfg("better-auth"),
            r#"{"token":null,"user":{}}"#,
            Some("s")
        ));
        assert!(!registered_signed_in(
            &cfg("better-auth"),
            r#"{"token":null,"user":{}}"#,
            None
        ));
    }

    #[test]
    fn user_bodies() {
        assert_eq!(
            parse_user(Protocol::Json, &resp(200, r#"{"id":"1"}"#)).unwrap(),
            r#"{"id":"1"}"#
        );
        assert_eq!(
            parse_user(Protocol::Json, &resp(200, "null"))
                .unwrap_err()
                .code,
            ErrorCode::InvalidResponse
        );
    }
}
