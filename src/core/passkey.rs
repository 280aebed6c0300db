//! Passkeys (WebAuthn): the requests of each ceremony and of the passkey list, and
//! what their answers mean. A ceremony is two requests: its options (read here into
//! the `publicKey` options the shell hands `navigator.credentials`, binary fields
//! still base64url text) and the credential the browser made (the shell's JSON of it,
//! checked here and sent back with the signed `ceremony`). The shell converts
//! base64url <-> ArrayBuffer (js/passkeys.js); nothing here touches the browser.

use crate::prelude::*;

use super::config::Config;
use super::error::{AuthError, ErrorCode};
use super::json::{self, Json};
use super::protocol::{
    error_from_response, invalid_response, post, Credential, HttpRequest, HttpResponse, Op,
    JSON_TYPE,
};
use super::url::join;

/// Which passkey call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyOp<'a> {
    /// Options to add a passkey to the signed-in account (`password`: step-up).
    RegisterOptions {
        password: Option<&'a str>,
    },
    /// The credential that adds it.
    Register(Finish<'a>),
    /// Options to create an account with a passkey only.
    SignUpOptions {
        email: &'a str,
        name: Option<&'a str>,
    },
    /// The credential that creates it (answered by a sign-in).
    SignUp(Finish<'a>),
    /// Options to sign in (usernameless; the autofill uses the same).
    SignInOptions,
    /// The assertion that signs in (answered by a sign-in).
    SignIn(Finish<'a>),
    /// The signed-in user's passkeys.
    List,
    Rename {
        id: &'a str,
        name: &'a str,
    },
    Remove {
        id: &'a str,
    },
}

/// The second request of a ceremony: the signed ceremony from the options, the
/// credential's JSON from the shell, and the passkey's name where one is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finish<'a> {
    pub ceremony: &'a str,
    pub credential: &'a str,
    pub name: Option<&'a str>,
}

impl PasskeyOp<'_> {
    /// Whether the call is the signed-in user's (sent with the access token).
    pub fn needs_session(self) -> bool {
        matches!(
            self,
            PasskeyOp::RegisterOptions { .. }
                | PasskeyOp::Register(_)
                | PasskeyOp::List
                | PasskeyOp::Rename { .. }
                | PasskeyOp::Remove { .. }
        )
    }

    /// Whether its answer is a sign-in (tokens), read like a password sign-in's.
    pub fn signs_in(self) -> bool {
        matches!(self, PasskeyOp::SignUp(_) | PasskeyOp::SignIn(_))
    }

    /// Whether its answer is a ceremony's options.
    fn is_options(self) -> bool {
        matches!(
            self,
            PasskeyOp::RegisterOptions { .. }
                | PasskeyOp::SignUpOptions { .. }
                | PasskeyOp::SignInOptions
        )
    }
}

fn text(s: &str) -> Json {
    Json::Str(s.to_owned())
}

/// The request for `op`; `config` when the protocol has no passkey endpoints.
pub fn request(cfg: &Config, op: PasskeyOp) -> Result<HttpRequest, AuthError> {
    let base =
        cfg.endpoints.passkeys.as_deref().ok_or_else(|| {
            AuthError::config("Passkeys need the json protocol's passkey endpoints")
        })?;
    let at = |rest: &str| [base, rest].concat();
    let mut r = match op {
        PasskeyOp::RegisterOptions { password } => {
            let body = password.map_or(Json::Obj(Vec::new()), |p| {
                Json::Obj(vec![("password".to_owned(), text(p))])
            });
            post(cfg, &at("/register/options"), JSON_TYPE, body.to_text())
        }
        PasskeyOp::SignUpOptions { email, name } => {
            if email.is_empty() {
                let mut err = AuthError::new(ErrorCode::Validation, "Enter your email");
                err.fields.push(("email".to_owned(), "Required".to_owned()));
                return Err(err);
            }
            let mut members = vec![("email".to_owned(), text(email))];
            if let Some(name) = name {
                members.push(("name".to_owned(), text(name)));
            }
            post(
                cfg,
                &at("/signup/options"),
                JSON_TYPE,
                Json::Obj(members).to_text(),
            )
        }
        PasskeyOp::SignInOptions => post(cfg, &at("/signin/options"), JSON_TYPE, "{}".to_owned()),
        PasskeyOp::Register(f) => post(cfg, &at("/register"), JSON_TYPE, finish_body(f)?),
        PasskeyOp::SignUp(f) => post(cfg, &at("/signup"), JSON_TYPE, finish_body(f)?),
        PasskeyOp::SignIn(f) => post(cfg, &at("/signin"), JSON_TYPE, finish_body(f)?),
        PasskeyOp::List => HttpRequest {
            method: "GET",
            url: join(&cfg.base_url, base),
            content_type: None,
            body: None,
            credential: Credential::None,
        },
        PasskeyOp::Rename { id, name } => {
            let mut r = post(
                cfg,
                &at(&["/", passkey_id(id)?].concat()),
                JSON_TYPE,
                Json::Obj(vec![("name".to_owned(), text(name))]).to_text(),
            );
            r.method = "PATCH";
            r
        }
        PasskeyOp::Remove { id } => HttpRequest {
            method: "DELETE",
            url: join(&cfg.base_url, &at(&["/", passkey_id(id)?].concat())),
            content_type: None,
            body: None,
            credential: Credential::None,
        },
    };
    if op.needs_session() {
        r.credential = Credential::Access;
    }
    Ok(r)
}

/// A passkey id as the backend makes them (hex); anything else never reaches a path.
fn passkey_id(id: &str) -> Result<&str, AuthError> {
    if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(AuthError::config("A passkey id is what passkeys() lists"))
    }
}

/// `{"ceremony","credential","name"?}`: the credential must be the JSON of a public-key
/// credential (id, rawId and type "public-key", a `response` object).
fn finish_body(f: Finish) -> Result<String, AuthError> {
    let credential = json::parse(f.credential).filter(Json::is_object);
    let shaped = credential.as_ref().is_some_and(|c| {
        c.str_of("type") == Some("public-key")
            && c.str_of("id").is_some_and(|id| !id.is_empty())
            && c.str_of("rawId") == c.str_of("id")
            && c.get("response").is_some_and(Json::is_object)
    });
    let (Some(credential), true) = (credential, shaped) else {
        return Err(AuthError::new(
            ErrorCode::InvalidResponse,
            "The authenticator's answer is not a public-key credential",
        ));
    };
    if f.ceremony.is_empty() {
        return Err(AuthError::config("A passkey answer needs its ceremony"));
    }
    let mut members = vec![
        ("ceremony".to_owned(), text(f.ceremony)),
        ("credential".to_owned(), credential),
    ];
    if let Some(name) = f.name {
        members.push(("name".to_owned(), text(name)));
    }
    Ok(Json::Obj(members).to_text())
}

/// The answer to `op` (not a sign-in: those go through the engine's sign-in path):
/// options as `{"ceremony","publicKey"}`, a passkey, the list, or "".
pub fn parse_answer(op: PasskeyOp, resp: &HttpResponse) -> Result<String, AuthError> {
    if !(200..300).contains(&resp.status) {
        return Err(error_from_response(Op::Passkey, resp));
    }
    if matches!(op, PasskeyOp::Remove { .. }) {
        return Ok(String::new());
    }
    let body = json::parse(resp.body).filter(Json::is_object);
    let Some(body) = body else {
        return Err(not_what_was_asked(resp.status));
    };
    if op.is_options() {
        return options(op, &body).ok_or_else(|| not_what_was_asked(resp.status));
    }
    if op == PasskeyOp::List {
        let Some(Json::Arr(items)) = body.get("passkeys") else {
            return Err(not_what_was_asked(resp.status));
        };
        let list: Option<Vec<Json>> = items.iter().map(passkey).collect();
        return list
            .map(|l| Json::Arr(l).to_text())
            .ok_or_else(|| not_what_was_asked(resp.status));
    }
    passkey(&body)
        .map(|p| p.to_text())
        .ok_or_else(|| not_what_was_asked(resp.status))
}

/// The options for `navigator.credentials`: what a creation needs (rp, user, a
/// challenge) or a request (a challenge), with the ceremony to send back.
fn options(op: PasskeyOp, body: &Json) -> Option<String> {
    let ceremony = body.str_of("ceremony").filter(|c| !c.is_empty())?;
    let options = body.get("options").filter(|o| o.is_object())?;
    options.str_of("challenge").filter(|c| !c.is_empty())?;
    if op != PasskeyOp::SignInOptions {
        options.get("rp")?.str_of("name")?;
        options.get("user")?.str_of("id")?;
        options.get("pubKeyCredParams")?;
    }
    Some(
        Json::Obj(vec![
            ("ceremony".to_owned(), text(ceremony)),
            ("publicKey".to_owned(), options.clone()),
        ])
        .to_text(),
    )
}

/// A passkey as the JS API shows it.
fn passkey(item: &Json) -> Option<Json> {
    let flag = |key: &str| match item.get(key) {
        Some(Json::Bool(b)) => Some(Json::Bool(*b)),
        _ => None,
    };
    let last_used = match item.get("last_used_at") {
        Some(Json::Str(s)) => text(s),
        _ => Json::Null,
    };
    Some(Json::Obj(vec![
        ("id".to_owned(), text(item.str_of("id")?)),
        ("name".to_owned(), text(item.str_of("name")?)),
        (
            "createdAt".to_owned(),
            text(item.str_of("created_at").unwrap_or("")),
        ),
        ("lastUsedAt".to_owned(), last_used),
        ("backupEligible".to_owned(), flag("backup_eligible")?),
        ("backedUp".to_owned(), flag("backed_up")?),
    ]))
}

fn not_what_was_asked(status: u16) -> AuthError {
    invalid_response("The passkey answer is not what the backend sends", status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::protocol::tests::{cfg, resp};

    const CREDENTIAL: &str = r#"{"id":"AQI","rawId":"AQI","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"},"clientExtensionResults":{}}"#;

    fn finish<'a>(credential: &'a str) -> Finish<'a> {
        Finish {
            ceremony: "c.e.r",
            credential,
            name: Some("Laptop"),
        }
    }

    #[test]
    fn each_call_has_its_request_and_the_users_carry_the_access_token() {
        let c = cfg("json");
        let cases: [(PasskeyOp, &str, &str, Credential); 9] = [
            (
                PasskeyOp::RegisterOptions {
                    password: Some("pw"),
                },
                "POST",
                "/auth/passkeys/register/options",
                Credential::Access,
            ),
            (
                PasskeyOp::Register(finish(CREDENTIAL)),
                "POST",
                "/auth/passkeys/register",
                Credential::Access,
            ),
            (
                PasskeyOp::SignUpOptions {
                    email: "a@b.c",
                    name: None,
                },
                "POST",
                "/auth/passkeys/signup/options",
                Credential::None,
            ),
            (
                PasskeyOp::SignUp(finish(CREDENTIAL)),
                "POST",
                "/auth/passkeys/signup",
                Credential::None,
            ),
            (
                PasskeyOp::SignInOptions,
                "POST",
                "/auth/passkeys/signin/options",
                Credential::None,
            ),
            (
                PasskeyOp::SignIn(finish(CREDENTIAL)),
                "POST",
                "/auth/passkeys/signin",
                Credential::None,
            ),
            (PasskeyOp::List, "GET", "/auth/passkeys", Credential::Access),
            (
                PasskeyOp::Rename {
                    id: "ab12",
                    name: "Phone",
                },
                "PATCH",
                "/auth/passkeys/ab12",
                Credential::Access,
            ),
            (
                PasskeyOp::Remove { id: "ab12" },
                "DELETE",
                "/auth/passkeys/ab12",
                Credential::Access,
            ),
        ];
        for (op, method, path, credential) in cases {
            let r = request(&c, op).unwrap();
            assert_eq!(
                (r.method, r.url.as_str(), r.credential),
                (
                    method,
                    ["http://127.0.0.1:8000", path].concat().as_str(),
                    credential
                ),
                "{op:?}"
            );
        }
        let body = request(&c, PasskeyOp::SignIn(finish(CREDENTIAL)))
            .unwrap()
            .body
            .unwrap();
        assert_eq!(
            body,
            [
                r#"{"ceremony":"c.e.r","credential":"#,
                CREDENTIAL,
                r#","name":"Laptop"}"#
            ]
            .concat()
        );
        let options = request(
            &c,
            PasskeyOp::SignUpOptions {
                email: "a\"@b.c",
                name: Some("Ada"),
            },
        )
        .unwrap();
        assert_eq!(
            options.body.as_deref(),
            Some(r#"{"email":"a\"@b.c","name":"Ada"}"#)
        );
        let step_up = request(&c, PasskeyOp::RegisterOptions { password: None }).unwrap();
        assert_eq!(step_up.body.as_deref(), Some("{}"));
    }

    #[test]
    fn bad_input_never_becomes_a_request() {
        let c = cfg("json");
        assert_eq!(
            request(&cfg("better-auth"), PasskeyOp::SignInOptions)
                .unwrap_err()
                .code,
            ErrorCode::Config
        );
        for id in ["", "../me", "a/b", "a%2F"] {
            assert_eq!(
                request(&c, PasskeyOp::Remove { id }).unwrap_err().code,
                ErrorCode::Config,
                "{id}"
            );
        }
        let not_a_credential = [
            "",
            "[]",
            r#"{"id":"AQI","rawId":"AQI","type":"password","response":{}}"#,
            r#"{"id":"AQI","rawId":"BQI","type":"public-key","response":{}}"#,
            r#"{"id":"AQI","rawId":"AQI","type":"public-key"}"#,
        ];
        for credential in not_a_credential {
            assert_eq!(
                request(&c, PasskeyOp::SignIn(finish(credential)))
                    .unwrap_err()
                    .code,
                ErrorCode::InvalidResponse,
                "{credential}"
            );
        }
        let no_email = request(
            &c,
            PasskeyOp::SignUpOptions {
                email: "",
                name: None,
            },
        )
        .unwrap_err();
        assert_eq!(no_email.code, ErrorCode::Validation);
    }

    #[test]
    fn options_are_handed_on_with_their_ceremony() {
        let signin = r#"{"ceremony":"c1","options":{"challenge":"AAEC","timeout":120000,"rpId":"localhost","allowCredentials":[],"userVerification":"required"}}"#;
        assert_eq!(
            parse_answer(PasskeyOp::SignInOptions, &resp(200, signin)).unwrap(),
            r#"{"ceremony":"c1","publicKey":{"challenge":"AAEC","timeout":120000,"rpId":"localhost","allowCredentials":[],"userVerification":"required"}}"#
        );
        let create = r#"{"ceremony":"c2","options":{"rp":{"name":"auth-wasm","id":"localhost"},"user":{"id":"dTE","name":"a@b.c","displayName":"A"},"challenge":"AAEC","pubKeyCredParams":[{"type":"public-key","alg":-7}]}}"#;
        let out = parse_answer(
            PasskeyOp::SignUpOptions {
                email: "a@b.c",
                name: None,
            },
            &resp(200, create),
        )
        .unwrap();
        assert!(
            out.starts_with(r#"{"ceremony":"c2","publicKey":{"rp":"#),
            "{out}"
        );
        // Options without what the browser needs are no options.
        for broken in [
            r#"{"ceremony":"c","options":{}}"#,
            r#"{"options":{"challenge":"AAEC"}}"#,
            r#"{"ceremony":"c","options":{"challenge":"AAEC"}}"#,
        ] {
            let err = parse_answer(
                PasskeyOp::RegisterOptions { password: None },
                &resp(200, broken),
            )
            .unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidResponse, "{broken}");
        }
    }

    #[test]
    fn passkeys_are_listed_in_js_shape() {
        let body = r#"{"passkeys":[{"id":"ab","name":"Laptop","created_at":"2026-11-30T00:00:00Z","last_used_at":null,"backup_eligible":true,"backed_up":false}]}"#;
        assert_eq!(
            parse_answer(PasskeyOp::List, &resp(200, body)).unwrap(),
            r#"[{"id":"ab","name":"Laptop","createdAt":"2026-11-30T00:00:00Z","lastUsedAt":null,"backupEligible":true,"backedUp":false}]"#
        );
        let missing_flag = r#"{"passkeys":[{"id":"ab","name":"L","created_at":"x"}]}"#;
        assert_eq!(
            parse_answer(PasskeyOp::List, &resp(200, missing_flag))
                .unwrap_err()
                .code,
            ErrorCode::InvalidResponse
        );
        assert_eq!(
            parse_answer(PasskeyOp::Remove { id: "ab" }, &resp(204, "")),
            Ok(String::new())
        );
    }

    #[test]
    fn refusals_are_typed() {
        let cases = [
            (401, "invalid_credentials", ErrorCode::InvalidCredentials),
            (400, "passkey_invalid", ErrorCode::InvalidCredentials),
            (403, "invalid_credentials", ErrorCode::InvalidCredentials),
            (400, "challenge_expired", ErrorCode::ChallengeExpired),
            (409, "user_exists", ErrorCode::UserExists),
            (422, "last_sign_in_method", ErrorCode::Validation),
            (404, "not_found", ErrorCode::Validation),
        ];
        for (status, code, want) in cases {
            let body = ["{\"detail\":\"why\",\"code\":\"", code, "\"}"].concat();
            let err = parse_answer(PasskeyOp::List, &resp(status, &body)).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (want, "why"), "{code}");
        }
    }
}
