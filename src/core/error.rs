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

impl ErrorCode {
    /// Inlined: its `&str` would come back through memory (to `parse`'s loop and the
    /// error's JSON).
    #[inline(always)]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::UserExists => "user_exists",
            ErrorCode::Validation => "validation",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::RefreshFailed => "refresh_failed",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Network => "network",
            ErrorCode::Server => "server",
            ErrorCode::InvalidResponse => "invalid_response",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::Storage => "storage",
            ErrorCode::Config => "config",
            ErrorCode::Aborted => "aborted",
            ErrorCode::InvalidCode => "invalid_code",
            ErrorCode::ChallengeExpired => "challenge_expired",
            ErrorCode::StateMismatch => "state_mismatch",
            ErrorCode::ConsentDenied => "consent_denied",
            ErrorCode::CodeUsed => "code_used",
            ErrorCode::ProviderError => "provider_error",
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
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AuthError::boxed(code, message.into())
    }

    /// `new`'s body once, not once per message type (`&str`, `String`).
    #[inline(never)]
    fn boxed(code: ErrorCode, message: String) -> Self {
        AuthError(Box::new(ErrorDetail {
            code,
            message,
            status: 0,
            retry_after: None,
            fields: String::new(),
        }))
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
        AuthError::new(ErrorCode::Config, [name, rule].concat())
    }
}

/// A field's error onto an error's `fields` (one writer for every form that names one:
/// the engine's and account's checks, the fields' object, DRF's lists, FastAPI's
/// `detail`, Better Auth's code).
#[inline(never)]
pub fn push_field(fields: &mut String, name: &str, message: &str) {
    if !fields.is_empty() {
        fields.push(',');
    }
    write_str(fields, name);
    fields.push(':');
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
