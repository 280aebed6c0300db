//! Passkeys (WebAuthn): the requests of each ceremony and of the passkey list, and
//! what their answers mean. A ceremony is two requests: its options (read here into
//! the `publicKey` options the shell hands `navigator.credentials`, binary fields
//! still base64url text) and the credential the browser made (the shell's JSON of it,
//! checked here and sent back with the signed `ceremony`). The shell converts
//! base64url <-> ArrayBuffer (js/passkeys.js); nothing here touches the browser.

use crate::prelude::*;

use super::account::invalid_field;
use super::config::{path, Config};
use super::error::{AuthError, ErrorCode};
use super::json::{self, Json};
use super::object::Object;
use super::protocol::{
    error_from_response, get, invalid_response, member_text, post, Credential, HttpRequest,
    HttpResponse, Op, JSON_TYPE,
};
use super::social::non_empty;

/// Which passkey call.
#[derive(Debug, Clone, Copy)]
pub enum PasskeyOp<'a> {
    /// Options to add a passkey to the signed-in account (`password`: step-up).
    RegisterOptions {
        /// "" for none (no step-up: the member is left out).
        password: &'a str,
    },
    /// The credential that adds it.
    Register(Finish<'a>),
    /// Options to create an account with a passkey only.
    SignUpOptions {
        email: &'a str,
        /// The account's name, "" for none (written as given: the shell's argument).
        name: &'a str,
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
#[derive(Debug, Clone, Copy)]
pub struct Finish<'a> {
    pub ceremony: &'a str,
    pub credential: &'a str,
    /// "" for none: written as given (an `Option` was made of the shell's "" by the
    /// boundary and unmade here).
    pub name: &'a str,
}

impl PasskeyOp<'_> {
    /// Whether the call is the signed-in user's (sent with the access token).
    pub fn needs_session(self) -> bool {
        !matches!(
            self,
            PasskeyOp::SignUpOptions { .. }
                | PasskeyOp::SignUp(_)
                | PasskeyOp::SignInOptions
                | PasskeyOp::SignIn(_)
        )
    }

    /// Whether its answer is a sign-in (tokens), read like a password sign-in's.
    pub fn signs_in(self) -> bool {
        matches!(self, PasskeyOp::SignUp(_) | PasskeyOp::SignIn(_))
    }
}

/// The request for `op`; `config` when the protocol has no passkey endpoints.
pub fn request(cfg: &Config, op: PasskeyOp) -> Result<HttpRequest, AuthError> {
    // Every refusal leaves by one exit: the `Result` is written once, not at each
    // (-4 B gzip).
    let refusal = 'refused: {
        // A pattern on the reference, not `as_deref()` (a call answering through memory).
        let Some(base) = path(cfg.endpoints.passkeys()) else {
            break 'refused AuthError::config(
                "Passkeys need the json protocol's passkey endpoints",
            );
        };
        // The id checked once for both calls that name one, by a test answered in a register
        // (a `Result<&str, _>` went through memory at each).
        if let PasskeyOp::Rename { id, .. } | PasskeyOp::Remove { id } = op {
            if !is_passkey_id(id) {
                break 'refused AuthError::config("A passkey id is what passkeys() lists");
            }
        }
        // One body written by the arm that has one (List and Remove send none): one
        // `Object` made and ended, not one per arm with its `Option<String>` carried out.
        let mut body = Object::new();
        // (method, path under `base`, what it ends with (an id, `/options`)).
        let (method, path, id) = match op {
            PasskeyOp::RegisterOptions { password } => {
                if !password.is_empty() {
                    body.str("password", password);
                }
                ("POST", "/register", OPTIONS)
            }
            PasskeyOp::SignUpOptions { email, name } => {
                if email.is_empty() {
                    break 'refused invalid_field("email", "Enter your email", "Required");
                }
                body.str("email", email).str("name", name);
                ("POST", "/signup", OPTIONS)
            }
            PasskeyOp::SignInOptions => ("POST", "/signin", OPTIONS),
            PasskeyOp::Register(f) => {
                ok_or_break!(finish_body(&mut body, f), 'refused);
                ("POST", "/register", "")
            }
            PasskeyOp::SignUp(f) => {
                ok_or_break!(finish_body(&mut body, f), 'refused);
                ("POST", "/signup", "")
            }
            PasskeyOp::SignIn(f) => {
                ok_or_break!(finish_body(&mut body, f), 'refused);
                ("POST", "/signin", "")
            }
            PasskeyOp::List => ("GET", "", ""),
            PasskeyOp::Rename { id, name } => {
                body.str("name", name);
                ("PATCH", "/", id)
            }
            PasskeyOp::Remove { id } => ("DELETE", "/", id),
        };
        // `post`'s request for a body, `get`'s for none (List and Remove), the call's path
        // pushed onto its joined URL: no URL, body and type made aside and moved into a
        // request of our own (as account's and social's).
        let mut request = match op {
            PasskeyOp::List | PasskeyOp::Remove { .. } => get(cfg, base, Credential::None),
            _ => post(cfg, base, JSON_TYPE, body.end()),
        };
        request.method = method;
        request.url.push_str(path);
        request.url.push_str(id);
        if op.needs_session() {
            request.credential = Credential::Access;
        }
        return Ok(request);
    };
    Err(refusal)
}

const OPTIONS: &str = "/options";

/// Whether `id` is a passkey id as the backend makes them (hex); anything else never
/// reaches a path.
fn is_passkey_id(id: &str) -> bool {
    // A plain loop: `bytes().all(..)` is unrolled (larger in the wasm).
    let mut ok = !id.is_empty() && id.len() <= 64;
    for &b in id.as_bytes() {
        ok &= b.is_ascii_alphanumeric();
    }
    ok
}

/// `{"ceremony","name","credential"}`: the credential must be the JSON of a public-key
/// credential (id, rawId and type "public-key", a `response` object). Not inlined: the
/// three ceremonies' finishing calls each call it. Written into `body` (`request`'s
/// one object): its `Result` is the error's pointer alone.
#[inline(never)]
fn finish_body(body: &mut Object, f: Finish) -> Result<(), AuthError> {
    let parsed = json::parse(f.credential);
    let shaped = match &parsed {
        Some(c) => {
            // Matches, not `Option<&str>` compared with `==` (a function of its own in
            // the wasm, linked for these and social.rs's two alone).
            matches!(c.str_of("type"), Some("public-key"))
                // A match each, not a tuple of two `Option`s written and read back.
                // `text_of`'s one word held across the second read (not `str_of`'s two).
                && match c.text_of("id") {
                    Some(id) if !id.is_empty() => {
                        matches!(c.text_of("rawId"), Some(raw_id) if **raw_id == **id)
                    }
                    _ => false,
                }
                && matches!(c.get("response"), Some(Json::Obj(_)))
        }
        None => false,
    };
    if !shaped || f.ceremony.is_empty() {
        return Err(AuthError::new(
            ErrorCode::InvalidResponse,
            "The authenticator's answer is not a public-key credential",
        ));
    }
    // The credential as the shell wrote it (just parsed: well-formed JSON). Not trimmed:
    // `json::parse` took it, so what surrounds it is JSON whitespace, which the body may
    // hold there (and `JSON.stringify` writes none).
    body.str("ceremony", f.ceremony)
        .str("name", f.name)
        .raw("credential", f.credential);
    Ok(())
}

/// What the answer to a passkey call holds (no borrowed arguments: it is kept while
/// the request is out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A ceremony's options; `request`: a sign-in's (no rp or user to check).
    Options { request: bool },
    /// One passkey (added or renamed).
    Passkey,
    /// The user's passkeys.
    List,
    /// Nothing to read (removed).
    Nothing,
}

impl PasskeyOp<'_> {
    /// How its answer is read (the sign-ins' go through the engine's sign-in path).
    pub fn answer(self) -> Answer {
        match self {
            PasskeyOp::RegisterOptions { .. } | PasskeyOp::SignUpOptions { .. } => {
                Answer::Options { request: false }
            }
            PasskeyOp::SignInOptions => Answer::Options { request: true },
            PasskeyOp::List => Answer::List,
            PasskeyOp::Remove { .. } => Answer::Nothing,
            _ => Answer::Passkey,
        }
    }
}

/// The answer to a passkey call that is no sign-in: options as
/// `{"ceremony","options"}`, a passkey, the list, or "".
pub fn parse_answer(kind: Answer, resp: &HttpResponse) -> Result<String, AuthError> {
    if !(200..300).contains(&resp.status) {
        return Err(error_from_response(Op::Passkey, resp));
    }
    if matches!(kind, Answer::Nothing) {
        return Ok(String::new());
    }
    let mut out = String::new();
    // Borrowed where it was answered (bound by value, the `Json` was moved first).
    let parsed = json::parse(resp.body);
    let read = match &parsed {
        Some(body) => read_answer(kind, body, resp.body, &mut out),
        None => None,
    };
    match read {
        Some(()) => Ok(out),
        None => Err(invalid_response(
            "The passkey answer is not what the backend sends",
            resp.status,
        )),
    }
}

/// `body` (the answer's text `text`, parsed) written to `out` as `kind` says; None when it
/// is not what the backend sends.
fn read_answer(kind: Answer, body: &Json, text: &str, out: &mut String) -> Option<()> {
    match kind {
        Answer::Options { request } => {
            options(request, body)?;
            out.push_str(text);
        }
        Answer::List => {
            let items = body.list_of("passkeys")?;
            out.push('[');
            for item in items {
                // No `enumerate`: a comma after anything but the opening bracket.
                if out.len() > 1 {
                    out.push(',');
                }
                passkey(out, item)?;
            }
            out.push(']');
        }
        _ => passkey(out, body)?,
    }
    Some(())
}

/// Whether `body` is a ceremony's options: the ceremony to send back, and what a
/// creation needs (rp, user, a challenge) or a request (a challenge). They go to the
/// shell as the backend wrote them, `{"ceremony","options"}`.
fn options(request: bool, body: &Json) -> Option<()> {
    // social's reader of non-empty texts: no `filter` closure of its own here.
    non_empty(body, "ceremony")?;
    let options = body.get("options")?;
    non_empty(options, "challenge")?;
    if !request {
        options.get("rp")?.str_of("name")?;
        options.get("user")?.str_of("id")?;
        options.get("pubKeyCredParams")?;
    }
    Some(())
}

/// A passkey as the JS API shows it, written to `out`.
fn passkey(out: &mut String, item: &Json) -> Option<()> {
    let (eligible, backed_up) = (flag(item, "backup_eligible")?, flag(item, "backed_up")?);
    let mut object = Object::new();
    object
        .str("id", item.str_of("id")?)
        .str("name", item.str_of("name")?)
        .str("createdAt", member_text(item, "created_at"));
    match item.str_of("last_used_at") {
        Some(at) => object.str("lastUsedAt", at),
        None => object.raw("lastUsedAt", "null"),
    };
    out.push_str(
        &object
            .raw("backupEligible", json_bool(eligible))
            .raw("backedUp", json_bool(backed_up))
            .end(),
    );
    Some(())
}

/// A boolean member of `item`; None when it is no boolean. An `Option<bool>`, one
/// value in a register, not the `Option<&str>` of its text answered through memory.
fn flag(item: &Json, key: &str) -> Option<bool> {
    match item.get(key) {
        Some(Json::Bool(b)) => Some(*b),
        _ => None,
    }
}

fn json_bool(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
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
            name: "Laptop",
        }
    }

    #[test]
    fn each_call_has_its_request_and_the_users_carry_the_access_token() {
        let c = cfg("json");
        let cases: [(PasskeyOp, &str, &str, Credential); 9] = [
            (
                PasskeyOp::RegisterOptions { password: "pw" },
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
                    name: "",
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
            // JSON's type goes with a body, and only List and Remove send none.
            let sends_body = !matches!(op, PasskeyOp::List | PasskeyOp::Remove { .. });
            assert_eq!(r.body.is_some(), sends_body, "{op:?}");
            assert_eq!(r.content_type, sends_body.then_some(JSON_TYPE), "{op:?}");
        }
        let body = request(&c, PasskeyOp::SignIn(finish(CREDENTIAL)))
            .unwrap()
            .body
            .unwrap();
        let expected = [
            r#"{"ceremony":"c.e.r","name":"Laptop","credential":"#,
            CREDENTIAL,
            "}",
        ]
        .concat();
        assert_eq!(body, expected);
        // A credential with JSON whitespace around it makes a body of the same value.
        let padded = [" \n", CREDENTIAL, "\t\r "].concat();
        let body = request(&c, PasskeyOp::SignIn(finish(&padded)))
            .unwrap()
            .body
            .unwrap();
        assert_eq!(json::parse(&body), json::parse(&expected));
        let options = request(
            &c,
            PasskeyOp::SignUpOptions {
                email: "a\"@b.c",
                name: "Ada",
            },
        )
        .unwrap();
        assert_eq!(
            options.body.as_deref(),
            Some(r#"{"email":"a\"@b.c","name":"Ada"}"#)
        );
        let no_name = request(
            &c,
            PasskeyOp::SignUpOptions {
                email: "a@b.c",
                name: "",
            },
        )
        .unwrap();
        assert_eq!(
            no_name.body.as_deref(),
            Some(r#"{"email":"a@b.c","name":""}"#)
        );
        let step_up = request(&c, PasskeyOp::RegisterOptions { password: "" }).unwrap();
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
            // The ids: present, equal and not empty.
            r#"{"id":"","rawId":"","type":"public-key","response":{}}"#,
            r#"{"rawId":"AQI","type":"public-key","response":{}}"#,
            r#"{"id":"AQI","type":"public-key","response":{}}"#,
            r#"{"type":"public-key","response":{}}"#,
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
                name: "",
            },
        )
        .unwrap_err();
        assert_eq!(no_email.code, ErrorCode::Validation);
    }

    #[test]
    fn options_are_handed_on_with_their_ceremony() {
        let signin = r#"{"ceremony":"c1","options":{"challenge":"AAEC","timeout":120000,"rpId":"localhost","allowCredentials":[],"userVerification":"required"}}"#;
        assert_eq!(
            parse_answer(PasskeyOp::SignInOptions.answer(), &resp(200, signin)).unwrap(),
            signin
        );
        let create = r#"{"ceremony":"c2","options":{"rp":{"name":"auth-wasm","id":"localhost"},"user":{"id":"dTE","name":"a@b.c","displayName":"A"},"challenge":"AAEC","pubKeyCredParams":[{"type":"public-key","alg":-7}]}}"#;
        let out = parse_answer(
            PasskeyOp::SignUpOptions {
                email: "a@b.c",
                name: "",
            }
            .answer(),
            &resp(200, create),
        )
        .unwrap();
        assert_eq!(out, create);
        // Options without what the browser needs are no options.
        for broken in [
            r#"{"ceremony":"c","options":{}}"#,
            r#"{"options":{"challenge":"AAEC"}}"#,
            r#"{"ceremony":"c","options":{"challenge":"AAEC"}}"#,
        ] {
            let err = parse_answer(
                PasskeyOp::RegisterOptions { password: "" }.answer(),
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
            parse_answer(Answer::List, &resp(200, body)).unwrap(),
            r#"[{"id":"ab","name":"Laptop","createdAt":"2026-11-30T00:00:00Z","lastUsedAt":null,"backupEligible":true,"backedUp":false}]"#
        );
        let missing_flag = r#"{"passkeys":[{"id":"ab","name":"L","created_at":"x"}]}"#;
        assert_eq!(
            parse_answer(Answer::List, &resp(200, missing_flag))
                .unwrap_err()
                .code,
            ErrorCode::InvalidResponse
        );
        assert_eq!(
            parse_answer(PasskeyOp::Remove { id: "ab" }.answer(), &resp(204, "")),
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
            let err = parse_answer(Answer::List, &resp(status, &body)).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (want, "why"), "{code}");
        }
    }
}
