//! The stored session: one key, `${storageKey}:session`, holding `{"v":1,...}`.
//! Reading is tolerant: anything unreadable is reported as `Discard` so the shell
//! removes it and starts anonymous; it never fails the constructor.

use crate::prelude::*;

use super::clock::Millis;
use super::float;
use super::json::{self, write_num, Json};
use super::jwt::looks_like_jwt;
use super::object::Object;
use super::session::Session;

pub const VERSION: f64 = 1.0;

/// 2^53: the largest magnitude below which every whole number is a double.
const MAX_EXACT_MS: f64 = 9_007_199_254_740_992.0;

/// Why a stored value was not used; the shell removes it either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discard {
    NotJson,
    UnknownVersion,
    BadShape,
    BadToken,
    /// An opaque (non-JWT) access token stored without its expiry.
    NoExpiry,
}

pub fn encode(session: &Session) -> String {
    // By the one object writer (its out-of-line members), not literal pushes.
    let mut out = Object::new();
    out.raw("v", "1").str("access_token", &session.access_token);
    match &session.refresh_token {
        Some(t) => out.str("refresh_token", t),
        None => out.raw("refresh_token", "null"),
    };
    // Written in place (not through a `Json` value and its own string).
    let expires = out.member("expires_at");
    match session.expires_at {
        Some(e) => write_num(expires, float::floor(e)),
        None => expires.push_str("null"),
    }
    write_num(out.member("issued_at"), float::floor(session.issued_at));
    out.raw("user", session.user.as_deref().unwrap_or("null"));
    out.end()
}

/// Read a stored value. Also accepts the unversioned `{access_token, refresh_token}`
/// object that apps built on the seed stored, migrating it to version 1.
pub fn decode(text: &str, now: Millis) -> Result<Session, Discard> {
    read(text, now, false)
}

/// `decode`, or `decode_at_start` (`at_start`): one reader, the start's rule checked
/// before the session is built (not on a session moved out of `decode` and back).
fn read(text: &str, now: Millis, at_start: bool) -> Result<Session, Discard> {
    // Read borrowed by one function: the parsed record is dropped here once, not at
    // each of its refusals.
    decode_record(json::object(text).as_ref(), now, at_start)
}

/// `read`'s judge of the text as read: None when it is no JSON object.
fn decode_record(value: Option<&Json>, now: Millis, at_start: bool) -> Result<Session, Discard> {
    // Every refusal leaves this block with its reason: the answer's error written in one
    // place, not at each of the seven.
    let discard = 'refused: {
        let Some(value) = value else {
            break 'refused Discard::NotJson;
        };
        match value.get("v") {
            None => {}
            Some(Json::Num(v)) if v.value() == VERSION => {}
            Some(_) => break 'refused Discard::UnknownVersion,
        }
        // Everything read and checked borrowed, copied once all of it is (no drops of
        // copies at the refusals in between).
        let Some(access) = value.text_of("access_token") else {
            break 'refused Discard::BadShape;
        };
        let refresh = match value.get("refresh_token") {
            None | Some(Json::Null) => None,
            Some(Json::Str(s)) if !s.is_empty() => Some(s.as_str()),
            Some(_) => break 'refused Discard::BadShape,
        };
        // Whole milliseconds, as `encode` writes them, within 2^53 (exact in a double:
        // the year 285,616); anything else is not a time this crate stored (a fuzz run
        // found 1111111111111111111111111112 and 1.5 changing on a second write).
        let Ok(expires_at) = stored_time(value, "expires_at") else {
            break 'refused Discard::BadShape;
        };
        let Ok(issued_at) = stored_time(value, "issued_at") else {
            break 'refused Discard::BadShape;
        };
        // An opaque token has no claims: its expiry is the stored one or none (a JWT's
        // claims are its own, read by `Session::restore`).
        if at_start && expires_at.is_none() && !looks_like_jwt(access) {
            break 'refused Discard::NoExpiry;
        }
        let user = match value.get("user") {
            None | Some(Json::Null) => None,
            Some(u @ Json::Obj(_)) => Some(u.to_text()),
            Some(_) => break 'refused Discard::BadShape,
        };
        return Session::restore(
            access.to_owned(),
            // `map(str::to_owned)`, as other modules copy an optional text.
            refresh.map(str::to_owned),
            expires_at,
            issued_at,
            user,
            now,
        )
        .map_err(|_| Discard::BadToken);
    };
    Err(discard)
}

/// A stored time (`decode_record`'s rule). Inlined: out of line its
/// `Result<Option<f64>, _>` went through memory to each of its two calls.
#[inline(always)]
fn stored_time(value: &Json, key: &str) -> Result<Option<Millis>, Discard> {
    match value.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Num(n)) if n.value().abs() <= MAX_EXACT_MS => Ok(Some(float::floor(n.value()))),
        Some(_) => Err(Discard::BadShape),
    }
}

/// Read the stored value at start-up. An opaque (non-JWT) access token is kept only
/// with the expiry the record stored: with neither `exp` nor `expires_at` nothing says
/// when it stops working, so it is removed like any unreadable value. (A sibling tab's
/// session is adopted with `decode`: a tab must not sign out because another signed in.)
pub fn decode_at_start(text: &str, now: Millis) -> Result<Session, Discard> {
    read(text, now, true)
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
    fn writes_the_stored_text_member_by_member() {
        // As the literal pushes wrote it before the object writer did.
        let s = Session::restore(
            "o\"paque".into(),
            None,
            Some(123_456.7),
            Some(100_000.0),
            None,
            0.0,
        )
        .unwrap();
        assert_eq!(
            encode(&s),
            r#"{"v":1,"access_token":"o\"paque","refresh_token":null,"expires_at":123456,"issued_at":100000,"user":null}"#
        );
        let s = Session::restore(
            "opaque".into(),
            Some("r".into()),
            None,
            None,
            Some(r#"{"id":"1"}"#.into()),
            5.5,
        )
        .unwrap();
        assert_eq!(
            encode(&s),
            r#"{"v":1,"access_token":"opaque","refresh_token":"r","expires_at":null,"issued_at":5,"user":{"id":"1"}}"#
        );
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
    fn stored_times_are_whole_milliseconds_within_2_pow_53() {
        // Fuzzing regressions (fuzz/regressions/stored_session/): a huge or a fractional
        // time was written back as another number.
        let huge =
            "{\"access_token\":\"~\",\"okn\":\"\",\"expires_at\":\r1111111111111111111111111112}";
        assert_eq!(decode(huge, 0.0), Err(Discard::BadShape));
        let s = decode(
            r#"{"access_token":"~","expires_at":1.5,"issued_at":-0.5}"#,
            0.0,
        )
        .unwrap();
        assert_eq!((s.expires_at, s.issued_at), (Some(1.0), -1.0));
        assert_eq!(decode(&encode(&s), 0.0), Ok(s));
        let edge = r#"{"access_token":"~","expires_at":9007199254740992}"#;
        let s = decode(edge, 0.0).unwrap();
        assert_eq!(decode(&encode(&s), 0.0), Ok(s));
        let beyond = r#"{"access_token":"~","expires_at":9007199254740994}"#;
        assert_eq!(decode(beyond, 0.0), Err(Discard::BadShape));
    }

    #[test]
    fn numbers_in_the_user_survive_storing() {
        // Fuzzing regression (fuzz/regressions/stored_session/tiny-number-in-user): the
        // user was stored as {"a":-0} and read back as {"a":0}.
        let text = r#"{"access_token":"x","user":{"a":-11e-11}}"#;
        let s = decode(text, 0.0).unwrap();
        assert_eq!(s.user.as_deref(), Some(r#"{"a":-11e-11}"#));
        assert_eq!(decode(&encode(&s), 0.0), Ok(s));
    }

    #[test]
    fn an_opaque_token_without_a_stored_expiry_is_discarded_at_start() {
        let bare = r#"{"v":1,"access_token":"opaque","refresh_token":"r","expires_at":null}"#;
        assert_eq!(decode_at_start(bare, 0.0), Err(Discard::NoExpiry));
        assert_eq!(
            decode_at_start(r#"{"access_token":"opaque"}"#, 0.0),
            Err(Discard::NoExpiry)
        );
        let dated = r#"{"v":1,"access_token":"opaque","expires_at":5000}"#;
        assert_eq!(
            decode_at_start(dated, 0.0).map(|s| s.expires_at),
            Ok(Some(5000.0))
        );
        // A JWT carries its own claims: kept without a stored expiry, with or without `exp`.
        for claims in [r#"{"sub":"1","exp":50}"#, r#"{"sub":"1"}"#] {
            let text = format!(r#"{{"v":1,"access_token":"{}"}}"#, jwt(claims));
            assert!(decode_at_start(&text, 0.0).is_ok(), "{claims}");
        }
    }

    #[test]
    fn the_start_rule_is_judged_by_the_token_before_the_session_is_built() {
        // A JWT is judged by `Session::restore` (its claims, its `exp`); an opaque token
        // without a stored expiry is refused before the rest of the record is read.
        let bad_jwt = r#"{"v":1,"access_token":"eyJ.b.c"}"#;
        assert_eq!(decode_at_start(bad_jwt, 0.0), Err(Discard::BadToken));
        let opaque = r#"{"v":1,"access_token":"opaque","user":1}"#;
        assert_eq!(decode_at_start(opaque, 0.0), Err(Discard::NoExpiry));
        assert_eq!(decode(opaque, 0.0), Err(Discard::BadShape));
        let empty = r#"{"v":1,"access_token":""}"#;
        assert!(decode_at_start(empty, 0.0).is_err());
        assert_eq!(decode(empty, 0.0), Err(Discard::BadToken));
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
