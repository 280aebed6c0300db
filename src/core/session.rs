//! The session: tokens plus what the client decides from them (status, whether
//! a refresh is due, whether the token may be used), all as functions of time.

use crate::prelude::*;

use super::clock::Millis;
use super::error::{AuthError, ErrorCode};
use super::jwt::{self, looks_like_jwt};

/// Tokens from a sign-in or refresh response (core::protocol reads them from the
/// response; defined here so the session does not depend on the protocols).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// `expires_in` seconds, for opaque tokens; NaN for none (a plain number: an
    /// `Option<f64>`'s tag was written by the reader and matched again here).
    pub expires_in: f64,
    /// The user object as JSON text, when `fields.user` finds one in the answer.
    pub user: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Anonymous,
    Authenticated,
    Expired,
    /// The password was right; a second factor is pending (no session yet).
    MfaRequired,
}

impl Status {
    /// Inlined: its text would come back through memory.
    #[inline(always)]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Anonymous => "anonymous",
            Status::Authenticated => "authenticated",
            Status::Expired => "expired",
            Status::MfaRequired => "mfa_required",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// When the access token expires, ms since the epoch on the server's clock. None: never.
    pub expires_at: Option<Millis>,
    /// When it was issued (its `iat`, or when it was received), server clock.
    pub issued_at: Millis,
    /// The token's claims as JSON text (None for opaque tokens).
    pub claims: Option<String>,
    /// The user from `me()`, JSON text.
    pub user: Option<String>,
}

impl Session {
    /// Build from a sign-in or refresh response received at server time `now`.
    /// A JWT is decoded for `exp`/`iat`; an opaque token lives `expires_in` seconds.
    pub fn from_tokens(tokens: TokenSet, now: Millis) -> Result<Session, AuthError> {
        // NaN (none) stays NaN: no expiry.
        Session::restore_from(
            tokens.access_token,
            tokens.refresh_token,
            now + tokens.expires_in * 1000.0,
            now,
            tokens.user,
        )
    }

    /// Rebuild from stored or received parts; `expires_at`/`issued_at` are used only
    /// when the token carries no `exp`/`iat` (opaque tokens).
    ///
    /// Inlined over `restore_from`, which takes the two times as plain `f64`s (NaN for
    /// none): an `Option<f64>` argument is written to memory by each caller.
    #[inline(always)]
    pub fn restore(
        access_token: String,
        refresh_token: Option<String>,
        expires_at: Option<Millis>,
        issued_at: Option<Millis>,
        user: Option<String>,
        now: Millis,
    ) -> Result<Session, AuthError> {
        Session::restore_from(
            access_token,
            refresh_token,
            expires_at.unwrap_or(f64::NAN),
            issued_at.unwrap_or(now),
            user,
        )
    }

    /// `restore` with its times as `f64`s: `expires_at` NaN for none, `issued_at` the
    /// token's receipt when it had none.
    fn restore_from(
        access_token: String,
        refresh_token: Option<String>,
        expires_at: Millis,
        issued_at: Millis,
        user: Option<String>,
    ) -> Result<Session, AuthError> {
        let mut session = Session {
            access_token,
            refresh_token,
            expires_at: if expires_at.is_nan() {
                None
            } else {
                Some(expires_at)
            },
            issued_at,
            claims: None,
            user,
        };
        // Checked once the parts are one `Session`: both refusals drop it whole (the
        // parts were dropped one by one here). Both leave by one exit: the `Result` is
        // written once, not at each refusal.
        let refusal = 'refused: {
            if !header_safe(&session.access_token) {
                break 'refused AuthError::new(
                    ErrorCode::InvalidToken,
                    "Access token empty or not visible ASCII",
                );
            }
            if looks_like_jwt(&session.access_token) {
                // `jwt::decode` without its `sub`, which nothing here reads (and which the
                // wasm would copy and drop): the same judge, `decode_in_place`.
                let mut buf = session.access_token.as_bytes().to_vec();
                let ([exp, _, iat], text) = ok_or_break!(jwt::decode_in_place(&mut buf), 'refused);
                if let Some(exp) = jwt::seconds(exp) {
                    session.expires_at = Some(exp as f64 * 1000.0);
                }
                if let Some(iat) = jwt::seconds(iat) {
                    session.issued_at = iat as f64 * 1000.0;
                }
                // The payload's own text, as decodeJwt hands it to `JSON.parse`:
                // `decode_in_place` judged it a JSON object exactly as `json::parse` would,
                // and JS parses it (the view, CLAIMS), so it is not parsed and written again.
                // `claims` is still the `None` set above: the value replaced holds
                // nothing to drop (an assignment calls the drop all the same).
                core::mem::forget(session.claims.replace(text.to_owned()));
            }
            return Ok(session);
        };
        Err(refusal)
    }

    /// Expired at `now`, tolerating `leeway` seconds. Out of line: it was written out
    /// at each of its callers (access, the usable token, postponed, the status).
    #[inline(never)]
    pub fn is_expired(&self, now: Millis, leeway: i64) -> bool {
        self.expires_at
            .is_some_and(|exp| now >= exp + leeway as f64 * 1000.0)
    }

    pub fn status(&self, now: Millis, leeway: i64) -> Status {
        if self.is_expired(now, leeway) {
            Status::Expired
        } else {
            Status::Authenticated
        }
    }

    /// The margin actually used: `refresh_margin`, capped at half the token's
    /// lifetime so a short-lived token is not refreshed on every call.
    pub fn effective_margin(&self, refresh_margin: i64) -> Millis {
        let margin = refresh_margin as f64 * 1000.0;
        match self.expires_at {
            Some(exp) if exp > self.issued_at => margin.min((exp - self.issued_at) / 2.0),
            _ => margin,
        }
    }

    /// When a refresh becomes due (server clock), None when it never does. Inlined: out
    /// of line its `Option<f64>` went through memory to each of its two callers.
    #[inline(always)]
    pub fn refresh_at(&self, refresh_margin: i64) -> Option<Millis> {
        self.refresh_token.as_ref()?;
        self.expires_at
            .map(|exp| exp - self.effective_margin(refresh_margin))
    }

    pub fn refresh_due(&self, now: Millis, refresh_margin: i64) -> bool {
        self.refresh_at(refresh_margin).is_some_and(|at| now >= at)
    }
}

/// A token the shell can put in a header as it is: one or more visible ASCII bytes
/// (RFC 6750's b64token and RFC 9449's are narrower still). Any other would make the
/// shell's `Headers.set` throw a `TypeError` at every `auth.fetch` (a newline, a byte
/// over 0xFF), or the header be sent changed (spaces trimmed): refused where the token
/// comes in, from an answer or from storage. A plain loop: `all` is unrolled.
fn header_safe(token: &str) -> bool {
    let mut ok = !token.is_empty();
    for &b in token.as_bytes() {
        ok &= b > b' ' && b < 0x7f;
    }
    ok
}

/// Whether two (optional) sessions are the same state: what another tab sends is
/// adopted only when it differs, so adopting never echoes back and forth.
pub fn same_state(a: Option<&Session>, b: Option<&Session>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            *a.access_token == *b.access_token
                && same_text(&a.refresh_token, &b.refresh_token)
                && same_text(&a.user, &b.user)
        }
        (None, None) => true,
        _ => false,
    }
}

/// `a == b`, the texts compared as `str`s (std's `String` and `Option` comparisons were
/// two functions of their own, linked for `same_state` alone).
fn same_text(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => **a == **b,
        (None, None) => true,
        _ => false,
    }
}

/// Status of an optional session.
pub fn status_of(session: Option<&Session>, now: Millis, leeway: i64) -> Status {
    session.map_or(Status::Anonymous, |s| s.status(now, leeway))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::Engine;

    pub fn jwt(payload: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(r#"{"alg":"HS256"}"#),
            e.encode(payload)
        )
    }

    fn tokens(access: String, refresh: Option<&str>, expires_in: Option<f64>) -> TokenSet {
        TokenSet {
            access_token: access,
            refresh_token: refresh.map(str::to_owned),
            expires_in: expires_in.unwrap_or(f64::NAN),
            user: None,
        }
    }

    const S: f64 = 1000.0;

    #[test]
    fn jwt_times_come_from_claims() {
        let s = Session::from_tokens(
            tokens(
                jwt(r#"{"sub":"1","iat":1000,"exp":1900}"#),
                Some("r"),
                Some(5.0),
            ),
            5_000.0 * S,
        )
        .unwrap();
        assert_eq!(s.expires_at, Some(1900.0 * S));
        assert_eq!(s.issued_at, 1000.0 * S);
        assert_eq!(
            s.claims.as_deref(),
            Some(r#"{"sub":"1","iat":1000,"exp":1900}"#)
        );
    }

    #[test]
    fn the_claims_are_the_payloads_own_text() {
        // As decodeJwt hands it to `JSON.parse`: not parsed and written again here.
        let payload = r#"{ "sub": "1", "name": "\u00e9", "exp": 1.9e3 }"#;
        let s = Session::from_tokens(tokens(jwt(payload), None, None), 0.0).unwrap();
        assert_eq!(s.claims.as_deref(), Some(payload));
        assert_eq!(s.expires_at, Some(1900.0 * S));
        // Judged as `json::parse` judges it: a payload that is no JSON object is refused.
        for bad in [r#"["sub"]"#, r#"{"sub":1"#, r#"{"sub":1} x"#] {
            let err = Session::from_tokens(tokens(jwt(bad), None, None), 0.0).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidToken, "{bad}");
        }
    }

    #[test]
    fn opaque_tokens_use_expires_in() {
        let s =
            Session::from_tokens(tokens("opaque".into(), None, Some(600.0)), 1000.0 * S).unwrap();
        assert_eq!(s.expires_at, Some(1600.0 * S));
        assert_eq!(s.claims, None);
        let forever = Session::from_tokens(tokens("opaque".into(), None, None), 0.0).unwrap();
        assert_eq!(forever.status(f64::MAX, 30), Status::Authenticated);
    }

    #[test]
    fn a_malformed_jwt_is_refused() {
        let bad = format!("eyJ{}", ".garbage.sig");
        assert_eq!(
            Session::from_tokens(tokens(bad, None, None), 0.0)
                .unwrap_err()
                .code,
            ErrorCode::InvalidToken
        );
        assert!(Session::from_tokens(tokens(String::new(), None, None), 0.0).is_err());
    }

    #[test]
    fn a_token_no_header_can_carry_is_refused_from_answers_and_storage() {
        // `Headers.set` throws on a newline or a character over U+00FF, and trims spaces:
        // such a token, accepted, made every auth.fetch reject with a TypeError.
        for bad in [
            "a\nb",
            "a\rb",
            "tok\u{e9}n",
            "t\u{100}",
            " lead",
            "trail ",
            "in side",
            "a\tb",
            "\u{7f}",
            "a\0b",
        ] {
            let answered = Session::from_tokens(tokens(bad.into(), None, Some(60.0)), 0.0);
            assert_eq!(
                answered.map(|_| ()).unwrap_err().code,
                ErrorCode::InvalidToken,
                "{bad:?}"
            );
            let stored = Session::restore(bad.into(), Some("r".into()), Some(1.0), None, None, 0.0);
            assert_eq!(
                stored.map(|_| ()).unwrap_err().code,
                ErrorCode::InvalidToken,
                "{bad:?}"
            );
        }
        // Every visible ASCII byte is kept, as opaque tokens of any server may use them.
        let visible: String = (b'!'..=b'~').map(char::from).collect();
        assert!(Session::from_tokens(tokens(visible, None, Some(60.0)), 0.0).is_ok());
    }

    #[test]
    fn the_same_state_is_the_same_tokens_and_user() {
        let session = |access: &str, refresh: Option<&str>, user: Option<&str>| {
            Session::restore(
                access.into(),
                refresh.map(Into::into),
                Some(1.0),
                Some(0.0),
                user.map(Into::into),
                0.0,
            )
            .unwrap()
        };
        let a = session("a", Some("r"), Some("{}"));
        assert!(same_state(None, None));
        assert!(!same_state(Some(&a), None));
        assert!(!same_state(None, Some(&a)));
        assert!(same_state(Some(&a), Some(&a.clone())));
        // Times and claims are not compared: the tokens and the user are the state.
        let mut later = a.clone();
        later.expires_at = Some(5.0);
        assert!(same_state(Some(&a), Some(&later)));
        for other in [
            session("b", Some("r"), Some("{}")),
            session("a", Some("s"), Some("{}")),
            session("a", None, Some("{}")),
            session("a", Some(""), Some("{}")),
            session("a", Some("r"), None),
            session("a", Some("r"), Some("{ }")),
        ] {
            assert!(!same_state(Some(&a), Some(&other)), "{other:?}");
            assert!(!same_state(Some(&other), Some(&a)), "{other:?}");
        }
        let bare = session("a", None, None);
        assert!(same_state(Some(&bare), Some(&session("a", None, None))));
    }

    #[test]
    fn status_with_leeway() {
        let s =
            Session::from_tokens(tokens(jwt(r#"{"iat":0,"exp":1000}"#), None, None), 0.0).unwrap();
        assert_eq!(s.status(999.0 * S, 0), Status::Authenticated);
        assert_eq!(s.status(1000.0 * S, 0), Status::Expired);
        assert_eq!(s.status(1029.0 * S, 30), Status::Authenticated);
        assert_eq!(s.status(1030.0 * S, 30), Status::Expired);
        assert_eq!(status_of(None, 0.0, 0), Status::Anonymous);
    }

    #[test]
    fn refresh_is_due_at_exp_minus_margin() {
        let s = Session::from_tokens(tokens(jwt(r#"{"iat":0,"exp":900}"#), Some("r"), None), 0.0)
            .unwrap();
        assert_eq!(s.refresh_at(60), Some(840.0 * S));
        assert!(!s.refresh_due(839.9 * S, 60));
        assert!(s.refresh_due(840.0 * S, 60));
    }

    #[test]
    fn margin_is_capped_at_half_the_lifetime_of_short_tokens() {
        let s = Session::from_tokens(
            tokens(jwt(r#"{"iat":100,"exp":110}"#), Some("r"), None),
            0.0,
        )
        .unwrap();
        assert_eq!(s.refresh_at(60), Some(105.0 * S));
        assert!(!s.refresh_due(104.0 * S, 60));
    }

    #[test]
    fn never_due_without_a_refresh_token() {
        let s =
            Session::from_tokens(tokens(jwt(r#"{"iat":0,"exp":900}"#), None, None), 0.0).unwrap();
        assert_eq!(s.refresh_at(60), None);
        assert!(!s.refresh_due(10_000.0 * S, 60));
    }
}
