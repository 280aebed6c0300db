//! Better Auth's own sign-in features through the same client (`protocol:
//! "better-auth"`): social sign-in through its social endpoint (built-in providers and
//! those of its generic OAuth plugin), and the second step of its two-factor plugin.
//!
//! Better Auth runs the OAuth flow itself: its own state, PKCE and callback per
//! provider (`/api/auth/callback/<id>`, where it checks the provider's answer, `iss`
//! included), ending in its session cookie and a redirect to the app. A pending
//! two-factor sign-in is a signed cookie of its own. Both cookies belong to Better
//! Auth's origin, so these features need Better Auth on the app's origin (requests
//! carry same-origin cookies only). The client's part: start, come back to the page
//! that started it (its state in the URL proves the trip began in this tab), read the
//! session token, and exchange it for a JWT as after a password.

use crate::prelude::*;

use super::config::{path, Config};
use super::error::{AuthError, ErrorCode};
use super::json::Json;
use super::object::Object;
use super::protocol::{get, post, text_at, Credential, HttpRequest, JSON_TYPE};
use super::url::{find, scan, trim_end_slashes};

/// What the pending record says in place of an issuer: Better Auth checked the
/// provider's, so no `iss` comes back to the app.
pub const FLOW: &str = "better-auth";

/// `POST {social}` with `{provider, callbackURL, errorCallbackURL, disableRedirect}`.
/// Both URLs are `redirect_to` with the tab's `state` added: Better Auth sends the
/// user back to one of them, and the state must match the one this tab kept.
pub fn social_start_request(
    cfg: &Config,
    path: &str,
    provider: &str,
    redirect_to: &str,
    state: &str,
) -> HttpRequest {
    let back = with_state(redirect_to, state);
    let body = Object::new()
        .str("provider", provider)
        .str("callbackURL", &back)
        .str("errorCallbackURL", &back)
        .raw("disableRedirect", "true")
        .end();
    post(cfg, path, JSON_TYPE, body)
}

/// `url` with `state=<state>` added to its query (before any fragment). The state is
/// base64url, which needs no escaping.
fn with_state(url: &str, state: &str) -> String {
    // `get`, not `split_at`: no panic path (and its formatting code) in the wasm. No
    // `#`: `scan`'s offset is past any text, so `get` answers None for both halves
    // (the whole URL, no fragment) and no offset is chosen first. `0..` and `..len`
    // written out: one `str::get` form in the wasm (see url.rs's `origin_authority_len`).
    let at = scan(url, "#");
    let (head, fragment) = (
        url.get(0..at).unwrap_or(url),
        url.get(at..url.len()).unwrap_or(""),
    );
    // Written onto the head's copy (no list of five parts for `concat`).
    let mut out = head.to_owned();
    out.push_str(if find(head, "?").is_some() {
        "&state="
    } else {
        "?state="
    });
    out.push_str(state);
    out.push_str(fragment);
    out
}

/// Back from the provider (state and page already checked): Better Auth's session,
/// read with the session cookie its callback set (`me`: its get-session).
pub fn session_request(cfg: &Config) -> Result<HttpRequest, AuthError> {
    let path = path(cfg.endpoints.me()).ok_or_else(|| {
        AuthError::config("Social sign-in with better-auth needs endpoints.me() (get-session)")
    })?;
    // With the cookie only: no bearer yet.
    Ok(get(cfg, path, Credential::None))
}

/// The session token of a get-session answer (`{"session": {"token"}, "user"}`), as
/// `json::parse` read it. Its `null` (no session cookie came back) means the sign-in
/// did not finish.
pub fn session_token_of(body: Option<&Json>) -> Option<&String> {
    // The path reader of the token answers (no second walk written here). Borrowed: the
    // caller copies it (no `Option<&String>::cloned` linked for this and one more call).
    text_at(body?, "session.token")
}

pub fn no_session() -> AuthError {
    AuthError::new(
        ErrorCode::ProviderError,
        "The sign-in did not finish at Better Auth: start it again",
    )
}

/// A password sign-in answered `{"twoFactorRedirect": true, "twoFactorMethods"}`:
/// `totp` when offered (its `otp`, a code sent by mail or SMS, is not wired), and
/// `recovery_code` (its backup codes, which every enrolment has). `body` is
/// `json::parse` of the answer's body.
pub fn two_factor_methods(status: u16, body: Option<&Json>) -> Option<String> {
    if !(200..300).contains(&status) {
        return None;
    }
    let body = body?;
    if !body.is_true("twoFactorRedirect") {
        return None;
    }
    // The methods as the view shows them (protocol::parse_mfa_challenge): one of two
    // texts. A loop, not `iter().any(..)` (smaller in the wasm).
    let mut methods = r#"{"methods":["recovery_code"]}"#;
    if let Some(items) = body.list_of("twoFactorMethods") {
        for m in items {
            // A pattern, not `Json::as_str` (its `Option` answered through memory).
            if matches!(m, Json::Str(t) if matches!(t.as_str(), "totp")) {
                methods = r#"{"methods":["totp","recovery_code"]}"#;
                break;
            }
        }
    }
    Some(methods.to_owned())
}

/// The second step: `{mfa}/verify-totp` with the app's code, or
/// `{mfa}/verify-backup-code` with a recovery code (`recovery`; the pending sign-in
/// travels in Better Auth's cookie).
pub fn two_factor_request(cfg: &Config, base: &str, recovery: bool, code: &str) -> HttpRequest {
    // The base joined, then the route's segment pushed on (no path concatenated and
    // joined again). An empty base joins to the base URL and its `/`.
    let base = trim_end_slashes(base);
    let mut request = post(cfg, base, JSON_TYPE, Object::new().str("code", code).end());
    if !base.is_empty() {
        request.url.push('/');
    }
    request.url.push_str(if recovery {
        "verify-backup-code"
    } else {
        "verify-totp"
    });
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json;
    use crate::core::protocol::tests::{cfg, resp};
    use crate::core::protocol::HttpResponse;

    #[test]
    fn social_start_asks_for_the_url_and_comes_back_with_the_state() {
        let c = cfg("better-auth");
        let r = social_start_request(
            &c,
            "/api/auth/sign-in/social",
            "acme",
            "http://localhost:3000/auth/callback",
            "s-1",
        );
        assert_eq!(r.url, "http://127.0.0.1:8000/api/auth/sign-in/social");
        assert_eq!(r.credential, Credential::None);
        assert_eq!(
            r.body.as_deref(),
            Some(
                r#"{"provider":"acme","callbackURL":"http://localhost:3000/auth/callback?state=s-1","errorCallbackURL":"http://localhost:3000/auth/callback?state=s-1","disableRedirect":true}"#
            )
        );
        assert_eq!(
            with_state("http://a.test/cb?x=1#top", "s"),
            "http://a.test/cb?x=1&state=s#top"
        );
        // No `#`: the whole URL, no fragment; no `?`: the state starts the query.
        assert_eq!(
            with_state("http://a.test/cb", "s"),
            "http://a.test/cb?state=s"
        );
    }

    #[test]
    fn the_start_answer_gives_the_url() {
        let started = crate::core::social::parse_started(
            &resp(
                200,
                r#"{"url":"http://127.0.0.1:9000/auth?x=1","redirect":false}"#,
            ),
            true,
        )
        .unwrap();
        assert_eq!(
            started,
            r#"{"url":"http://127.0.0.1:9000/auth?x=1","flow":"better-auth","issuer":"better-auth","issRequired":false}"#
        );
        assert_eq!(
            crate::core::social::parse_started(&resp(200, r#"{"redirect":false}"#), true)
                .unwrap_err()
                .code,
            ErrorCode::InvalidResponse
        );
        assert_eq!(
            crate::core::social::parse_started(
                &resp(200, r#"{"url":"javascript:alert(1)"}"#),
                true
            )
            .unwrap_err()
            .code,
            ErrorCode::InvalidResponse
        );
        let unknown = crate::core::social::parse_started(
            &resp(
                404,
                r#"{"code":"PROVIDER_NOT_FOUND","message":"Provider not found"}"#,
            ),
            true,
        )
        .unwrap_err();
        assert_eq!(unknown.status, 404);
    }

    #[test]
    fn the_session_token_is_read_from_get_session() {
        let session_token_of = |body| session_token_of(json::parse(body).as_ref()).cloned();
        assert_eq!(
            session_token_of(r#"{"session":{"token":"st-1","id":"x"},"user":{}}"#).as_deref(),
            Some("st-1")
        );
        assert_eq!(session_token_of("null"), None);
        assert_eq!(session_token_of(r#"{"session":{"token":""}}"#), None);
        let r = session_request(&cfg("better-auth")).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            ("GET", "http://127.0.0.1:8000/api/auth/get-session")
        );
    }

    #[test]
    fn a_two_factor_redirect_is_a_challenge() {
        let two_factor_methods =
            |r: &HttpResponse| two_factor_methods(r.status, json::parse(r.body).as_ref());
        let methods = two_factor_methods(&resp(
            200,
            r#"{"twoFactorRedirect":true,"twoFactorMethods":["totp","otp"]}"#,
        ));
        assert_eq!(
            methods,
            Some(r#"{"methods":["totp","recovery_code"]}"#.to_owned())
        );
        // `totp` once however often (and wherever) it is named; without it, recovery only.
        assert_eq!(
            two_factor_methods(&resp(
                200,
                r#"{"twoFactorRedirect":true,"twoFactorMethods":[1,"otp","totp","totp"]}"#,
            )),
            Some(r#"{"methods":["totp","recovery_code"]}"#.to_owned())
        );
        assert_eq!(
            two_factor_methods(&resp(
                200,
                r#"{"twoFactorRedirect":true,"twoFactorMethods":["otp","TOTP"]}"#,
            )),
            Some(r#"{"methods":["recovery_code"]}"#.to_owned())
        );
        assert_eq!(
            two_factor_methods(&resp(200, r#"{"token":"t","user":{}}"#)),
            None
        );
        assert_eq!(
            two_factor_methods(&resp(401, r#"{"twoFactorRedirect":true}"#)),
            None
        );
        let c = cfg("better-auth");
        let totp = two_factor_request(&c, "/api/auth/two-factor", false, "123456");
        assert_eq!(
            totp.url,
            "http://127.0.0.1:8000/api/auth/two-factor/verify-totp"
        );
        assert_eq!(totp.body.as_deref(), Some(r#"{"code":"123456"}"#));
        let backup = two_factor_request(&c, "/api/auth/two-factor/", true, "ab-cd");
        assert_eq!(
            backup.url,
            "http://127.0.0.1:8000/api/auth/two-factor/verify-backup-code"
        );
        // The routes at the root, or at another origin.
        let root = two_factor_request(&c, "/", false, "1");
        assert_eq!(root.url, "http://127.0.0.1:8000/verify-totp");
        let other = two_factor_request(&c, "https://auth.example/tf//", true, "1");
        assert_eq!(other.url, "https://auth.example/tf/verify-backup-code");
    }
}
