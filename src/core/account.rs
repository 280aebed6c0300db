//! The account's own calls beside signing in: following an email verification
//! link, asking for another one, and the providers linked to the account (listed,
//! unlinked; linking itself is a social flow in link mode, see core::social).

use crate::prelude::*;

use super::config::{path, Config};
use super::error::{push_field, AuthError, ErrorCode};
use super::json::{self, Json};
use super::object::Object;
use super::protocol::{
    error_from_response, get, invalid_response, member_text, post, Credential, HttpRequest,
    HttpResponse, Op, JSON_TYPE,
};
use super::social::{is_provider_id, NOT_A_PROVIDER_ID};

/// Which account call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountOp<'a> {
    /// The token from a verification link (no sign-in needed).
    VerifyEmail(&'a str),
    /// Another verification mail for the signed-in user.
    ResendVerification,
    /// The providers linked to the signed-in user.
    Identities,
    /// Unlink this provider from the signed-in user.
    Unlink(&'a str),
    /// The callback of a social flow in link mode (its request is core::social's).
    Linked,
}

impl AccountOp<'_> {
    /// Whether the call is the signed-in user's (sent with the access token).
    pub fn needs_session(self) -> bool {
        !matches!(self, AccountOp::VerifyEmail(_))
    }
}

/// The request for `op`; `config` when the protocol has no such endpoint.
pub fn request(cfg: &Config, op: AccountOp) -> Result<HttpRequest, AuthError> {
    // The endpoint first, so a protocol without it is refused in one place.
    let endpoint = match op {
        AccountOp::VerifyEmail(_) | AccountOp::ResendVerification => cfg.endpoints.verify_email(),
        // `Linked` is only an answer's kind (its request is core::social's): the shell
        // never asks for it, and it would read as the list.
        AccountOp::Identities | AccountOp::Unlink(_) | AccountOp::Linked => {
            cfg.endpoints.identities()
        }
    };
    // The endpoint (a pattern on the reference, not `as_deref()`: a call answering through
    // memory), then what the caller gave, checked before anything is made; the two
    // `config` refusals made in one place.
    let refused = match (path(endpoint), op) {
        (None, _) => "This call needs the json protocol's account endpoints",
        (Some(_), AccountOp::VerifyEmail("")) => {
            return Err(invalid_field("token", "The link has no token", "Required"))
        }
        (Some(_), AccountOp::Unlink(provider)) if !is_provider_id(provider) => NOT_A_PROVIDER_ID,
        (Some(base), _) => return Ok(account_request(cfg, base, op)),
    };
    Err(AuthError::config(refused))
}

/// `request`'s request once its endpoint and arguments are known good.
fn account_request(cfg: &Config, base: &str, op: AccountOp) -> HttpRequest {
    // `post`'s or `get`'s request, the call's segment pushed onto its joined URL (no
    // URL, body and content type made aside and moved into a request of our own; no
    // path `concat`ed, joined again and dropped: as the passkeys' and sessions').
    let mut request = match op {
        // The one call without a session.
        AccountOp::VerifyEmail(token) => {
            return post(
                cfg,
                base,
                JSON_TYPE,
                Object::new().str("token", token).end(),
            )
        }
        AccountOp::ResendVerification => {
            let mut request = post(cfg, base, JSON_TYPE, Object::new().end());
            request.url.push_str("/resend");
            request
        }
        _ => get(cfg, base, Credential::None),
    };
    // A provider id is letters, digits, `-` and `_` (checked above): nothing in it to
    // percent-encode.
    if let AccountOp::Unlink(provider) = op {
        request.url.push('/');
        request.url.push_str(provider);
        request.method = "DELETE";
    }
    request.credential = Credential::Access;
    request
}

/// The answer to `op`: the identities as JSON text for `Identities`, else "".
pub fn parse_answer(op: AccountOp, resp: &HttpResponse) -> Result<String, AuthError> {
    if !(200..300).contains(&resp.status) {
        // Asking again for an address already verified: done, nothing to send. The body
        // parsed for this one case only (`error_from_response` reads it itself).
        if matches!(op, AccountOp::ResendVerification)
            && resp.status == 409
            && matches!(
                json::object(resp.body)
                    .as_ref()
                    .and_then(|b| b.str_of("code")),
                Some("already_verified")
            )
        {
            return Ok(String::new());
        }
        let kind = if matches!(op, AccountOp::Linked) {
            Op::Social
        } else {
            Op::Me
        };
        return Err(error_from_response(kind, resp));
    }
    if !matches!(op, AccountOp::Identities) {
        return Ok(String::new());
    }
    let body = json::parse(resp.body);
    // Read borrowed by one function: the parsed body is dropped once, not at each refusal.
    let list = match body.as_ref().and_then(|b| b.list_of("identities")) {
        Some(items) => identities(items),
        None => None,
    };
    list.ok_or_else(|| {
        invalid_response(
            "The identity list is not what the backend sends",
            resp.status,
        )
    })
}

/// The identities as JSON text for JS, written as they are read (not built as a `Json`
/// tree first); None when one has no provider.
fn identities(items: &[Json]) -> Option<String> {
    let mut out = String::from("[");
    for item in items {
        let provider = item.text_of("provider")?;
        // No `enumerate`: a comma after anything but the opening bracket.
        if out.len() > 1 {
            out.push(',');
        }
        let identity = Object::new()
            .str("provider", provider)
            .str("createdAt", member_text(item, "created_at"))
            .end();
        out.push_str(&identity);
    }
    out.push(']');
    Some(out)
}

/// A `validation` error whose `fields` name `field` with `note`: one function for the
/// engine's, the account's and the passkeys' checks of what the caller left out
/// (core::error belongs to the leaf modules).
pub(super) fn invalid_field(field: &str, message: &str, note: &str) -> AuthError {
    let mut err = AuthError::new(ErrorCode::Validation, message);
    push_field(&mut err.fields, field, note);
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::protocol::tests::{cfg, resp};

    #[test]
    fn verify_posts_the_token_without_a_bearer() {
        let r = request(&cfg("json"), AccountOp::VerifyEmail("t.o.k")).unwrap();
        assert_eq!(
            (r.method, r.url.as_str(), r.credential),
            (
                "POST",
                "http://127.0.0.1:8000/auth/verify-email",
                Credential::None
            )
        );
        assert_eq!(r.body.as_deref(), Some(r#"{"token":"t.o.k"}"#));
        let empty = request(&cfg("json"), AccountOp::VerifyEmail("")).unwrap_err();
        assert_eq!(empty.code, ErrorCode::Validation);
    }

    #[test]
    fn the_users_calls_carry_the_access_token() {
        let c = cfg("json");
        let resend = request(&c, AccountOp::ResendVerification).unwrap();
        assert_eq!(
            (resend.url.as_str(), resend.credential),
            (
                "http://127.0.0.1:8000/auth/verify-email/resend",
                Credential::Access
            )
        );
        let list = request(&c, AccountOp::Identities).unwrap();
        assert_eq!(
            (list.method, list.url.as_str()),
            ("GET", "http://127.0.0.1:8000/auth/identities")
        );
        let unlink = request(&c, AccountOp::Unlink("acme")).unwrap();
        assert_eq!(
            (unlink.method, unlink.url.as_str()),
            ("DELETE", "http://127.0.0.1:8000/auth/identities/acme")
        );
        let bad = request(&c, AccountOp::Unlink("../x")).unwrap_err();
        assert_eq!(
            (bad.code, bad.message.as_str()),
            (
                ErrorCode::Config,
                "A provider id is letters, digits, - and _"
            )
        );
        assert_eq!(
            request(&cfg("better-auth"), AccountOp::Identities)
                .unwrap_err()
                .code,
            ErrorCode::Config
        );
    }

    #[test]
    fn verification_refusals_are_typed() {
        let used =
            r#"{"detail":"This verification link was already used","code":"verification_used"}"#;
        let err = parse_answer(AccountOp::VerifyEmail("t"), &resp(400, used)).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                ErrorCode::CodeUsed,
                "This verification link was already used"
            )
        );
        for code in ["verification_expired", "verification_invalid"] {
            let body = ["{\"detail\":\"no\",\"code\":\"", code, "\"}"].concat();
            let err = parse_answer(AccountOp::VerifyEmail("t"), &resp(400, &body)).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidToken, "{code}");
        }
        assert_eq!(
            parse_answer(AccountOp::VerifyEmail("t"), &resp(200, r#"{"id":"u"}"#)),
            Ok(String::new())
        );
        let done = r#"{"detail":"already","code":"already_verified"}"#;
        assert_eq!(
            parse_answer(AccountOp::ResendVerification, &resp(409, done)),
            Ok(String::new())
        );
    }

    #[test]
    fn identities_are_listed_in_js_shape_and_link_errors_typed() {
        let body = r#"{"identities":[{"provider":"acme","created_at":"2026-11-30T00:00:00Z"}],"has_password":true}"#;
        assert_eq!(
            parse_answer(AccountOp::Identities, &resp(200, body)).unwrap(),
            r#"[{"provider":"acme","createdAt":"2026-11-30T00:00:00Z"}]"#
        );
        assert_eq!(
            parse_answer(AccountOp::Identities, &resp(200, "[]"))
                .unwrap_err()
                .code,
            ErrorCode::InvalidResponse
        );
        let last = r#"{"detail":"This is the account's only way to sign in","code":"last_sign_in_method"}"#;
        let err = parse_answer(AccountOp::Unlink("acme"), &resp(422, last)).unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
        assert_eq!(err.message, "This is the account's only way to sign in");
        let taken = r#"{"detail":"linked to another user","code":"user_exists"}"#;
        assert_eq!(
            parse_answer(AccountOp::Linked, &resp(409, taken))
                .unwrap_err()
                .code,
            ErrorCode::UserExists
        );
    }
}
