//! The stored session: one key, `${storageKey}:session`, holding `{"v":1,...}`.
//! Reading is tolerant: anything unreadable is reported as `Discard` so the shell
//! removes it and starts anonymous; it never fails the constructor.

use crate::prelude::*;

use super::clock::Millis;
use super::json::{self, write_str, Json};
use super::jwt::looks_like_jwt;
use super::session::Session;

pub const VERSION: f64 = 1.0;

/// Why a stored value was not used; the shell removes it either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discard {
    NotJson,
    UnknownVersion,
    BadShape,
    BadToken,
}

pub fn encode(session: &Session) -> String {
    let mut out = String::from("{\"v\":1,\"access_token\":");
    write_str(&mut out, &session.access_token);
    out.push_str(",\"refresh_token\":");
    match &session.refresh_token {
        Some(t) => write_str(&mut out, t),
        None => out.push_str("null"),
    }
    out.push_str(",\"expires_at\":");
    out.push_str(&session.expires_at.map_or_else(
        || "null".to_owned(),
        |e| Json::Num(libm::floor(e)).to_text(),
    ));
    out.push_str(",\"issued_at\":");
    out.push_str(&Json::Num(libm::floor(session.issued_at)).to_text());
    out.push_str(",\"user\":");
    out.push_str(session.user.as_deref().unwrap_or("null"));
    out.push('}');
    out
}

/// Read a stored value. Also accepts the unversioned `{access_token, refresh_token}`
/// object that apps built on the seed stored, migrating it to version 1.
pub fn decode(text: &str, now: Millis) -> Result<Session, Discard> {
    let value = json::parse(text)
        .filter(Json::is_object)
        .ok_or(Discard::NotJson)?;
    match value.get("v") {
        None => {}
        Some(Json::Num(v)) if *v == VERSION => {}
        Some(_) => return Err(Discard::UnknownVersion),
    }
    let access = value
        .str_of("access_token")
        .ok_or(Discard::BadShape)?
        .to_owned();
    let refresh = match value.get("refresh_token") {
        None | Some(Json::Null) => None,
        Some(Json::Str(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => return Err(Discard::BadShape),
    };
    let time = |key: &str| match value.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Num(n)) if n.is_finite() => Ok(Some(*n)),
        Some(_) => Err(Discard::BadShape),
    };
    let expires_at = time("expires_at")?;
    let issued_at = time("issued_at")?;
    let user = match value.get("user") {
        None | Some(Json::Null) => None,
        Some(u @ Json::Obj(_)) => Some(u.to_text()),
        Some(_) => return Err(Discard::BadShape),
    };
    // design.md "Contract details": a token that is not a JWT says nothing of its
    // expiry; without the record's it could never expire.
    if expires_at.is_none() && !looks_like_jwt(&access) {
        return Err(Discard::BadToken);
    }
    Session::restore(access, refresh, expires_at, issued_at, user, now)
        .map_err(|_| Discard::BadToken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::session::tests::jwt;

    fn session() -> Session {
        Session::restore(
            jwt(r#"{"sub":"1","iat":100,"exp":1000}"#),
            Some("r\"t".into()),
            None,
            None,
            Some(r#"{"id":"1","name":"Zoë"}"#.into()),
            0.0,
        )
        .unwrap()
    }

    #[test]
    fn round_trips() {
        let s = session();
        let text = encode(&s);
        assert!(text.starts_with("{\"v\":1,"));
        assert_eq!(decode(&text, 0.0).unwrap(), s);
    }

    #[test]
    fn round_trips_opaque_tokens_with_their_times() {
        let s = Session::restore(
            "opaque".into(),
            None,
            Some(123_456.0),
            Some(100_000.0),
            None,
            0.0,
        )
        .unwrap();
        assert_eq!(decode(&encode(&s), 999.0).unwrap(), s);
    }

    #[test]
    fn garbage_is_discarded() {
        assert_eq!(decode("", 0.0), Err(Discard::NotJson));
        assert_eq!(decode("not json{", 0.0), Err(Discard::NotJson));
        assert_eq!(decode("[1]", 0.0), Err(Discard::NotJson));
        assert_eq!(decode("\u{0}\u{1}", 0.0), Err(Discard::NotJson));
        assert_eq!(decode(r#"{"v":1}"#, 0.0), Err(Discard::BadShape));
        assert_eq!(
            decode(r#"{"v":1,"access_token":42}"#, 0.0),
            Err(Discard::BadShape)
        );
        assert_eq!(
            decode(r#"{"v":1,"access_token":"x","refresh_token":7}"#, 0.0),
            Err(Discard::BadShape)
        );
        assert_eq!(
            decode(r#"{"v":1,"access_token":"x","expires_at":"soon"}"#, 0.0),
            Err(Discard::BadShape)
        );
        assert_eq!(
            decode(r#"{"v":1,"access_token":"x","user":"bob"}"#, 0.0),
            Err(Discard::BadShape)
        );
    }

    #[test]
    fn unknown_versions_are_discarded() {
        assert_eq!(
            decode(r#"{"v":2,"access_token":"x"}"#, 0.0),
            Err(Discard::UnknownVersion)
        );
        assert_eq!(
            decode(r#"{"v":"1","access_token":"x"}"#, 0.0),
            Err(Discard::UnknownVersion)
        );
    }

    #[test]
    fn malformed_or_tampered_tokens_are_discarded() {
        assert_eq!(
            decode(r#"{"v":1,"access_token":"eyJhbGciOi.bad.sig"}"#, 0.0),
            Err(Discard::BadToken)
        );
        assert_eq!(
            decode(r#"{"v":1,"access_token":""}"#, 0.0),
            Err(Discard::BadToken)
        );
    }

    /// design.md "Contract details": an access token that is not a JWT says nothing of
    /// its expiry, so a record without `expires_at` could never expire: removed.
    #[test]
    fn a_non_jwt_access_token_without_its_expiry_is_discarded() {
        assert_eq!(
            decode(
                r#"{"v":1,"access_token":"opaque","refresh_token":"r"}"#,
                0.0
            ),
            Err(Discard::BadToken)
        );
        assert_eq!(
            decode(r#"{"access_token":"opaque","expires_at":null}"#, 0.0),
            Err(Discard::BadToken)
        );
        let kept = decode(r#"{"v":1,"access_token":"opaque","expires_at":5000}"#, 0.0).unwrap();
        assert_eq!(kept.expires_at, Some(5000.0));
        // A JWT carries its own `exp` (or none, and then it never expires by design).
        let text = format!(r#"{{"v":1,"access_token":"{}"}}"#, jwt(r#"{"sub":"1"}"#));
        assert!(decode(&text, 0.0).is_ok());
    }

    #[test]
    fn migrates_the_unversioned_seed_format() {
        let text = format!(
            r#"{{"access_token":"{}","refresh_token":"r"}}"#,
            jwt(r#"{"sub":"1","exp":50}"#)
        );
        let s = decode(&text, 0.0).unwrap();
        assert_eq!(s.expires_at, Some(50_000.0));
        assert_eq!(s.refresh_token.as_deref(), Some("r"));
        assert!(encode(&s).starts_with("{\"v\":1,"));
    }
}
