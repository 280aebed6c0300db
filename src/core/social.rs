//! Social sign-in through the backend (OpenID Connect, authorization code + PKCE):
//! the start request, its answer, and what the page the provider sends the user
//! back to means. The shell makes the verifier and state (crypto.getRandomValues),
//! hashes the challenge (SubtleCrypto), keeps the pending sign-in in
//! sessionStorage across the redirect, and navigates.
//!
//! Mix-up defence (RFC 9700 4.4, RFC 9207): the pending sign-in names the provider's
//! issuer and the redirect URI it started with. A callback whose `iss` is another
//! issuer (or lacks `iss` when the provider always sends it), or that arrives on
//! another path (one redirect URI per provider, `/auth/callback/<provider>`), came
//! from another provider's sign-in: its code must not go to this provider.

use crate::prelude::*;

use super::better_auth;
use super::config::{path, Config, Protocol};
use super::error::{AuthError, ErrorCode};
use super::json::{self, Json};
use super::object::Object;
use super::protocol::{
    error_from_response, invalid_response, post, Credential, HttpRequest, HttpResponse, Op,
    JSON_TYPE,
};
use super::url::origin_of;

/// `POST {social}/{provider}/start` with the PKCE challenge, the state and where
/// the provider must send the user back. `link`: Some to link the provider to the
/// signed-in user (the request carries the access token) instead of signing in, with
/// the account's password for step-up ("" for none: the member is left out, and a
/// sign-in of the last minutes must do). A sign-in (None) has no password to send.
pub fn start_request(
    cfg: &Config,
    provider: &str,
    redirect_to: &str,
    challenge: &str,
    state: &str,
    link: Option<&str>,
) -> Result<HttpRequest, AuthError> {
    // Every refusal is a config error: its text chosen by one exit, the error made and
    // the `Result` written once (-2 B gzip, inlined entry).
    let refused = 'refused: {
        // A pattern on the reference, not `as_deref()` (a call answering through memory).
        let Some(base) = path(cfg.endpoints.social()) else {
            break 'refused "Social sign-in needs the json protocol's social endpoint";
        };
        if !is_provider_id(provider) {
            break 'refused NOT_A_PROVIDER_ID;
        }
        if origin_of(redirect_to).is_none() {
            break 'refused "redirectTo must be an absolute http(s) URL of this app";
        }
        if cfg.protocol == Protocol::BetterAuth {
            if link.is_some() {
                break 'refused "linkWith is not available with better-auth";
            }
            return Ok(better_auth::social_start_request(
                cfg,
                base,
                provider,
                redirect_to,
                state,
            ));
        }
        let mut body = Object::new();
        body.str("redirect_uri", redirect_to)
            .str("code_challenge", challenge)
            .str("code_challenge_method", "S256")
            .str("state", state);
        let credential = if let Some(password) = link {
            body.raw("link", "true");
            // Step-up (backend/step_up.py): an empty one would be a wrong password.
            if !password.is_empty() {
                body.str("password", password);
            }
            Credential::Access
        } else {
            Credential::None
        };
        return Ok(provider_post(
            cfg,
            base,
            provider,
            "/start",
            body.end(),
            credential,
        ));
    };
    Err(AuthError::config(refused))
}

/// `POST {base}/{provider}{action}`: the URL as the joined base with the provider's
/// segment pushed on (no path `concat`ed, joined again and dropped; as the passkeys').
fn provider_post(
    cfg: &Config,
    base: &str,
    provider: &str,
    action: &str,
    body: String,
    credential: Credential,
) -> HttpRequest {
    // `post`'s request, the provider's segment pushed onto its joined URL (as
    // protocol's sessions request): no URL made aside and copied into the answer.
    let mut request = post(cfg, base, JSON_TYPE, body);
    request.url.push('/');
    request.url.push_str(provider);
    request.url.push_str(action);
    request.credential = credential;
    request
}

pub(super) const NOT_A_PROVIDER_ID: &str = "A provider id is letters, digits, - and _";

pub(super) fn is_provider_id(id: &str) -> bool {
    // A plain loop: `bytes().all(..)` is unrolled (larger in the wasm).
    let mut ok = !id.is_empty() && id.len() <= 64;
    for &b in id.as_bytes() {
        ok &= b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    }
    ok
}

/// The start answer as `{"url", "flow", "issuer", "issRequired"}` for the shell:
/// where to navigate, the backend's signed record of this sign-in to hand back with
/// the code, the provider's issuer and whether its callback must carry `iss`.
/// `better_auth`: Better Auth's `{url, redirect}`, whose flow is its own (it checks
/// the provider's answer itself), read by the same code.
pub fn parse_started(resp: &HttpResponse, better_auth: bool) -> Result<String, AuthError> {
    // Both refusals leave by one exit: the `Result` is written once (-31 B gzip).
    let refusal = 'refused: {
        if !(200..300).contains(&resp.status) {
            break 'refused error_from_response(Op::Social, resp);
        }
        // Borrowed where it was answered (by value through `and_then`, the `Json` was
        // moved into the closure first).
        let parsed = json::object(resp.body);
        let read = match &parsed {
            Some(body) => started(body, better_auth),
            None => None,
        };
        match read {
            Some(text) => return Ok(text),
            None => invalid_response(
                "The start of the sign-in has no authorization URL or issuer",
                resp.status,
            ),
        }
    };
    Err(refusal)
}

/// The start answer `body` as the shell takes it (see `parse_started`); None when it
/// lacks a member.
#[allow(clippy::question_mark)] // see the origin's test below
fn started(body: &Json, better_auth: bool) -> Option<String> {
    // The URL read and judged first: `flow` and `issuer` (two words each) are not held
    // across its reads.
    let url = body.text_of(if better_auth {
        "url"
    } else {
        "authorization_url"
    })?;
    // A test of the answer, not `origin_of(url)?` (the `?` form is +36 B gzip).
    if origin_of(url).is_none() {
        return None;
    }
    let (flow, issuer, iss_required) = if better_auth {
        let flow = better_auth::FLOW;
        (flow, flow, false)
    } else {
        (
            // Present and not empty (Better Auth's `FLOW` is neither).
            non_empty(body, "flow")?,
            non_empty(body, "issuer")?,
            body.is_true("iss_parameter_supported"),
        )
    };
    Some(
        Object::new()
            .str("url", url)
            .str("flow", flow)
            .str("issuer", issuer)
            .raw("issRequired", if iss_required { "true" } else { "false" })
            .end(),
    )
}

/// What came back: the callback URL's query, and where it arrived (`at`: the URL's
/// origin and path, without query or fragment).
#[derive(Debug, Clone, Copy, Default)]
pub struct Returned<'a> {
    pub state: Option<&'a str>,
    pub code: Option<&'a str>,
    pub error: Option<&'a str>,
    pub iss: Option<&'a str>,
    pub at: Option<&'a str>,
}

impl<'a> Returned<'a> {
    /// Whether the page is a callback at all (a state, a code or an error came back).
    pub fn is_callback(&self) -> bool {
        self.state.is_some() || self.code.is_some() || self.error.is_some()
    }

    /// From the shell's `{"state", "code", "error", "iss", "at"}` (absent or empty
    /// members are None).
    pub fn from_json(value: &'a Json) -> Self {
        Returned {
            state: non_empty(value, "state"),
            code: non_empty(value, "code"),
            error: non_empty(value, "error"),
            iss: non_empty(value, "iss"),
            at: non_empty(value, "at"),
        }
    }
}

/// The text member `key` of `value`, None when absent or empty. A function, not a
/// closure: the closure read `value` through its environment (a pointer to the stack
/// slot holding it); one match, not `str_of(..).filter(..)` (-15 B gzip).
pub(super) fn non_empty<'a>(value: &'a Json, key: &str) -> Option<&'a str> {
    match value.get(key) {
        Some(Json::Str(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// The callback request for the page the provider sent the user back to, once it is
/// one (`Returned::is_callback`, which the engine asks first: no `Option` wrapped
/// around the request here and taken off there).
///
/// `pending`: what the shell kept from the start (`{"provider", "state",
/// "verifier", "flow", "issuer", "issRequired", "redirect", "link"?}`), "" when this
/// tab started nothing (no object, as an unreadable record). The state is checked first, so a forged callback (even one
/// saying "denied") is reported as such; then that the answer is from the provider
/// this sign-in went to (path and `iss`), also before an error is believed. A link's
/// callback carries the access token (`Credential::Access`): the backend attaches the
/// provider to the user who started it.
pub fn callback_request(
    cfg: &Config,
    pending: &str,
    returned: Returned,
) -> Result<HttpRequest, AuthError> {
    // Read borrowed by one function: the parsed record is dropped here once, not at each
    // of its refusals (no record is one of them).
    let parsed = json::object(pending);
    checked_request(cfg, parsed.as_ref(), returned)
}

/// `callback_request` with the pending record parsed: its checks in order (none is a
/// state mismatch), then the callback request. Every refusal leaves the checks with its
/// code and message, made into one error in one place.
fn checked_request(
    cfg: &Config,
    pending: Option<&Json>,
    returned: Returned,
) -> Result<HttpRequest, AuthError> {
    use ErrorCode::{ConsentDenied, ProviderError, StateMismatch};
    let (code, message) = 'refused: {
        // None: this tab started nothing (or its record is unreadable).
        let Some(pending) = pending else {
            break 'refused (StateMismatch, MISMATCH);
        };
        // One `let .. else` each (every one the same refusal): no tuple of six
        // `Option`s written and read back. `text_of`'s `&String` (one word each, its
        // text read where it is used), not `str_of`'s pointer and length held.
        let Some(provider) = pending.text_of("provider") else {
            break 'refused (StateMismatch, MISMATCH);
        };
        let Some(state) = pending.text_of("state") else {
            break 'refused (StateMismatch, MISMATCH);
        };
        let Some(verifier) = pending.text_of("verifier") else {
            break 'refused (StateMismatch, MISMATCH);
        };
        let Some(flow) = pending.text_of("flow") else {
            break 'refused (StateMismatch, MISMATCH);
        };
        let Some(issuer) = pending.text_of("issuer") else {
            break 'refused (StateMismatch, MISMATCH);
        };
        let Some(redirect) = pending.text_of("redirect") else {
            break 'refused (StateMismatch, MISMATCH);
        };
        // Not secret-dependent timing: the state is not a secret once it is in a URL.
        // Matches, not `!= Some(..)`: no `Option<&str>` comparison in the wasm.
        if !matches!(returned.state, Some(s) if *s == **state) {
            break 'refused (StateMismatch, MISMATCH);
        }
        // The mix-up cases: the same code as a state mismatch (the answer belongs to
        // another sign-in), their own messages.
        if !matches!(returned.at, Some(at) if *at == **redirect) {
            break 'refused (
                StateMismatch,
                "This sign-in answer arrived on another redirect URI: start it again",
            );
        }
        let iss_required = pending.is_true("issRequired");
        let iss_ok = match returned.iss {
            Some(iss) => *iss == **issuer,
            None => !iss_required,
        };
        if !iss_ok {
            break 'refused (
                StateMismatch,
                "This sign-in answer came from another provider: start it again",
            );
        }
        match returned.error {
            Some("access_denied") => {
                break 'refused (ConsentDenied, "Access was not allowed at the provider")
            }
            Some(_) => break 'refused (ProviderError, "The sign-in provider refused the request"),
            None => {}
        }
        if cfg.protocol == Protocol::BetterAuth {
            // Better Auth took the code on its own callback and set its session cookie.
            return better_auth::session_request(cfg);
        }
        let (Some(code), Some(base)) = (returned.code, path(cfg.endpoints.social())) else {
            break 'refused (ProviderError, "The sign-in provider sent no code");
        };
        let mut body = Object::new();
        body.str("code", code)
            .str("code_verifier", verifier)
            .str("flow", flow)
            // Forwarded so the backend checks it too (RFC 9207 is the client's check; the
            // backend's flow knows the issuer as well).
            .opt_str("iss", returned.iss);
        let credential = if pending.is_true("link") {
            Credential::Access
        } else {
            Credential::None
        };
        return Ok(provider_post(
            cfg,
            base,
            provider,
            "/callback",
            body.end(),
            credential,
        ));
    };
    Err(AuthError::new(code, message))
}

const MISMATCH: &str = "This sign-in was not started in this tab: start it again";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::protocol::tests::{cfg, resp};

    /// The page's request as the engine asks for it: None when it is no callback.
    fn finish_request(
        cfg: &Config,
        pending: Option<&str>,
        returned: Returned,
    ) -> Result<Option<HttpRequest>, AuthError> {
        if !returned.is_callback() {
            return Ok(None);
        }
        callback_request(cfg, pending.unwrap_or(""), returned).map(Some)
    }

    const ISSUER: &str = "https://id.acme.test";
    const CALLBACK: &str = "http://localhost:3000/auth/callback/acme";
    const PENDING: &str = r#"{"provider":"acme","state":"s-123","verifier":"v-456","flow":"f.l.w","issuer":"https://id.acme.test","issRequired":false,"redirect":"http://localhost:3000/auth/callback/acme"}"#;
    /// The same sign-in with a provider that always sends `iss` (RFC 9207).
    const PENDING_ISS: &str = r#"{"provider":"acme","state":"s-123","verifier":"v-456","flow":"f.l.w","issuer":"https://id.acme.test","issRequired":true,"redirect":"http://localhost:3000/auth/callback/acme"}"#;

    /// A callback on the pending sign-in's redirect URI with this provider's `iss`.
    fn returned<'a>(state: &'a str, code: &'a str, error: &'a str) -> Returned<'a> {
        let opt = |s: &'a str| (!s.is_empty()).then_some(s);
        Returned {
            state: opt(state),
            code: opt(code),
            error: opt(error),
            iss: Some(ISSUER),
            at: Some(CALLBACK),
        }
    }

    #[test]
    fn start_posts_the_challenge_and_state_to_the_providers_path() {
        let r = start_request(
            &cfg("json"),
            "acme",
            "http://localhost:3000/cb?x=1",
            "ch",
            "st",
            None,
        )
        .unwrap();
        assert_eq!(r.url, "http://127.0.0.1:8000/auth/oauth/acme/start");
        assert_eq!(
            r.body.as_deref(),
            Some(
                r#"{"redirect_uri":"http://localhost:3000/cb?x=1","code_challenge":"ch","code_challenge_method":"S256","state":"st"}"#
            )
        );
    }

    #[test]
    fn a_link_starts_and_finishes_with_the_access_token() {
        let c = cfg("json");
        let start =
            start_request(&c, "acme", "http://localhost:3000/cb", "ch", "st", Some("")).unwrap();
        assert_eq!(start.credential, Credential::Access);
        assert!(start
            .body
            .as_deref()
            .is_some_and(|b| b.ends_with(r#""state":"st","link":true}"#)));
        let pending = [PENDING.trim_end_matches('}'), r#","link":true}"#].concat();
        let finish = finish_request(&c, Some(&pending), returned("s-123", "code", ""))
            .unwrap()
            .unwrap();
        assert_eq!(finish.credential, Credential::Access);
        let sign_in = finish_request(&c, Some(PENDING), returned("s-123", "code", ""))
            .unwrap()
            .unwrap();
        assert_eq!(sign_in.credential, Credential::None);
    }

    /// Linking takes step-up (backend/step_up.py): the password rides in the link's
    /// start body when given, is left out when empty (the backend would take "" as a
    /// wrong password, where a recent sign-in would have done), and a sign-in has no
    /// slot for one.
    #[test]
    fn a_links_start_carries_the_step_up_password_only_when_given() {
        let c = cfg("json");
        let body = |link| {
            start_request(&c, "acme", "http://localhost:3000/cb", "ch", "st", link)
                .unwrap()
                .body
                .unwrap()
        };
        assert_eq!(
            body(Some("correct \"horse\"")),
            r#"{"redirect_uri":"http://localhost:3000/cb","code_challenge":"ch","code_challenge_method":"S256","state":"st","link":true,"password":"correct \"horse\""}"#
        );
        assert!(!body(Some("")).contains("password"));
        assert!(!body(None).contains("password"));
        assert!(!body(None).contains("link"));
    }

    /// What `linkWith` rejects with when step-up refuses the link: a wrong password is
    /// `invalid_credentials` (as for `registerPasskey`), an old sign-in `unauthorized`.
    #[test]
    fn a_refused_links_step_up_says_which_step_failed() {
        let refused = |body: &str| {
            let err = parse_started(&resp(403, body), false).unwrap_err();
            (err.code, err.message.to_string(), err.status)
        };
        assert_eq!(
            refused(
                r#"{"detail":"Enter your current password to link a sign-in provider","code":"invalid_credentials"}"#
            ),
            (
                ErrorCode::InvalidCredentials,
                "Enter your current password to link a sign-in provider".to_owned(),
                403
            )
        );
        assert_eq!(
            refused(r#"{"detail":"Sign in again","code":"recent_sign_in_required"}"#).0,
            ErrorCode::Unauthorized
        );
    }

    #[test]
    fn start_refuses_bad_input_and_other_protocols() {
        let c = cfg("json");
        for (provider, redirect) in [
            ("", "http://localhost:3000/cb"),
            ("../admin", "http://localhost:3000/cb"),
            ("acme", "/relative"),
            ("acme", "javascript:alert(1)"),
        ] {
            let err = start_request(&c, provider, redirect, "c", "s", None).unwrap_err();
            assert_eq!(err.code, ErrorCode::Config, "{provider} {redirect}");
        }
        // signInWith's and linkWith's refusal of the id, unlink's text too.
        let link = start_request(&c, "a b", "http://localhost:3000/cb", "c", "s", Some(""));
        assert_eq!(
            link.unwrap_err().message,
            "A provider id is letters, digits, - and _"
        );
        let err = start_request(
            &cfg("oauth2-password"),
            "acme",
            "http://x.test/",
            "c",
            "s",
            None,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::Config);
        // Better Auth signs in through its social endpoint; it links accounts itself.
        let ba = cfg("better-auth");
        let started = start_request(&ba, "acme", "http://x.test/cb", "c", "s", None).unwrap();
        assert_eq!(started.url, "http://127.0.0.1:8000/api/auth/sign-in/social");
        let err = start_request(&ba, "acme", "http://x.test/cb", "c", "s", Some("")).unwrap_err();
        assert_eq!(err.code, ErrorCode::Config);
        assert_eq!(err.message, "linkWith is not available with better-auth");
        let err = start_request(&ba, "../x", "http://x.test/cb", "c", "s", None).unwrap_err();
        assert_eq!(err.code, ErrorCode::Config);
    }

    /// Back from Better Auth: the tab's state and page are checked as for our backend;
    /// then its session is read with the cookie its callback set. Its error redirect
    /// says why (`error=access_denied` from the provider).
    #[test]
    fn better_auth_callbacks_read_the_session_after_the_same_checks() {
        let ba = cfg("better-auth");
        let pending = r#"{"provider":"acme","state":"s-1","verifier":"v","flow":"better-auth","issuer":"better-auth","issRequired":false,"redirect":"http://localhost:3000/auth/callback"}"#;
        let back = |state, error| Returned {
            state: Some(state),
            error,
            at: Some("http://localhost:3000/auth/callback"),
            ..Returned::default()
        };
        let req = finish_request(&ba, Some(pending), back("s-1", None))
            .unwrap()
            .unwrap();
        assert_eq!(
            (req.method, req.url.as_str()),
            ("GET", "http://127.0.0.1:8000/api/auth/get-session")
        );
        assert_eq!(req.credential, Credential::None);
        let forged = finish_request(&ba, Some(pending), back("s-2", None)).unwrap_err();
        assert_eq!(forged.code, ErrorCode::StateMismatch);
        let nothing_pending = finish_request(&ba, None, back("s-1", None)).unwrap_err();
        assert_eq!(nothing_pending.code, ErrorCode::StateMismatch);
        let denied =
            finish_request(&ba, Some(pending), back("s-1", Some("access_denied"))).unwrap_err();
        assert_eq!(denied.code, ErrorCode::ConsentDenied);
        let failed =
            finish_request(&ba, Some(pending), back("s-1", Some("email_not_found"))).unwrap_err();
        assert_eq!(failed.code, ErrorCode::ProviderError);
        let elsewhere = Returned {
            at: Some("http://localhost:3000/other"),
            ..back("s-1", None)
        };
        assert_eq!(
            finish_request(&ba, Some(pending), elsewhere)
                .unwrap_err()
                .code,
            ErrorCode::StateMismatch
        );
    }

    #[test]
    fn the_start_answer_must_name_an_http_url_and_a_flow() {
        let ok = r#"{"authorization_url":"https://id.test/auth?a=1","flow":"f","issuer":"https://id.test","iss_parameter_supported":true}"#;
        assert_eq!(
            parse_started(&resp(200, ok), false).unwrap(),
            r#"{"url":"https://id.test/auth?a=1","flow":"f","issuer":"https://id.test","issRequired":true}"#
        );
        let silent =
            r#"{"authorization_url":"https://id.test/a","flow":"f","issuer":"https://id.test"}"#;
        assert!(parse_started(&resp(200, silent), false)
            .unwrap()
            .ends_with(r#""issRequired":false}"#));
        for bad in [
            r#"{"authorization_url":"javascript:alert(1)","flow":"f","issuer":"https://id.test"}"#,
            r#"{"authorization_url":"https://id.test/","issuer":"https://id.test"}"#,
            r#"{"authorization_url":"https://id.test/","flow":"f"}"#,
            r#"{"authorization_url":"https://id.test/","flow":"f","issuer":""}"#,
            "<html>",
        ] {
            assert_eq!(
                parse_started(&resp(200, bad), false).unwrap_err().code,
                ErrorCode::InvalidResponse
            );
        }
        let down =
            r#"{"detail":"The sign-in provider could not be reached","code":"provider_error"}"#;
        assert_eq!(
            parse_started(&resp(502, down), false).unwrap_err().code,
            ErrorCode::ProviderError
        );
    }

    #[test]
    fn a_page_without_callback_parameters_is_not_a_callback() {
        assert_eq!(
            finish_request(&cfg("json"), Some(PENDING), Returned::default()),
            Ok(None)
        );
        assert_eq!(
            finish_request(&cfg("json"), None, Returned::default()),
            Ok(None)
        );
    }

    #[test]
    fn the_callback_sends_code_verifier_and_flow() {
        let r = finish_request(
            &cfg("json"),
            Some(PENDING),
            returned("s-123", "the-code", ""),
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.url, "http://127.0.0.1:8000/auth/oauth/acme/callback");
        assert_eq!(
            r.body.as_deref(),
            Some(
                r#"{"code":"the-code","code_verifier":"v-456","flow":"f.l.w","iss":"https://id.acme.test"}"#
            )
        );
        let without_iss = Returned {
            iss: None,
            ..returned("s-123", "the-code", "")
        };
        let r = finish_request(&cfg("json"), Some(PENDING), without_iss)
            .unwrap()
            .unwrap();
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"code":"the-code","code_verifier":"v-456","flow":"f.l.w"}"#),
            "a provider that does not send iss"
        );
    }

    /// The code and verifier go to the configured social endpoint, whatever the tab's
    /// record names as its provider (it is pushed on after the joined endpoint; a
    /// record's `://` once made the whole path read as an absolute URL).
    #[test]
    fn the_callback_goes_under_the_configured_endpoint() {
        let odd = PENDING.replace(r#""provider":"acme""#, r#""provider":"x://evil.test""#);
        let r = finish_request(&cfg("json"), Some(&odd), returned("s-123", "c", ""))
            .unwrap()
            .unwrap();
        assert_eq!(
            r.url,
            "http://127.0.0.1:8000/auth/oauth/x://evil.test/callback"
        );
    }

    /// RFC 9700 4.4: a sign-in started with one provider must not send a code that
    /// another provider issued (and the verifier) to the first one's token endpoint.
    #[test]
    fn an_answer_from_another_provider_is_refused_before_the_code_goes_anywhere() {
        let c = cfg("json");
        let other_iss = Returned {
            iss: Some("https://evil.test"),
            ..returned("s-123", "code", "")
        };
        let no_iss = Returned {
            iss: None,
            ..returned("s-123", "code", "")
        };
        let other_path = Returned {
            at: Some("http://localhost:3000/auth/callback/evil"),
            ..returned("s-123", "code", "")
        };
        let no_path = Returned {
            at: None,
            ..returned("s-123", "code", "")
        };
        let denied_elsewhere = Returned {
            iss: Some("https://evil.test"),
            ..returned("s-123", "", "access_denied")
        };
        for (pending, ret) in [
            (PENDING, other_iss),
            (PENDING_ISS, other_iss),
            (PENDING_ISS, no_iss),
            (PENDING, other_path),
            (PENDING_ISS, other_path),
            (PENDING, no_path),
            (PENDING, denied_elsewhere),
        ] {
            let err = finish_request(&c, Some(pending), ret).unwrap_err();
            assert_eq!(err.code, ErrorCode::StateMismatch, "{ret:?}");
        }
        // The text says what happened, briefly (the same text as protocol.rs's default).
        assert_eq!(
            finish_request(&c, Some(PENDING), other_iss)
                .unwrap_err()
                .message,
            "This sign-in answer came from another provider: start it again"
        );
        // A pending record from before issuers were kept is no proof either.
        let old = r#"{"provider":"acme","state":"s-123","verifier":"v-456","flow":"f.l.w"}"#;
        assert_eq!(
            finish_request(&c, Some(old), returned("s-123", "code", ""))
                .unwrap_err()
                .code,
            ErrorCode::StateMismatch
        );
        // A record without any one of its texts is no proof, whatever came back (an
        // error is not believed before it).
        for member in [
            r#""provider":"acme","#,
            r#""state":"s-123","#,
            r#""verifier":"v-456","#,
            r#""flow":"f.l.w","#,
            r#""issuer":"https://id.acme.test","#,
            r#","redirect":"http://localhost:3000/auth/callback/acme""#,
        ] {
            let without = PENDING.replace(member, "");
            assert_ne!(without, PENDING);
            for back in [
                returned("s-123", "code", ""),
                returned("s-123", "", "access_denied"),
            ] {
                let err = finish_request(&c, Some(&without), back).unwrap_err();
                assert_eq!(
                    (err.code, err.message.as_str()),
                    (ErrorCode::StateMismatch, MISMATCH),
                    "{without}"
                );
            }
        }
        // The right provider, with or without iss as it advertised, goes through.
        assert!(finish_request(&c, Some(PENDING_ISS), returned("s-123", "code", "")).is_ok());
        assert!(finish_request(&c, Some(PENDING), no_iss).is_ok());
    }

    #[test]
    fn the_callback_is_read_from_the_shells_json() {
        let parsed = json::parse(
            r#"{"state":"s","code":"c","error":"","iss":"https://id.test","at":"http://x.test/cb"}"#,
        )
        .unwrap();
        let r = Returned::from_json(&parsed);
        assert_eq!(
            (r.state, r.code, r.error, r.iss, r.at),
            (
                Some("s"),
                Some("c"),
                None,
                Some("https://id.test"),
                Some("http://x.test/cb")
            )
        );
    }

    #[test]
    fn state_is_checked_before_anything_the_url_says() {
        let c = cfg("json");
        for (pending, ret) in [
            (Some(PENDING), returned("other", "code", "")),
            (Some(PENDING), returned("", "code", "")),
            (Some(PENDING), returned("other", "", "access_denied")),
            (None, returned("s-123", "code", "")),
            (Some("garbage"), returned("s-123", "code", "")),
            (Some(r#"{"state":"s-123"}"#), returned("s-123", "code", "")),
        ] {
            let err = finish_request(&c, pending, ret).unwrap_err();
            assert_eq!(err.code, ErrorCode::StateMismatch);
            assert_eq!(
                err.message,
                "This sign-in was not started in this tab: start it again"
            );
        }
    }

    #[test]
    fn provider_errors_are_typed() {
        let c = cfg("json");
        let denied = finish_request(&c, Some(PENDING), returned("s-123", "", "access_denied"));
        assert_eq!(denied.unwrap_err().code, ErrorCode::ConsentDenied);
        let other = finish_request(&c, Some(PENDING), returned("s-123", "", "server_error"));
        assert_eq!(other.unwrap_err().code, ErrorCode::ProviderError);
        let no_code = finish_request(&c, Some(PENDING), returned("s-123", "", ""));
        assert_eq!(no_code.unwrap_err().code, ErrorCode::ProviderError);
    }

    #[test]
    fn a_used_code_is_its_own_error() {
        let body = r#"{"detail":"This sign-in code was already used","code":"code_used"}"#;
        let err = error_from_response(Op::Social, &resp(400, body));
        assert_eq!((err.code, err.status), (ErrorCode::CodeUsed, 400));
        let mixed =
            r#"{"detail":"The answer came from another sign-in provider","code":"state_mismatch"}"#;
        let err = error_from_response(Op::Social, &resp(400, mixed));
        assert_eq!(err.code, ErrorCode::StateMismatch);
        let unverified =
            r#"{"detail":"The provider has not verified an email","code":"email_unverified"}"#;
        let err = error_from_response(Op::Social, &resp(403, unverified));
        assert_eq!(err.code, ErrorCode::Unauthorized);
        assert_eq!(err.message, "The provider has not verified an email");
    }
}
