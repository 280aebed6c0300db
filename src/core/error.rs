//! `AuthError`: one code per failure class, shared by every layer.

use crate::prelude::*;

use super::json::write_str;

/// The failure classes (README.md, "Using auth-wasm": the table of `code`s); `as_str` is
/// the code JS sees. The order is the wasm's only: `CodeUsed` follows `InvalidCode`,
/// `ChallengeExpired` and `StateMismatch` so `protocol::error_from` tests the four
/// as one range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidCredentials,
    UserExists,
    Validation,
    Unauthorized,
    SessionExpired,
    RefreshFailed,
    RateLimited,
    Network,
    Server,
    InvalidResponse,
    InvalidToken,
    Storage,
    Config,
    Aborted,
    InvalidCode,
    ChallengeExpired,
    StateMismatch,
    CodeUsed,
    ConsentDenied,
    ProviderError,
}

/// Each code's text, in `ErrorCode`'s order.
const CODE_NAMES: [&str; 20] = [
    "invalid_credentials",
    "user_exists",
    "validation",
    "unauthorized",
    "session_expired",
    "refresh_failed",
    "rate_limited",
    "network",
    "server",
    "invalid_response",
    "invalid_token",
    "storage",
    "config",
    "aborted",
    "invalid_code",
    "challenge_expired",
    "state_mismatch",
    "code_used",
    "consent_denied",
    "provider_error",
];
/// The codes' texts end to end, and where each starts (`CODE_STARTS[i]..CODE_STARTS[i +
/// 1]`), laid out at compile time: 21 bytes of offsets, not the 20 pointers and 20
/// lengths (160 bytes of the wasm's data) of a `match` lowered to a table.
const CODE_TEXTS: &str = laid_out(&CODE_BYTES);
const CODE_BYTES: [u8; laid_out_len(&CODE_NAMES)] = lay_out(&CODE_NAMES);
const CODE_STARTS: [u8; 20 + 1] = {
    let mut starts = [0; 20 + 1];
    let mut i = 0;
    while i < CODE_NAMES.len() {
        // The texts total 235 bytes: each offset fits a byte (the test
        // `every_code_reads_back_as_its_text` would see one that did not).
        starts[i + 1] = starts[i] + CODE_NAMES[i].len() as u8;
        i += 1;
    }
    starts
};

/// How long `texts` are laid end to end by `lay_out`, each once (a text equal to an
/// earlier one is not written again).
pub(super) const fn laid_out_len(texts: &[&str]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < texts.len() {
        if first_of(texts, i) == i {
            len += texts[i].len();
        }
        i += 1;
    }
    len
}

/// `texts` end to end, each once, at compile time (`laid_out_len` bytes).
pub(super) const fn lay_out<const LEN: usize>(texts: &[&str]) -> [u8; LEN] {
    let mut out = [0; LEN];
    let (mut at, mut i) = (0, 0);
    while i < texts.len() {
        if first_of(texts, i) == i {
            let bytes = texts[i].as_bytes();
            let mut b = 0;
            while b < bytes.len() {
                out[at] = bytes[b];
                at += 1;
                b += 1;
            }
        }
        i += 1;
    }
    out
}

/// Where each of `texts` starts in `lay_out`'s bytes.
pub(super) const fn starts_of<const N: usize>(texts: &[&str; N]) -> [u16; N] {
    let mut starts = [0; N];
    let (mut at, mut i) = (0, 0);
    while i < N {
        let first = first_of(texts, i);
        if first == i {
            starts[i] = at as u16;
            at += texts[i].len();
        } else {
            starts[i] = starts[first];
        }
        i += 1;
    }
    starts
}

/// Each of `texts`' lengths (under 256 bytes each: a message, not a document; the
/// tests of each table read every text back).
pub(super) const fn lengths_of<const N: usize>(texts: &[&str; N]) -> [u8; N] {
    let mut lens = [0; N];
    let mut i = 0;
    while i < N {
        lens[i] = texts[i].len() as u8;
        i += 1;
    }
    lens
}

/// The first of `texts` equal to `texts[i]` (`i` when none before it is).
const fn first_of(texts: &[&str], i: usize) -> usize {
    let mut j = 0;
    while j < i {
        let (a, b) = (texts[j].as_bytes(), texts[i].as_bytes());
        let mut same = a.len() == b.len();
        let mut k = 0;
        while same && k < a.len() {
            same = a[k] == b[k];
            k += 1;
        }
        if same {
            return j;
        }
        j += 1;
    }
    i
}

/// `lay_out`'s bytes as text (they are the texts' own UTF-8).
pub(super) const fn laid_out(bytes: &'static [u8]) -> &'static str {
    match core::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => "",
    }
}

impl ErrorCode {
    /// The code JS sees. Inlined: its `&str` would come back through memory (to
    /// `parse`'s loop and the error's JSON).
    #[inline(always)]
    pub fn as_str(self) -> &'static str {
        let i = self as usize;
        match (CODE_STARTS.get(i), CODE_STARTS.get(i + 1)) {
            (Some(&start), Some(&end)) => CODE_TEXTS
                .get(usize::from(start)..usize::from(end))
                .unwrap_or(""),
            _ => "",
        }
    }
}

/// A failure with a code for programs and a message for people. Messages never
/// contain a token, password or secret: they are built from fixed text and the
/// server's own `detail`.
///
/// Boxed: every `Result` in the crate carries one, and a pointer-sized error keeps
/// each of them (and the async state machines holding them) small in the wasm.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", .0.message)]
pub struct AuthError(Box<ErrorDetail>);

/// What an `AuthError` says; reached through `Deref`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// HTTP status when the failure came from a response; 0 when it did not (no
    /// response has status 0: a plain number, not an `Option` tagged at every error).
    pub status: u16,
    /// Seconds to wait, for `rate_limited`.
    pub retry_after: Option<u32>,
    /// Field name -> message, for `validation`: the members of a JSON object as they
    /// were found (`"email":"bad","password":"short"`; empty: none), written by
    /// `push_field`. Text, not a list of pairs: the error's JSON takes it as it is.
    pub fields: String,
}

impl ::core::ops::Deref for AuthError {
    type Target = ErrorDetail;
    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl ::core::ops::DerefMut for AuthError {
    fn deref_mut(&mut self) -> &mut ErrorDetail {
        &mut self.0
    }
}

impl AuthError {
    pub fn new(code: ErrorCode, message: impl Message) -> Self {
        message.into_error(code)
    }

    /// An error with no message yet, allocated with its parts set in place (a message
    /// moved into `Box::new`'s argument was copied through the stack first).
    #[inline(always)]
    fn empty(code: ErrorCode) -> Self {
        AuthError(Box::new(ErrorDetail {
            code,
            message: String::new(),
            status: 0,
            retry_after: None,
            fields: String::new(),
        }))
    }

    /// An error with an owned message, moved in.
    #[inline(never)]
    fn boxed(code: ErrorCode, message: String) -> Self {
        let mut error = AuthError::empty(code);
        // The empty text replaced holds no allocation: nothing to drop.
        core::mem::forget(core::mem::replace(&mut error.message, message));
        error
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn config(message: &str) -> Self {
        AuthError::new(ErrorCode::Config, message)
    }

    /// A `config` error about the option `name` (`name` then `rule`): one function
    /// for the many call sites that would each inline a `concat`.
    pub fn config_named(name: &str, rule: &str) -> Self {
        AuthError::joined(ErrorCode::Config, name, rule)
    }

    /// An error whose message is `head` then `tail` (a name or path named by it): one
    /// function for config's options and protocol's paths (no `concat` of a list
    /// written on the stack and dropped at each).
    #[inline(never)]
    pub fn joined(code: ErrorCode, head: &str, tail: &str) -> Self {
        let mut error = AuthError::text(code, head);
        error.message.push_str(tail);
        error
    }

    /// An error with a fixed message, written into the error's own text (no text made
    /// first and moved in): `new`'s body for a `&str`, and `joined`'s start.
    #[inline(never)]
    fn text(code: ErrorCode, message: &str) -> Self {
        let mut error = AuthError::empty(code);
        error.message.push_str(message);
        error
    }
}

/// A message `AuthError::new` takes: a fixed text is written into the error's own text
/// (`text`), an owned one moved in (`boxed`).
pub trait Message {
    fn into_error(self, code: ErrorCode) -> AuthError;
}

impl Message for &str {
    fn into_error(self, code: ErrorCode) -> AuthError {
        AuthError::text(code, self)
    }
}

impl Message for String {
    fn into_error(self, code: ErrorCode) -> AuthError {
        AuthError::boxed(code, self)
    }
}

/// A field's error onto an error's `fields` (one writer for every form that names one:
/// the engine's and account's checks, the fields' object, DRF's lists, FastAPI's
/// `detail`, Better Auth's code). Its ASCII punctuation pushed as one-byte texts, as in
/// json.rs and object.rs (`String::push` tests its char for UTF-8 encoding first).
#[inline(never)]
#[allow(clippy::single_char_add_str)]
pub fn push_field(fields: &mut String, name: &str, message: &str) {
    if !fields.is_empty() {
        fields.push_str(",");
    }
    write_str(fields, name);
    fields.push_str(":");
    write_str(fields, message);
}

/// Every code, in `as_str`'s order: in the data, not an array built on the stack at each
/// `parse`.
static CODES: [ErrorCode; 20] = {
    use ErrorCode::*;
    [
        InvalidCredentials,
        UserExists,
        Validation,
        Unauthorized,
        SessionExpired,
        RefreshFailed,
        RateLimited,
        Network,
        Server,
        InvalidResponse,
        InvalidToken,
        Storage,
        Config,
        Aborted,
        InvalidCode,
        ChallengeExpired,
        StateMismatch,
        CodeUsed,
        ConsentDenied,
        ProviderError,
    ]
};

impl ErrorCode {
    /// The inverse of `as_str`.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        CODES
            .iter()
            // `str` with `str`, not `&str` with `&str` (whose `PartialEq` takes both by
            // reference: each text spilled to the stack).
            .find(|c| *c.as_str() == *code)
            .copied()
    }
}

#[cfg(test)]
impl ErrorDetail {
    /// `fields` as (name, message) pairs, in order (for the tests' comparisons).
    pub fn field_list(&self) -> Vec<(String, String)> {
        let text = ["{", &self.fields, "}"].concat();
        match super::json::parse(&text) {
            Some(super::json::Json::Obj(members)) => members
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or("(not text)").to_owned()))
                .collect(),
            _ => vec![("(not JSON)".to_owned(), text)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in [
            "invalid_credentials",
            "user_exists",
            "validation",
            "unauthorized",
            "session_expired",
            "refresh_failed",
            "rate_limited",
            "network",
            "server",
            "invalid_response",
            "invalid_token",
            "storage",
            "config",
            "aborted",
            "invalid_code",
            "challenge_expired",
            "state_mismatch",
            "consent_denied",
            "code_used",
            "provider_error",
        ] {
            assert_eq!(ErrorCode::parse(code).map(ErrorCode::as_str), Some(code));
        }
        assert_eq!(ErrorCode::parse("nope"), None);
    }

    #[test]
    fn every_code_reads_back_as_its_text() {
        // Each variant by name (the texts are laid out at compile time by offsets:
        // a text read from its neighbour's range would still round-trip above).
        use ErrorCode::*;
        let pairs = [
            (InvalidCredentials, "invalid_credentials"),
            (UserExists, "user_exists"),
            (Validation, "validation"),
            (Unauthorized, "unauthorized"),
            (SessionExpired, "session_expired"),
            (RefreshFailed, "refresh_failed"),
            (RateLimited, "rate_limited"),
            (Network, "network"),
            (Server, "server"),
            (InvalidResponse, "invalid_response"),
            (InvalidToken, "invalid_token"),
            (Storage, "storage"),
            (Config, "config"),
            (Aborted, "aborted"),
            (InvalidCode, "invalid_code"),
            (ChallengeExpired, "challenge_expired"),
            (StateMismatch, "state_mismatch"),
            (CodeUsed, "code_used"),
            (ConsentDenied, "consent_denied"),
            (ProviderError, "provider_error"),
        ];
        for (code, text) in pairs {
            assert_eq!(code.as_str(), text);
        }
        assert_eq!(CODES.len(), pairs.len());
        assert_eq!(CODE_TEXTS.len(), usize::from(CODE_STARTS[20]));
    }

    #[test]
    fn texts_are_laid_out_once_each() {
        const TEXTS: [&str; 4] = ["ab", "c", "ab", "é"];
        const BYTES: [u8; laid_out_len(&TEXTS)] = lay_out(&TEXTS);
        assert_eq!(laid_out(&BYTES), "abcé");
        assert_eq!(starts_of(&TEXTS), [0, 2, 0, 3]);
        assert_eq!(lengths_of(&TEXTS), [2, 1, 2, 2]);
    }

    #[test]
    fn every_constructor_makes_its_code_and_message_and_nothing_else() {
        let owned = String::from("owned é");
        for (err, code, message) in [
            (
                AuthError::new(ErrorCode::Network, "fixed"),
                ErrorCode::Network,
                "fixed",
            ),
            (
                AuthError::new(ErrorCode::Server, owned.clone()),
                ErrorCode::Server,
                "owned é",
            ),
            (
                AuthError::new(ErrorCode::Storage, ""),
                ErrorCode::Storage,
                "",
            ),
            (
                AuthError::joined(ErrorCode::InvalidResponse, "head: ", "tail"),
                ErrorCode::InvalidResponse,
                "head: tail",
            ),
            (
                AuthError::joined(ErrorCode::Config, "", ""),
                ErrorCode::Config,
                "",
            ),
            (AuthError::config("rule"), ErrorCode::Config, "rule"),
            (
                AuthError::config_named("storage", " must be one of"),
                ErrorCode::Config,
                "storage must be one of",
            ),
        ] {
            assert_eq!(
                (
                    err.code,
                    err.message.as_str(),
                    err.status,
                    err.retry_after,
                    err.fields.as_str()
                ),
                (code, message, 0, None, ""),
                "{message}"
            );
        }
    }

    #[test]
    fn a_status_is_written_only_when_a_response_gave_one() {
        use crate::core::engine::error_json;
        let local = AuthError::new(ErrorCode::Network, "offline");
        assert_eq!(local.status, 0);
        assert_eq!(
            error_json(&local),
            r#"{"code":"network","message":"offline"}"#
        );
        let answered = AuthError::new(ErrorCode::Server, "down").with_status(503);
        assert_eq!(
            error_json(&answered),
            r#"{"code":"server","message":"down","status":503}"#
        );
    }

    #[test]
    fn fields_are_written_in_order_as_json_members() {
        use crate::core::engine::error_json;
        let mut err = AuthError::new(ErrorCode::Validation, "bad");
        push_field(&mut err.fields, "email", "not \"an\" email");
        push_field(&mut err.fields, "pass\nword", "é");
        assert_eq!(
            error_json(&err),
            r#"{"code":"validation","message":"bad","fields":{"email":"not \"an\" email","pass\nword":"é"}}"#
        );
        assert_eq!(
            err.field_list(),
            vec![
                ("email".to_owned(), "not \"an\" email".to_owned()),
                ("pass\nword".to_owned(), "é".to_owned())
            ]
        );
    }
}
