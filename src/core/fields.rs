//! `fields`: where a token server keeps what the client reads in its sign-in and
//! refresh answers, and what its refresh request calls the refresh token. Many
//! backends answer `{access, refresh}` (Django REST framework SimpleJWT) or nest the
//! tokens (`{data: {token}}`); the defaults are OAuth 2's names.
//!
//! A path is member names joined by dots (`"access"`, `"data.token"`), checked once at
//! construction so a typo is a `config` error there, not an `invalid_response` at the
//! first sign-in.

use crate::prelude::*;

use super::error::AuthError;
use super::json::Json;

/// Deeper than any token answer seen; the bound keeps a hostile config cheap.
const MAX_SEGMENTS: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    /// The access token (a string), e.g. `access_token`, `access`, `data.token`.
    pub access_token: String,
    /// The refresh token (a string; absent: the session cannot refresh, or a refresh
    /// keeps the one it has).
    pub refresh_token: String,
    /// Seconds the access token lives (for opaque tokens; a JWT's `exp` wins).
    pub expires_in: String,
    /// The user object, when the answer carries one; empty: from `me()` or the claims
    /// (a configured path is never empty: `from_pairs` refuses one). A text, not an
    /// `Option`: its slot is written as the others are.
    pub user: String,
    /// The body field (JSON member or form field) the refresh token is sent under on
    /// refresh and logout.
    pub refresh_body: String,
}

impl Default for Fields {
    fn default() -> Self {
        Fields {
            access_token: "access_token".into(),
            refresh_token: "refresh_token".into(),
            expires_in: "expires_in".into(),
            user: String::new(),
            refresh_body: "refresh_token".into(),
        }
    }
}

impl Fields {
    /// From the `fields` option's (name, value) pairs: the defaults, then `read`.
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(String, Json)]) -> Result<Fields, AuthError> {
        let mut fields = Fields::default();
        fields.read(pairs)?;
        Ok(fields)
    }

    /// The `fields` option's (name, value) pairs written over these paths; every value
    /// is checked. `pairs` are the option's members as parsed (config.rs checked each is
    /// a text; one that is not reads as empty, refused below). Written in place and
    /// answering the error alone (one word): a `Result<Fields, _>` was written to memory
    /// and copied out.
    pub fn read(&mut self, pairs: &[(String, Json)]) -> Result<(), AuthError> {
        // By reference, as config's endpoints: no `vec::IntoIter` (its `next` and drop)
        // in the wasm.
        for (name, value) in pairs {
            let value = match value {
                Json::Str(text) => text.as_str(),
                _ => "",
            };
            let (slot, one_name) = match name.as_str() {
                "accessToken" => (&mut self.access_token, false),
                "refreshToken" => (&mut self.refresh_token, false),
                "expiresIn" => (&mut self.expires_in, false),
                "user" => (&mut self.user, false),
                "refreshBody" => (&mut self.refresh_body, true),
                _ => return Err(AuthError::config(
                    "fields keys are accessToken, refreshToken, expiresIn, user and refreshBody",
                )),
            };
            // Its dots counted by the check (no second scan for a one-name field).
            let segments = segments(value);
            if segments == 0 || (one_name && segments > 1) {
                let shape = if one_name {
                    " must be one field name"
                } else {
                    " must be member names joined by dots, like \"data.token\""
                };
                // `fields.` and the name by `joined`, the shape pushed onto its
                // message (no text of our own made and moved into the error).
                let mut err = AuthError::config_named("fields.", name);
                err.message.push_str(shape);
                return Err(err);
            }
            // Written into the slot's own text (no clone allocated and the default dropped).
            slot.clear();
            slot.push_str(value);
        }
        Ok(())
    }
}

/// How many segments `path` has when every one is a plausible member name (not empty,
/// no ASCII space or control characters: `"data. token"` is a typo, not a member);
/// else 0. One pass over the bytes: Unicode's white space tables or a split iterator
/// would cost the wasm more.
fn segments(path: &str) -> usize {
    let mut previous = b'.';
    let mut dots = 0;
    for &byte in path.as_bytes() {
        if byte <= b' ' || byte == 0x7f || (byte == b'.' && previous == b'.') {
            return 0;
        }
        dots += usize::from(byte == b'.');
        previous = byte;
    }
    if previous != b'.' && dots < MAX_SEGMENTS && path.len() <= 200 {
        dots + 1
    } else {
        0
    }
}

/// The value at `path` (validated by `Fields::from_pairs`) in `body`.
pub fn lookup<'a>(body: &'a Json, path: &str) -> Option<&'a Json> {
    // A byte scan for the dots, not `str::split(char)`: its searcher (and memchr) would be
    // linked for this one call.
    // The path's end closes the last segment as a dot does: one member read for all.
    let (mut value, mut start, mut i) = (body, 0, 0);
    loop {
        let byte = path.as_bytes().get(i);
        if matches!(byte, Some(b'.') | None) {
            // Both ends are char boundaries (after a dot, at a dot or the end): the slice
            // is always there (no refusal written for a case that cannot happen).
            value = value.get(path.get(start..i).unwrap_or_default())?;
            if byte.is_none() {
                return Some(value);
            }
            start = i + 1;
        }
        i += 1;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::error::ErrorCode;
    use crate::core::json;

    pub(crate) fn pairs(items: &[(&str, &str)]) -> Vec<(String, Json)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Json::Str((*v).to_owned())))
            .collect()
    }

    #[test]
    fn every_path_shape_reads_its_member() {
        let body = json::parse(
            r#"{"access":"a","data":{"token":"t","session":{"refresh":{"value":"r"}},"ttl":60},
               "user":{"id":1},"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":"deep"}}}}}}},
               "odd-name_1":"o","list":["x"],"é":{"ü":"u"}}"#,
        )
        .unwrap();
        let str_at = |p: &str| lookup(&body, p).and_then(Json::as_str);
        assert_eq!(str_at("access"), Some("a"), "a top-level member");
        assert_eq!(str_at("data.token"), Some("t"), "nested once");
        assert_eq!(
            str_at("data.session.refresh.value"),
            Some("r"),
            "nested deeper"
        );
        assert_eq!(str_at("a.b.c.d.e.f.g.h"), Some("deep"), "eight segments");
        assert_eq!(
            str_at("odd-name_1"),
            Some("o"),
            "any member name without dots"
        );
        assert_eq!(
            str_at("é.ü"),
            Some("u"),
            "segments of multi-byte characters"
        );
        assert_eq!(lookup(&body, "data.ttl").and_then(Json::as_f64), Some(60.0));
        assert!(
            matches!(lookup(&body, "user"), Some(Json::Obj(_))),
            "an object"
        );
        for absent in [
            "missing",
            "data.missing",
            "access.deeper",
            "list.0",
            "user.id.x",
        ] {
            assert_eq!(lookup(&body, absent), None, "{absent}");
        }
    }

    #[test]
    fn defaults_are_oauth_names() {
        let f = Fields::from_pairs(&[]).unwrap();
        assert_eq!(f, Fields::default());
        assert_eq!(
            (
                f.access_token.as_str(),
                f.refresh_token.as_str(),
                f.expires_in.as_str()
            ),
            ("access_token", "refresh_token", "expires_in")
        );
        assert_eq!(
            (f.user.as_str(), f.refresh_body.as_str()),
            ("", "refresh_token")
        );
    }

    #[test]
    fn every_key_is_read() {
        let f = Fields::from_pairs(&pairs(&[
            ("accessToken", "data.access"),
            ("refreshToken", "data.refresh"),
            ("expiresIn", "data.ttl"),
            ("user", "data.user"),
            ("refreshBody", "refresh"),
        ]))
        .unwrap();
        assert_eq!(
            f,
            Fields {
                access_token: "data.access".into(),
                refresh_token: "data.refresh".into(),
                expires_in: "data.ttl".into(),
                user: "data.user".into(),
                refresh_body: "refresh".into(),
            }
        );
    }

    #[test]
    fn bad_paths_and_keys_are_config_errors() {
        let long = "a".repeat(201);
        for (key, value) in [
            ("accessToken", ""),
            ("accessToken", "."),
            ("accessToken", ".access"),
            ("refreshToken", "refresh."),
            ("user", "data..user"),
            ("expiresIn", "data. ttl"),
            ("accessToken", "access token"),
            ("accessToken", "tab\there"),
            ("accessToken", "line\nbreak"),
            ("accessToken", "a.b.c.d.e.f.g.h.i"),
            ("accessToken", long.as_str()),
            ("refreshBody", ""),
            ("refreshBody", "data.refresh"),
            ("refreshBody", "refresh token"),
            ("access", "access"),
            ("token", "data.token"),
        ] {
            let err = Fields::from_pairs(&pairs(&[(key, value)])).unwrap_err();
            assert_eq!(err.code, ErrorCode::Config, "{key}: {value:?}");
            assert!(err.message.starts_with("fields"), "{}", err.message);
        }
        // A member that is not text (config.rs refuses it first) reads as empty: refused.
        let not_text = [("accessToken".to_owned(), Json::Null)];
        assert_eq!(
            Fields::from_pairs(&not_text).unwrap_err().code,
            ErrorCode::Config
        );
        let message = |key: &str, value: &str| {
            Fields::from_pairs(&pairs(&[(key, value)]))
                .unwrap_err()
                .message
                .clone()
        };
        assert_eq!(
            message("accessToken", "data..token"),
            "fields.accessToken must be member names joined by dots, like \"data.token\""
        );
        assert_eq!(
            message("refreshBody", "data.refresh"),
            "fields.refreshBody must be one field name"
        );
    }
}
